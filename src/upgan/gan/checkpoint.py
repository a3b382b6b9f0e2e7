"""Run-folder files: ``checkpoint.pt`` (everything to resume) and ``generator.safetensors`` (weights to share)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from upgan.gan.config import TrainConfig
from upgan.gan.models import Generator

__all__ = [
    "CheckpointError",
    "save_atomic",
    "save_checkpoint",
    "load_checkpoint",
    "save_generator",
    "load_generator",
    "CHECKPOINT",
    "GENERATOR",
    "FORMAT_VERSION",
]

CHECKPOINT = "checkpoint.pt"
GENERATOR = "generator.safetensors"
FORMAT_VERSION = 1
_CHECKPOINT_KEYS = (
    "format", "config", "step", "epoch", "generator", "discriminator", "ema",
    "opt_g", "opt_d", "rng", "world_size",
)  # fmt: skip


class CheckpointError(Exception):
    """A run's checkpoint or generator file is missing, truncated, or does not fit the model."""


def save_atomic(path: Path, write) -> None:
    """Call ``write(tmp_path)`` then rename the temporary file over ``path``.

    ``os.replace`` is atomic on POSIX and Windows, so a crash or Ctrl-C while writing
    leaves the previous file intact.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # some writers (safetensors) create 0600 files
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)  # reading the mask means setting it; put it straight back
    os.umask(mask)
    return mask


def save_checkpoint(path: Path, state: dict) -> None:
    """Write a training state atomically. ``state`` has the keys of :data:`_CHECKPOINT_KEYS` but ``format``."""
    state = {"format": FORMAT_VERSION, **state}
    missing = set(_CHECKPOINT_KEYS) - set(state)
    if missing:
        raise ValueError(f"The `state` argument lacks key(s) {', '.join(sorted(missing))}")
    save_atomic(path, lambda tmp: torch.save(state, tmp))


def load_checkpoint(path: Path) -> dict:
    """Read ``checkpoint.pt``; any failure becomes a :class:`CheckpointError` naming the file.

    Raises:
        CheckpointError: missing, truncated/corrupt, or not an upgan checkpoint.

    >>> load_checkpoint(Path("/nonexistent/checkpoint.pt"))
    Traceback (most recent call last):
    ...
    upgan.gan.checkpoint.CheckpointError: No checkpoint at /nonexistent/checkpoint.pt
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"No checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises RuntimeError, EOFError, pickle errors, zipfile errors...
        raise CheckpointError(f"{path} is truncated or corrupt and cannot be read ({type(err).__name__}: {err})") from err
    if not isinstance(state, dict) or state.get("format") != FORMAT_VERSION or set(_CHECKPOINT_KEYS) - set(state):
        raise CheckpointError(f"{path} is not an upgan checkpoint (format {FORMAT_VERSION})")
    return state


def save_generator(path: Path, generator: Generator, config: TrainConfig, step: int) -> None:
    """Write the generator's weights (float32) and its config as ``safetensors`` metadata, atomically."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().float().cpu().contiguous() for k, v in generator.state_dict().items()}
    metadata = {
        "format": str(FORMAT_VERSION),
        "generator": json.dumps(generator.config()),
        "config": json.dumps(config.to_dict()),
        "step": str(step),
    }
    save_atomic(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def load_generator(run_dir: str | Path, device: str | torch.device = "cpu") -> tuple[Generator, dict]:
    """Rebuild the generator of a run from ``RUN_DIR/generator.safetensors``, in eval mode.

    Args:
        run_dir: the run folder (or the ``.safetensors`` file itself).
        device: where to put the model. Default ``"cpu"``.

    Returns:
        ``(generator, config)``: the model and the run's training config as a dict.

    Raises:
        CheckpointError: the file is missing, truncated, not written by upgan, or its
            weights do not fit the architecture its metadata describes.

    >>> load_generator("/nonexistent")
    Traceback (most recent call last):
    ...
    upgan.gan.checkpoint.CheckpointError: No generator.safetensors in /nonexistent: ...
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file, safe_open

    path = Path(run_dir)
    if path.is_dir() or not path.name.endswith(".safetensors"):
        path = path / GENERATOR
    if not path.is_file():
        if path.name != GENERATOR:  # a file named directly
            raise CheckpointError(f"No generator file {path}: it does not exist")
        raise CheckpointError(
            f"No {GENERATOR} in {path.parent}: train a run there first (upgan train --out {path.parent})"
        )
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{path} is truncated or corrupt and cannot be read ({err})") from err
    if metadata.get("format") != str(FORMAT_VERSION) or "generator" not in metadata:
        raise CheckpointError(f"{path} was not written by upgan (no generator config in its metadata)")
    try:
        kwargs = json.loads(metadata["generator"])
        config = json.loads(metadata.get("config", "{}"))
        generator = Generator(**kwargs)
        generator.load_state_dict(tensors)
    except (TypeError, ValueError, RuntimeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path} does not fit its generator config: {err}") from err
    return generator.to(device).eval(), config
