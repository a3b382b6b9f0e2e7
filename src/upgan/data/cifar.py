"""Reader for CIFAR-10's "python version" (https://www.cs.toronto.edu/~kriz/cifar.html)."""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np

from upgan.data.dataset import DatasetError

__all__ = ["read_cifar10", "CIFAR10_BATCHES"]

CIFAR10_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))


def _values_in(values: np.ndarray, low: int, high: int, where: str, what: str) -> np.ndarray:
    """``values`` if they are integers from ``low`` to ``high``; else a DatasetError naming the file."""
    if values.size and (
        not np.issubdtype(values.dtype, np.integer) or int(values.min()) < low or int(values.max()) > high
    ):
        kind = f"{values.dtype} values {values.min()}..{values.max()}"
        raise DatasetError(f"{where} has {what}s that are not integers from {low} to {high} ({kind})")
    return values


def _parse_batch(blob: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        # The batches are pickled dicts of numpy arrays and lists, written by Python 2.
        batch = pickle.load(io.BytesIO(blob), encoding="bytes")
        data = np.asarray(batch[b"data"])
        labels = np.asarray(batch[b"labels"])
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError, AttributeError) as err:
        raise DatasetError(f"{where} is not a CIFAR-10 batch: {err}") from err
    if data.ndim != 2 or data.shape[1] != 3072:
        raise DatasetError(f"{where} has data of shape {data.shape}, expected (N, 3072)")
    if labels.shape != (data.shape[0],):
        raise DatasetError(f"{where} has {data.shape[0]} images but labels of shape {labels.shape}")
    data = _values_in(data, 0, 255, where, "pixel").astype(np.uint8)
    labels = _values_in(labels, 0, 9, where, "label").astype(np.int64)
    return data.reshape(-1, 3, 32, 32), labels  # rows are R(1024) G(1024) B(1024): (N, 3, 32, 32)


def read_cifar10(root: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read the five CIFAR-10 training batches from a folder.

    Looks for ``cifar-10-batches-py/data_batch_1..5`` under ``root`` (the extracted
    archive), else for ``cifar-10-python.tar.gz`` in ``root`` and reads the batches
    straight from the archive.

    Args:
        root: folder holding the archive or its extracted contents.

    Shape:
        images (N, 3, 32, 32) uint8, labels (N,) int64; N = 50,000 for the real data.

    Raises:
        DatasetError: neither form is present, or a batch is unreadable.

    >>> read_cifar10("/nonexistent")
    Traceback (most recent call last):
    ...
    upgan.data.dataset.DatasetError: No CIFAR-10 files in /nonexistent ...
    """
    root = Path(root)
    folder = root / "cifar-10-batches-py"
    archive = root / "cifar-10-python.tar.gz"
    parts = []
    if all((folder / b).is_file() for b in CIFAR10_BATCHES):
        for b in CIFAR10_BATCHES:
            parts.append(_parse_batch((folder / b).read_bytes(), str(folder / b)))
    elif archive.is_file():
        try:
            with tarfile.open(archive, "r:gz") as tar:
                for b in CIFAR10_BATCHES:
                    member = tar.extractfile(f"cifar-10-batches-py/{b}")
                    if member is None:
                        raise KeyError(b)
                    parts.append(_parse_batch(member.read(), f"{archive}:{b}"))
        except (tarfile.TarError, KeyError, OSError, EOFError) as err:
            raise DatasetError(f"{archive} is not a complete CIFAR-10 archive: {err!r}") from err
    else:
        raise DatasetError(
            f"No CIFAR-10 files in {root} (looked for {folder}/data_batch_1..5 and {archive})"
        )
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
