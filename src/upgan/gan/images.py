"""Image grids and GIFs of generator outputs, with Pillow."""

from __future__ import annotations

import math
from pathlib import Path

import torch

__all__ = ["to_uint8", "make_grid", "save_grid", "save_gif"]


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Map images in [-1, 1] to uint8 [0, 255] (values outside are clipped).

    Shape:
        (N, C, H, W) -> (N, C, H, W).

    >>> to_uint8(torch.tensor([[[[-1.0, 0.0, 1.0]]]])).tolist()
    [[[[0, 128, 255]]]]
    """
    return images.detach().float().cpu().add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8)


def make_grid(images: torch.Tensor, nrow: int | None = None, padding: int = 2):
    """Tile images in [-1, 1] (or already :func:`to_uint8`'s output) into one Pillow image, ``nrow`` per row
    (default: a square grid).

    Shape:
        (N, C, H, W) with C in {1, 3} -> an image of
        (nrow * (W + padding) + padding) x (rows * (H + padding) + padding) pixels.

    >>> make_grid(torch.zeros(6, 1, 4, 4), nrow=3).size
    (20, 14)
    """
    from PIL import Image

    n, c, h, w = images.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / nrow)
    pixels = images if images.dtype == torch.uint8 else to_uint8(images)
    canvas = torch.zeros(c, rows * (h + padding) + padding, nrow * (w + padding) + padding, dtype=torch.uint8)
    for i in range(n):
        top, left = padding + (i // nrow) * (h + padding), padding + (i % nrow) * (w + padding)
        canvas[:, top : top + h, left : left + w] = pixels[i]
    array = canvas.permute(1, 2, 0).numpy()  # (C, H, W) -> (H, W, C)
    return Image.fromarray(array[..., 0] if c == 1 else array, mode="L" if c == 1 else "RGB")


def save_grid(images: torch.Tensor, path: str | Path, nrow: int | None = None) -> None:
    """Write :func:`make_grid` of ``images`` to ``path`` (format from the suffix, e.g. PNG)."""
    make_grid(images, nrow).save(path)


def save_gif(frames: list[torch.Tensor], path: str | Path, duration_ms: int = 80) -> None:
    """Write a looping GIF; each frame is a batch of images tiled with :func:`make_grid`."""
    pictures = [make_grid(f) for f in frames]
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=duration_ms, loop=0)
