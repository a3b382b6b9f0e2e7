"""Resize-convolution (upsample, then a 'same' convolution) without the upsampled intermediate.

Upsampling by ``s`` and then convolving with a ``k x k`` kernel is a linear map from the small
input to the large output, so it can be folded into one operation on the small input:

- nearest: a stride-``s`` transposed convolution whose ``(k + s - 1)``-tap kernel is the sum of
  ``s x s`` shifted copies of the (flipped) ``k x k`` kernel, exact everywhere because a
  zero-padded nearest upsample is the nearest upsample of a zero-padded input (NVlabs/stylegan
  ``upscale2d_conv2d``; the onnx-mlir / qonnx ``ResizeConvolutionToDeconvolution`` rewrite).
  For ``s = 2, k = 3`` it has 4 taps per output instead of 9.
- bilinear: ``s x s`` phase convolutions of the replicate-padded input (the sub-pixel view of
  Shi et al. 2016), computed as one convolution with ``out * s * s`` channels and a pixel
  shuffle. Replicate padding reproduces the clamped borders of ``align_corners=False``
  interpolation, so the result is ``conv(replicate_pad(up(x)), w)`` where the reference is
  ``conv(zero_pad(up(x)), w)``. The difference lives in the ``k // 2`` outer rows and columns of
  the output and is removed there by four one-dimensional convolutions of the upsampled
  border rows/columns of ``x`` (O(perimeter) work).

The folded kernels are built from ``weight`` with differentiable tensor operations, so
autograd gives the weight gradient.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from upgan.functional._checks import check_choice, check_nchw, pair
from upgan.functional._fast_conv_transpose import conv_transpose2d_fast

__all__ = ["resize_conv2d", "RESIZE_MODES"]

RESIZE_MODES = ("nearest", "bilinear")


def resize_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    scale_factor: int | tuple[int, int] = 2,
    mode: str = "nearest",
) -> torch.Tensor:
    """Upsample ``x`` by ``scale_factor`` and convolve with ``weight`` (zero 'same' padding), fused.

    Equal (to float rounding) to
    ``F.conv2d(F.interpolate(x, scale_factor=s, mode=mode), weight, bias, padding=k // 2)``
    (``align_corners=False`` for bilinear, which is also Keras's ``UpSampling2D``), for values
    and gradients, but computed on the small input: the ``s * s``-times larger upsampled tensor
    is never formed. See the module docstring for how.

    Args:
        x: input ``(N, C_in, H, W)``, floating point, any memory format.
        weight: ``(C_out, C_in, kh, kw)`` like ``torch.nn.Conv2d``'s; ``kh`` and ``kw`` odd.
        bias: ``(C_out,)`` or ``None`` (default).
        scale_factor: integer factor >= 1 for both axes, or a tuple ``(sh, sw)`` (default 2).
        mode: ``"nearest"`` (default) or ``"bilinear"``.

    Returns:
        The output tensor, same dtype and device as ``x``.

    Shape:
        ``(N, C_in, H, W) -> (N, C_out, H * sh, W * sw)``.

    Raises:
        TypeError: ``x`` or ``weight`` is not a tensor, or ``scale_factor`` is not an integer
            or a pair of integers.
        ValueError: ``weight`` is not 4-D with odd kernel sizes, ``x`` is not 4-D with
            ``weight.shape[1]`` channels, ``bias`` is not ``(C_out,)``, a factor is < 1, or
            ``mode`` is not ``"nearest"`` or ``"bilinear"``.

    >>> x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> w = torch.ones(1, 1, 3, 3)
    >>> resize_conv2d(x, w)  # 3x3 box sums of [[1,1,2,2],[1,1,2,2],[3,3,4,4],[3,3,4,4]]
    tensor([[[[ 4.,  8., 10.,  8.],
              [10., 18., 21., 16.],
              [14., 24., 27., 20.],
              [12., 20., 22., 16.]]]])
    >>> y = resize_conv2d(x, w, mode="bilinear")
    >>> y
    tensor([[[[ 5.5000,  9.5000, 11.5000,  8.5000],
              [10.7500, 18.0000, 21.0000, 15.2500],
              [14.7500, 24.0000, 27.0000, 19.2500],
              [11.5000, 18.5000, 20.5000, 14.5000]]]])
    >>> up = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    >>> torch.equal(y, F.conv2d(up, w, padding=1))
    True
    """
    _check_weight(weight, bias)
    check_nchw(x, channels=weight.shape[1])
    sh, sw = pair(scale_factor, "scale_factor")
    check_choice(mode, "mode", RESIZE_MODES)
    if mode == "nearest":
        return _nearest(x, weight, bias, sh, sw)
    return _bilinear(x, weight, bias, sh, sw)


def _check_weight(weight: object, bias: object) -> None:
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"Expected `weight` to be a torch.Tensor (C_out, C_in, kh, kw). Received type {type(weight).__name__}")
    if weight.dim() != 4 or weight.shape[2] % 2 == 0 or weight.shape[3] % 2 == 0:
        raise ValueError(
            "Expected `weight` to be a 4-D tensor (C_out, C_in, kh, kw) with odd kh and kw. "
            f"Received weight.shape={tuple(weight.shape)}"
        )
    if bias is not None and (not isinstance(bias, torch.Tensor) or tuple(bias.shape) != (weight.shape[0],)):
        received = tuple(bias.shape) if isinstance(bias, torch.Tensor) else type(bias).__name__
        raise ValueError(f"Expected `bias` to be None or a tensor of shape ({weight.shape[0]},). Received {received}")


# ---------------------------------------------------------------------------------------------
# nearest: one transposed convolution


def _nearest_fold(kernel_size: int, factor: int, like: torch.Tensor) -> torch.Tensor:
    """``(k, k + s - 1)`` 0/1 matrix ``B`` with transposed-conv tap ``t`` = sum of ``w[a] B[a, t]``.

    Nearest upsampling is the transposed convolution with a box of ``s`` ones; following it by
    a cross-correlation with ``w`` (padding ``p = k // 2``) gives a transposed convolution with
    kernel ``full_conv(flip(w), box)`` and padding ``k - 1 - p = p``, i.e. ``w[a]`` lands on taps
    ``t`` with ``0 <= t - (k - 1 - a) < s``.
    """
    a = torch.arange(kernel_size, device=like.device)[:, None]
    t = torch.arange(kernel_size + factor - 1, device=like.device)[None, :]
    offset = t - (kernel_size - 1 - a)
    return ((offset >= 0) & (offset < factor)).to(like.dtype)


def _nearest(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, sh: int, sw: int) -> torch.Tensor:
    kh, kw = weight.shape[2], weight.shape[3]
    fold_h = _nearest_fold(kh, sh, weight)
    fold_w = _nearest_fold(kw, sw, weight)
    # (C_out, C_in, kh, kw) -> (C_in, C_out, kh + sh - 1, kw + sw - 1), torch's transposed layout
    kernel = torch.einsum("oiyx,yY,xX->ioYX", weight, fold_h, fold_w)
    return conv_transpose2d_fast(
        x, kernel, bias, stride=(sh, sw), padding=(kh // 2, kw // 2), output_padding=(0, 0), dilation=(1, 1), groups=1
    )


# ---------------------------------------------------------------------------------------------
# bilinear: phase convolutions of the replicate-padded input, then border corrections


def _bilinear_phases(kernel_size: int, factor: int) -> tuple[list[list[list[float]]], int]:
    """Per-phase taps of "bilinear upsample, then a ``k``-tap correlation" along one axis.

    Output ``o = s*i + r`` reads upsampled sample ``s*i + r + a - p`` for tap ``a``; that sample
    sits at input position ``i + (r + a - p + 1/2) / s - 1/2`` (half-pixel centres) and is the
    linear blend of its two neighbours. Returns ``M`` as nested lists ``M[r][a][d - d_min]``
    (the weight of ``x[i + d]``) and ``d_min``. Integer arithmetic, so zero weights stay zero.
    """
    p = kernel_size // 2
    entries = {}  # (r, a, d) -> weight of x[i + d] times 2s, an integer
    for r in range(factor):
        for a in range(kernel_size):
            # position = (r + a - p + 1/2) / s - 1/2 = numerator / (2s)
            numerator = 2 * (r + a - p) + 1 - factor
            left, remainder = divmod(numerator, 2 * factor)
            for d, weight in ((left, 2 * factor - remainder), (left + 1, remainder)):
                if weight:
                    entries[r, a, d] = entries.get((r, a, d), 0) + weight
    d_min = min(d for _, _, d in entries)
    d_max = max(d for _, _, d in entries)
    matrix = [[[0.0] * (d_max - d_min + 1) for _ in range(kernel_size)] for _ in range(factor)]
    for (r, a, d), weight in entries.items():
        matrix[r][a][d - d_min] = weight / (2 * factor)
    return matrix, d_min


def _shuffle(y: torch.Tensor, sh: int, sw: int) -> torch.Tensor:
    """Pixel shuffle with separate factors: channel ``c*sh*sw + ry*sw + rx`` -> pixel ``(ry, rx)``."""
    if sh == sw:
        return F.pixel_shuffle(y, sh)  # (N, C*s*s, H, W) -> (N, C, H*s, W*s)
    n, c, h, w = y.shape
    c_out = c // (sh * sw)
    # (N, C*sh*sw, H, W) -> (N, C, sh, sw, H, W) -> (N, C, H, sh, W, sw) -> (N, C, H*sh, W*sw)
    return y.reshape(n, c_out, sh, sw, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c_out, h * sh, w * sw)


def _bilinear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, sh: int, sw: int) -> torch.Tensor:
    c_out, c_in, kh, kw = weight.shape
    n, _, h, w = x.shape
    if kh == 1 and kw == 1:
        # A 1x1 convolution commutes with interpolation (its rows sum to 1, so the bias too):
        # convolve the small input, then interpolate the result, which *is* the output.
        return F.interpolate(F.conv2d(x, weight, bias), scale_factor=(sh, sw), mode="bilinear", align_corners=False)
    phases_h, dmin_h = _bilinear_phases(kh, sh)
    phases_w, dmin_w = _bilinear_phases(kw, sw)
    m_h = torch.tensor(phases_h, dtype=weight.dtype, device=weight.device)  # (sh, kh, th)
    m_w = torch.tensor(phases_w, dtype=weight.dtype, device=weight.device)  # (sw, kw, tw)
    th, tw = m_h.shape[2], m_w.shape[2]
    # (C_out, C_in, kh, kw) -> (C_out, sh, sw, C_in, th, tw) -> (C_out*sh*sw, C_in, th, tw)
    phase_kernel = torch.einsum("oiyx,ryd,qxe->orqide", weight, m_h, m_w).reshape(c_out * sh * sw, c_in, th, tw)
    phase_bias = None if bias is None else bias.repeat_interleave(sh * sw)
    # Replicate padding = the clamped border of align_corners=False interpolation. (Gathers with
    # clamped indices, not F.pad's replicate mode, whose backward torch.compile mis-strides.)
    rows = torch.arange(dmin_h, h + th - 1 + dmin_h, device=x.device).clamp(0, h - 1)
    cols = torch.arange(dmin_w, w + tw - 1 + dmin_w, device=x.device).clamp(0, w - 1)
    padded = x.index_select(2, rows).index_select(3, cols)  # (N, C_in, H + th - 1, W + tw - 1)
    out = _shuffle(F.conv2d(padded, phase_kernel, phase_bias), sh, sw)  # (N, C_out, H*sh, W*sw)
    _remove_replicated_border(out, x, weight, sh, sw)
    return out


def _remove_replicated_border(out: torch.Tensor, x: torch.Tensor, weight: torch.Tensor, sh: int, sw: int) -> None:
    """Turn ``conv(replicate_pad(up(x)), w)`` into ``conv(zero_pad(up(x)), w)``, in place.

    The padded frame of ``up(x)`` is split into a top and bottom band (full width, corners
    included: they repeat the first/last upsampled row, itself replicate-padded) and a left
    and right band (the first/last upsampled column, rows inside the image only). An output
    row ``y < p`` sees the top band through the kernel rows ``a < p - y``, so its share is a
    1-D convolution of that row with ``sum_{a < p - y} w[a]``; likewise for the other bands.
    """
    c_out, c_in, kh, kw = weight.shape
    ph, pw = kh // 2, kw // 2
    n, _, out_h, out_w = out.shape
    h, w = x.shape[2], x.shape[3]
    if ph:
        rows = min(ph, out_h)
        # Kernel rows summed over a < p - y (top, y = 0..p-1) and a > p + q (bottom, q = p-1..0).
        top_w = weight[:, :, :ph].cumsum(2).flip(2)  # (C_out, C_in, ph, kw), index y
        bottom_w = weight.flip(2)[:, :, :ph].cumsum(2)  # (C_out, C_in, ph, kw), row out_h - ph + j
        bands = (  # (input row, summed kernel rows, rows of the excess to use, output rows)
            (x[:, :, :1], top_w, slice(0, rows), slice(0, rows)),
            (x[:, :, h - 1 :], bottom_w, slice(ph - rows, ph), slice(out_h - rows, out_h)),
        )
        for band, band_w, window, target in bands:
            line = F.interpolate(band, scale_factor=(1, sw), mode="bilinear", align_corners=False)  # (N, C_in, 1, W*sw)
            # The band's corners repeat its ends. (A cat, not F.pad's replicate mode, whose backward
            # torch.compile mis-strides on a one-row tensor in torch 2.13.)
            ends = line[..., :1].expand(-1, -1, -1, pw), line[..., -1:].expand(-1, -1, -1, pw)
            line = torch.cat((ends[0], line, ends[1]), dim=3)  # (N, C_in, 1, W*sw + 2*pw)
            # (C_out, C_in, ph, kw) -> (C_out, ph, C_in, kw) -> (C_out*ph, C_in, 1, kw)
            kernel = band_w.permute(0, 2, 1, 3).reshape(c_out * ph, c_in, 1, kw)
            # (N, C_out*ph, 1, W*sw) -> (N, C_out, ph, W*sw)
            excess = F.conv2d(line, kernel).reshape(n, c_out, ph, out_w)
            out[:, :, target] -= excess[:, :, window]
    if pw:
        cols = min(pw, out_w)
        left_w = weight[:, :, :, :pw].cumsum(3).flip(3)  # (C_out, C_in, kh, pw), index x
        right_w = weight.flip(3)[:, :, :, :pw].cumsum(3)  # (C_out, C_in, kh, pw), column out_w - pw + j
        bands = (  # (input column, summed kernel columns, columns of the excess to use, output columns)
            (x[..., :1], left_w, slice(0, cols), slice(0, cols)),
            (x[..., w - 1 :], right_w, slice(pw - cols, pw), slice(out_w - cols, out_w)),
        )
        for band, band_w, window, target in bands:
            line = F.interpolate(band, scale_factor=(sh, 1), mode="bilinear", align_corners=False)  # (N, C_in, H*sh, 1)
            line = F.pad(line, (0, 0, ph, ph))  # rows outside the image belong to the top/bottom bands
            # (C_out, C_in, kh, pw) -> (C_out, pw, C_in, kh) -> (C_out*pw, C_in, kh, 1)
            kernel = band_w.permute(0, 3, 1, 2).reshape(c_out * pw, c_in, kh, 1)
            # (N, C_out*pw, H*sh, 1) -> (N, C_out, pw, H*sh) -> (N, C_out, H*sh, pw)
            excess = F.conv2d(line, kernel).reshape(n, c_out, pw, out_h).transpose(2, 3)
            out[..., target] -= excess[..., window]
