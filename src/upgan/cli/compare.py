"""``upgan compare``: train one generator per upsampling method, evaluate each, write a report."""

from __future__ import annotations

import argparse

from upgan.cli import CliError, seed_arg
from upgan.cli.evaluate import FEATURE_HELP


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compare",
        help="train and evaluate several upsampling methods; write report.json and report.html",
        description=(
            "Train one generator per upsampling method with the same data, seed and budget, "
            "evaluate each (FID, KID, precision/recall, density/coverage, checkerboard and "
            "spectral scores beside a real-vs-real baseline) and write OUT/report.json and "
            "OUT/report.html (self-contained: sample grids, spectra, the table and a reading). "
            "The runs are kept in OUT/runs/METHOD."
        ),
    )
    p.add_argument("--upsample", default="transposed,nearest,bilinear,subpixel",
                   help="comma-separated methods (default transposed,nearest,bilinear,subpixel)")
    p.add_argument("--dataset", default="mnist5k", help="dataset to train on (default mnist5k), as for `upgan train`")
    p.add_argument("--image-size", type=int, help="resize images to SxS (needed for folder:PATH; default: the dataset's)")
    p.add_argument("--channels", type=int, choices=(1, 3), help="1 = grayscale, 3 = RGB (default: the dataset's)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=int, help="epochs per method (default: `upgan train`'s)")
    budget.add_argument("--max-steps", type=int, help="steps per method instead of epochs")
    p.add_argument("--batch-size", type=int, help="training batch size (default: `upgan train`'s)")
    p.add_argument("--seed", type=seed_arg, default=0, help="training, sampling and evaluation seed (default 0)")
    p.add_argument("--n", type=int, default=1000, help="images per score (default 1000; capped at half the dataset)")
    p.add_argument("--features", default="auto", choices=("auto", "classifier", "random", "inception"), help=FEATURE_HELP)
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="training device (default auto)")
    p.add_argument("--data-dir", default="data", help="where downloaded datasets live (default data)")
    p.add_argument("--out", required=True, help="report folder, e.g. reports/mnist5k")
    p.add_argument("--force", action="store_true", help="replace an existing report and its runs")
    p.set_defaults(func=run)


def _methods(text: str) -> list[str]:
    from upgan.gan import UPSAMPLE_METHODS

    methods = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in methods if m not in UPSAMPLE_METHODS]
    if not methods or unknown:
        raise CliError(
            f"--upsample must be a comma-separated list of {', '.join(UPSAMPLE_METHODS)}. Received --upsample {text!r}"
        )
    if len(set(methods)) != len(methods):
        raise CliError(f"--upsample lists a method twice. Received --upsample {text!r}")
    return methods


def _machine() -> str:
    import os
    import platform

    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, torch {torch.__version__} with {torch.get_num_threads()} threads"


