"""`upgan explain`: the pictured layouts compute the real layers, and the printed arithmetic."""

import itertools
import os
import random
import re
import subprocess
import sys

import pytest
import torch
from PIL import Image

from upgan.cli import main
from upgan.cli.explain import conv_layout, transposed_layout
from upgan.functional import conv2d, conv_transpose2d
from upgan.shapes import conv_transpose_steps

# Tiny tensors: one torch thread avoids OpenMP waits on the shared 2-core machines.
pytestmark = pytest.mark.usefixtures("single_thread")


def _apply(layout, x, w):
    """Run the layout literally: gather each window from the pictured cells, multiply, sum."""
    n = len(layout.cells)

    def value(a, b):
        (ka, ia), (kb, ib) = layout.cells[a], layout.cells[b]
        return x[ia, ib] if ka == "input" and kb == "input" else torch.zeros((), dtype=x.dtype)

    grid = torch.stack([torch.stack([value(a, b) for b in range(n)]) for a in range(n)])
    kernel = w.flip(0, 1) if layout.flipped else w
    k, d = layout.kernel_size, layout.dilation
    out = torch.empty(len(layout.starts), len(layout.starts), dtype=x.dtype)
    for ty, sy in enumerate(layout.starts):
        for tx, sx in enumerate(layout.starts):
            out[ty, tx] = (grid[sy : sy + (k - 1) * d + 1 : d, sx : sx + (k - 1) * d + 1 : d] * kernel).sum()
    return out


def _configs(seed, transposed):
    rng = random.Random(seed)
    while True:
        i, k, s, d = rng.randint(1, 5), rng.randint(1, 5), rng.randint(1, 3), rng.choice([1, 1, 2])
        padding = rng.choice(["valid", "same", rng.randint(0, 3)])
        if s > 1 and d > 1 and (transposed or isinstance(padding, str)):  # refused (Keras's rule)
            continue
        op = None
        if transposed and rng.random() < 0.3:
            op = rng.randint(0, max(s, d) - 1 if isinstance(padding, int) else s - 1)
        try:
            if transposed:
                conv_transpose_steps(i, k, s, padding, op, d)
            else:
                conv_layout(i, k, s, padding, d)
        except ValueError:
            continue
        return i, k, s, padding, op, d


@pytest.mark.parametrize("seed", range(12))
def test_transposed_layout_computes_conv_transpose2d(seed):
    i, k, s, padding, op, d = _configs(seed, transposed=True)
    g = torch.Generator().manual_seed(seed)
    x, w = torch.randn(i, i, generator=g, dtype=torch.float64), torch.randn(k, k, generator=g, dtype=torch.float64)
    layout = transposed_layout(conv_transpose_steps(i, k, s, padding, op, d))
    expected = conv_transpose2d(x.view(1, 1, i, i), w.view(1, 1, k, k), stride=s, padding=padding, output_padding=op, dilation=d)[0, 0]
    torch.testing.assert_close(_apply(layout, x, w), expected)


@pytest.mark.parametrize("seed", range(8))
def test_conv_layout_computes_conv2d(seed):
    i, k, s, padding, _, d = _configs(seed + 100, transposed=False)
    g = torch.Generator().manual_seed(seed)
    x, w = torch.randn(i, i, generator=g, dtype=torch.float64), torch.randn(k, k, generator=g, dtype=torch.float64)
    expected = conv2d(x.view(1, 1, i, i), w.view(1, 1, k, k), stride=s, padding=padding, dilation=d)[0, 0]
    torch.testing.assert_close(_apply(conv_layout(i, k, s, padding, d), x, w), expected)


def test_tutorial_numbers(capsys):
    assert main(["explain", "conv-transpose", "--input", "5", "--kernel", "3", "--stride", "2", "--padding", "same"]) == 0
    out = capsys.readouterr().out
    assert "Output: 5x5 -> 10x10   ('valid' gives 11)" in out
    assert "(i - 1) * s + 1 = (5 - 1) * 2 + 1 = 9" in out
    assert "   1  0  2  0  3  0  4  0  5\n   0  0  0  0  0  0  0  0  0\n" in out
    assert main(["explain", "conv-transpose", "--input", "2", "--kernel", "1", "--stride", "2", "--padding", "valid"]) == 0
    out = capsys.readouterr().out
    # The tutorial's picture: 1, 0, 2, 0 / 0, 0, 0, 0 / 3, 0, 4, 0 / 0, 0, 0, 0 (zeros appended as padding).
    assert "Output: 2x2 -> 4x4" in out and "  1 0 2 .\n  0 0 0 .\n  3 0 4 .\n  . . . .\n" in out


