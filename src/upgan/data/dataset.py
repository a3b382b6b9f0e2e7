"""The in-memory image dataset every loader returns, and the conversions they share."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

__all__ = ["ImageDataset", "DatasetError", "conform"]


class DatasetError(Exception):
    """A dataset cannot be loaded: files missing (offline), unreadable, or no images found."""


class ImageDataset(Dataset):
    """Images held in memory as one uint8 tensor, with optional integer labels.

    Args:
        images: uint8 tensor (N, C, H, W), 0 = black.
        labels: int64 tensor (N,) or None.
        name: dataset name, e.g. ``"mnist5k"``.
        skipped: number of source files that could not be read (folder datasets).

    Shape:
        ``dataset[i]`` is ``(image, label)``: image uint8 (C, H, W); label an int64 scalar
        tensor, -1 when the dataset has no labels.

    Raises:
        TypeError: ``images`` is not a uint8 tensor of rank 4.
        ValueError: ``labels`` does not have one entry per image.

    >>> ds = ImageDataset(torch.zeros(3, 1, 4, 4, dtype=torch.uint8), None, "blank")
    >>> len(ds), ds.image_shape, ds[0][1].item()
    (3, (1, 4, 4), -1)
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor | None, name: str, skipped: int = 0) -> None:
        if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.dim() != 4:
            raise TypeError(
                "The `images` argument must be a uint8 tensor of shape (N, C, H, W). "
                f"Received {type(images).__name__} with "
                f"{getattr(images, 'dtype', None)} and shape {tuple(getattr(images, 'shape', ()))}"
            )
        if labels is not None and tuple(labels.shape) != (images.shape[0],):
            raise ValueError(
                f"The `labels` argument must have shape ({images.shape[0]},). "
                f"Received labels.shape={tuple(labels.shape)}"
            )
        self.images = images
        self.labels = None if labels is None else labels.to(torch.int64)
        self.name = name
        self.skipped = skipped

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of every image."""
        return tuple(self.images.shape[1:])

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        label = -1 if self.labels is None else self.labels[index]
        return self.images[index], torch.as_tensor(label, dtype=torch.int64)

    def __repr__(self) -> str:
        return f"ImageDataset(name={self.name!r}, n={len(self)}, image_shape={self.image_shape})"


def conform(images: torch.Tensor, image_size: int | None, channels: int | None) -> torch.Tensor:
    """Resize square-crop and convert channels of a uint8 batch.

    Images are centre-cropped to a square, resized with antialiased bilinear
    interpolation when ``image_size`` differs, and converted between grayscale
    and RGB (luma = 0.299 R + 0.587 G + 0.114 B, ITU-R BT.601, in PIL's fixed-point form
    ``(19595 R + 38470 G + 7471 B + 2**15) >> 16``, so equal to PIL's "L" conversion).

    Args:
        images: uint8 (N, C, H, W) with C in {1, 3}.
        image_size: output side, or None to keep the (cropped) size.
        channels: 1 or 3, or None to keep C.

    Shape:
        (N, C, H, W) -> (N, channels or C, S, S) with S = image_size or min(H, W).

    >>> x = torch.arange(2 * 3 * 4 * 6, dtype=torch.uint8).reshape(2, 3, 4, 6)
    >>> tuple(conform(x, None, 1).shape), tuple(conform(x, 2, 3).shape)
    ((2, 1, 4, 4), (2, 3, 2, 2))
    """
    h, w = images.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    images = images[..., top : top + side, left : left + side]
    if image_size is not None and image_size != side:
        x = images.float()
        x = F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False, antialias=True)
        images = x.round().clamp(0, 255).to(torch.uint8)
    if channels is not None and channels != images.shape[1]:
        if channels == 1:
            luma = torch.tensor([19595, 38470, 7471], dtype=torch.int64).view(1, 3, 1, 1)  # 0.299, 0.587, 0.114 * 2**16
            images = ((images.long() * luma).sum(1, keepdim=True) + 2**15).bitwise_right_shift(16).to(torch.uint8)
        else:
            images = images.expand(-1, 3, -1, -1).contiguous()  # (N, 1, S, S) -> (N, 3, S, S)
    return images
