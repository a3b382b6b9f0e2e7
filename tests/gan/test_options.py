"""``--amp`` (bf16 autocast) and ``--compile`` smoke tests on CPU."""

from __future__ import annotations

import csv
import os

import pytest

from upgan.gan import TrainConfig, train
from upgan.gan.checkpoint import load_checkpoint


def _losses(run_dir):
    return [(r["loss_d"], r["loss_g"]) for r in csv.DictReader(open(run_dir / "metrics.csv"))]


def test_amp_trains_in_bfloat16(tmp_path, tiny_settings):
    full = train(TrainConfig(out=str(tmp_path / "fp32"), max_steps=2, **tiny_settings), progress=False)
    half = train(TrainConfig(out=str(tmp_path / "bf16"), max_steps=2, amp=True, **tiny_settings), progress=False)
    state = load_checkpoint(half / "checkpoint.pt")
    assert state["step"] == 2 and all(v.dtype.is_floating_point for v in state["generator"].values() if v.ndim)
    # same seed and data: only bf16 arithmetic can make the losses differ
    assert _losses(full) != _losses(half)
    assert all(abs(float(a) - float(b)) < 0.1 for (a, _), (b, _) in zip(_losses(full), _losses(half)))


@pytest.mark.skipif(not os.environ.get("UPGAN_SLOW_TESTS"), reason="torch.compile takes ~30 s of CPU; set UPGAN_SLOW_TESTS=1")
def test_compile_trains(tmp_path, tiny_settings):
    run = train(TrainConfig(out=str(tmp_path), max_steps=2, compile=True, **tiny_settings), progress=False)
    assert load_checkpoint(run / "checkpoint.pt")["step"] == 2
