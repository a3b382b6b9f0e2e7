"""``upgan train``, ``upgan sample`` and ``upgan interpolate`` from the command line, errors included."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
import torch

from upgan.cli import main
from upgan.gan import TrainConfig
from upgan.gan.checkpoint import load_checkpoint


def _flags(settings: dict) -> list[str]:
    out = []
    for key, value in settings.items():
        flag = f"--{key.replace('_', '-')}"
        out += ([flag] if value else [f"--no-{flag[2:]}"]) if isinstance(value, bool) else [flag, str(value)]
    return out


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, tiny_folder):
    out = tmp_path_factory.mktemp("cli-run")
    settings = dict(dataset=f"folder:{tiny_folder}", image_size=12, channels=1, batch_size=8, latent_dim=8,
                    width=4, d_width=4, device="cpu", amp=False)  # fmt: skip
    assert main(["train", *_flags(settings), "--max-steps", "2", "--out", str(out), "--quiet", "--force"]) == 0
    return out, settings


def test_train_then_resume_with_only_the_budget(trained_run, capsys):
    out, _ = trained_run
    # --resume reads the run's own settings: only --out and the new budget are given
    assert main(["train", "--out", str(out), "--resume", "--max-steps", "4", "--quiet"]) == 0
    assert load_checkpoint(out / "checkpoint.pt")["step"] == 4
    assert json.loads((out / "config.json").read_text())["max_steps"] == 4
    assert "Run folder:" in capsys.readouterr().out


def test_discriminator_hidden_layer_flag(trained_run, tmp_path):
    _, settings = trained_run
    assert json.loads((trained_run[0] / "config.json").read_text())["d_hidden"] == 128  # the default
    assert "dense.bias" in load_checkpoint(trained_run[0] / "checkpoint.pt")["discriminator"]
    out = tmp_path / "plain"
    assert main(["train", *_flags(settings), "--d-hidden", "0", "--max-steps", "1", "--out", str(out), "--quiet"]) == 0
    assert "dense.bias" not in load_checkpoint(out / "checkpoint.pt")["discriminator"]


def test_resume_with_epochs_alone_lifts_the_runs_max_steps(tmp_path, trained_run, capsys):
    """A run started with --max-steps, resumed with only --epochs: the epochs are the new budget."""
    _, settings = trained_run
    out = tmp_path / "run"
    assert main(["train", *_flags(settings), "--max-steps", "2", "--out", str(out), "--quiet"]) == 0
    assert main(["train", "--out", str(out), "--resume", "--epochs", "2", "--quiet"]) == 0
    assert load_checkpoint(out / "checkpoint.pt")["step"] == 6  # 2 epochs of 3 steps
    assert json.loads((out / "config.json").read_text())["max_steps"] is None
    assert main(["train", "--out", str(out), "--resume", "--epochs", "3", "--max-steps", "7", "--quiet"]) == 0
    assert load_checkpoint(out / "checkpoint.pt")["step"] == 7  # both given: both apply


@pytest.mark.parametrize("content", ["{bad", "[1, 2]", '{"no_such_setting": 1}'])
def test_resume_with_a_damaged_config_names_the_file(trained_run, tmp_path, content, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run[0], run)
    (run / "config.json").write_text(content)
    assert main(["train", "--out", str(run), "--resume", "--max-steps", "9", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"upgan train: error: cannot resume: {run / 'config.json'} is not a readable run config (")
    assert err.count("\n") == 1


def test_train_refuses_existing_run(trained_run, capsys):
    out, settings = trained_run
    assert main(["train", *_flags(settings), "--max-steps", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("upgan train: error: ") and "already holds a run" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--lr", "0"], r"The `lr` setting must be a number > 0 and <= 3.40282e\+38. Received lr=0.0"),
        (["--lr", "1e39"], r"The `lr` setting must be a number > 0 and <= 3.40282e\+38. Received lr=1e\+39"),
        (["--lr", "nan"], r"The `lr` setting must be .* Received lr=nan"),
        (["--batch-size", "0"], "The `batch_size` setting must be an integer from 1 to 2147483647. Received batch_size=0"),
        (["--dataset", "imagenet"], "The `name` argument must be one of mnist5k, mnist, fashion-mnist, cifar10"),
        (["--image-size", "30"], "Cannot reach image_size=30"),
        (["--ema", "1.5"], r"The `ema` setting must be a number in \[0, 1\)"),
    ],
)
def test_train_bad_settings_are_cli_errors(tmp_path, flags, message, capsys):
    assert main(["train", "--out", str(tmp_path / "run"), "--max-steps", "1", "--quiet", *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith("upgan train: error: ")
    assert __import__("re").search(message, err), err


def test_sample_writes_a_grid(trained_run, tmp_path, capsys):
    from PIL import Image

    out, _ = trained_run
    grid = tmp_path / "grid.png"
    assert main(["sample", str(out), "-n", "6", "--seed", "3", "--out", str(grid)]) == 0
    # 6 samples -> a 3x3 grid of 12-pixel images with 2-pixel gaps: 3 * 14 + 2 = 44 wide, 2 rows
    assert Image.open(grid).size == (44, 30)
    again = tmp_path / "again.png"
    main(["sample", str(out), "-n", "6", "--seed", "3", "--out", str(again)])
    assert grid.read_bytes() == again.read_bytes()  # same seed, same grid


def test_sample_generates_in_batches(trained_run, tmp_path, monkeypatch):
    """Many samples go through the generator a batch at a time; the grid holds them all."""
    import numpy as np
    from PIL import Image

    from upgan.cli import sample

    out, _ = trained_run
    monkeypatch.setattr(sample, "_BATCH", 4)
    batched = tmp_path / "batched.png"
    assert main(["sample", str(out), "-n", "10", "--out", str(batched)]) == 0
    monkeypatch.setattr(sample, "_BATCH", 256)
    whole = tmp_path / "whole.png"
    assert main(["sample", str(out), "-n", "10", "--out", str(whole)]) == 0
    a, b = np.asarray(Image.open(batched), dtype=int), np.asarray(Image.open(whole), dtype=int)
    assert a.shape == b.shape == (3 * 14 + 2, 4 * 14 + 2) and np.abs(a - b).max() <= 1  # float rounding only


def test_interpolate_writes_a_gif(trained_run, tmp_path):
    from PIL import Image

    out, _ = trained_run
    gif = tmp_path / "walk.gif"
    assert main(["interpolate", str(out), "--out", str(gif), "--steps", "3", "--points", "2", "-n", "4"]) == 0
    image = Image.open(gif)
    assert image.n_frames == 6 and image.size == (30, 30)


def test_interpolate_reports_merged_frames_and_refuses_gif_durations_it_cannot_store(tmp_path, capsys):
    from PIL import Image

    from upgan.gan import Generator
    from upgan.gan.checkpoint import save_generator

    run = tmp_path / "constant"
    run.mkdir()
    generator = Generator(latent_dim=4, image_shape=(1, 12, 12), width=4)
    for p in generator.parameters():
        torch.nn.init.zeros_(p)  # every frame is the same image
    save_generator(run / "generator.safetensors", generator, TrainConfig(latent_dim=4, width=4, image_size=12), 0)
    gif = tmp_path / "c.gif"
    assert main(["interpolate", str(run), "--out", str(gif), "--steps", "5", "--points", "3", "-n", "4"]) == 0
    stored = Image.open(gif).n_frames
    assert stored < 15  # Pillow merged the identical frames, and the message says so
    assert f"Wrote 15 frames to {gif} (stored as {stored}: Pillow merges identical neighbouring frames)" in capsys.readouterr().out
    for duration in ("5", "125"):
        assert main(["interpolate", str(run), "--out", str(gif), "--duration", duration]) == 2
        assert "--duration must be a multiple of 10 from 20 for a GIF" in capsys.readouterr().err
    assert main(["interpolate", str(run), "--out", str(tmp_path / "c.webp"), "--duration", "125", "--steps", "2"]) == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["interpolate", "RUN", "--out", "walk.jpg"], "--out must name an animation file (.apng, .gif, .png"),
        (["interpolate", "RUN", "--out", "walk"], "--out must name an animation file"),
        (["explain", "conv-transpose", "--input", "3", "--gif", "e.bmp"], "--gif must name an animation file"),
        (["artifacts", "--kernel", "3", "--stride", "2", "--out", "o.bmp"], "--out must name a figure file (.avif, .eps"),
        (["artifacts", "RUN", "--out", "phases"], "--out must name a figure file"),
        (["train", "--seed", "-1", "--max-steps", "1"], "argument --seed: must be an integer from 0 to 9223372036854775807 (2**63 - 1), got '-1'"),
        (["compare", "--seed", str(2**64), "--max-steps", "1"], "argument --seed: must be an integer from 0 to 9223372036854775807 (2**63 - 1), got '18446744073709551616'"),
        (["artifacts", "RUN", "--seed", str(2**63)], "argument --seed: must be an integer from 0 to"),
        (["sample", "RUN", "--seed", str(2**64)], "argument --seed: must be an integer from 0 to"),
        (["interpolate", "RUN", "--seed", "-5"], "argument --seed: must be an integer from 0 to"),
        (["evaluate", "RUN", "--seed", "x"], "argument --seed: must be an integer from 0 to 9223372036854775807 (2**63 - 1), got 'x'"),
    ],
)
def test_output_formats_and_seeds_are_checked_before_any_work(trained_run, tmp_path, monkeypatch, argv, message, capsys):
    monkeypatch.chdir(tmp_path)
    argv = [str(trained_run[0]) if a == "RUN" else a for a in argv]
    if "--seed" in argv:  # argparse exits with 2 for a bad type
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2 and message in capsys.readouterr().err
    else:
        _expect_cli_error(argv, message, capsys)
    assert list(tmp_path.iterdir()) == [] and not (trained_run[0] / "phases").exists()  # nothing written


def test_largest_seed_works_everywhere(trained_run, tmp_path):
    out, settings = trained_run
    seed = str(2**63 - 1)
    assert main(["sample", str(out), "--seed", seed, "-n", "4", "--out", str(tmp_path / "g.png")]) == 0
    assert main(["interpolate", str(out), "--seed", seed, "--steps", "2", "--out", str(tmp_path / "w.gif")]) == 0
    run = tmp_path / "run"
    assert main(["train", *_flags(settings), "--seed", seed, "--max-steps", "4", "--out", str(run), "--quiet"]) == 0
    assert load_checkpoint(run / "checkpoint.pt")["step"] == 4  # into epoch 2: the sampler's seed + epoch


def _expect_cli_error(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"upgan {argv[0]}: error: "), err
    assert message in err and "Traceback" not in err


def test_load_generator_names_the_missing_file(tmp_path):
    from upgan.gan import CheckpointError, load_generator

    with pytest.raises(CheckpointError, match=r"No generator file .*none.safetensors: it does not exist"):
        load_generator(tmp_path / "none.safetensors")
    with pytest.raises(CheckpointError, match=r"No generator.safetensors in .*: train a run there first"):
        load_generator(tmp_path)


def test_sample_missing_run(tmp_path, capsys):
    _expect_cli_error(["sample", str(tmp_path / "nope")], "No generator.safetensors in", capsys)


def test_sample_truncated_file(trained_run, tmp_path, capsys):
    import shutil

    out, _ = trained_run
    broken = tmp_path / "run"
    shutil.copytree(out, broken)
    data = (broken / "generator.safetensors").read_bytes()
    (broken / "generator.safetensors").write_bytes(data[: len(data) // 2])
    _expect_cli_error(["sample", str(broken)], "is truncated or corrupt", capsys)
    _expect_cli_error(["interpolate", str(broken)], "is truncated or corrupt", capsys)


def test_sample_incompatible_weights(trained_run, tmp_path, capsys):
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open

    out, _ = trained_run
    path = out / "generator.safetensors"
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata()
    run = tmp_path / "run"
    run.mkdir()
    wider = json.loads(metadata["generator"]) | {"width": 8}  # the weights are for width 4
    save_file(load_file(str(path)), str(run / "generator.safetensors"), metadata=metadata | {"generator": json.dumps(wider)})
    _expect_cli_error(["sample", str(run)], "does not fit its generator config", capsys)
    save_file({"w": torch.zeros(2)}, str(run / "generator.safetensors"))  # safetensors, but not upgan's
    _expect_cli_error(["sample", str(run)], "was not written by upgan", capsys)


def test_sample_bad_count(trained_run, capsys):
    out, _ = trained_run
    _expect_cli_error(["sample", str(out), "-n", "0"], "-n must be a positive integer. Received -n 0", capsys)
    _expect_cli_error(["interpolate", str(out), "--points", "1"], "--points must be at least 2", capsys)


def test_ctrl_c_writes_a_checkpoint_that_resumes(tmp_path, tiny_settings):
    """A real SIGINT to a real `upgan train` process: exit 130, checkpoint at a whole step, resumable."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "upgan", "train", *_flags(tiny_settings), "--out", str(out), "--quiet",
           "--max-steps", "100000"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics = out / "metrics.csv"
    deadline = time.time() + 120
    while time.time() < deadline and (not metrics.exists() or len(metrics.read_text().splitlines()) < 3):
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "upgan train: interrupted" in err and "Traceback" not in err
    state = load_checkpoint(out / "checkpoint.pt")
    rows = metrics.read_text().splitlines()[1:]
    assert state["step"] == len(rows) >= 2
    assert (out / "samples" / "latest.png").exists()
    assert main(["train", "--out", str(out), "--resume", "--max-steps", str(state["step"] + 1), "--quiet"]) == 0
    assert load_checkpoint(out / "checkpoint.pt")["step"] == state["step"] + 1


