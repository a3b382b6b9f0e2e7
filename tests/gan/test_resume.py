"""Exact resume: a run stopped after N steps and resumed to M equals an uninterrupted M-step run, bit for bit."""

from __future__ import annotations

import csv
import json

import pytest
import torch

from upgan.cli import main
from upgan.data import DatasetError
from upgan.gan import CheckpointError, TrainConfig, train
from upgan.gan.checkpoint import load_checkpoint
from upgan.gan.train import TrainingDiverged


def _final_state(run_dir):
    state = load_checkpoint(run_dir / "checkpoint.pt")
    from safetensors.torch import load_file

    return state, load_file(str(run_dir / "generator.safetensors"))


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.fixture(scope="module")
def reference_runs(tmp_path_factory, tiny_folder):
    """Uninterrupted 7-step runs (3 steps per epoch: ends 1 step into epoch 3), one per loss."""
    runs = {}
    for loss, augment in (("bce", "translation,cutout"), ("wgan-gp", "translation")):
        out = tmp_path_factory.mktemp(f"ref-{loss}")
        settings = dict(
            dataset=f"folder:{tiny_folder}", image_size=12, channels=1, batch_size=8, latent_dim=8,
            width=4, d_width=4, device="cpu", amp=False, loss=loss, augment=augment,
        )  # fmt: skip
        train(TrainConfig(out=str(out), max_steps=7, **settings), progress=False)
        runs[loss] = (out, settings)
    return runs


@pytest.mark.parametrize(
    "loss, stop_at",
    [("bce", 2), ("bce", 3), ("bce", 4), ("wgan-gp", 5)],
    ids=["mid-epoch", "epoch-boundary", "after-boundary", "wgan-gp-mid-epoch"],
)
def test_resume_is_bit_identical(reference_runs, tmp_path, loss, stop_at):
    ref_dir, settings = reference_runs[loss]
    train(TrainConfig(out=str(tmp_path), max_steps=stop_at, **settings), progress=False)
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == stop_at
    train(TrainConfig(out=str(tmp_path), max_steps=7, resume=True, **settings), progress=False)

    ref_state, ref_gen = _final_state(ref_dir)
    state, gen = _final_state(tmp_path)
    assert state["step"] == ref_state["step"] == 7
    _assert_same(gen, ref_gen)  # the EMA generator shipped for sampling
    for part in ("generator", "discriminator", "ema"):
        _assert_same(state[part], ref_state[part])
    assert state["opt_g"]["state"][0]["exp_avg"].equal(ref_state["opt_g"]["state"][0]["exp_avg"])
    assert torch.equal(state["rng"][0]["cpu"], ref_state["rng"][0]["cpu"])
    # metrics.csv: one row per step, same losses as the reference (timings differ)
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    ref_rows = list(csv.DictReader(open(ref_dir / "metrics.csv")))
    assert [r["step"] for r in rows] == [str(i) for i in range(1, 8)]
    assert [(r["loss_d"], r["loss_g"]) for r in rows] == [(r["loss_d"], r["loss_g"]) for r in ref_rows]


def test_run_writes_its_files(reference_runs):
    run_dir, _ = reference_runs["bce"]
    names = {p.name for p in run_dir.iterdir()}
    assert {"config.json", "metrics.csv", "checkpoint.pt", "generator.safetensors", "samples"} <= names
    samples = sorted(p.name for p in (run_dir / "samples").iterdir())
    assert samples == ["epoch_001.png", "epoch_002.png", "latest.png"]
    state = load_checkpoint(run_dir / "checkpoint.pt")
    assert state["epoch"] == 2 and state["step"] == 7
    header = open(run_dir / "metrics.csv").readline().strip().split(",")
    assert header == ["step", "epoch", "loss_d", "loss_g", "d_real", "d_fake", "images_per_s", "seconds"]
    # every file gets the permissions the umask gives new files (safetensors alone would write 0600)
    modes = {p.name: p.stat().st_mode & 0o777 for p in run_dir.iterdir() if p.is_file()}
    assert modes["generator.safetensors"] == modes["checkpoint.pt"] == modes["config.json"]


def test_resume_refuses_changed_settings(reference_runs, tmp_path):
    _, settings = reference_runs["bce"]
    train(TrainConfig(out=str(tmp_path), max_steps=1, **settings), progress=False)
    with pytest.raises(CheckpointError, match=r"settings differ from the run's \(lr: run has 0.0002, given 0.001\)"):
        train(TrainConfig(out=str(tmp_path), max_steps=2, resume=True, **{**settings, "lr": 1e-3}), progress=False)


