"""``upgan evaluate``: FID, KID, precision/recall, density/coverage and artifact scores of a run."""

from __future__ import annotations

import argparse

from upgan.cli import CliError, seed_arg

FEATURE_HELP = (
    "feature network: classifier (the shipped mnist5k digit classifier, 1x28x28 only), "
    "random (a fixed random conv net, any shape; ranks models, comparable with nothing "
    "published), inception (InceptionV3, needs torch-fidelity and its weights), or auto "
    "(default: classifier for the digit datasets mnist5k and mnist, random otherwise)"
)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="score a trained run: FID, KID, precision/recall, density/coverage, artifacts",
        description=(
            "Sample N images from RUN_DIR's generator, score them against the run's dataset and "
            "print each score beside a real-vs-real baseline (two disjoint halves of the data, "
            "same N). Writes RUN_DIR/metrics.json."
        ),
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by `upgan train`")
    p.add_argument("--n", type=int, default=5000, help="generated images (default 5000; capped at half the dataset)")
    p.add_argument("--features", default="auto", choices=("auto", "classifier", "random", "inception"), help=FEATURE_HELP)
    p.add_argument("--batch-size", type=int, default=500, help="images per forward pass (default 500)")
    p.add_argument("--seed", type=seed_arg, default=0, help="seed of the noise, the real-data split and KID subsets (default 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from upgan.data import DatasetError
    from upgan.gan import CheckpointError
    from upgan.metrics.evaluation import evaluate_run, format_table
    from upgan.metrics.features import FeatureNetworkUnavailable

    if args.n < 1:
        raise CliError(f"--n must be a positive integer. Received --n {args.n}")
    if args.batch_size < 1:
        raise CliError(f"--batch-size must be a positive integer. Received --batch-size {args.batch_size}")
    out = Path(args.run_dir) / "metrics.json"
    if out.is_dir():  # refused before the scoring, not after
        raise CliError(f"cannot write {out}: it is a folder")
    try:
        result = evaluate_run(args.run_dir, n=args.n, features=args.features, batch_size=args.batch_size, seed=args.seed)
    except (CheckpointError, DatasetError, FeatureNetworkUnavailable, ValueError) as err:
        raise CliError(str(err)) from err
    metrics = result.metrics
    capped = f" (capped from {metrics['n_requested']}: the baseline needs two halves)" if metrics["n"] < args.n else ""
    print(f"{metrics['dataset']}: n={metrics['n']}{capped}, features={metrics['features']}, "
          f"KID over {metrics['kid_subsets']} subset(s) of {metrics['kid_subset_size']}")
    print(format_table(metrics))
    if "digit_quality" in metrics:
        q = metrics["digit_quality"]
        print(
            f"digits: {q['confident_fraction']:.0%} classified with confidence > 0.9, "
            f"{q['n_classes_present']}/10 classes >= 3%, largest class {q['max_class_fraction']:.0%} "
            f"({'passes' if q['passes'] else 'fails'} the 60% / 3% / 20% bar)"
        )
    if "digit_quality_draws" in metrics:
        d = metrics["digit_quality_draws"]
        print(
            f"on {d['draws']} separate draws of {d['draw_size']}: {d['passed']} meet the bar "
            f"(confident {d['confident_min']:.0%} to {d['confident_max']:.0%})"
        )
    try:
        out.write_text(json.dumps(metrics, indent=2) + "\n")
    except OSError as err:  # the scores are printed above, so nothing is lost but the file
        raise CliError(f"cannot write {out}: {err}") from err
    print(f"Wrote {out}")
    return 0