def test_default_run_folder_is_numbered_instead_of_reused(trained_run, tmp_path, monkeypatch, capsys):
    _, settings = trained_run
    monkeypatch.chdir(tmp_path)  # default folders live under ./runs
    argv = ["train", *_flags(settings), "--max-steps", "1", "--quiet"]
    assert main(argv) == 0 and main(argv) == 0
    base = tmp_path / TrainConfig(**settings, force=True).run_dir()  # the unnumbered name
    first = (base / "config.json").read_text()
    second = base.with_name(base.name + "-2")
    assert (second / "checkpoint.pt").is_file()
    assert (base / "config.json").read_text() == first  # the first run is untouched
    # --resume without --out continues the newest run
    assert main(["train", "--resume", *_flags(settings), "--max-steps", "2", "--quiet"]) == 0
    assert load_checkpoint(second / "checkpoint.pt")["step"] == 2
    assert load_checkpoint(base / "checkpoint.pt")["step"] == 1
    # runs -1, -2, -3 with -2 deleted: a new run fills the gap and is then the newest
    assert main(argv) == 0
    third = base.with_name(base.name + "-3")
    assert (third / "checkpoint.pt").is_file()
    import shutil

    shutil.rmtree(second)
    assert main(argv) == 0 and (second / "checkpoint.pt").is_file()
    assert main(["train", "--resume", *_flags(settings), "--max-steps", "2", "--quiet"]) == 0
    assert load_checkpoint(second / "checkpoint.pt")["step"] == 2  # the newest, not the highest number
    assert load_checkpoint(third / "checkpoint.pt")["step"] == 1