def test_resume_may_change_budget_and_how_it_computes(reference_runs, tmp_path, capsys):
    _, settings = reference_runs["bce"]
    train(TrainConfig(out=str(tmp_path), max_steps=2, **settings), progress=False)
    config_json = (tmp_path / "config.json").read_text()
    # a budget already reached: nothing trained, nothing rewritten
    capsys.readouterr()
    train(TrainConfig(out=str(tmp_path), max_steps=2, resume=True, **settings), progress=False)
    assert ("is already at step 2; the budget ends at step 2 (--max-steps 2): nothing to train. Raise --max-steps."
            in capsys.readouterr().out)
    train(TrainConfig(out=str(tmp_path), max_steps=1, resume=True, **settings), progress=False)
    assert (tmp_path / "config.json").read_text() == config_json
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == 2
    # bf16 autocast, compilation and the thread count may change; the run goes on
    changed = {**settings, "amp": True, "threads": 1}
    train(TrainConfig(out=str(tmp_path), max_steps=3, resume=True, **changed), progress=False)
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == 3
    # the epochs bind (24 images, batch 8: 3 steps per epoch): the message names them
    capsys.readouterr()
    train(TrainConfig(out=str(tmp_path), epochs=1, max_steps=5, resume=True, **settings), progress=False)
    assert ("is already at step 3; the budget ends at step 3 (--epochs 1 of 3 steps): nothing to train. Raise --epochs."
            in capsys.readouterr().out)


def test_resume_a_run_saved_before_d_hidden_existed(reference_runs, tmp_path):
    # Runs written before the discriminator's hidden layer had no ``d_hidden`` key and no such layer:
    # resuming one (through train() or the CLI, which reads config.json) rebuilds that architecture.
    _, settings = reference_runs["bce"]
    train(TrainConfig(out=str(tmp_path), max_steps=2, d_hidden=0, **settings), progress=False)
    path, config_path = tmp_path / "checkpoint.pt", tmp_path / "config.json"
    state = load_checkpoint(path)
    del state["config"]["d_hidden"]
    torch.save(state, path)
    saved = json.loads(config_path.read_text())
    del saved["d_hidden"]
    config_path.write_text(json.dumps(saved))
    train(TrainConfig(out=str(tmp_path), max_steps=3, resume=True, d_hidden=0, **settings), progress=False)
    assert load_checkpoint(path)["step"] == 3
    config_path.write_text(json.dumps(saved))
    assert main(["train", "--out", str(tmp_path), "--resume", "--max-steps", "4", "--quiet"]) == 0
    assert load_checkpoint(path)["step"] == 4
    assert "dense.bias" not in load_checkpoint(path)["discriminator"]
    with pytest.raises(CheckpointError, match=r"d_hidden: run has 0, given 128"):
        train(TrainConfig(out=str(tmp_path), max_steps=5, resume=True, **settings), progress=False)


def test_resume_without_checkpoint(tmp_path, tiny_settings):
    with pytest.raises(CheckpointError, match="No checkpoint at"):
        train(TrainConfig(out=str(tmp_path), resume=True, **tiny_settings), progress=False)


def test_existing_run_needs_resume_or_force(tmp_path, tiny_settings, capsys):
    from upgan.gan import RunExistsError

    train(TrainConfig(out=str(tmp_path), max_steps=4, **tiny_settings), progress=False)
    assert (tmp_path / "samples" / "epoch_001.png").exists()
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "samples" / "keep").mkdir()
    (tmp_path / "samples" / "keep" / "mine.txt").write_text("mine")
    (tmp_path / "samples" / "picked.png").write_bytes(b"mine")
    (tmp_path / "samples" / "epoch_1_favourite.png").write_bytes(b"mine")  # named like a run's, but not one
    (tmp_path / "samples" / "latest_mine.png").write_bytes(b"mine")
    (tmp_path / "metrics.json").write_text("{}")  # what `upgan evaluate` wrote about the old generator
    with pytest.raises(RunExistsError, match="already holds a run .*Pass --resume to continue it, --force"):
        train(TrainConfig(out=str(tmp_path), max_steps=1, **tiny_settings), progress=False)
    capsys.readouterr()
    train(TrainConfig(out=str(tmp_path), max_steps=2, force=True, **tiny_settings), progress=False)
    assert "--force: replacing" in capsys.readouterr().out
    # nothing but the run's own files (and what upgan derived from them) is touched
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (tmp_path / "samples" / "keep" / "mine.txt").read_text() == "mine"
    assert (tmp_path / "samples" / "picked.png").read_bytes() == b"mine"
    assert (tmp_path / "samples" / "epoch_1_favourite.png").read_bytes() == b"mine"
    assert (tmp_path / "samples" / "latest_mine.png").read_bytes() == b"mine"
    assert not (tmp_path / "metrics.json").exists()
    assert not (tmp_path / "samples" / "epoch_001.png").exists()  # the new run has not finished an epoch
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == 2


