"""``upgan sample``: a grid of images from a trained run's generator."""

from __future__ import annotations

import argparse

from upgan.cli import CliError, seed_arg

_BATCH = 256  # images generated per forward pass


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sample",
        help="write a grid of samples from a trained run",
        description="Draw N noise vectors, run them through RUN_DIR/generator.safetensors and save the grid as a PNG.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by `upgan train`")
    p.add_argument("-n", type=int, default=64, help="number of samples (default 64)")
    p.add_argument("--seed", type=seed_arg, default=0, help="noise seed (default 0)")
    p.add_argument("--out", default="grid.png", help="output image (default grid.png)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from upgan.gan import CheckpointError, load_generator
    from upgan.gan.images import save_grid, to_uint8

    if args.n < 1:
        raise CliError(f"-n must be a positive integer. Received -n {args.n}")
    try:
        generator, _ = load_generator(args.run_dir)
    except CheckpointError as err:
        raise CliError(str(err)) from err
    z = torch.randn(args.n, generator.latent_dim, generator=torch.Generator().manual_seed(args.seed))
    with torch.no_grad():  # in batches, kept as uint8: memory stays flat for any -n
        images = torch.cat([to_uint8(generator(chunk)) for chunk in z.split(_BATCH)])
    try:
        save_grid(images, args.out)
    except (OSError, ValueError) as err:
        raise CliError(f"cannot write {args.out}: {err}") from err
    print(f"Wrote {args.n} samples to {args.out}")
    return 0
