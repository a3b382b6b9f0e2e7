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
    half = train(TrainConfig(out=str(tmp_path / "bf16"), max_steps=2, **{**tiny_settings, "amp": True}), progress=False)
    state = load_checkpoint(half / "checkpoint.pt")
    assert state["step"] == 2 and all(v.dtype.is_floating_point for v in state["generator"].values() if v.ndim)
    # same seed and data: only bf16 arithmetic can make the losses differ
    assert _losses(full) != _losses(half)
    assert all(abs(float(a) - float(b)) < 0.1 for (a, _), (b, _) in zip(_losses(full), _losses(half)))


@pytest.mark.skipif(not os.environ.get("UPGAN_SLOW_TESTS"), reason="torch.compile takes ~30 s of CPU; set UPGAN_SLOW_TESTS=1")
def test_compile_trains(tmp_path, tiny_settings):
    run = train(TrainConfig(out=str(tmp_path), max_steps=2, compile=True, **tiny_settings), progress=False)
    assert load_checkpoint(run / "checkpoint.pt")["step"] == 2


def test_tensorboard_logging_when_installed(tmp_path, tiny_settings, monkeypatch):
    """tensorboard is optional and not a dependency: stand in a recorder for torch.utils.tensorboard."""
    import sys
    import types

    calls = []

    class Recorder:
        def __init__(self, log_dir):
            calls.append(("init", log_dir))

        def add_scalar(self, tag, value, step):
            calls.append(("scalar", tag, step))

        def add_images(self, tag, images, step):
            calls.append(("images", tag, tuple(images.shape), float(images.min()) >= 0 and float(images.max()) <= 1))

        def close(self):
            calls.append(("close",))

    fake = types.ModuleType("torch.utils.tensorboard")
    fake.SummaryWriter = Recorder
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", fake)
    train(TrainConfig(out=str(tmp_path), max_steps=4, **tiny_settings), progress=False)
    assert calls[0] == ("init", str(tmp_path)) and calls[-1] == ("close",)
    scalars = {(c[1], c[2]) for c in calls if c[0] == "scalar"}
    assert scalars == {(k, s) for k in ("loss_d", "loss_g", "d_real", "d_fake", "images_per_s") for s in range(1, 5)}
    images = [c for c in calls if c[0] == "images"]
    assert images == [("images", "samples", (64, 1, 12, 12), True)] * 2  # end of epoch 1, and at --max-steps


def test_no_tensorboard_no_event_files(tmp_path, tiny_settings, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import raises ImportError
    run = train(TrainConfig(out=str(tmp_path), max_steps=1, **tiny_settings), progress=False)
    assert not list(run.glob("events.out.tfevents*"))


def test_native_bf16_detection(monkeypatch):
    import torch

    from upgan.gan import precision

    monkeypatch.setattr(precision, "_cpu_flags", lambda: {"avx2", "avx512_bf16"})
    assert precision.native_bf16(torch.device("cpu"))
    monkeypatch.setattr(precision, "_cpu_flags", lambda: {"avx2", "avx512f"})
    assert not precision.native_bf16(torch.device("cpu"))


def test_amp_default_follows_the_hardware(tmp_path, tiny_settings, monkeypatch):
    import importlib

    train_module = importlib.import_module("upgan.gan.train")
    seen = []
    monkeypatch.setattr(train_module, "native_bf16", lambda device: seen.append(device.type) or False)
    settings = {k: v for k, v in tiny_settings.items() if k != "amp"}
    auto = train(TrainConfig(out=str(tmp_path / "auto"), max_steps=2, **settings), progress=False)
    full = train(TrainConfig(out=str(tmp_path / "fp32"), max_steps=2, **tiny_settings), progress=False)
    assert seen == ["cpu"]  # asked once, for the auto run only
    assert _losses(auto) == _losses(full)  # no native bf16 -> float32


def test_threads_setting_applies_during_training_only(tmp_path, tiny_settings, monkeypatch):
    import importlib

    import torch

    train_module = importlib.import_module("upgan.gan.train")
    seen = []
    real_setup = train_module.distributed.setup
    monkeypatch.setattr(train_module.distributed, "setup", lambda device: seen.append(torch.get_num_threads()) or real_setup(device))
    before = torch.get_num_threads()
    train(TrainConfig(out=str(tmp_path), max_steps=1, threads=1, **tiny_settings), progress=False)
    assert seen == [1] and torch.get_num_threads() == before
    with pytest.raises(ValueError, match="The `threads` setting must be an integer from 1 to 2147483647. Received threads=0"):
        TrainConfig(threads=0)
