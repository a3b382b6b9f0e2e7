"""``upgan tour`` runs and prints the tutorial's key numbers."""

from __future__ import annotations

import re

import numpy as np
import pytest

from upgan.cli import main


def printed_arrays(text: str) -> list[np.ndarray]:
    blocks = re.findall(r"\[\[[-\d.\s\[\]]*?\]\]", text)
    return [np.array([[float(v) for v in row.split()] for row in re.findall(r"\[([^\[\]]+)\]", b)]) for b in blocks]


def test_tour_prints_the_whole_tutorial(capsys):
    assert main(["tour"]) == 0
    out = capsys.readouterr().out
    headings = re.findall(r"^(\d)\. (.*)$", out, flags=re.M)
    assert [number for number, _ in headings] == ["1", "2", "3", "4"]
    assert out.count("Total params: 324,353") == 2
    assert out.count("(None, 10, 10, 1)") >= 2
    # Output-size arithmetic with numbers filled in, checked against the formulas.
    assert f"Conv2DTranspose k=3 s=2 same: 5 -> 5 * 2 = {5 * 2}" in out
    assert f"valid would give (5 - 1) * 2 + max(3, 2) = {(5 - 1) * 2 + max(3, 2)}" in out
    assert f"(2 - 1) * 2 + max(1, 2) = {(2 - 1) * 2 + max(1, 2)}" in out
    assert f"would give (2 - 1) * 2 + 1 = {(2 - 1) * 2 + 1}" in out
    assert f"3 * 3 * 128 * 1 + 1 = {3 * 3 * 128 + 1:,} parameters" in out
    arrays = printed_arrays(out)
    x = np.array([[1, 2], [3, 4]])
    nearest = np.repeat(np.repeat(x, 2, axis=0), 2, axis=1)
    assert any(a.shape == (4, 4) and np.array_equal(a, nearest) for a in arrays)
    assert any(np.array_equal(a, np.repeat(np.repeat(x, 2, axis=0), 3, axis=1)) for a in arrays)
    zero_inserted = np.zeros((4, 4))
    zero_inserted[::2, ::2] = x
    assert sum(np.array_equal(a, zero_inserted) for a in arrays) == 2  # the picture and the layer's output
    # Bilinear with half-pixel centres, as torch's align_corners=False computes it.
    torch = pytest.importorskip("torch")
    bilinear = torch.nn.functional.interpolate(torch.tensor(x, dtype=torch.float32)[None, None], scale_factor=2,
                                               mode="bilinear", align_corners=False)[0, 0].numpy()
    assert any(a.shape == bilinear.shape and np.allclose(a, bilinear) for a in arrays)


def test_tour_one_part(capsys):
    assert main(["tour", "--part", "transpose"]) == 0
    out = capsys.readouterr().out
    assert "UpSampling2D" not in out and "3. The Conv2DTranspose layer" in out


def test_tour_is_listed_in_help(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert re.search(r"tour\s+walk through the upsampling", capsys.readouterr().out)