def run(args: argparse.Namespace) -> int:
    import csv
    import json
    from pathlib import Path

    from upgan.data import DatasetError
    from upgan.gan import CheckpointError, RunExistsError, TrainConfig, TrainingDiverged, train
    from upgan.metrics.evaluation import K_DC, SCORES, evaluate_run, reference_split
    from upgan.metrics.features import FeatureNetworkUnavailable
    from upgan.metrics.report import VARIANT_KEYS, grid_png, render_html, spectrum_plot_png
    from upgan.metrics.spectrum import mean_spectrum

    methods = _methods(args.upsample)
    for flag in ("epochs", "max_steps", "batch_size", "n"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise CliError(f"--{flag.replace('_', '-')} must be a positive integer. Received --{flag.replace('_', '-')} {value}")
    if args.n <= K_DC:
        raise CliError(f"--n must be at least {K_DC + 1}: density/coverage need more than k={K_DC} samples. Received --n {args.n}")
    out = Path(args.out)
    if not args.out or (out.exists() and not out.is_dir()):
        raise CliError(f"--out must be a folder; {args.out!r} is {'empty' if not args.out else 'a file'}")
    if (out / "report.json").exists() and not args.force:
        raise CliError(f"{out} already holds a report; use --force to replace it, or another --out")

    budget = {}
    if args.epochs is not None:
        budget["epochs"] = args.epochs
    if args.max_steps is not None:
        budget["max_steps"] = args.max_steps
    if args.batch_size is not None:
        budget["batch_size"] = args.batch_size
    for name in ("image_size", "channels"):  # the data's shape, the same for every method
        if getattr(args, name) is not None:
            budget[name] = getattr(args, name)

    variants, grids, spectra, baseline, real_grid, metrics0 = [], {}, {}, None, None, None
    for method in methods:
        try:
            config = TrainConfig(
                dataset=args.dataset, upsample=method, seed=args.seed, device=args.device,
                data_dir=args.data_dir, out=str(out / "runs" / method), force=args.force, **budget,
            )
        except (TypeError, ValueError) as err:
            raise CliError(str(err)) from err
        print(f"== {method}: training ({out / 'runs' / method})")
        try:
            run_dir = train(config, progress=True)
            evaluation = evaluate_run(
                run_dir, n=args.n, features=args.features, seed=args.seed, baseline=baseline is None
            )
        except RunExistsError as err:  # an earlier, unfinished compare: this command cannot resume it
            raise CliError(
                f"{method}: {out / 'runs' / method} already holds a run (from an earlier compare that did not "
                "finish); use --force to replace it, or another --out"
            ) from err
        except (CheckpointError, TrainingDiverged, DatasetError, FeatureNetworkUnavailable, ValueError) as err:
            raise CliError(f"{method}: {err}") from err
        metrics = evaluation.metrics
        if baseline is None:
            baseline, metrics0 = metrics["baseline"], metrics
            real, _ = reference_split(evaluation.real, metrics["n"], args.seed)  # what every score compared against
            spectra["real"] = mean_spectrum(real)
            real_grid = grid_png(real[:64])
        # The run folder gets the same metrics.json as `upgan evaluate` would write (the
        # baseline is in report.json, computed once for all variants).
        (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        with open(run_dir / "metrics.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        train_seconds = float(rows[-1]["seconds"])
        steps = int(rows[-1]["step"])
        generator_params = sum(p.numel() for p in evaluation.generator.parameters())
        variant = {
            "upsample": method,
            **{k: metrics["generated"][k] for k in VARIANT_KEYS if k in metrics["generated"]},
            "params": generator_params,
            "images_per_s": steps * config.batch_size / train_seconds,
            "train_seconds": train_seconds,
            "kid_std": metrics["generated"]["kid_std"],
            "steps": steps,
        }
        if "digit_quality" in metrics:
            variant["digit_quality"] = metrics["digit_quality"]
        variants.append(variant)
        grids[method] = grid_png(evaluation.fake[:64])
        spectra[method] = mean_spectrum(evaluation.fake.clamp(-1, 1))
        print(f"== {method}: FID {variant['fid']:.2f} (real vs real {baseline['fid']:.2f}), "
              f"checkerboard {variant['checkerboard']:.2f}, {variant['images_per_s']:.0f} images/s")

    report = {
        "variants": variants,
        "baseline": baseline,
        "config": {
            "dataset": args.dataset,
            "upsample": methods,
            # the budget each variant trained with (TrainConfig's defaults where not given)
            "epochs": config.epochs,
            "max_steps": config.max_steps,
            "batch_size": config.batch_size,
            "seed": args.seed,
            "n": metrics0["n"],
            "features": metrics0["features"],
            "kid_subset_size": metrics0["kid_subset_size"],
            "kid_subsets": metrics0["kid_subsets"],
            "device": args.device,
            "machine": _machine(),
        },
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    nyquist = min(evaluation.fake.shape[-2:]) // 2
    page = render_html(report, grids, spectrum_plot_png(spectra, nyquist=nyquist), real_grid)
    (out / "report.html").write_text(page, encoding="utf-8")

    width = max(len(m) for m in methods + ["real vs real"])
    print(f"{'':<{width}}  " + "  ".join(f"{SCORES[k][0].split(' ')[0]:>12}" for k in SCORES))
    for v in variants:
        print(f"{v['upsample']:<{width}}  " + "  ".join(f"{v[k]:>12.4g}" for k in SCORES))
    print(f"{'real vs real':<{width}}  " + "  ".join(f"{baseline[k]:>12.4g}" for k in SCORES))
    print(f"Wrote {out / 'report.json'} and {out / 'report.html'}")
    return 0

