"""Data-parallel training: two CPU processes (gloo) end with identical weights; rank 0 alone writes."""

from __future__ import annotations

import importlib
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp

from upgan.gan import TrainConfig, train
from upgan.gan.checkpoint import load_checkpoint


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, settings: dict, result_dir: str) -> None:
    os.environ.update(
        RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)
    )
    torch.set_num_threads(1)
    train_module = importlib.import_module("upgan.gan.train")
    built = {}

    def recording(cls):
        def build(*args, **kwargs):
            built[cls.__name__] = cls(*args, **kwargs)
            return built[cls.__name__]

        return build

    # Keep a handle on this rank's networks to compare them after training.
    train_module.Generator = recording(train_module.Generator)
    train_module.Discriminator = recording(train_module.Discriminator)
    train(TrainConfig(**settings), progress=False)
    # parameters and buffers (BatchNorm statistics, spectral-norm vectors): the whole state
    params = {f"{net}.{k}": v.detach().clone() for net, m in built.items() for k, v in m.state_dict().items()}
    torch.save(params, os.path.join(result_dir, f"rank{rank}.pt"))


def test_two_processes_end_with_identical_weights(tmp_path, tiny_settings):
    out = tmp_path / "run"
    settings = {**tiny_settings, "out": str(out), "max_steps": 4, "batch_size": 8}
    mp.spawn(_worker, args=(2, _free_port(), settings, str(tmp_path)), nprocs=2, join=True)
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1))
    assert rank0.keys() == rank1.keys() and any(k.startswith("Generator.") for k in rank0)
    assert any("running_mean" in k for k in rank0)  # the buffers are compared too
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["world_size"] == 2 and state["step"] == 4
    assert len(state["rng"]) == 2  # each rank's RNG state, for an exact resume
    assert not torch.equal(state["rng"][0]["cpu"], state["rng"][1]["cpu"])  # ranks draw different noise
    trained = state["generator"]
    for key, value in rank0.items():
        if key.startswith("Generator."):
            assert torch.equal(trained[key.removeprefix("Generator.")], value)
    rows = (out / "metrics.csv").read_text().splitlines()
    assert len(rows) == 1 + 4  # one writer: no duplicated rows


def test_batch_larger_than_the_dataset(tmp_path, tiny_settings, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "1")
    with pytest.raises(ValueError, match="The `batch_size` setting must be at most the number of images \\(24\\)"):
        train(TrainConfig(out=str(tmp_path), **{**tiny_settings, "batch_size": 32}), progress=False)
