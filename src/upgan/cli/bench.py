"""``upgan bench``: time the upsampling layers on real generator stages.

Stages (input channels -> output channels at input size -> output size):

- DCGAN-64, batch 64: 512->256 at 4->8, 256->128 at 8->16, 128->64 at 16->32, 64->3 at 32->64;
- MNIST, batch 128: 128->64 at 7->14, 64->1 at 14->28.

Methods, all x2 with a 3x3 convolution unless named otherwise: ``nn.Upsample`` + ``nn.Conv2d``
(nearest and bilinear), :class:`upgan.nn.ResizeConv2d` (nearest and bilinear),
:class:`upgan.nn.SubPixelConv2d`, ``torch.nn.ConvTranspose2d(4, 2, 1)`` and
:class:`upgan.nn.ConvTranspose2d` with the same arguments, and torch's again as a control (the
ratio of two identical computations is the run's noise floor). Everything runs in one process and is
interleaved: every repeat times each method once, in an order rotated from repeat to repeat, and
the table reports medians, so load from other processes hits all methods alike.

The forward time is measured without autograd (inference); forward+backward with the stage's
input requiring a gradient (as inside a generator), backpropagating a fixed random gradient.
The page-fault column is the median number of minor page faults the process took during one
forward+backward (``getrusage``; "-" where the platform has none): glibc's ``malloc`` serves
large blocks (over 32 MB always, smaller ones depending on its history) with fresh ``mmap``
pages and returns them on ``free``, so a method that allocates a large intermediate, like the
naive forms' upsampled map, pays for zero-filling new pages on every call. Run under
``MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=4294967296`` (or another allocator)
to time the same code with freed memory kept.

Multiply-adds (MACs) per output element count the convolution work each method executes
(ResizeConv2d(bilinear): the nearest transposed convolution; the 9-tap per-channel blur and the
1-D border corrections are left out of the count);
GFLOP/s = 2 * MACs / time, with forward+backward counted as 3x the forward MACs (input and weight
gradients each cost one forward). On CPU, "% of peak" is against the nominal float32 peak,
threads x clock x FLOPs per cycle per core, the last from the CPU flags with two FMA pipes
assumed (see :func:`_nominal_peak`); a large float32 matrix multiply and a large 1x1
convolution measured in the same run give a second, achieved reference.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass

from upgan.cli import CliError

try:
    import resource
except ImportError:  # not on Windows
    resource = None

# (name, batch, in channels, out channels, input size); every stage doubles the size.
STAGES = (
    ("DCGAN 512->256 4->8", 64, 512, 256, 4),
    ("DCGAN 256->128 8->16", 64, 256, 128, 8),
    ("DCGAN 128->64 16->32", 64, 128, 64, 16),
    ("DCGAN 64->3 32->64", 64, 64, 3, 32),
    ("MNIST 128->64 7->14", 128, 128, 64, 7),
    ("MNIST 64->1 14->28", 128, 64, 1, 14),
)
# --quick: the same stages, 8x fewer channels (at least 1) and batch 2, to check the command runs.
QUICK_SCALE = 8

METHODS = (
    # (name, MACs per output element in units of C_in, baseline name for the ratio column)
    ("Upsample(nearest)+Conv2d", 9, None),
    ("ResizeConv2d(nearest)", 4, "Upsample(nearest)+Conv2d"),
    ("Upsample(bilinear)+Conv2d", 9, None),
    ("ResizeConv2d(bilinear)", 4, "Upsample(bilinear)+Conv2d"),
    ("SubPixelConv2d", 9, "Upsample(nearest)+Conv2d"),
    ("torch ConvTranspose2d(4,2,1)", 4, None),
    ("upgan ConvTranspose2d(4,2,1)", 4, "torch ConvTranspose2d(4,2,1)"),
    # The same torch module type again (own weights, same shapes): an A/A control whose ratio to
    # the first shows how far two identical computations' medians drift apart in this run.
    ("torch ConvTranspose2d(4,2,1), again", 4, "torch ConvTranspose2d(4,2,1)"),
)
MEMORY_FORMATS = ("contiguous", "channels_last")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench",
        help="time resize-convolution, sub-pixel and transposed convolutions on generator stages",
        description="Time upgan's upsampling layers against their torch.nn counterparts on DCGAN-64 and MNIST "
        "generator stages: forward and forward+backward medians of interleaved repeats, ratios, "
        "multiply-adds per output and GFLOP/s against the CPU's nominal peak (and a measured matmul). "
        "Prints Markdown.",
    )
    p.add_argument("--device", default="cpu", help="torch device: cpu (default), cuda, cuda:1, ...")
    p.add_argument("--repeats", type=int, default=9, help="timed repeats per method (default 9; medians reported)")
    p.add_argument("--warmup", type=int, default=2, help="untimed repeats before timing (default 2)")
    p.add_argument(
        "--memory-format",
        choices=("both", *MEMORY_FORMATS),
        default="both",
        help="input and weight memory format (default both, one table each)",
    )
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads on CPU (default: torch's choice)")
    p.add_argument("--quick", action="store_true", help="tiny stages, 2 repeats, no warm-up: a smoke test of the command")
    p.add_argument(
        "--no-paths",
        action="store_true",
        help="skip the table comparing the native transposed convolution with its sub-pixel decomposition",
    )
    p.add_argument("--output", metavar="PATH", help="also write the report (Markdown) to PATH")
    p.set_defaults(func=run)


@dataclass
class Timing:
    forward: list[float]
    train: list[float]
    faults: list[int]  # minor page faults per forward+backward (empty without getrusage)


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource is not None else 0


def run(args: argparse.Namespace) -> int:
    import torch

    if args.repeats < 1:
        raise CliError(f"--repeats must be >= 1, got {args.repeats}")
    if args.warmup < 0:
        raise CliError(f"--warmup must be >= 0, got {args.warmup}")
    try:
        device = torch.device(args.device)
    except RuntimeError as err:
        raise CliError(f"--device {args.device!r} is not a torch device ({err})") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise CliError(f"--device {args.device}: CUDA is not available in this torch build or machine")
    if device.type not in ("cpu", "cuda"):
        raise CliError(f"--device must be cpu or cuda[:N], got {args.device!r}")
    if args.threads is not None:
        if args.threads < 1:
            raise CliError(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    if args.output:
        _check_output(args.output)  # before the run, which takes minutes
    repeats, warmup = (2, 0) if args.quick else (args.repeats, args.warmup)
    formats = MEMORY_FORMATS if args.memory_format == "both" else (args.memory_format,)

    report: list[str] = []
    lines = _header(torch, device, args)
    measured = _measured_peak(torch, device, quick=args.quick)
    nominal = _nominal_peak(torch.get_num_threads()) if device.type == "cpu" else None
    if nominal is not None:
        peak, how = nominal
        lines.append(f"- Peak (the '% of peak' column): {peak:,.0f} GFLOP/s nominal float32, {how}.")
    else:
        peak = measured
        lines.append("- Peak (the '% of peak' column): the measured reference below (no nominal figure for this device).")
    lines.append(
        f"- Measured reference: {measured:,.0f} GFLOP/s ({100 * measured / peak:.0f}% of peak), the best of a "
        "float32 4096^3 matmul and a 1024->1024 1x1 convolution timed in this run; on a shared machine it "
        "reads low, and 3x3 convolutions can run faster than it."
    )
    lines.append("")
    _emit(report, lines)
    summaries = []
    for memory_format in formats:
        _emit(report, _table_header(memory_format))
        results = {}
        for stage in _stages(args.quick):
            results[stage[0]] = _time_stage(torch, device, stage, memory_format, repeats, warmup)
            _emit(report, _stage_rows(stage, results[stage[0]], peak))
        _emit(report, [""])
        summaries.append(_summary(results, memory_format))
    if not args.no_paths:
        _emit(report, _paths_table(torch, device, args.quick, repeats, warmup))
    note = ["(--quick: tiny stages, 2 repeats: checks the command, measures nothing)", ""] if args.quick else []
    _emit(report, ["## Targets (forward+backward)", "", *note, *sum(summaries, [])])
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write("\n".join(report) + "\n")
        except OSError as err:
            raise CliError(f"cannot write {args.output}: {err}") from err
    return 0


def _check_output(path: str) -> None:
    """Refuse an ``--output`` that cannot be written: a folder, or a file in a missing or read-only folder."""
    folder = os.path.dirname(path) or "."
    if os.path.isdir(path):
        raise CliError(f"--output must be a file, not a folder, got {path!r}")
    if not os.path.isdir(folder):
        raise CliError(f"--output must be in an existing folder, got {path!r} ({folder!r} is not a folder)")
    if not os.access(path if os.path.exists(path) else folder, os.W_OK):
        raise CliError(f"--output must be writable, got {path!r} (permission denied)")


def _emit(report: list[str], lines: list[str]) -> None:
    """Print ``lines`` now (the run is long) and add them to ``report`` for ``--output``."""
    for line in lines:
        print(line)
    report.extend(lines)
    sys.stdout.flush()


def _command() -> str:
    """The command line as typed: ``upgan bench ...`` or ``python benchmarks/upsampling.py ...``."""
    program = sys.argv[0]
    if program.endswith(".py"):
        return " ".join(["python", *sys.argv])
    return " ".join(["upgan", *sys.argv[1:]])


def _header(torch, device, args) -> list[str]:
    if device.type == "cuda":
        machine = torch.cuda.get_device_name(device)
    else:
        machine = _cpu_name()
    threads = torch.get_num_threads() if device.type == "cpu" else "-"
    return [
        "# upgan bench: upsampling layers on generator stages",
        "",
        f"- Machine: {machine} ({device.type}, {threads} threads), {platform.system()} {platform.machine()}",
        f"- torch {torch.__version__}, Python {platform.python_version()}, "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Command: `{_command()}`" + _environment(),
        f"- Times: median ms over {2 if args.quick else args.repeats} interleaved repeats "
        f"({0 if args.quick else args.warmup} warm-up); forward without autograd, forward+backward with input gradients.",
    ]


def _environment() -> str:
    """`` with NAME=value ...`` for the environment variables that change the timings (OpenMP waits, glibc malloc)."""
    names = [n for n in sorted(os.environ) if n == "OMP_WAIT_POLICY" or n.startswith("MALLOC_")]
    return " with " + " ".join(f"{n}={os.environ[n]}" for n in names) if names else ""


def _cpu_name() -> str:
    """``lscpu``'s model name (Linux), else ``platform.processor()``."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _stages(quick: bool):
    if not quick:
        return STAGES
    return tuple(
        (name, 2, max(c_in // QUICK_SCALE, 1), max(c_out // QUICK_SCALE, 1), size) for name, _, c_in, c_out, size in STAGES
    )


def _sync(torch, device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _nominal_peak(threads: int) -> tuple[float, str] | None:
    """Nominal float32 GFLOP/s of ``threads`` cores from ``/proc/cpuinfo``, and how it was computed.

    cores x clock x FLOPs/cycle, with FLOPs/cycle = 2 FMA pipes x float32 lanes (16 with
    ``avx512f``, 8 with ``avx2``/``avx``, 4 otherwise) x 2 (an FMA is two FLOPs; 1 without
    ``fma``). Two FMA pipes is an assumption (true of AMD Zen 4/5 and Intel server cores; Zen 4
    splits 512-bit FMAs into two halves, so it halves there). The clock is ``cpu MHz`` (the
    nominal/TSC clock under a hypervisor; boost clocks would raise it). None off Linux.
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            info = f.read()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    if "cpu MHz" not in fields or "flags" not in fields:
        return None
    ghz, flags = float(fields["cpu MHz"]) / 1e3, set(fields["flags"].split())
    lanes = 16 if "avx512f" in flags else 8 if "avx" in flags else 4
    per_fma = 2 if "fma" in flags else 1
    per_cycle = 2 * lanes * per_fma
    how = (
        f"{threads} cores x {ghz:.3f} GHz x {per_cycle} FLOP/cycle "
        f"(assumed 2 FMA pipes x {lanes} float32 lanes x {per_fma})"
    )
    return threads * ghz * per_cycle, how


def _measured_peak(torch, device, quick: bool) -> float:
    """Float32 GFLOP/s of the best of a large matrix multiply and a large 1x1 convolution.

    Two kernels because their libraries differ: torch's CPU matmul calls MKL, convolutions call
    oneDNN's JIT kernels, and on AMD CPUs the latter reach higher rates.
    """
    import torch.nn.functional as F

    n, c, hw = (512, 64, 16) if quick else (4096, 1024, 64)
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    x, w = torch.randn(8, c, hw, hw, device=device), torch.randn(c, c, 1, 1, device=device)
    kernels = ((lambda: a @ b, 2 * n**3), (lambda: F.conv2d(x, w), 2 * 8 * hw * hw * c * c))
    best = 0.0
    for fn, flops in kernels:
        for _ in range(2 if quick else 5):
            _sync(torch, device)
            start = time.perf_counter()
            fn()
            _sync(torch, device)
            best = max(best, flops / (time.perf_counter() - start) / 1e9)
    return best


def _build(torch, method: str, c_in: int, c_out: int):
    from torch import nn

    import upgan.nn

    if method.startswith("Upsample("):
        mode = "nearest" if "nearest" in method else "bilinear"
        extra = {"align_corners": False} if mode == "bilinear" else {}
        return nn.Sequential(nn.Upsample(scale_factor=2, mode=mode, **extra), nn.Conv2d(c_in, c_out, 3, padding=1))
    if method.startswith("ResizeConv2d("):
        return upgan.nn.ResizeConv2d(c_in, c_out, 3, 2, mode="nearest" if "nearest" in method else "bilinear")
    if method == "SubPixelConv2d":
        return upgan.nn.SubPixelConv2d(c_in, c_out, 3, 2)
    if method.startswith("torch "):
        return nn.ConvTranspose2d(c_in, c_out, 4, 2, 1)
    return upgan.nn.ConvTranspose2d(c_in, c_out, 4, 2, 1)


def _time_stage(torch, device, stage, memory_format: str, repeats: int, warmup: int) -> dict[str, Timing]:
    name, batch, c_in, c_out, size = stage
    fmt = torch.channels_last if memory_format == "channels_last" else torch.contiguous_format
    torch.manual_seed(0)
    modules = {m: _build(torch, m, c_in, c_out).to(device, memory_format=fmt) for m, _, _ in METHODS}
    x = torch.randn(batch, c_in, size, size, device=device).contiguous(memory_format=fmt)
    x_grad = x.clone().requires_grad_()
    grad_out = torch.randn(batch, c_out, 2 * size, 2 * size, device=device).contiguous(memory_format=fmt)
    timings = {m: Timing([], [], []) for m in modules}
    order = list(modules)
    for repeat in range(warmup + repeats):
        shift = repeat % len(order)  # rotate, so no method always runs right after the same one
        for method in order[shift:] + order[:shift]:
            module = modules[method]
            _sync(torch, device)
            start = time.perf_counter()
            with torch.no_grad():
                module(x)
            _sync(torch, device)
            faults = _minor_faults()
            middle = time.perf_counter()
            module(x_grad).backward(grad_out)
            _sync(torch, device)
            end = time.perf_counter()
            faults = _minor_faults() - faults
            module.zero_grad(set_to_none=True)
            x_grad.grad = None
            if repeat >= warmup:
                timings[method].forward.append(middle - start)
                timings[method].train.append(end - middle)
                if resource is not None:
                    timings[method].faults.append(faults)
    return timings


def _table_header(memory_format: str) -> list[str]:
    return [
        f"## {memory_format}",
        "",
        "| stage | method | MACs/output | forward ms | fwd+bwd ms | fwd+bwd speed-up | GFLOP/s (fwd+bwd) | % of peak "
        "| page faults (fwd+bwd) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]


def _stage_rows(stage: tuple, timings: dict[str, Timing], peak: float) -> list[str]:
    name, batch, c_in, c_out, size = stage
    outputs = batch * c_out * (2 * size) ** 2
    lines = []
    for method, macs_per_cin, baseline in METHODS:
        forward = statistics.median(timings[method].forward) * 1e3
        train = statistics.median(timings[method].train) * 1e3
        ratio = ""
        if baseline is not None:
            ratio = f"{statistics.median(timings[baseline].train) * 1e3 / train:.2f}x vs {_short(baseline)}"
        gflops = 3 * 2 * macs_per_cin * c_in * outputs / (train / 1e3) / 1e9
        faults = timings[method].faults
        faults = f"{statistics.median(faults):,.0f}" if faults else "-"
        lines.append(
            f"| {name} | {method} | {macs_per_cin}·C_in = {macs_per_cin * c_in:,} | {forward:.2f} | "
            f"{train:.2f} | {ratio} | {gflops:,.0f} | {100 * gflops / peak:.0f}% | {faults} |"
        )
    return lines


def _short(method: str) -> str:
    return {"Upsample(nearest)+Conv2d": "naive", "Upsample(bilinear)+Conv2d": "naive", "torch ConvTranspose2d(4,2,1)": "torch"}[
        method
    ]


def _ratios(results: dict, method: str, baseline: str) -> list[float]:
    """Per stage: median time of ``baseline`` / median time of ``method``, forward+backward."""
    return [statistics.median(t[baseline].train) / statistics.median(t[method].train) for t in results.values()]


def _summary(results: dict, memory_format: str) -> list[str]:
    near = _ratios(results, "ResizeConv2d(nearest)", "Upsample(nearest)+Conv2d")
    # What a layer costing exactly one ConvTranspose2d(4,2,1) would gain over the naive form.
    bound = _ratios(results, "torch ConvTranspose2d(4,2,1)", "Upsample(nearest)+Conv2d")
    vs_ct = _ratios(results, "ResizeConv2d(nearest)", "torch ConvTranspose2d(4,2,1)")
    bil = _ratios(results, "ResizeConv2d(bilinear)", "Upsample(bilinear)+Conv2d")
    ours = _ratios(results, "upgan ConvTranspose2d(4,2,1)", "torch ConvTranspose2d(4,2,1)")
    same = _ratios(results, "torch ConvTranspose2d(4,2,1), again", "torch ConvTranspose2d(4,2,1)")

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    return [
        f"{memory_format}:",
        f"- ResizeConv2d(nearest) vs Upsample+Conv2d: median {statistics.median(near):.2f}x faster, "
        f"slowest stage {min(near):.2f}x (target median >= 2.5x, never slower: "
        f"{verdict(statistics.median(near) >= 2.5 and min(near) >= 1)})",
        f"- For scale: torch ConvTranspose2d(4,2,1) itself vs Upsample(nearest)+Conv2d: median "
        f"{statistics.median(bound):.2f}x faster, slowest stage {min(bound):.2f}x (what a layer at exactly "
        "its cost would reach)",
        f"- ResizeConv2d(nearest) vs torch ConvTranspose2d(4,2,1): median time ratio {1 / statistics.median(vs_ct):.2f}, "
        f"worst stage {1 / min(vs_ct):.2f} (target <= 1.1, every stage <= 1.5: "
        f"{verdict(1 / statistics.median(vs_ct) <= 1.1 and 1 / min(vs_ct) <= 1.5)})",
        f"- ResizeConv2d(bilinear) vs Upsample+Conv2d: median {statistics.median(bil):.2f}x faster, "
        f"slowest stage {min(bil):.2f}x (target median >= 1.5x: {verdict(statistics.median(bil) >= 1.5)})",
        f"- upgan ConvTranspose2d vs torch's: slowest stage {min(ours):.2f}x, fastest {max(ours):.2f}x "
        "(1.00 = same speed)",
        f"- Noise floor: torch ConvTranspose2d against a second, identical one: {min(same):.2f}x to "
        f"{max(same):.2f}x across the stages; ratios inside that band are not differences",
        "",
    ]


def _paths_table(torch, device, quick: bool, repeats: int, warmup: int) -> list[str]:
    """Native ``F.conv_transpose2d`` against its sub-pixel decomposition: the data behind the dispatch rule."""
    import torch.nn.functional as F

    from upgan.functional._fast_conv_transpose import conv_transpose2d_subpixel, prefers_subpixel

    lines = [
        "## Transposed-convolution paths (k=4, s=2, p=1): native kernel vs sub-pixel decomposition",
        "",
        "| stage | memory format | inference: native ms | sub-pixel ms | training: native ms | sub-pixel ms | "
        "upgan picks (inference / training) |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    paths = {
        "native": lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1),
        "sub-pixel": lambda x, w, b: conv_transpose2d_subpixel(x, w, b, (2, 2), (1, 1), (0, 0)),
    }
    for name, batch, c_in, c_out, size in _stages(quick):
        for memory_format in MEMORY_FORMATS:
            fmt = torch.channels_last if memory_format == "channels_last" else torch.contiguous_format
            torch.manual_seed(0)
            x = torch.randn(batch, c_in, size, size, device=device).contiguous(memory_format=fmt)
            w = torch.randn(c_in, c_out, 4, 4, device=device).contiguous(memory_format=fmt)
            b = torch.randn(c_out, device=device)
            grad_out = torch.randn(batch, c_out, 2 * size, 2 * size, device=device).contiguous(memory_format=fmt)
            leaves = [t.clone().requires_grad_() for t in (x, w, b)]
            times = {(p, mode): [] for p in paths for mode in ("inference", "training")}
            for repeat in range(warmup + repeats):
                for path, fn in paths.items() if repeat % 2 == 0 else reversed(paths.items()):
                    _sync(torch, device)
                    start = time.perf_counter()
                    with torch.no_grad():
                        fn(x, w, b)
                    _sync(torch, device)
                    middle = time.perf_counter()
                    fn(*leaves).backward(grad_out)
                    _sync(torch, device)
                    end = time.perf_counter()
                    for leaf in leaves:
                        leaf.grad = None
                    if repeat >= warmup:
                        times[path, "inference"].append(middle - start)
                        times[path, "training"].append(end - middle)
            med = {key: statistics.median(v) * 1e3 for key, v in times.items()}
            with torch.no_grad():
                picks_inference = prefers_subpixel(x, w, (2, 2), (1, 1), 1)
            picks_training = prefers_subpixel(x, leaves[1], (2, 2), (1, 1), 1)
            picks = " / ".join("sub-pixel" if p else "native" for p in (picks_inference, picks_training))
            lines.append(
                f"| {name} | {memory_format} | {med['native', 'inference']:.2f} | {med['sub-pixel', 'inference']:.2f} | "
                f"{med['native', 'training']:.2f} | {med['sub-pixel', 'training']:.2f} | {picks} |"
            )
    lines.append("")
    return lines
