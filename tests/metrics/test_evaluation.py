"""evaluate_images (scores + baseline) and the `upgan evaluate` command."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from upgan.cli import main
from upgan.gan import Generator, TrainConfig
from upgan.gan.checkpoint import save_generator
from upgan.metrics.evaluation import SCORES, evaluate_images, format_table

# Tiny tensors: one torch thread avoids OpenMP waits on the shared 2-core machines.
pytestmark = pytest.mark.usefixtures("single_thread")

DATA = Path(__file__).resolve().parents[2] / "src" / "upgan" / "data" / "mnist5k.npz"


@pytest.fixture(scope="module")
def mnist():
    return torch.from_numpy(np.load(DATA)["images"]).unsqueeze(1)  # (5000, 1, 28, 28) uint8


def test_real_images_score_like_the_baseline_and_noise_does_not(mnist):
    g = torch.Generator().manual_seed(0)
    idx = torch.randperm(5000, generator=g)
    real, held = mnist[idx[:400]], mnist[idx[400:550]].float().div(127.5).sub(1)
    good = evaluate_images(held, real, features="classifier")
    assert good["n"] == 150 and good["features"] == "classifier"
    assert good["kid_subset_size"] == 150 and good["kid_subsets"] == 1
    gen, base = good["generated"], good["baseline"]
    assert set(gen) == set(SCORES) | {"kid_std"} == set(base)
    # Real digits score close to the real-vs-real floor...
    assert gen["fid"] < 3 * base["fid"] and gen["precision"] > 0.7 and gen["recall"] > 0.7
    assert 0.5 < gen["checkerboard"] < 2 and gen["spectral_distance"] < 0.05
    noise = torch.rand(150, 1, 28, 28, generator=g) * 2 - 1
    bad = evaluate_images(noise, real, features="classifier", baseline=False)
    assert "baseline" not in bad
    # ...noise does not.
    assert bad["generated"]["fid"] > 10 * gen["fid"]
    assert bad["generated"]["coverage"] < 0.1 < gen["coverage"]
    assert bad["generated"]["checkerboard"] > 5


def test_evaluate_images_errors(mnist):
    with pytest.raises(ValueError, match=r"same shape \(C, H, W\)\. Received generated \(1, 32, 32\) and real \(1, 28, 28\)"):
        evaluate_images(torch.zeros(10, 1, 32, 32), mnist[:100])
    with pytest.raises(ValueError, match=r"Too few generated images: n=5\. .* use n >= 6"):
        evaluate_images(torch.zeros(5, 1, 28, 28), mnist[:100])
    with pytest.raises(ValueError, match=r"two disjoint halves of n=60 real images, i\.e\. 120; the dataset has 100\. Use n <= 50"):
        evaluate_images(torch.zeros(60, 1, 28, 28), mnist[:100])
    with pytest.raises(ValueError, match=r"`fake` argument must be a 4-D tensor .* Received shape \(10, 28, 28\)"):
        evaluate_images(torch.zeros(10, 28, 28), mnist[:100])


def test_evaluate_images_refuses_odd_sizes_before_any_work():
    fake = torch.zeros(8, 3, 7, 9)
    real = torch.zeros(16, 3, 7, 9, dtype=torch.uint8)
    with pytest.raises(ValueError, match=r"The images must have an even height and width: .* Received images of shape \(3, 7, 9\)"):
        evaluate_images(fake, real, features="random")


def test_cli_evaluate_unwritable_metrics_file(tmp_path, capsys):
    run = _run_dir(tmp_path)
    (run / "metrics.json").mkdir()  # a folder where the file goes: refused before scoring
    assert main(["evaluate", str(run), "--n", "20", "--features", "random"]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"upgan evaluate: error: cannot write {run / 'metrics.json'}: it is a folder\n"
    assert captured.out == ""


def test_cli_evaluate_write_failure_after_scoring_keeps_the_printed_scores(tmp_path, capsys, monkeypatch):
    run = _run_dir(tmp_path)
    real_write = Path.write_text

    def refuse(self, *args, **kwargs):
        if self.name == "metrics.json":
            raise PermissionError(13, "Permission denied", str(self))
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", refuse)
    assert main(["evaluate", str(run), "--n", "20", "--features", "random"]) == 2
    captured = capsys.readouterr()
    assert "real vs real" in captured.out  # the table was printed before the write failed
    assert captured.err.startswith(f"upgan evaluate: error: cannot write {run / 'metrics.json'}: ")


def test_format_table_lists_every_score():
    row = {k: float(i) for i, k in enumerate(SCORES)} | {"kid_std": 0.0}
    text = format_table({"generated": row, "baseline": row})
    for label, better in SCORES.values():
        assert any(line.startswith(label) and line.endswith(better) for line in text.splitlines())
    alone = format_table({"generated": row}).splitlines()  # evaluate_images(..., baseline=False)
    assert len(alone) == len(text.splitlines()) and alone[2].split()[-2:] == ["-", "lower"]


def _run_dir(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    torch.manual_seed(0)
    gen = Generator(latent_dim=8, image_shape=(1, 28, 28), width=4)
    save_generator(run / "generator.safetensors", gen, TrainConfig(latent_dim=8, width=4), 0)
    return run


def test_cli_evaluate_writes_metrics_json(tmp_path, capsys):
    run = _run_dir(tmp_path)
    assert main(["evaluate", str(run), "--n", "60", "--batch-size", "32"]) == 0
    out = capsys.readouterr().out
    assert "mnist5k: n=60, features=classifier" in out and "real vs real" in out and "digits:" in out
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["n"] == 60 and metrics["features"] == "classifier"
    assert set(metrics["generated"]) == set(metrics["baseline"]) == set(SCORES) | {"kid_std"}
    assert metrics["digit_quality"]["n"] == 60 and not metrics["digit_quality"]["passes"]
    assert "digit_quality_draws" not in metrics  # fewer than 100 images: no draw
    for key in SCORES:
        assert f"{metrics['baseline'][key]:.4g}"[:4] in out


def test_cli_evaluate_scores_draws_of_100(tmp_path, capsys):
    run = _run_dir(tmp_path)
    assert main(["evaluate", str(run), "--n", "250"]) == 0
    draws = json.loads((run / "metrics.json").read_text())["digit_quality_draws"]
    assert draws["draws"] == 2 and draws["draw_size"] == 100 and draws["passed"] == 0  # an untrained generator
    assert "on 2 separate draws of 100: 0 meet the bar" in capsys.readouterr().out


def test_cli_evaluate_random_features(tmp_path, capsys):
    run = _run_dir(tmp_path)
    assert main(["evaluate", str(run), "--n", "20", "--features", "random"]) == 0
    assert "features=random" in capsys.readouterr().out
    assert json.loads((run / "metrics.json").read_text())["features"] == "random"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--n", "0"], r"--n must be a positive integer\. Received --n 0"),
        (["--n", "3"], r"Too few generated images: n=3"),
        (["--batch-size", "0"], r"--batch-size must be a positive integer\. Received --batch-size 0"),
    ],
)
def test_cli_evaluate_user_errors(tmp_path, capsys, argv, message):
    run = _run_dir(tmp_path)
    assert main(["evaluate", str(run), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("upgan evaluate: error: ") and "Traceback" not in err
    assert re.search(message, err)


def test_cli_evaluate_on_a_dataset_too_small_names_the_dataset(tmp_path, capsys):
    """8 images cap n at 4, below the 6 the scores need: the message blames the dataset, not --n."""
    from PIL import Image

    images = tmp_path / "images"
    images.mkdir()
    for i in range(8):
        Image.fromarray(np.full((8, 8), 30 * i, np.uint8)).save(images / f"{i}.png")
    run = tmp_path / "run"
    run.mkdir()
    gen = Generator(latent_dim=8, image_shape=(1, 8, 8), width=4)
    config = TrainConfig(dataset=f"folder:{images}", image_size=8, channels=1, latent_dim=8, width=4)
    save_generator(run / "generator.safetensors", gen, config, 0)
    assert main(["evaluate", str(run), "--n", "50", "--features", "random"]) == 2
    err = capsys.readouterr().err
    assert f"upgan evaluate: error: The dataset folder:{images} has 8 images: too few to evaluate" in err, err
    assert "at least 12 images" in err and "Too few generated images" not in err


def test_auto_features_use_the_digit_classifier_only_for_digit_datasets(tmp_path, capsys):
    """A folder of 28x28 grey images (or Fashion-MNIST) is not digits: random features, no digit bar."""
    from PIL import Image

    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(40):
        Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)).save(images / f"{i}.png")
    run = tmp_path / "run"
    run.mkdir()
    config = TrainConfig(dataset=f"folder:{images}", image_size=28, channels=1, latent_dim=8, width=4)
    save_generator(run / "generator.safetensors", Generator(latent_dim=8, image_shape=(1, 28, 28), width=4), config, 0)
    assert main(["evaluate", str(run), "--n", "20"]) == 0
    out = capsys.readouterr().out
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["features"] == "random" and "digit_quality" not in metrics
    assert "features=random" in out and "digits:" not in out
    assert main(["evaluate", str(run), "--n", "20", "--features", "classifier"]) == 0  # asked for: allowed
    assert json.loads((run / "metrics.json").read_text())["features"] == "classifier"


def test_cli_evaluate_missing_run(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nope")]) == 2
    assert "upgan evaluate: error: No generator.safetensors in" in capsys.readouterr().err
