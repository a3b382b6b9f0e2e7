"""``upgan interpolate``: an animated walk through a trained generator's latent space."""

from __future__ import annotations

import argparse

from upgan.cli import CliError, check_animation_path, seed_arg


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "interpolate",
        help="write a GIF walking between random points of a run's latent space",
        description="Walk from one noise vector to the next through --points random vectors (a loop), "
        "--steps frames per leg, for --n images at once, and save the frames as a looping GIF.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by `upgan train`")
    p.add_argument("--out", default="walk.gif", help="output GIF (default walk.gif)")
    p.add_argument("--steps", type=int, default=16, help="frames between consecutive points (default 16)")
    p.add_argument("--points", type=int, default=4, help="random points visited (default 4)")
    p.add_argument("-n", type=int, default=16, help="images per frame (default 16)")
    p.add_argument("--seed", type=seed_arg, default=0, help="noise seed (default 0)")
    p.add_argument(
        "--method",
        choices=("slerp", "lerp"),
        default="slerp",
        help="slerp (default) follows the sphere where Gaussian noise concentrates; lerp the straight line",
    )
    p.add_argument("--duration", type=int, default=80, help="milliseconds per frame (default 80; for a GIF a multiple of 10 from 20)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from upgan.gan import CheckpointError, load_generator
    from upgan.gan.images import save_gif
    from upgan.gan.interpolate import latent_walk

    for name, value in (("--steps", args.steps), ("--points", args.points), ("-n", args.n), ("--duration", args.duration)):
        if value < 1:
            raise CliError(f"{name} must be a positive integer. Received {name} {value}")
    if args.points < 2:
        raise CliError(f"--points must be at least 2. Received --points {args.points}")
    check_animation_path(args.out, "--out")
    if args.out.lower().endswith(".gif") and (args.duration < 20 or args.duration % 10):
        raise CliError(
            "--duration must be a multiple of 10 from 20 for a GIF (it stores frame times in 10 ms steps, and "
            f"browsers show faster frames at 100 ms). Received --duration {args.duration}"
        )
    try:
        generator, _ = load_generator(args.run_dir)
    except CheckpointError as err:
        raise CliError(str(err)) from err
    noise = torch.Generator().manual_seed(args.seed)
    points = torch.randn(args.points, args.n, generator.latent_dim, generator=noise)
    frames = []
    with torch.no_grad():
        for z in latent_walk(points, args.steps, args.method):
            frames.append(generator(z))
    try:
        save_gif(frames, args.out, duration_ms=args.duration)
    except (OSError, ValueError) as err:
        raise CliError(f"cannot write {args.out}: {err}") from err
    from PIL import Image

    with Image.open(args.out) as written:
        stored = getattr(written, "n_frames", 1)
    merged = f" (stored as {stored}: Pillow merges identical neighbouring frames)" if stored != len(frames) else ""
    print(f"Wrote {len(frames)} frames to {args.out}{merged}")
    return 0
