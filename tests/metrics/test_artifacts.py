"""Overlap patterns (Odena et al. 2016), per-phase statistics, and `upgan artifacts`."""

import math
import re

import numpy as np
import pytest
import torch
from PIL import Image

from upgan.cli import main
from upgan.metrics.artifacts import describe_overlap, overlap_pattern, overlap_period, phase_statistics

# Tiny tensors: one torch thread avoids OpenMP waits on the shared 2-core machines.
pytestmark = pytest.mark.usefixtures("single_thread")


def _overlap_np(k, s, n):
    """Count, for each output pixel, the (input, tap) pairs landing on it."""
    size = (n - 1) * s + k
    out = np.zeros((size, size), dtype=int)
    for iy in range(n):
        for ix in range(n):
            out[iy * s : iy * s + k, ix * s : ix * s + k] += 1
    return out


@pytest.mark.parametrize("k, s", [(1, 1), (1, 2), (2, 2), (3, 2), (4, 2), (3, 3), (5, 2), (5, 3), (7, 4)])
def test_overlap_pattern_and_period_match_counts(k, s):
    np.testing.assert_array_equal(overlap_pattern(k, s, 5).int().numpy(), _overlap_np(k, s, 5))
    per_axis = torch.tensor([math.ceil((k - p) / s) if p < k else 0 for p in range(s)], dtype=torch.float64)
    torch.testing.assert_close(overlap_period(k, s), torch.outer(per_axis, per_axis))


def test_describe_overlap():
    assert describe_overlap(3, 2) == "uneven: max/min = 4:1 (stride 2 does not divide kernel 3)"
    assert describe_overlap(5, 3).startswith("uneven: max/min = 4:1")
    assert describe_overlap(4, 2) == "even: every output pixel gets 4 taps (stride 2 divides kernel 4)"
    assert describe_overlap(3, 1) == "even: every output pixel gets 9 taps (stride 1 divides kernel 3)"
    assert describe_overlap(2, 3).startswith("gaps: 5 of 9 output pixels")


@pytest.mark.parametrize("k, s, message", [(0, 2, r"`kernel_size` argument must be an integer >= 1\. Received kernel_size=0"), (3, 0, r"`stride` argument must be an integer >= 1\. Received stride=0")])
def test_overlap_argument_errors(k, s, message):
    with pytest.raises(ValueError, match=message):
        overlap_pattern(k, s)


def test_phase_statistics_against_numpy():
    x = torch.rand(3, 2, 7, 9, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    stats = phase_statistics(x, period=3)
    a = x.numpy().reshape(6, 7, 9)
    padded = np.pad(a, ((0, 0), (1, 1), (1, 1)), mode="edge")
    box = sum(padded[:, dy : dy + 7, dx : dx + 9] for dy in range(3) for dx in range(3)) / 9
    res = a - box
    for py in range(3):
        for px in range(3):
            assert stats["mean"][py][px] == pytest.approx(a[:, py::3, px::3].mean())
            assert stats["residual"][py][px] == pytest.approx(res[:, py::3, px::3].mean())
    flat = np.array(stats["residual"])
    assert stats["spread"] == pytest.approx(flat.max() - flat.min())


def test_phase_statistics_errors():
    with pytest.raises(ValueError, match=r"`period` argument must be at most the image height and width.* Received period=3 for images of shape \(1, 1, 2, 2\)"):
        phase_statistics(torch.zeros(1, 1, 2, 2), period=3)
    images = torch.zeros(2, 1, 4, 4)
    images[1, 0, 2, 2] = float("nan")
    with pytest.raises(ValueError, match=r"The `images` must be finite\. Received 1 NaN or infinite value"):
        phase_statistics(images)
    assert phase_statistics(torch.zeros(1, 1, 2, 3), period=2)["spread"] == 0.0  # period == min side: fine


def test_phase_statistics_sees_a_transposed_conv_grid():
    g = torch.Generator().manual_seed(0)
    smooth = torch.nn.functional.interpolate(torch.rand(8, 1, 8, 8, generator=g), scale_factor=2, mode="bilinear")
    # A k=3, s=2 transposed conv of a constant map has the 4:1 overlap grid in its output.
    grid = torch.nn.functional.conv_transpose2d(torch.ones(8, 1, 8, 8), torch.full((1, 1, 3, 3), 0.05), stride=2)[..., :16, :16]
    assert phase_statistics(smooth + grid)["spread"] > 10 * phase_statistics(smooth)["spread"]
    with pytest.raises(ValueError, match=r"Received images of shape \(16, 16\)"):
        phase_statistics(torch.zeros(16, 16))


def test_cli_overlap_prints_grid_and_draws_png(tmp_path, capsys):
    out = tmp_path / "overlap.png"
    assert main(["artifacts", "--kernel", "3", "--stride", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "uneven: max/min = 4:1" in text
    assert "  1 1 2 1 2 1 2 1 1\n" in text and "  4 2\n  2 1\n" in text
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size[0] > 200
    assert main(["artifacts", "--kernel", "4", "--stride", "2", "--input", "2", "--out", str(out)]) == 0
    assert "even: every output pixel gets 4 taps" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--kernel", "0", "--stride", "2"], r"--kernel must be an integer >= 1\. Received --kernel 0"),
        (["--kernel", "3", "--stride", "-1"], r"--stride must be an integer >= 1\. Received --stride -1"),
        (["--kernel", "3"], r"give --kernel K and --stride S"),
        (["somewhere", "--kernel", "3", "--stride", "2"], r"either RUN_DIR or --kernel/--stride, not both"),
        (["nowhere"], r"No generator\.safetensors in nowhere"),
        (["nowhere", "--period", "1"], r"--period must be an integer >= 2\. Received --period 1$"),
        (["--kernel", "3", "--stride", "2", "--period", "0"], r"--period must be an integer >= 2\. Received --period 0$"),
    ],
)
def test_cli_errors(capsys, argv, message):
    assert main(["artifacts", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("upgan artifacts: error: ") and re.search(message, err)


def test_cli_run_dir(tmp_path, capsys):
    from upgan.gan import Generator, TrainConfig
    from upgan.gan.checkpoint import save_generator

    run = tmp_path / "run"
    run.mkdir()
    torch.manual_seed(0)
    save_generator(run / "generator.safetensors", Generator(latent_dim=8, upsample="transposed", width=4), TrainConfig(latent_dim=8, width=4), 0)
    assert main(["artifacts", str(run), "--n", "50"]) == 0
    text = capsys.readouterr().out
    assert "upsample=transposed, 50 generated vs 50 real images, period 2" in text
    assert re.search(r"checkerboard score at period 2: \d+\.\d{3}", text)
    assert (run / "phases.png").stat().st_size > 1000
    assert main(["artifacts", str(run), "--period", "3"]) == 2
    assert "--period must divide the image size 28. Received --period 3" in capsys.readouterr().err
    assert main(["artifacts", str(run), "--period", "1"]) == 2
    assert capsys.readouterr().err == "upgan artifacts: error: --period must be an integer >= 2. Received --period 1\n"
