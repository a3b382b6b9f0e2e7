"""``upgan bench --quick``: the report's structure (timings themselves are not tested)."""

from __future__ import annotations

import re

import pytest
import torch

from upgan.cli import main
from upgan.cli.bench import METHODS, STAGES

# Tiny tensors: one torch thread avoids OpenMP waits on the shared 2-core machines.
pytestmark = pytest.mark.usefixtures("single_thread")


def _rows(text: str, heading: str) -> list[list[str]]:
    """The data rows of the Markdown table under ``## heading``, split into cells."""
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| stage")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def test_nominal_peak_from_cpu_flags(tmp_path, monkeypatch):
    """threads x GHz x (2 FMA pipes x lanes x 2): 2 x 2.5 x 64 with avx512f and fma."""
    from upgan.cli import bench

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("model name\t: Test CPU\ncpu MHz\t\t: 2500.000\nflags\t\t: fpu avx avx2 fma avx512f\n")
    real_open = open
    monkeypatch.setattr("builtins.open", lambda path, *a, **k: real_open(cpuinfo if path == "/proc/cpuinfo" else path, *a, **k))
    peak, how = bench._nominal_peak(2)
    assert peak == pytest.approx(2 * 2.5 * 64) and "2 FMA pipes x 16 float32 lanes x 2" in how
    cpuinfo.write_text("cpu MHz\t\t: 3000.000\nflags\t\t: fpu avx\n")
    assert bench._nominal_peak(4)[0] == pytest.approx(4 * 3.0 * 16)  # 2 pipes x 8 lanes, no FMA


def test_quick_report(tmp_path, capsys):
    out_file = tmp_path / "results.md"
    assert main(["bench", "--quick", "--output", str(out_file)]) == 0
    printed = capsys.readouterr().out
    assert out_file.read_text() == printed
    assert re.search(r"- Peak \(the '% of peak' column\): [\d,]+ GFLOP/s", printed)
    assert re.search(r"- Measured reference: [\d,]+ GFLOP/s \(\d+% of peak\)", printed)
    assert f"torch {torch.__version__}" in printed
    for memory_format in ("contiguous", "channels_last"):
        rows = _rows(printed, memory_format)
        assert [(r[0], r[1]) for r in rows] == [(s[0], m[0]) for s in STAGES for m in METHODS]
        for stage, method, macs, forward, train, ratio, gflops, percent, faults in rows:
            assert float(forward) > 0 and float(train) > 0
            assert re.fullmatch(r"\d·C_in = [\d,]+", macs)
            baseline = dict((m[0], m[2]) for m in METHODS)[method]
            assert (ratio == "") == (baseline is None)
            assert ratio == "" or re.fullmatch(r"\d+\.\d\dx vs (naive|torch)", ratio)
            assert re.fullmatch(r"[\d,]+", gflops) and re.fullmatch(r"\d+%", percent)
            assert re.fullmatch(r"[\d,]+|-", faults)
    paths = _rows(printed, "Transposed-convolution paths (k=4, s=2, p=1): native kernel vs sub-pixel decomposition")
    assert len(paths) == 2 * len(STAGES)
    assert {r[-1] for r in paths} <= {"native / native", "sub-pixel / sub-pixel"}
    assert printed.count("ResizeConv2d(nearest) vs Upsample+Conv2d: median") == 2
    bounds = re.findall(r"- For scale: torch ConvTranspose2d\(4,2,1\) itself .*: median (\d+\.\d\d)x faster", printed)
    assert len(bounds) == 2 and all(float(b) > 0 for b in bounds)
    floors = re.findall(r"- Noise floor: .* (\d+\.\d\d)x to (\d+\.\d\d)x across the stages", printed)
    assert len(floors) == 2 and all(0 < float(low) <= float(high) for low, high in floors)


def test_errors(capsys):
    assert main(["bench", "--repeats", "0"]) == 2
    assert "upgan bench: error: --repeats must be >= 1, got 0" in capsys.readouterr().err
    assert main(["bench", "--device", "tpu"]) == 2
    assert "upgan bench: error: --device 'tpu' is not a torch device" in capsys.readouterr().err
    assert main(["bench", "--device", "meta"]) == 2
    assert "upgan bench: error: --device must be cpu or cuda[:N], got 'meta'" in capsys.readouterr().err
    if not torch.cuda.is_available():
        assert main(["bench", "--device", "cuda"]) == 2
        assert "upgan bench: error: --device cuda: CUDA is not available" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["bench", "--memory-format", "nhwc"])


def test_output_checked_before_running(tmp_path, capsys):
    """A report that could not be written is refused before the benchmark runs, not after."""
    (tmp_path / "file").write_text("")
    for output, message in (
        (tmp_path / "nodir" / "b.md", f"--output must be in an existing folder, got '{tmp_path / 'nodir' / 'b.md'}' "
         f"('{tmp_path / 'nodir'}' is not a folder)"),
        (tmp_path / "file" / "b.md", "is not a folder)"),
        (tmp_path, f"--output must be a file, not a folder, got '{tmp_path}'"),
    ):
        assert main(["bench", "--quick", "--output", str(output)]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.startswith("upgan bench: error: --output ")
        assert message in captured.err and captured.err.count("\n") == 1


def test_page_fault_counter_sees_fresh_memory():
    """Touching a fresh 64 MB block faults pages in; the counter the table uses must see it."""
    from upgan.cli import bench

    if bench.resource is None:
        pytest.skip("no getrusage on this platform")
    before = bench._minor_faults()
    block = torch.ones(16 * 2**20)  # 64 MB: above glibc's mmap threshold, so fresh pages
    assert bench._minor_faults() - before > 0
    del block
