"""Sub-pixel convolution (Shi et al. 2016): a convolution to ``C_out * s * s`` channels, then a pixel shuffle."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from upgan.functional._checks import check_bias, check_floating, check_int, check_nchw
from upgan.functional._fast_conv_transpose import pixel_shuffle

__all__ = ["subpixel_conv2d", "icnr_", "conv2d_init_"]


def subpixel_conv2d(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, scale_factor: int = 2
) -> torch.Tensor:
    """Convolve ``x`` ('same' zero padding) to ``C_out * s * s`` channels and pixel-shuffle by ``s``.

    Output channel ``c`` at sub-pixel ``(i, j)`` of each ``s x s`` block comes from convolution
    channel ``c * s * s + i * s + j`` (``torch.nn.PixelShuffle``'s order).

    Args:
        x: input ``(N, C_in, H, W)``.
        weight: ``(C_out * s * s, C_in, kh, kw)`` with odd ``kh`` and ``kw``.
        bias: ``(C_out * s * s,)`` or ``None`` (default).
        scale_factor: integer ``s >= 1`` (default 2).

    Returns:
        The output tensor, same dtype and device as ``x``.

    Shape:
        ``(N, C_in, H, W) -> (N, C_out, H * s, W * s)`` with ``C_out = weight.shape[0] // s**2``.

    Raises:
        TypeError: ``x`` or ``weight`` is not a tensor, or ``scale_factor`` is not an integer.
        ValueError: ``scale_factor`` < 1, ``weight`` is not ``(C_out * s * s, C_in, kh, kw)``
            with odd ``kh``, ``kw``, ``bias`` is not ``(C_out * s * s,)``, or ``x`` is not 4-D
            with ``C_in`` channels.

    >>> x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> w = torch.tensor([1.0, 2.0, 3.0, 4.0]).reshape(4, 1, 1, 1)  # one 1x1 filter per sub-pixel
    >>> subpixel_conv2d(x, w)
    tensor([[[[ 1.,  2.,  2.,  4.],
              [ 3.,  4.,  6.,  8.],
              [ 3.,  6.,  4.,  8.],
              [ 9., 12., 12., 16.]]]])
    """
    s = check_int(scale_factor, "scale_factor")
    if not isinstance(weight, torch.Tensor):
        raise TypeError(
            f"Expected `weight` to be a torch.Tensor (C_out*s*s, C_in, kh, kw). Received type {type(weight).__name__}"
        )
    if (
        weight.dim() != 4
        or weight.shape[0] % (s * s)
        or weight.shape[2] % 2 == 0
        or weight.shape[3] % 2 == 0
    ):
        raise ValueError(
            f"Expected `weight` to be a 4-D tensor (C_out*{s * s}, C_in, kh, kw) with odd kh and kw "
            f"for scale_factor={s}. Received weight.shape={tuple(weight.shape)}"
        )
    check_nchw(x, channels=weight.shape[1])
    check_floating(x)
    check_bias(bias, weight.shape[0])
    y = F.conv2d(x, weight, bias, padding=(weight.shape[2] // 2, weight.shape[3] // 2))  # (N, C_out*s*s, H, W)
    return pixel_shuffle(y, s, s)  # (N, C_out*s*s, H, W) -> (N, C_out, H*s, W*s)


def conv2d_init_(weight: torch.Tensor) -> torch.Tensor:
    """``torch.nn.Conv2d``'s default weight initialisation, in place: ``kaiming_uniform_(a=sqrt(5))``."""
    return torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5))


@torch.no_grad()
def icnr_(
    weight: torch.Tensor, scale_factor: int, init: Callable[[torch.Tensor], torch.Tensor] = conv2d_init_
) -> torch.Tensor:
    """ICNR initialisation (Aitken et al. 2017), in place: sub-pixel conv = nearest resize + conv.

    Draws a ``(C_out, C_in, kh, kw)`` kernel with ``init`` and gives each of its filters to the
    ``s * s`` consecutive channels that the pixel shuffle spreads over one ``s x s`` block
    (``repeat_interleave`` along dim 0, the order of ``torch.nn.PixelShuffle``), for any ``s``.

    Args:
        weight: ``(C_out * s * s, C_in, kh, kw)``, filled in place.
        scale_factor: integer ``s >= 1``.
        init: in-place initialiser for the shared kernel (default :func:`conv2d_init_`,
            ``torch.nn.Conv2d``'s; the fan-in is the same for the shared and the full kernel).

    Returns:
        ``weight``.

    Raises:
        TypeError: ``scale_factor`` is not an integer.
        ValueError: ``scale_factor`` < 1 or ``weight.shape[0]`` is not a multiple of ``s * s``.

    >>> w = icnr_(torch.empty(8, 3, 3, 3), 2)
    >>> bool((w[0] == w[3]).all()), bool((w[3] == w[4]).all())
    (True, False)
    """
    s = check_int(scale_factor, "scale_factor")
    if weight.shape[0] % (s * s):
        raise ValueError(
            f"Expected `weight.shape[0]` to be a multiple of scale_factor**2 = {s * s}. "
            f"Received weight.shape={tuple(weight.shape)}"
        )
    shared = init(weight.new_empty(weight.shape[0] // (s * s), *weight.shape[1:]))
    # (C_out, C_in, kh, kw) -> (C_out*s*s, C_in, kh, kw): filter c feeds channels c*s*s .. c*s*s + s*s - 1
    return weight.copy_(shared.repeat_interleave(s * s, dim=0))