def test_conv_and_upsample(capsys):
    assert main(["explain", "conv", "--input", "5", "--kernel", "3", "--stride", "2", "--padding", "same"]) == 0
    out = capsys.readouterr().out
    assert "ceil(5 / 2) = 3" in out and "= 2: 1 before, 1 after" in out and "('valid' gives 2)" in out
    assert main(["explain", "upsample", "--input", "2", "--scale", "2", "--mode", "nearest"]) == 0
    out = capsys.readouterr().out
    assert "  1 1 2 2\n  1 1 2 2\n  3 3 4 4\n  3 3 4 4" in out
    assert main(["explain", "upsample", "--mode", "bilinear"]) == 0
    out = capsys.readouterr().out
    # Keras 3's UpSampling2D(interpolation="bilinear") on [[1, 2], [3, 4]] (NOTES.md).
    assert "     1 1.25 1.75    2\n   1.5 1.75 2.25  2.5\n" in out and "o=0 -> -0.25" in out


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic", "lanczos3"])
def test_upsample_gif_shows_what_each_output_pixel_reads(tmp_path, capsys, mode):
    """One frame per output pixel; the weights drawn are the layer's own (rows of one axis sum to 1)."""
    import upgan.cli.explain as explain

    drawn = []
    real = explain.write_upsample_gif
    explain.write_upsample_gif = lambda weights, title, path: (drawn.append(weights), real(weights, title, path))
    try:
        gif = tmp_path / "up.gif"
        assert main(["explain", "upsample", "--input", "3", "--scale", "2", "--mode", mode, "--gif", str(gif)]) == 0
    finally:
        explain.write_upsample_gif = real
    assert f"Wrote {gif} (36 frames)" in capsys.readouterr().out
    assert Image.open(gif).n_frames == 36
    (weights,) = drawn
    assert weights.shape == (6, 3)
    torch.testing.assert_close(weights.sum(1), torch.ones(6, dtype=torch.float64))
    x = torch.randn(1, 1, 3, 3, dtype=torch.float64)
    from upgan.functional import upsample

    torch.testing.assert_close(weights @ x[0, 0] @ weights.T, upsample(x, 2, mode)[0, 0])  # separable: W x W^T


def test_upsample_gif_errors(tmp_path, capsys):
    assert main(["explain", "upsample", "--input", "11", "--scale", "2", "--gif", str(tmp_path / "u.gif")]) == 2
    assert "the animation would have 484 frames (output 22x22)" in capsys.readouterr().err
    assert main(["explain", "upsample", "--gif", str(tmp_path / "u.jpg")]) == 2
    assert "--gif must name an animation file" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_gif_frames_show_the_window(tmp_path, capsys):
    path = tmp_path / "ct.gif"
    assert main(["explain", "conv-transpose", "--input", "3", "--kernel", "3", "--stride", "2", "--gif", str(path)]) == 0
    assert "Wrote" in capsys.readouterr().out
    with Image.open(path) as im:
        assert im.n_frames == 36  # 6x6 outputs, one frame each
        im.seek(0)
        first = im.convert("RGB")
        im.seek(35)
        last = im.convert("RGB")
    # The window (dark) sits at the top-left of the padded input in the first frame and at
    # the bottom-right in the last; cell (a, b) has its centre at (26 + 26 b + 12, 22 + 26 a + 12).
    centre = lambda a, b: (26 + 26 * b + 12, 22 + 26 * a + 12)  # noqa: E731
    assert first.getpixel(centre(0, 0)) == (30, 40, 60) and first.getpixel(centre(3, 3)) != (30, 40, 60)
    assert last.getpixel(centre(7, 7)) == (30, 40, 60) and last.getpixel(centre(0, 0)) != (30, 40, 60)


def _explain(capsys, argv):
    """Run ``upgan explain ARGV``: ``(exit code, printed output size or None, stderr)``."""
    code = main(["explain", *map(str, argv)])
    captured = capsys.readouterr()
    sizes = re.findall(r"^Output: (\d+)x\1 -> (\d+)x\2", captured.out, flags=re.MULTILINE)
    assert len(sizes) == (code == 0), captured.out
    return code, int(sizes[0][1]) if sizes else None, captured.err


def _real_size(op, **kwargs):
    """The output side of the real function on a square input, or None when it refuses the arguments."""
    i, k = kwargs.pop("input"), kwargs.pop("kernel")
    try:
        y = op(torch.zeros(1, 1, i, i), torch.zeros(1, 1, k, k), **kwargs)
    except ValueError:
        return None
    assert y.shape[2] == y.shape[3]
    return y.shape[2]


