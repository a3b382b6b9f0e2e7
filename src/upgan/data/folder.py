"""Load every PNG/JPEG image under a folder, recursively."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from upgan.data.dataset import DatasetError

__all__ = ["read_folder", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def read_folder(root: str | Path, image_size: int, channels: int) -> tuple[torch.Tensor, int]:
    """Read, centre-crop and resize every PNG/JPEG under ``root``.

    Each image is converted to grayscale (``channels=1``) or RGB (``channels=3``);
    16-bit grayscale images are scaled to 8 bits (Pillow's own conversion clips them at
    255). Each image's shorter side is then resized to ``image_size`` (bicubic, antialiased by
    Pillow), and the image centre-cropped to a square. Files are read in sorted path order, so the
    dataset is the same on every machine. Files Pillow cannot decode, and entries that
    cannot be examined (no permission), are skipped and counted.

    Args:
        root: folder to search (sub-folders included).
        image_size: side of the square output images.
        channels: 1 (grayscale) or 3 (RGB).

    Shape:
        images (N, channels, image_size, image_size) uint8.

    Returns:
        ``(images, skipped)``: the images and the number of unreadable files.

    Raises:
        DatasetError: ``root`` is not a folder, or holds no readable image.

    >>> read_folder("/nonexistent", 28, 1)
    Traceback (most recent call last):
    ...
    upgan.data.dataset.DatasetError: Folder /nonexistent does not exist ...
    """
    from PIL import Image, UnidentifiedImageError

    root = Path(root).expanduser()
    if root.exists() and not root.is_dir():
        raise DatasetError(f"{root} is a file, not a folder of images (dataset 'folder:{root}')")
    if not root.is_dir():
        raise DatasetError(f"Folder {root} does not exist (dataset 'folder:{root}')")
    files, unexamined = _image_files(root)
    mode = "L" if channels == 1 else "RGB"
    arrays, skipped = [], unexamined
    for path in files:
        try:
            with Image.open(path) as im:
                im = _to_8bit(im).convert(mode)
                scale = image_size / min(im.size)
                w, h = max(image_size, round(im.width * scale)), max(image_size, round(im.height * scale))
                im = im.resize((w, h), Image.Resampling.BICUBIC)
                left, top = (w - image_size) // 2, (h - image_size) // 2
                im = im.crop((left, top, left + image_size, top + image_size))
                arrays.append(np.asarray(im, dtype=np.uint8).reshape(image_size, image_size, channels))
        except (UnidentifiedImageError, OSError, ValueError):
            skipped += 1
    if not arrays:
        raise DatasetError(
            f"No readable PNG/JPEG images in {root} ({len(files) + unexamined} candidate files, {skipped} unreadable)"
        )
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()  # (N, S, S, C) -> (N, C, S, S)
    return images, skipped


def _image_files(root: Path) -> tuple[list[Path], int]:
    """The files under ``root`` with an image suffix, sorted, and how many such entries could not be examined."""
    files, unreadable = [], 0
    for path in root.rglob("*"):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        try:
            if path.is_file():
                files.append(path)
        except OSError:  # e.g. a link into a folder this user may not enter
            unreadable += 1
    return sorted(files), unreadable


def _to_8bit(im):
    """A 16-bit grayscale image (Pillow mode ``I;16*``, or ``I`` from older Pillows) as 8-bit ``L``,
    ``v / 257`` rounded (65535 -> 255); any other image unchanged."""
    from PIL import Image

    if not (im.mode.startswith("I;16") or im.mode == "I"):
        return im
    values = np.asarray(im).astype(np.float64) / 257  # (H, W), 0..65535 -> 0..255
    return Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8))  # uint8 (H, W): mode L