def test_force_that_cannot_start_keeps_the_old_run(tmp_path, tiny_settings, capsys):
    """--force deletes the old run only once the new one's data, batch size and networks work."""
    train(TrainConfig(out=str(tmp_path), max_steps=4, **tiny_settings), progress=False)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    bad = [
        ({"dataset": f"folder:{tmp_path / 'nowhere'}"}, "nowhere does not exist"),
        ({"image_size": 13}, "Cannot reach image_size=13"),  # the generator cannot make it
        ({"batch_size": 999}, "must be at most the number of images"),
    ]
    for change, message in bad:
        capsys.readouterr()
        with pytest.raises((ValueError, DatasetError), match=message):
            train(TrainConfig(out=str(tmp_path), max_steps=2, force=True, **{**tiny_settings, **change}), progress=False)
        assert "--force: replacing" not in capsys.readouterr().out, change
        assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before, change
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == 4


@pytest.mark.parametrize(
    "content", ["a,b\n1,2\n", "step,seconds\nx,1\n", "step,seconds\n1\n"], ids=["no-step", "bad-step", "no-seconds"]
)
def test_damaged_metrics_log_is_refused_with_a_way_on(tmp_path, tiny_settings, content):
    train(TrainConfig(out=str(tmp_path), max_steps=2, **tiny_settings), progress=False)
    (tmp_path / "metrics.csv").write_text(content)
    with pytest.raises(CheckpointError, match=r"Cannot resume: .*metrics.csv is not a readable metrics log .* move that file away and resume again to start a new log at step 2"):
        train(TrainConfig(out=str(tmp_path), max_steps=3, resume=True, **tiny_settings), progress=False)
    assert (tmp_path / "metrics.csv").read_text() == content  # untouched
    (tmp_path / "metrics.csv").rename(tmp_path / "metrics.damaged.csv")
    train(TrainConfig(out=str(tmp_path), max_steps=3, resume=True, **tiny_settings), progress=False)
    with open(tmp_path / "metrics.csv", newline="") as f:
        assert [int(r["step"]) for r in csv.DictReader(f)] == [3]


def test_run_folder_that_cannot_be_created(tmp_path, tiny_settings):
    from upgan.gan import RunExistsError

    (tmp_path / "afile").write_text("mine")
    with pytest.raises(RunExistsError, match=r"Cannot create the run folder .*afile/sub/run: .*afile is a file"):
        train(TrainConfig(out=str(tmp_path / "afile" / "sub" / "run"), max_steps=1, **tiny_settings), progress=False)
    assert (tmp_path / "afile").read_text() == "mine"


def test_minibatch_std_groups_never_mix_real_and_generated(tmp_path, tiny_settings, monkeypatch):
    """A batch of 6 per process: groups of 3 (not 4, which would make a group of 2 real + 2 fake)."""
    from upgan.gan.models import MinibatchStdDev

    seen = []
    real_forward = MinibatchStdDev.forward

    def spy(self, x):
        seen.append((self.group_size, x.shape[0]))
        return real_forward(self, x)

    monkeypatch.setattr(MinibatchStdDev, "forward", spy)
    settings = {**tiny_settings, "batch_size": 6}
    train(TrainConfig(out=str(tmp_path), max_steps=1, minibatch_std=True, **settings), progress=False)
    assert seen and {g for g, _ in seen} == {3} and all(n % 3 == 0 for _, n in seen)


def test_run_folder_that_is_a_file(tmp_path, tiny_settings):
    from upgan.gan import RunExistsError

    (tmp_path / "afile").write_text("mine")
    for flags in ({}, {"force": True}):
        with pytest.raises(RunExistsError, match=r"The run folder .*afile is a file, not a folder; choose another --out"):
            train(TrainConfig(out=str(tmp_path / "afile"), max_steps=1, **flags, **tiny_settings), progress=False)
    assert (tmp_path / "afile").read_text() == "mine"


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, tiny_settings, monkeypatch):
    import importlib

    train_module = importlib.import_module("upgan.gan.train")  # the module, not the function upgan.gan.train

    real_loss = train_module.discriminator_loss
    calls = []

    def loss_that_explodes(kind, real, fake):
        calls.append(1)
        value = real_loss(kind, real, fake)
        return value * float("nan") if len(calls) == 5 else value

    monkeypatch.setattr(train_module, "discriminator_loss", loss_that_explodes)
    with pytest.raises(TrainingDiverged, match="The discriminator loss became nan at step 5"):
        train(TrainConfig(out=str(tmp_path), max_steps=7, **tiny_settings), progress=False)
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == 3  # the end of epoch 1
    assert (tmp_path / "samples" / "latest.png").exists()


def test_huge_learning_rate_diverges_with_a_message(tmp_path, tiny_settings):
    with pytest.raises(TrainingDiverged, match=r"loss became (nan|inf|-inf) at step \d+"):
        train(
            TrainConfig(out=str(tmp_path), max_steps=30, lr=1e30, spectral_norm=False, augment="none", ema=0.0,
                        loss="wgan-gp", **tiny_settings),
            progress=False,
        )  # fmt: skip