def test_resume_without_config_json_takes_the_checkpoints_settings(trained_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run[0], run)
    (run / "config.json").unlink()
    step = load_checkpoint(run / "checkpoint.pt")["step"]
    assert main(["train", "--out", str(run), "--resume", "--max-steps", str(step + 1), "--quiet"]) == 0
    assert load_checkpoint(run / "checkpoint.pt")["step"] == step + 1
    assert json.loads((run / "config.json").read_text())["latent_dim"] == 8  # the run's, not the default 100


@pytest.mark.skipif(not __import__("os").path.isdir("/proc/self"), reason="needs Linux /proc")
def test_run_folder_that_cannot_be_written_is_a_one_line_error(tmp_path, capsys):
    assert main(["train", "--out", "/proc/upgan-no-such-run", "--max-steps", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("upgan train: error: cannot write the run: ") and err.count("\n") == 1


def test_absurd_width_is_a_one_line_error(tmp_path, capsys):
    for flag in ("--width", "--d-width"):
        assert main(["train", flag, str(2**62), "--out", str(tmp_path / flag), "--max-steps", "1", "--quiet"]) == 2
        err = capsys.readouterr().err
        name = flag[2:].replace("-", "_")
        assert err == f"upgan train: error: The `{name}` setting must be an integer from 1 to 2147483647. Received {name}={2**62}\n"
        # the largest allowed width is an out-of-memory error in one line
        assert main(["train", flag, str(2**31 - 1), "--out", str(tmp_path / flag), "--max-steps", "1", "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("upgan train: error: out of memory building or training the networks") and err.count("\n") == 1


def test_out_of_memory_is_a_one_line_error(trained_run, tmp_path, capsys, monkeypatch):
    import importlib

    train_module = importlib.import_module("upgan.gan.train")

    def too_big(*args, **kwargs):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 2508800000000 bytes.")

    monkeypatch.setattr(train_module, "Generator", too_big)
    _, settings = trained_run
    argv = ["train", *_flags(settings), "--max-steps", "1", "--out", str(tmp_path / "big"), "--quiet"]
    _expect_cli_error(argv, "out of memory building or training the networks; reduce --batch-size", capsys)
