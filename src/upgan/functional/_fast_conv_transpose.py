"""The transposed convolution behind upgan's layers: torch's kernel or a sub-pixel decomposition.

A stride-``s`` transposed convolution is ``s x s`` stride-1 convolutions of the input, one per
output phase, interleaved (Shi et al. 2016, "Is the deconvolution layer the same as a
convolutional layer?"). Computed as one ``conv2d`` with ``C_out * s * s`` channels, a pixel
shuffle and a crop, it reaches the convolution kernels' speed, which on some devices and
memory formats is higher than that of the transposed-convolution kernel.
:func:`conv_transpose2d_fast` takes whichever path :func:`prefers_subpixel` picks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["conv_transpose2d_fast", "conv_transpose2d_subpixel", "prefers_subpixel", "pixel_shuffle"]

Pair = tuple[int, int]


def prefers_subpixel(x: torch.Tensor, weight: torch.Tensor, stride: Pair, dilation: Pair, groups: int) -> bool:
    """Whether :func:`conv_transpose2d_subpixel` should replace ``F.conv_transpose2d`` here.

    The decomposition applies to ``groups == 1``, ``dilation == 1`` and ``stride > 1``. The rule
    comes from measurements on a 2-core AVX-512 CPU (torch 2.13, oneDNN 3.12; the
    "Transposed-convolution paths" table of ``benchmarks/RESULTS.md``, forward and
    forward + backward): with few output channels (``C_out * s * s <= 16``, e.g. a generator's
    last 64 -> 1 or 64 -> 3 stage), where oneDNN's transposed convolution is slow, the
    decomposition is 1.6-2.3x faster for inference and 1.0-1.3x for training; with many it is
    1.05-1.7x slower. Other devices (CUDA) keep the native kernel: no measurement there supports a
    change. Under ``torch.compile`` the native kernel too: inductor (torch 2.13) fails to lower
    the decomposition's kernel reshuffle when the weight's shape is symbolic (``dynamic=True``),
    and the measurements are of eager mode.
    """
    if groups != 1 or dilation != (1, 1) or stride == (1, 1) or x.device.type != "cpu":
        return False
    if torch.compiler.is_compiling():
        return False
    return weight.shape[1] * stride[0] * stride[1] <= 16


def conv_transpose2d_fast(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    stride: Pair,
    padding: Pair,
    output_padding: Pair,
    dilation: Pair,
    groups: int,
) -> torch.Tensor:
    """``F.conv_transpose2d`` with torch's semantics, by the fastest exact path for these inputs.

    Arguments are already checked: integer pairs, ``weight`` ``(C_in, C_out / groups, kh, kw)``.

    Shape:
        ``(N, C_in, H, W) -> (N, C_out, H_out, W_out)`` with
        ``H_out = (H - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1``.

    >>> x, w = torch.randn(1, 3, 4, 4), torch.randn(3, 2, 4, 4)
    >>> y = conv_transpose2d_fast(x, w, None, (2, 2), (1, 1), (0, 0), (1, 1), 1)
    >>> y.shape, torch.allclose(y, F.conv_transpose2d(x, w, stride=2, padding=1), atol=1e-5)
    (torch.Size([1, 2, 8, 8]), True)
    """
    if prefers_subpixel(x, weight, stride, dilation, groups):
        return conv_transpose2d_subpixel(x, weight, bias, stride, padding, output_padding)
    return F.conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups, dilation)


def _phase_range(size: int, kernel: int, stride: int, padding: int, output_padding: int) -> tuple[int, int, int, int]:
    """Along one axis: taps per phase ``T``, first and end coarse rows ``[m0, m1)``, and the crop offset.

    The full transposed convolution (no cropping) has sample ``s*m + r`` = sum over ``u < T`` of
    ``x[m - u] * w[s*u + r]``; torch keeps samples ``[p, p + out)``.
    """
    taps = -(-kernel // stride)
    out = (size - 1) * stride - 2 * padding + kernel + output_padding
    first = padding // stride
    end = -(-(padding + out) // stride)
    return taps, first, end, padding - first * stride


def conv_transpose2d_subpixel(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    stride: Pair,
    padding: Pair,
    output_padding: Pair,
) -> torch.Tensor:
    """Transposed convolution (``groups=1``, ``dilation=1``) as one convolution + pixel shuffle + crop.

    Equal to ``F.conv_transpose2d(x, weight, bias, stride, padding, output_padding)``.

    Shape:
        as ``F.conv_transpose2d``: ``H_out = (H - 1) * sh - 2 * ph + kh + oph``.

    >>> x, w = torch.randn(2, 3, 5, 4), torch.randn(3, 2, 3, 5)
    >>> y = conv_transpose2d_subpixel(x, w, None, (2, 3), (1, 2), (1, 0))
    >>> ref = F.conv_transpose2d(x, w, stride=(2, 3), padding=(1, 2), output_padding=(1, 0))
    >>> y.shape, torch.allclose(y, ref, atol=1e-5)
    (torch.Size([2, 2, 10, 10]), True)
    """
    c_in, c_out, kh, kw = weight.shape
    (sh, sw), (h, w) = stride, x.shape[2:]
    th, first_h, end_h, crop_h = _phase_range(h, kh, sh, padding[0], output_padding[0])
    tw, first_w, end_w, crop_w = _phase_range(w, kw, sw, padding[1], output_padding[1])
    out_h = (h - 1) * sh - 2 * padding[0] + kh + output_padding[0]
    out_w = (w - 1) * sw - 2 * padding[1] + kw + output_padding[1]
    # Zero taps up to a multiple of the stride: (C_in, C_out, kh, kw) -> (C_in, C_out, th*sh, tw*sw)
    kernel = F.pad(weight, (0, tw * sw - kw, 0, th * sh - kh))
    # (C_in, C_out, th, sh, tw, sw) -> (C_out, sh, sw, C_in, th, tw), taps u reversed for a correlation
    kernel = kernel.reshape(c_in, c_out, th, sh, tw, sw).flip(2, 4).permute(1, 3, 5, 0, 2, 4)
    kernel = kernel.reshape(c_out * sh * sw, c_in, th, tw)  # (C_out*sh*sw, C_in, th, tw)
    phase_bias = None if bias is None else bias.repeat_interleave(sh * sw)
    # Coarse output m reads x[m - th + 1 .. m]; pad (or crop, when negative) to get m in [first, end).
    pads = (tw - 1 - first_w, end_w - w, th - 1 - first_h, end_h - h)
    if pads[0] == pads[1] >= 0 and pads[2] == pads[3] >= 0:
        # Symmetric (k = 4, s = 2, p = 1 among others): the convolution pads; no padded copy of x.
        y = F.conv2d(x, kernel, phase_bias, padding=(pads[2], pads[0]))
    else:
        y = F.conv2d(F.pad(x, pads), kernel, phase_bias)
    # y: (N, C_out*sh*sw, end_h - first_h, end_w - first_w) -> (N, C_out, (end_h - first_h)*sh, (end_w - first_w)*sw)
    y = pixel_shuffle(y, sh, sw)
    return y[:, :, crop_h : crop_h + out_h, crop_w : crop_w + out_w]


def pixel_shuffle(y: torch.Tensor, sh: int, sw: int) -> torch.Tensor:
    """``F.pixel_shuffle`` for factors ``(sh, sw)``: channel ``c * sh * sw + i * sw + j`` -> sub-pixel ``(i, j)``.

    Torch's own kernel where it applies (equal factors, a non-empty batch: its backward fails
    on an empty one in torch 2.13), else a reshape and a permute.

    Shape:
        ``(N, C * sh * sw, H, W) -> (N, C, H * sh, W * sw)``.
    """
    if sh == sw and y.shape[0] > 0:
        return F.pixel_shuffle(y, sh)
    n, c, h, w = y.shape
    c //= sh * sw
    # (N, C*sh*sw, H, W) -> (N, C, sh, sw, H, W) -> (N, C, H, sh, W, sw) -> (N, C, H*sh, W*sw)
    return y.reshape(n, c, sh, sw, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c, h * sh, w * sw)
