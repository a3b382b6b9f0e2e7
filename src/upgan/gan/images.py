"""Image grids and GIFs of generator outputs, with Pillow."""

from __future__ import annotations

import math
from pathlib import Path

import torch

__all__ = ["to_uint8", "make_grid", "save_grid", "save_gif"]


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Map images in [-1, 1] to uint8 [0, 255] (values outside are clipped, NaN is black).

    Shape:
        (N, C, H, W) -> (N, C, H, W).

    >>> to_uint8(torch.tensor([[[[-1.0, 0.0, 1.0, float("nan")]]]])).tolist()
    [[[[0, 128, 255, 0]]]]
    """
    x = torch.nan_to_num(images.detach().float().cpu(), nan=-1.0)  # a float NaN cast to uint8 is undefined
    return x.add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8)


def make_grid(images: torch.Tensor, nrow: int | None = None, padding: int = 2):
    """Tile images in [-1, 1] (or already :func:`to_uint8`'s output) into one Pillow image, ``nrow`` per row
    (default: a square grid).

    Shape:
        (N, C, H, W) with C in {1, 3} -> an image of
        (nrow * (W + padding) + padding) x (rows * (H + padding) + padding) pixels.

    >>> make_grid(torch.zeros(6, 1, 4, 4), nrow=3).size
    (20, 14)
    """
    from PIL import Image

    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[0] < 1 or images.shape[1] not in (1, 3):
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"The `images` argument must be a (N, C, H, W) tensor with N >= 1 and C in {{1, 3}}. Received {shape}")
    if nrow is not None and (isinstance(nrow, bool) or not isinstance(nrow, int) or nrow < 1):
        raise ValueError(f"The `nrow` argument must be None or an integer >= 1. Received nrow={nrow!r}")
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError(f"The `padding` argument must be an integer >= 0. Received padding={padding!r}")
    n, c, h, w = images.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / nrow)
    pixels = images if images.dtype == torch.uint8 else to_uint8(images)
    canvas = torch.zeros(c, rows * (h + padding) + padding, nrow * (w + padding) + padding, dtype=torch.uint8)
    for i in range(n):
        top, left = padding + (i // nrow) * (h + padding), padding + (i % nrow) * (w + padding)
        canvas[:, top : top + h, left : left + w] = pixels[i]
    array = canvas.permute(1, 2, 0).numpy()  # (C, H, W) -> (H, W, C)
    return Image.fromarray(array[..., 0] if c == 1 else array, mode="L" if c == 1 else "RGB")


def save_grid(images: torch.Tensor, path: str | Path, nrow: int | None = None) -> None:
    """Write :func:`make_grid` of ``images`` to ``path`` (format from the suffix, e.g. PNG)."""
    make_grid(images, nrow).save(path)


def save_gif(frames: list[torch.Tensor], path: str | Path, duration_ms: int = 80) -> None:
    """Write a looping GIF; each frame is a batch of images tiled with :func:`make_grid`."""
    pictures = [make_grid(f) for f in frames]
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=duration_ms, loop=0)
