"""Fixtures for the GAN tests: a tiny image folder and tiny training settings."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory):
    """24 random 12x12 grayscale PNGs in nested folders (12 = 3 * 2**2: two upsampling stages)."""
    from PIL import Image

    root = tmp_path_factory.mktemp("tiny_images")
    rng = np.random.default_rng(0)
    for i in range(24):
        sub = root / f"class{i % 2}"
        sub.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (12, 12), dtype=np.uint8), mode="L").save(sub / f"{i:02d}.png")
    return root


@pytest.fixture
def tiny_settings(tiny_folder):
    """TrainConfig fields for a run that takes well under a second per step: 3 steps per epoch."""
    return dict(
        dataset=f"folder:{tiny_folder}",
        image_size=12,
        channels=1,
        batch_size=8,
        latent_dim=8,
        width=4,
        d_width=4,
        device="cpu",
        amp=False,  # float32 everywhere: the same numbers on machines with and without native bf16
    )
