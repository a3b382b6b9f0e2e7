"""``load_dataset``: one entry point for the bundled digits, MNIST, Fashion-MNIST, CIFAR-10 and folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from upgan.data.cifar import CIFAR10_BATCHES, read_cifar10
from upgan.data.dataset import DatasetError, ImageDataset, conform
from upgan.data.download import ensure_files
from upgan.data.folder import read_folder
from upgan.data.idx import read_idx

__all__ = ["load_dataset", "DATASETS", "MNIST5K_PATH"]

DATASETS = ("mnist5k", "mnist", "fashion-mnist", "cifar10", "folder:PATH")

MNIST5K_PATH = Path(__file__).with_name("mnist5k.npz")

# Training splits only. MNIST mirror as used by PyTorch's datasets; Fashion-MNIST and
# CIFAR-10 from their authors' pages.
_IDX_FILES = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz": "https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-labels-idx1-ubyte.gz",
    },
}
_CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"


def _check_int(name: str, value: int | None, allowed: str, ok) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not ok(value)):
        raise ValueError(f"The `{name}` argument must be {allowed}. Received {name}={value!r}")


def load_dataset(
    name: str = "mnist5k",
    *,
    image_size: int | None = None,
    channels: int | None = None,
    data_dir: str = "data",
    download: bool = True,
) -> ImageDataset:
    """Load a training set into memory as uint8 images.

    Args:
        name: ``"mnist5k"`` (default; 5,000 MNIST digits bundled with upgan, offline),
            ``"mnist"`` and ``"fashion-mnist"`` (60,000 28x28 training images, IDX files),
            ``"cifar10"`` (50,000 32x32 RGB, the python-pickle archive) or
            ``"folder:PATH"`` (every PNG/JPEG under PATH, recursively).
        image_size: side of the square images returned; None keeps the dataset's own
            (required for ``folder:``). Images are centre-cropped and resized.
        channels: 1 (grayscale) or 3 (RGB); None keeps the dataset's own (folders: 3).
        data_dir: folder holding downloaded files, one sub-folder per dataset
            (``DATA_DIR/mnist``, ``DATA_DIR/fashion-mnist``, ``DATA_DIR/cifar10``).
            Files placed there by hand are used as they are, with no network.
        download: fetch missing files over the network.

    Shape:
        ``.images`` (N, C, S, S) uint8 with S = image_size or the native size;
        ``.labels`` (N,) int64, or None for folders.

    Raises:
        ValueError: unknown ``name``, bad ``image_size`` or ``channels``.
        DatasetError: files missing and not downloadable (the message lists URLs and
            destinations), unreadable files, or a folder with no readable image.

    >>> ds = load_dataset("mnist5k")
    >>> ds.images.shape, ds.images.dtype, ds.labels[:5].tolist()
    (torch.Size([5000, 1, 28, 28]), torch.uint8, [0, 0, 0, 0, 0])
    >>> load_dataset("mnist5k", image_size=32, channels=3).images.shape
    torch.Size([5000, 3, 32, 32])
    """
    if not isinstance(name, str):
        raise TypeError(f"The `name` argument must be a string. Received name={name!r}")
    _check_int("image_size", image_size, "a positive integer or None", lambda v: v > 0)
    _check_int("channels", channels, "1, 3 or None", lambda v: v in (1, 3))
    if name == "mnist5k":
        with np.load(MNIST5K_PATH) as arrays:
            images, labels = arrays["images"][:, None], arrays["labels"]  # (N, 28, 28) -> (N, 1, 28, 28)
    elif name in _IDX_FILES:
        folder = Path(data_dir) / name
        ensure_files(folder, _IDX_FILES[name], name, download)
        images = read_idx(folder / "train-images-idx3-ubyte.gz")[:, None]  # (N, 28, 28) -> (N, 1, 28, 28)
        labels = read_idx(folder / "train-labels-idx1-ubyte.gz")
        if images.ndim != 4 or labels.shape != images.shape[:1]:
            raise DatasetError(f"{folder}: images {images.shape} and labels {labels.shape} do not match")
        for path, array, kind in ((folder / "train-images-idx3-ubyte.gz", images, np.uint8),
                                  (folder / "train-labels-idx1-ubyte.gz", labels, np.uint8)):  # fmt: skip
            if array.dtype != kind:
                raise DatasetError(f"{path} holds {array.dtype} values; {name} stores unsigned bytes (IDX type 0x08)")
        if labels.size and labels.max() > 9:
            raise DatasetError(f"{folder / 'train-labels-idx1-ubyte.gz'} has labels above 9 (up to {labels.max()})")
    elif name == "cifar10":
        folder = Path(data_dir) / name
        batches = folder / "cifar-10-batches-py"
        if not all((batches / b).is_file() for b in CIFAR10_BATCHES):  # an incomplete folder: the archive
            ensure_files(folder, {"cifar-10-python.tar.gz": _CIFAR10_URL}, name, download)
        images, labels = read_cifar10(folder)
    elif name.startswith("folder:") and len(name) > len("folder:"):
        if image_size is None:
            raise ValueError("The `image_size` argument is required for folder datasets. Received image_size=None")
        channels = 3 if channels is None else channels
        tensor, skipped = read_folder(name[len("folder:") :], image_size, channels)
        return ImageDataset(tensor, None, name, skipped)
    else:
        raise ValueError(
            f"The `name` argument must be one of {', '.join(DATASETS)}. Received name={name!r}"
        )
    tensor = conform(torch.from_numpy(np.ascontiguousarray(images)), image_size, channels)
    return ImageDataset(tensor, torch.from_numpy(labels.astype(np.int64)), name)
