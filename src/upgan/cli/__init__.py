"""The ``upgan`` command line: one sub-command per module in this package.

Each sub-command module defines ``register(subparsers)``, which adds its parser and sets
``func`` (a callable taking the parsed namespace and returning an exit code). Modules keep
their heavy imports (torch, matplotlib) inside ``func`` so that ``upgan --help`` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

__all__ = ["main", "build_parser", "CliError"]

# Order is the order shown by ``upgan --help``.
COMMANDS = (
    "tour",
    "train",
    "sample",
    "interpolate",
    "evaluate",
    "compare",
    "artifacts",
    "explain",
    "bench",
)


class CliError(Exception):
    """A user error: printed as ``upgan: error: ...`` with exit code 2, never a traceback."""


def seed_arg(text: str) -> int:
    """argparse type of every ``--seed``: an integer from 0 to 2**63 - 1 (what torch, NumPy and training take)."""
    from upgan.gan.config import MAX_SEED

    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to {MAX_SEED} (2**63 - 1), got {text!r}")
    return value


# Pillow formats that hold an animation (save_all); GIF first, the others where Pillow was built with them.
ANIMATION_FORMATS = ("GIF", "PNG", "WEBP")


def check_animation_path(path: str, flag: str) -> None:
    """Refuse, before any work, an output path whose suffix names no animation format Pillow writes."""
    from pathlib import Path

    from PIL import Image

    extensions = Image.registered_extensions()  # ".gif" -> "GIF", ".apng" -> "PNG", ...
    usable = sorted(ext for ext, fmt in extensions.items() if fmt in ANIMATION_FORMATS and fmt in Image.SAVE_ALL)
    if Path(path).suffix.lower() not in usable:
        raise CliError(f"{flag} must name an animation file ({', '.join(usable)}). Received {flag} {path!r}")


def check_figure_path(path: str, flag: str) -> None:
    """Refuse, before any work, an output path whose suffix names no format matplotlib writes."""
    from pathlib import Path

    from matplotlib.backend_bases import FigureCanvasBase

    usable = sorted("." + ext for ext in FigureCanvasBase.get_supported_filetypes())
    if Path(path).suffix.lower() not in usable:
        raise CliError(f"{flag} must name a figure file ({', '.join(usable)}). Received {flag} {path!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="upgan",
        description="Upsampling for GAN generators: layers, training, evaluation.",
    )
    from upgan import __version__

    parser.add_argument("--version", action="version", version=f"upgan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"upgan.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``upgan ARGV`` and return its exit code.

    A reader that stops early (``upgan tour | head``) closes the pipe under us: that ends the
    command quietly with exit code 1, as the Python docs recommend (library/signal.html, "Note on
    SIGPIPE"), instead of a BrokenPipeError traceback.
    """
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # inside the try: a closed pipe shows on this flush, if not before
    except BrokenPipeError:
        # Python flushes stdout again at exit; point it at devnull so that flush has nowhere to fail.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except CliError as err:
        print(f"upgan {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"upgan {args.command}: interrupted", file=sys.stderr)
        return 130
