"""``upgan artifacts``: checkerboard diagnostics of a transposed convolution or of a trained run."""

from __future__ import annotations

import argparse

from upgan.cli import CliError, check_figure_path, seed_arg


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "artifacts",
        help="show checkerboard overlap of a transposed conv, or per-phase statistics of a run",
        description=(
            "With --kernel and --stride: the overlap pattern of a transposed convolution "
            "(Odena et al. 2016), how many kernel taps reach each output pixel, printed and "
            "drawn. With RUN_DIR: mean statistics of the run's generated images per phase "
            "(pixel position mod --period) next to real images', and the checkerboard score."
        ),
    )
    p.add_argument("run_dir", metavar="RUN_DIR", nargs="?", help="a folder written by `upgan train`")
    p.add_argument("--kernel", type=int, help="transposed convolution kernel size (>= 1)")
    p.add_argument("--stride", type=int, help="transposed convolution stride (>= 1)")
    p.add_argument("--input", type=int, default=4, help="side of the all-ones input map drawn (default 4)")
    p.add_argument("--n", type=int, default=1000, help="RUN_DIR: generated and real images compared (default 1000)")
    p.add_argument("--period", type=int, default=2, help="RUN_DIR: phase period, the upsampling stride (default 2)")
    p.add_argument("--seed", type=seed_arg, default=0, help="RUN_DIR: noise and real-sample seed (default 0)")
    p.add_argument("--out", help="PNG to draw (default overlap.png, or RUN_DIR/phases.png)")
    p.set_defaults(func=run)


def _grid(rows: list[list[float]], fmt: str) -> str:
    cells = [[format(v, fmt) for v in row] for row in rows]
    width = max(len(c) for row in cells for c in row)
    return "\n".join("  " + " ".join(c.rjust(width) for c in row) for row in cells)


def _check_at_least(value: int | None, flag: str, minimum: int) -> None:
    if value is not None and value < minimum:
        raise CliError(f"{flag} must be an integer >= {minimum}. Received {flag} {value}")


def run(args: argparse.Namespace) -> int:
    for value, flag in ((args.kernel, "--kernel"), (args.stride, "--stride"), (args.input, "--input"), (args.n, "--n")):
        _check_at_least(value, flag, 1)
    # A period-1 pattern is no pattern: upgan.metrics.spectrum refuses periods below 2.
    _check_at_least(args.period, "--period", 2)
    if args.out is not None:
        check_figure_path(args.out, "--out")
    if args.run_dir is not None:
        if args.kernel is not None or args.stride is not None:
            raise CliError("give either RUN_DIR or --kernel/--stride, not both")
        return _run_dir(args)
    if args.kernel is None or args.stride is None:
        raise CliError("give --kernel K and --stride S (a transposed convolution), or RUN_DIR (a trained run)")
    return _overlap(args)


def _overlap(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from upgan.metrics.artifacts import describe_overlap, overlap_pattern, overlap_period

    k, s = args.kernel, args.stride
    pattern = overlap_pattern(k, s, args.input)
    tile = overlap_period(k, s)
    verdict = describe_overlap(k, s)
    print(f"Transposed convolution, kernel {k}x{k}, stride {s}, on a {args.input}x{args.input} input of ones:")
    print(f"taps reaching each output pixel ({pattern.shape[0]}x{pattern.shape[1]}):")
    print(_grid(pattern.int().tolist(), "d"))
    print(f"interior period (rows: y mod {s}, columns: x mod {s}):")
    print(_grid(tile.int().tolist(), "d"))
    print(verdict)

    out = args.out or "overlap.png"
    side = pattern.shape[0]
    fig, ax = plt.subplots(figsize=(min(2 + 0.45 * side, 9), min(1.6 + 0.45 * side, 8.6)))
    image = ax.imshow(pattern.numpy(), cmap="magma", vmin=0)
    if side <= 24:
        high = float(pattern.max())
        for y in range(side):
            for x in range(side):
                value = int(pattern[y, x])
                ax.text(x, y, str(value), ha="center", va="center", fontsize=8, color="black" if value > 0.6 * high else "white")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"k={k}, s={s}: {verdict.split(' (')[0]}", fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="kernel taps")
    fig.tight_layout()
    return _save(fig, out, dpi=110)