PADDINGS = ("same", "valid", 0, 1, 2, 3, -1)


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_conv_explains_exactly_what_conv2d_runs(capsys, stride):
    """Every setting conv2d accepts is explained with its real output size; the rest are one-line errors."""
    for i, k, padding, d in itertools.product(range(1, 7), range(1, 6), PADDINGS, [1, 2, 3]):
        real = _real_size(conv2d, input=i, kernel=k, stride=stride, padding=padding, dilation=d)
        argv = ["conv", "--input", i, "--kernel", k, "--stride", stride, "--padding", padding, "--dilation", d]
        code, size, err = _explain(capsys, argv)
        assert (code, size) == ((2, None) if real is None else (0, real)), (argv, err)
        assert real is not None or (err.startswith("upgan explain: error: ") and err.count("\n") == 1), err


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_conv_transpose_explains_exactly_what_conv_transpose2d_runs(capsys, stride):
    """As for conv, with output_padding None or 0 .. 2 (valid only below the stride, or the dilation for integers)."""
    for i, k, padding, d, op in itertools.product([1, 2, 3, 4], range(1, 5), PADDINGS, [1, 2, 3], [None, 0, 1, 2]):
        real = _real_size(
            conv_transpose2d, input=i, kernel=k, stride=stride, padding=padding, output_padding=op, dilation=d
        )
        argv = ["conv-transpose", "--input", i, "--kernel", k, "--stride", stride, "--padding", padding, "--dilation", d]
        code, size, err = _explain(capsys, argv + ([] if op is None else ["--output-padding", op]))
        assert (code, size) == ((2, None) if real is None else (0, real)), (argv, op, err)
        assert real is not None or (err.startswith("upgan explain: error: ") and err.count("\n") == 1), err


def test_padding_names_are_case_insensitive_as_in_keras(capsys):
    for op in ("conv", "conv-transpose"):
        outputs = []
        for name in ("same", "SAME", "Same"):
            assert main(["explain", op, "--input", "5", "--stride", "2", "--padding", name]) == 0
            outputs.append(capsys.readouterr().out)
        assert outputs[0] == outputs[1] == outputs[2] and "padding = 'same'" in outputs[0]


def test_side_note_for_an_empty_or_refused_padding(capsys):
    assert _explain(capsys, ["conv", "--input", "3", "--kernel", "5"])[:2] == (0, 3)
    assert main(["explain", "conv", "--input", "1", "--kernel", "2", "--padding", "1"]) == 0
    assert "Output: 1x1 -> 2x2   ('same' gives 1, 'valid' gives an empty output)" in capsys.readouterr().out
    argv = ["conv-transpose", "--input", "3", "--kernel", "3", "--stride", "2", "--dilation", "2", "--padding", "1"]
    assert main(["explain", *argv]) == 0
    assert "Output: 3x3 -> 7x7   ('same' and 'valid' refuse a stride > 1 with a dilation > 1)" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["explain", "conv-transpose", "--input", "30"], ["tour", "--part", "upsampling"]])
def test_closed_pipe_exits_quietly(argv):
    """`upgan ... | head` when head has gone: exit code 1 and nothing on stderr, not a BrokenPipeError traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write: every write fails with EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-m", "upgan", *argv], stdout=write_end, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=120,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (1, "")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["conv-transpose", "--kernel", "0"], r"--kernel must be an integer >= 1\. Received --kernel 0"),
        (["conv-transpose", "--padding", "full"], r"`padding` argument must be one of .*Received padding='full'"),
        (["conv", "--input", "2", "--kernel", "5", "--padding", "valid"], r"output size would be -2"),
        (
            ["conv-transpose", "--input", "3", "--stride", "2", "--dilation", "2", "--padding", "same"],
            r"--stride > 1 is not supported together with --dilation > 1 for --padding 'valid' or 'same' "
            r"\(as in Keras\)\. Received --stride 2, --dilation 2, --padding same$",
        ),
        (["conv-transpose", "--input", "30", "--gif", "x.gif"], r"animation would have 3600 frames"),
        (
            ["conv", "--input", "5", "--stride", "2", "--dilation", "2", "--padding", "valid"],
            r"--stride > 1 is not supported together with --dilation > 1 for --padding 'valid' or 'same' "
            r"\(as in Keras\)\. Received --stride 2, --dilation 2, --padding valid$",
        ),
        (["upsample", "--mode", "trilinear"], r"Received mode='trilinear'"),
        (["upsample", "--scale", "0"], r"--scale must be an integer >= 1\. Received --scale 0"),
    ],
)
def test_errors(capsys, argv, message):
    assert main(["explain", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("upgan explain: error: ") and re.search(message, err), err
