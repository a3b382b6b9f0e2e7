"""``Upsample2d``: the module form of :func:`upgan.functional.upsample`."""

from __future__ import annotations

import torch
from torch import nn

from upgan.functional._checks import check_choice, pair
from upgan.functional.upsample import MODES, upsample

__all__ = ["Upsample2d"]


class Upsample2d(nn.Module):
    """Upsample by integer factors, numerically equal to Keras 3's ``UpSampling2D``.

    See :func:`upgan.functional.upsample` for the interpolation rules. Unlike
    ``torch.nn.Upsample``, ``"bicubic"`` follows TensorFlow (Keys ``a = -0.5``, half-pixel
    centres) and ``"lanczos3"`` / ``"lanczos5"`` are available.

    Args:
        scale_factor: integer factor >= 1 for both axes, or a tuple ``(fh, fw)`` (default 2).
        mode: one of ``"nearest"`` (default), ``"bilinear"``, ``"bicubic"``, ``"lanczos3"``,
            ``"lanczos5"``, ``"area"``.

    Shape:
        ``(N, C, H, W) -> (N, C, H * fh, W * fw)``.

    Raises:
        TypeError, ValueError: ``scale_factor`` or ``mode`` is not an allowed value (at
            construction); the input is not a 4-D tensor (at call).

    >>> up = Upsample2d((2, 3), mode="bilinear")
    >>> up
    Upsample2d(scale_factor=(2, 3), mode='bilinear')
    >>> up(torch.zeros(1, 4, 5, 6)).shape
    torch.Size([1, 4, 10, 18])
    """

    def __init__(self, scale_factor: int | tuple[int, int] = 2, mode: str = "nearest") -> None:
        super().__init__()
        self.scale_factor = pair(scale_factor, "scale_factor")
        self.mode = check_choice(mode, "mode", MODES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upsample(x, self.scale_factor, self.mode)

    def extra_repr(self) -> str:
        return f"scale_factor={self.scale_factor}, mode={self.mode!r}"