def _run_dir(args: argparse.Namespace) -> int:
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch
    import torch.nn.functional as F

    from upgan.data import DatasetError, load_dataset
    from upgan.gan import CheckpointError, load_generator
    from upgan.metrics.artifacts import phase_statistics
    from upgan.metrics.evaluation import sample_images
    from upgan.metrics.spectrum import checkerboard_score

    try:
        generator, config = load_generator(args.run_dir)
        channels, size, _ = generator.image_shape
        data = load_dataset(
            config.get("dataset", "mnist5k"), image_size=size, channels=channels,
            data_dir=config.get("data_dir", "data"), download=False,
        )
    except (CheckpointError, DatasetError, ValueError) as err:
        raise CliError(str(err)) from err
    if size % args.period:
        raise CliError(f"--period must divide the image size {size}. Received --period {args.period}")
    n = min(args.n, len(data.images))
    fake = sample_images(generator, n, seed=args.seed).clamp(-1, 1)
    order = torch.randperm(len(data.images), generator=torch.Generator().manual_seed(args.seed))
    real = data.images[order[:n]].float().div(127.5).sub(1)
    gen_stats, real_stats = phase_statistics(fake, args.period), phase_statistics(real, args.period)
    score = checkerboard_score(fake, real, period=args.period)
    p = args.period
    print(f"{args.run_dir}: upsample={generator.upsample}, {n} generated vs {n} real images, period {p}")
    for label, stats in (("generated", gen_stats), ("real", real_stats)):
        print(f"{label}: mean pixel value per phase (rows: y mod {p}, columns: x mod {p}):")
        print(_grid(stats["mean"], "+.4f"))
        print(f"{label}: mean deviation from the 3x3 neighbourhood per phase:")
        print(_grid(stats["residual"], "+.4f"))
    ratio = gen_stats["spread"] / real_stats["spread"] if real_stats["spread"] > 0 else float("inf")
    print(
        f"phase spread (max - min deviation): generated {gen_stats['spread']:.4f}, real {real_stats['spread']:.4f} "
        f"(x{ratio:.2f}); checkerboard score at period {p}: {score:.3f} (1 = as real images)"
    )

    # Where the pattern sits: the mean over images of each pixel's deviation from its
    # neighbourhood, generated next to real.
    def mean_residual(x: torch.Tensor) -> torch.Tensor:
        grey = x.mean(dim=1, keepdim=True)  # (N, 1, H, W)
        box = F.avg_pool2d(F.pad(grey, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
        return (grey - box).mean(dim=0)[0]  # (H, W)

    maps = [mean_residual(fake), mean_residual(real)]
    tiles = [torch.tensor(gen_stats["residual"]), torch.tensor(real_stats["residual"])]
    limit = float(max(m.abs().max() for m in maps)) or 1.0
    tile_limit = float(max(t.abs().max() for t in tiles)) or 1.0
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.4))
    for ax, m, title in zip(axes[:2], maps, ("generated", "real")):
        ax.imshow(m.numpy(), cmap="coolwarm", vmin=-limit, vmax=limit)
        ax.set_title(f"{title}: mean deviation\nfrom 3x3 neighbourhood", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax, t, title in zip(axes[2:], tiles, ("generated", "real")):
        ax.imshow(t.numpy(), cmap="coolwarm", vmin=-tile_limit, vmax=tile_limit)
        for y in range(p):
            for x in range(p):
                ax.text(x, y, f"{float(t[y, x]):+.1e}", ha="center", va="center", fontsize=8)
        ax.set_title(f"{title}: per phase (mod {p})", fontsize=9)
        ax.set_xticks(range(p))
        ax.set_yticks(range(p))
        ax.set_xlabel(f"x mod {p}", fontsize=8)
        ax.set_ylabel(f"y mod {p}", fontsize=8)
    fig.suptitle(f"{generator.upsample}: checkerboard score {score:.2f}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    out = args.out or str(Path(args.run_dir) / "phases.png")
    return _save(fig, out, dpi=100)


def _save(fig, out: str, dpi: int) -> int:
    """Write ``fig`` to ``out`` (an unwritable path is a CLI error) and close it."""
    import matplotlib.pyplot as plt

    try:
        fig.savefig(out, dpi=dpi, bbox_inches="tight", pad_inches=0.1)  # no tick label cut at the edge
    except OSError as err:
        raise CliError(f"cannot write {out}: {err}") from err
    finally:
        plt.close(fig)
    print(f"Wrote {out}")
    return 0
