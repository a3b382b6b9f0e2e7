"""Resize-convolution (upsample, then a 'same' convolution) without the upsampled intermediate.

Upsampling by ``s`` and then convolving with a ``k x k`` kernel is a linear map from the small
input to the large output, so it can be folded into one operation on the small input:

- nearest: a stride-``s`` transposed convolution whose ``(k + s - 1)``-tap kernel is the sum of
  ``s x s`` shifted copies of the (flipped) ``k x k`` kernel, exact everywhere because a
  zero-padded nearest upsample is the nearest upsample of a zero-padded input (NVlabs/stylegan
  ``upscale2d_conv2d``; the onnx-mlir / qonnx ``ResizeConvolutionToDeconvolution`` rewrite).
  For ``s = 2, k = 3`` it has 4 taps per output instead of 9.
- bilinear: half-pixel bilinear upsampling is nearest upsampling followed by a small blur
  (``[1, 2, 1] / 4`` for ``s = 2``: the triangle kernel is a box convolved with it), and
  convolutions commute, so ``conv_w(bilinear(x)) = blur(conv_w(nearest(x)))``: the nearest
  transposed convolution above (4 multiply-adds per output for ``s = 2, k = 3`` instead of 9),
  then a per-channel blur. The borders need care: bilinear clamps at the edges, the reference
  convolution zero-pads the upsampled map. Three exact formulations, all O(perimeter) extra work:

  - "zero_frame" (applies when the kernel radius ``k // 2`` is at least the blur radius ``r``,
    e.g. every ``k >= 3`` for ``s = 2``; used for few output channels): the transposed
    convolution runs on ``x`` itself with zero padding and its output grown by ``r`` samples
    each side (no padded input), then the blur. This blurs the zero-extended nearest upsample where the
    reference has the zero-padded *clamped* bilinear upsample; the two differ only on the
    ``2 r`` rows/columns around each edge, by fixed multiples of the (1-D upsampled) edge
    row/column of ``x``, so the error is one-dimensional convolutions of those lines.
  - "replicate" (any ``k``): the same on the replicate-padded input (replicate padding reproduces
    the clamped borders), giving ``conv(replicate_pad(up(x)), w)``; the difference from the
    reference lives in the ``k // 2`` outer rows and columns and is removed there the same way.
    Its input is a ring of samples larger, which costs ``((H + 2) / H)^2`` more on small maps,
    but its correction is ``r`` rows per edge thinner.
  - "frame" (``s = 2`` on both axes, a 3x3 kernel, ``H, W >= 2``: the default layer): the
    transposed convolution and the blur with plain zero padding, then the two outer rows and
    columns corrected in closed form from the edge lines of ``x``
    (:mod:`upgan.functional._bilinear_frame`). It needs no grown output and no padded input,
    and its border convolutions take 2 taps per output on the coarse edge lines (the others: 3
    taps on upsampled lines, 1 or 2 rows per edge); 1.2-1.8x faster than "replicate" /
    "zero_frame" on the benchmark stages (forward + backward, torch 2.13, 2-core CPU).

The folded kernels are built from ``weight`` with differentiable tensor operations, so
autograd gives the weight gradient.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from upgan.functional._bilinear_frame import bilinear_from_nearest, frame_applies
from upgan.functional._checks import check_choice, check_floating, check_nchw, pair
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
    check_floating(x)
    sh, sw = pair(scale_factor, "scale_factor")
    check_choice(mode, "mode", RESIZE_MODES)
    if mode == "nearest":
        return _nearest(x, weight, bias, sh, sw)
    return _bilinear(x, weight, bias, sh, sw)


def _check_weight(weight: object, bias: object) -> None:
    if not isinstance(weight, torch.Tensor):
        raise TypeError(
            f"Expected `weight` to be a torch.Tensor (C_out, C_in, kh, kw). Received type {type(weight).__name__}"
        )
    if weight.dim() != 4 or weight.shape[2] % 2 == 0 or weight.shape[3] % 2 == 0:
        raise ValueError(
            "Expected `weight` to be a 4-D tensor (C_out, C_in, kh, kw) with odd kh and kw. "
            f"Received weight.shape={tuple(weight.shape)}"
        )
    if bias is not None and (not isinstance(bias, torch.Tensor) or tuple(bias.shape) != (weight.shape[0],)):
        received = tuple(bias.shape) if isinstance(bias, torch.Tensor) else type(bias).__name__
        raise ValueError(f"Expected `bias` to be None or a tensor of shape ({weight.shape[0]},). Received {received}")


def _format_of(x: torch.Tensor) -> torch.memory_format:
    """channels_last for a channels_last ``x`` (one that is not also contiguous), else contiguous."""
    if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        return torch.channels_last
    return torch.contiguous_format


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


def _nearest(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, sh: int, sw: int, crop: tuple[int, int] = (0, 0)
) -> torch.Tensor:
    """Nearest upsample + 'same' conv as one transposed convolution; ``crop`` > 0 grows the output
    by ``crop`` rows/columns on each side (the samples just outside the image), < 0 shrinks it."""
    c_out, c_in, kh, kw = weight.shape
    # (kh*kw, (kh+sh-1)*(kw+sw-1)): tap (a, b) of w -> taps of the transposed-conv kernel
    fold = torch.kron(_nearest_fold(kh, sh, weight), _nearest_fold(kw, sw, weight))
    # One matmul, faster than an einsum's chain of thin batched products:
    # (C_out*C_in, kh*kw) @ fold -> (C_out, C_in, kh+sh-1, kw+sw-1) -> (C_in, C_out, ...), torch's transposed
    # layout, dense in x's memory format (a strided kernel costs oneDNN a reorder per call).
    kernel = (weight.reshape(c_out * c_in, kh * kw) @ fold).reshape(c_out, c_in, kh + sh - 1, kw + sw - 1)
    kernel = kernel.transpose(0, 1).contiguous(memory_format=_format_of(x))
    padding = (kh // 2 - crop[0], kw // 2 - crop[1])
    return conv_transpose2d_fast(x, kernel, bias, (sh, sw), padding, output_padding=(0, 0), dilation=(1, 1), groups=1)


# ---------------------------------------------------------------------------------------------
# bilinear: a blur of the nearest resize-convolution of the replicate-padded input, then border corrections


def _replicate_pad(x: torch.Tensor, pad_h: int, pad_w: int) -> torch.Tensor:
    """Repeat the edge rows ``pad_h`` times and the edge columns ``pad_w`` times, on both sides.

    ``F.pad(mode="replicate")`` in eager mode (one kernel each way). Under ``torch.compile``, cats
    of expanded edge slices instead: inductor (torch 2.13) mis-strides the replicate-pad backward
    (``assert_size_stride`` fails in the generated code).
    """
    if not torch.compiler.is_compiling():
        return F.pad(x, (pad_w, pad_w, pad_h, pad_h), mode="replicate")
    for dim, pad in ((2, pad_h), (3, pad_w)):
        if pad:
            sizes = [-1] * x.dim()
            sizes[dim] = pad
            first, last = x.narrow(dim, 0, 1).expand(*sizes), x.narrow(dim, x.shape[dim] - 1, 1).expand(*sizes)
            x = torch.cat((first, x, last), dim=dim)
    return x


def _blur_taps(factor: int) -> list[float]:
    """``b`` with ``triangle = box_s * b``: half-pixel bilinear upsampling = nearest, then ``b``.

    The bilinear kernel of factor ``s`` sampled at half-pixel offsets is the ``s``-box (nearest)
    convolved with ``box_s / s`` for odd ``s`` and with ``[1, 2, ..., 2, 1] / (2 s)`` (``s + 1``
    taps) for even ``s``; both are centred, so the blur is applied on the output grid.
    """
    if factor % 2:
        return [1 / factor] * factor
    return [1 / (2 * factor)] + [1 / factor] * (factor - 1) + [1 / (2 * factor)]


BILINEAR_FORMULATIONS = ("frame", "zero_frame", "replicate")


def _formulation_applies(formulation: str, kh: int, kw: int, sh: int, sw: int, h: int, w: int) -> bool:
    """Whether ``formulation`` is exact for this kernel, factor and input size (module docstring)."""
    if formulation == "frame":
        return frame_applies(kh, kw, sh, sw, h, w)
    if formulation == "zero_frame":
        return kh // 2 >= len(_blur_taps(sh)) // 2 and kw // 2 >= len(_blur_taps(sw)) // 2
    return True


def _bilinear_formulation(c_out: int, kh: int, kw: int, sh: int, sw: int, h: int, w: int) -> str:
    """The faster exact formulation for this shape: "frame" where it applies, else "zero_frame" for
    few output channels, else "replicate".

    "zero_frame" needs the kernel radius to cover the blur radius on both axes (its output is
    the transposed convolution's with the padding reduced by the blur radius). Its border
    correction touches ``k // 2 + r`` rows per edge against ``k // 2`` for "replicate", and that
    work scales with ``C_out * C_in``, while the replicate padding's extra ring scales with
    ``C_in``. Measured forward+backward on the benchmark stages (torch 2.13, 2-core CPU):
    "zero_frame" is 1.2-1.4x faster with 1 and 3 output channels (14->28, 32->64), "replicate"
    0-10% faster with 64 to 256.
    """
    if frame_applies(kh, kw, sh, sw, h, w):
        return "frame"
    fits = _formulation_applies("zero_frame", kh, kw, sh, sw, h, w)
    return "zero_frame" if fits and c_out <= 16 else "replicate"


def _bilinear(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, sh: int, sw: int, formulation: str | None = None
) -> torch.Tensor:
    """Bilinear upsample + 'same' conv; ``formulation`` None picks one (tests force each)."""
    c_out, c_in, kh, kw = weight.shape
    h, w = x.shape[2], x.shape[3]
    if formulation is not None and not _formulation_applies(formulation, kh, kw, sh, sw, h, w):
        raise ValueError(
            f"The bilinear formulation {formulation!r} does not apply to kernel {(kh, kw)}, "
            f"scale factor {(sh, sw)} and input size {(h, w)}"
        )
    if kh == 1 and kw == 1:
        # A 1x1 convolution commutes with interpolation (its rows sum to 1, so the bias too):
        # convolve the small input, then interpolate the result, which *is* the output.
        return F.interpolate(F.conv2d(x, weight, bias), scale_factor=(sh, sw), mode="bilinear", align_corners=False)
    formulation = formulation or _bilinear_formulation(c_out, kh, kw, sh, sw, h, w)
    if formulation == "frame":
        return bilinear_from_nearest(x, _nearest(x, weight, None, 2, 2), weight, bias)
    if formulation == "zero_frame":
        return _bilinear_zero_frame(x, weight, bias, sh, sw)
    return _bilinear_replicate(x, weight, bias, sh, sw)


def _blur(sharp: torch.Tensor, taps_h: list[float], taps_w: list[float], bias: torch.Tensor | None) -> torch.Tensor:
    """Per-channel ("depthwise") valid blur with ``taps_h x taps_w``, plus the bias.

    A depthwise conv2d: on the benchmark stages it is several times faster, forward and
    backward, than the equivalent pair of ``avg_pool2d`` (measured, torch 2.13 CPU).
    """
    c = sharp.shape[1]
    like = {"dtype": sharp.dtype, "device": sharp.device}
    blur = torch.tensor(taps_h, **like)[:, None] * torch.tensor(taps_w, **like)  # (len(taps_h), len(taps_w))
    blur = blur.expand(c, 1, *blur.shape).contiguous()  # (C, 1, len(taps_h), len(taps_w))
    # (N, C, H', W') -> (N, C, H' - len(taps_h) + 1, W' - len(taps_w) + 1)
    return _DepthwiseBlur.apply(sharp, blur, bias)


class _DepthwiseBlur(torch.autograd.Function):
    """Depthwise valid correlation with a constant kernel; backward as a forward depthwise conv.

    The input gradient of a valid correlation is the full correlation of the output gradient
    with the flipped kernel. Written as a forward ``conv2d`` it runs several times faster than
    ``convolution_backward`` for depthwise kernels (measured: 2-3 ms instead of ~20 ms on the
    8->16 benchmark stage, torch 2.13 CPU). The backward is made of differentiable ops.
    """

    @staticmethod
    def forward(sharp: torch.Tensor, blur: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        return F.conv2d(sharp, blur, bias, groups=blur.shape[0])

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        ctx.save_for_backward(inputs[1])

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (blur,) = ctx.saved_tensors
        kh, kw = blur.shape[2], blur.shape[3]
        # (N, C, H'', W'') -> (N, C, H'' + kh - 1, W'' + kw - 1)
        grad_sharp = F.conv2d(grad, blur.flip(2, 3), padding=(kh - 1, kw - 1), groups=blur.shape[0])
        grad_bias = grad.sum((0, 2, 3)) if ctx.needs_input_grad[2] else None
        return grad_sharp, None, grad_bias


def _bilinear_replicate(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, sh: int, sw: int
) -> torch.Tensor:
    c_out, c_in, kh, kw = weight.shape
    taps_h, taps_w = _blur_taps(sh), _blur_taps(sw)
    rh, rw = len(taps_h) // 2, len(taps_w) // 2  # blur radius
    # Coarse rows of replicate padding so that conv_w(nearest(.)) reaches the rh samples beyond
    # each edge (its taps reach k // 2 further). Replicate padding = the clamped border of
    # align_corners=False interpolation.
    pad_h, pad_w = -(-(rh + kh // 2) // sh), -(-(rw + kw // 2) // sw)
    padded = _replicate_pad(x, pad_h, pad_w)  # (N, C_in, H + 2*pad_h, W + 2*pad_w)
    # conv_w(nearest(padded)) on output rows -rh .. H*sh + rh - 1: (N, C_out, H*sh + 2*rh, W*sw + 2*rw)
    sharp = _nearest(padded, weight, None, sh, sw, crop=(rh - sh * pad_h, rw - sw * pad_w))
    out = _blur(sharp, taps_h, taps_w, bias)  # (N, C_out, H*sh + 2*rh, W*sw + 2*rw) -> (N, C_out, H*sh, W*sw)
    return _remove_replicated_border(out, x, weight, sh, sw)


def _remove_replicated_border(out: torch.Tensor, x: torch.Tensor, weight: torch.Tensor, sh: int, sw: int) -> torch.Tensor:
    """Turn ``conv(replicate_pad(up(x)), w)`` into ``conv(zero_pad(up(x)), w)``.

    The padded frame of ``up(x)`` is split into a top and bottom band (full width, corners
    included: they repeat the first/last upsampled row, itself replicate-padded) and a left
    and right band (the first/last upsampled column, rows inside the image only). An output
    row ``y < p`` sees the top band through the kernel rows ``a < p - y``, so its share is a
    1-D convolution of that row with ``sum_{a < p - y} w[a]``; likewise for the other bands.
    All shares are subtracted by one ``index_add`` over the flattened pixels (out of place:
    autograd then passes the output gradient through instead of copying it per update).
    """
    c_out, c_in, kh, kw = weight.shape
    ph, pw = kh // 2, kw // 2
    n, _, out_h, out_w = out.shape
    h, w = x.shape[2], x.shape[3]
    pixels = torch.arange(out_h * out_w, device=x.device).reshape(out_h, out_w)
    shares, targets = [], []
    if ph:
        rows = min(ph, out_h)
        # Kernel rows summed over a < p - y (top, y = 0..p-1) and a > p + q (bottom, row out_h - p + j).
        top_w = weight[:, :, :ph].cumsum(2).flip(2)[:, :, :rows]  # (C_out, C_in, rows, kw)
        bottom_w = weight[:, :, kh - ph :].flip(2).cumsum(2)[:, :, ph - rows :]  # (C_out, C_in, rows, kw)
        # (C_out, C_in, rows, kw) x 2 -> (2, C_out, rows, C_in, kw) -> (2*C_out*rows, C_in, 1, kw): one group per band
        kernel = torch.stack((top_w, bottom_w)).permute(0, 1, 3, 2, 4).reshape(2 * c_out * rows, c_in, 1, kw)
        band = x.index_select(2, torch.tensor([0, h - 1], device=x.device))  # (N, C_in, 2, W)
        line = F.interpolate(band, scale_factor=(1, sw), mode="bilinear", align_corners=False)  # (N, C_in, 2, W*sw)
        line = _replicate_pad(line, 0, pw)  # the bands' corners repeat their ends: (N, C_in, 2, W*sw + 2*pw)
        line = line.transpose(1, 2).reshape(n, 2 * c_in, 1, out_w + 2 * pw)  # (N, C_in, 2, L) -> (N, 2*C_in, 1, L)
        # (N, 2*C_out*rows, 1, W*sw) -> (N, 2, C_out, rows*W*sw) -> (N, C_out, 2*rows*W*sw)
        share = F.conv2d(line, kernel, groups=2).reshape(n, 2, c_out, rows * out_w)
        shares.append(share.transpose(1, 2).reshape(n, c_out, 2 * rows * out_w))
        targets += [pixels[:rows].reshape(-1), pixels[out_h - rows :].reshape(-1)]
    if pw:
        cols = min(pw, out_w)
        left_w = weight[:, :, :, :pw].cumsum(3).flip(3)[..., :cols]  # (C_out, C_in, kh, cols)
        right_w = weight[..., kw - pw :].flip(3).cumsum(3)[..., pw - cols :]  # (C_out, C_in, kh, cols)
        # (C_out, C_in, kh, cols) x 2 -> (2, C_out, cols, C_in, kh) -> (2*C_out*cols, C_in, kh, 1)
        kernel = torch.stack((left_w, right_w)).permute(0, 1, 4, 2, 3).reshape(2 * c_out * cols, c_in, kh, 1)
        band = x.index_select(3, torch.tensor([0, w - 1], device=x.device))  # (N, C_in, H, 2)
        line = F.interpolate(band, scale_factor=(sh, 1), mode="bilinear", align_corners=False)  # (N, C_in, H*sh, 2)
        line = F.pad(line, (0, 0, ph, ph))  # rows outside the image belong to the top/bottom bands
        line = line.permute(0, 3, 1, 2).reshape(n, 2 * c_in, out_h + 2 * ph, 1)  # (N, C_in, L, 2) -> (N, 2*C_in, L, 1)
        # (N, 2*C_out*cols, H*sh, 1) -> (N, 2, C_out, cols*H*sh) -> (N, C_out, 2*cols*H*sh), pixel (y, x) at x*H*sh + y
        share = F.conv2d(line, kernel, groups=2).reshape(n, 2, c_out, cols * out_h)
        shares.append(share.transpose(1, 2).reshape(n, c_out, 2 * cols * out_h))
        targets += [pixels[:, :cols].T.reshape(-1), pixels[:, out_w - cols :].T.reshape(-1)]
    return _subtract_at(out, torch.cat(targets), torch.cat(shares, dim=2))


def _subtract_at(out: torch.Tensor, pixels: torch.Tensor, shares: torch.Tensor) -> torch.Tensor:
    """``out`` with ``shares[:, :, i]`` subtracted at flat pixel ``pixels[i]``, in ``out``'s memory format.

    One out-of-place ``index_add`` (autograd then passes the output gradient through instead of
    copying it per update). A channels_last ``out`` is flattened as ``(N, H*W, C)``, a view, so
    neither it nor its gradient is copied into the other format.
    """
    n, c, h, w = out.shape
    if _format_of(out) == torch.channels_last:
        flat = out.permute(0, 2, 3, 1).reshape(n, h * w, c)  # (N, C, H, W) channels_last -> (N, H*W, C), a view
        flat = flat.index_add(1, pixels, shares.transpose(1, 2), alpha=-1)
        return flat.reshape(n, h, w, c).permute(0, 3, 1, 2)  # (N, H*W, C) -> (N, C, H, W), channels_last
    flat = out.reshape(n, c, h * w).index_add(2, pixels, shares, alpha=-1)  # (N, C, H, W) -> (N, C, H*W)
    return flat.reshape(n, c, h, w)  # (N, C, H*W) -> (N, C, H, W)


def _edge_error(taps: list[float]) -> list[float]:
    """Per unit edge value: blur of the zero-extended nearest upsample minus the zero-padded clamped one.

    Entry ``j`` is output sample ``j - r`` (``r`` the blur radius), i.e. samples ``-r .. r - 1``
    around an edge of the upsampled axis; elsewhere the two agree. Blur sample ``y`` sums
    ``taps[t] * Z[y + t - r]``: outside the image (``y < 0``) the reference is 0 and the taps
    landing inside see the edge value; inside, the clamped blur sees the edge value where the
    zero-extended one sees 0. (Only the edge sample is involved: ``2 r <= s``.)
    """
    r = len(taps) // 2
    return [
        sum(b for t, b in enumerate(taps) if (y + t - r >= 0) == (y < 0)) * (1 if y < 0 else -1) for y in range(-r, r)
    ]


def _edge_rows(weight: torch.Tensor, error: list[float], dim: int) -> torch.Tensor:
    """``(rows, k)`` matrix: output row ``y`` (from the edge) sees ``sum_a M[y, a] w[a]`` times the edge line.

    The error sample ``j`` (``-r <= j < r``) reaches output row ``y`` through kernel tap
    ``a = j - y + k // 2``; rows ``0 .. k // 2 + r - 1`` are reached.
    """
    k, r = weight.shape[dim], len(error) // 2
    rows = k // 2 + r
    table = [[error[y - k // 2 + a + r] if -r <= y - k // 2 + a < r else 0.0 for a in range(k)] for y in range(rows)]
    return torch.tensor(table, dtype=weight.dtype, device=weight.device)


def _bilinear_zero_frame(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, sh: int, sw: int
) -> torch.Tensor:
    """``blur(conv_w(nearest(x)))`` with zero padding, then the border error removed (module docstring).

    With ``Z`` the zero-extended nearest upsample, ``B = Bh Bw`` the blur and ``C`` the clamped
    (bilinear) blur, ``B Z - pad(C Z) = Eh (Bw Z) + pad(Ch) (Ew Z)`` where ``E = B - pad(C)`` on
    one axis (:func:`_edge_error`): a top/bottom band made of the edge rows of ``x``, upsampled
    along the width with zero extension (corners included), and a left/right band made of the
    edge columns, bilinearly upsampled along the height and kept inside the image. The output
    error is ``conv_w`` of those bands: 1-D convolutions of the lines.
    """
    c_out, c_in, kh, kw = weight.shape
    n, _, h, w = x.shape
    ph, pw = kh // 2, kw // 2
    taps_h, taps_w = _blur_taps(sh), _blur_taps(sw)
    rh, rw = len(taps_h) // 2, len(taps_w) // 2
    out_h, out_w = h * sh, w * sw
    # conv_w(nearest(x)) on output rows -rh .. H*sh + rh - 1, zero-padded: (N, C_out, H*sh + 2*rh, W*sw + 2*rw)
    sharp = _nearest(x, weight, None, sh, sw, crop=(rh, rw))
    out = _blur(sharp, taps_h, taps_w, bias)  # (N, C_out, H*sh, W*sw)
    pixels = torch.arange(out_h * out_w, device=x.device).reshape(out_h, out_w)
    edges = torch.tensor([0, h - 1], device=x.device), torch.tensor([0, w - 1], device=x.device)

    # A factor of 1 has blur radius 0 and interpolates nothing along its axis: no error there.
    shares, targets = [], []
    if rh:
        # Top/bottom: output row y from the edge gets sum_a M[y, a] w[a, :] along the width of the line.
        rows_h = _edge_rows(weight, _edge_error(taps_h), 2)
        rows = min(rows_h.shape[0], out_h)
        top = torch.einsum("ya,ocab->oycb", rows_h[:rows], weight)  # (C_out, rows, C_in, kw)
        bottom = torch.einsum("ya,ocab->oycb", rows_h[:rows].flip(1), weight).flip(1)  # row out_h - rows + i
        kernel = torch.stack((top, bottom)).reshape(2 * c_out * rows, c_in, 1, kw)  # (2, C_out, rows, ...): groups
        band = x.index_select(2, edges[0]).repeat_interleave(sw, dim=3)  # nearest along W: (N, C_in, 2, W*sw)
        blur_w = torch.tensor(taps_w, dtype=x.dtype, device=x.device).expand(c_in, 1, 1, 2 * rw + 1)
        # Zero-extended blur along W, (N, C_in, 2, W*sw + 2*rw), then padded (or cropped) to the conv's reach.
        line = F.pad(F.conv2d(band, blur_w, padding=(0, 2 * rw), groups=c_in), (pw - rw, pw - rw))
        line = line.transpose(1, 2).reshape(n, 2 * c_in, 1, out_w + 2 * pw)  # (N, C_in, 2, L) -> (N, 2*C_in, 1, L)
        # (N, 2*C_out*rows, 1, W*sw) -> (N, 2, C_out, rows*W*sw) -> (N, C_out, 2*rows*W*sw)
        share = F.conv2d(line, kernel, groups=2).reshape(n, 2, c_out, rows * out_w)
        shares.append(share.transpose(1, 2).reshape(n, c_out, 2 * rows * out_w))
        targets += [pixels[:rows].reshape(-1), pixels[out_h - rows :].reshape(-1)]
    if rw:
        # Left/right: the edge columns, bilinear (clamped) along H, zero outside the image.
        cols_w = _edge_rows(weight, _edge_error(taps_w), 3)
        cols = min(cols_w.shape[0], out_w)
        left = torch.einsum("xb,ocab->oxca", cols_w[:cols], weight)  # (C_out, cols, C_in, kh)
        right = torch.einsum("xb,ocab->oxca", cols_w[:cols].flip(1), weight).flip(1)  # column out_w - cols + i
        kernel = torch.stack((left, right)).reshape(2 * c_out * cols, c_in, kh, 1)
        band = x.index_select(3, edges[1])  # (N, C_in, H, 2)
        line = F.interpolate(band, scale_factor=(sh, 1), mode="bilinear", align_corners=False)  # (N, C_in, H*sh, 2)
        line = F.pad(line, (0, 0, ph, ph))  # (N, C_in, H*sh + 2*ph, 2)
        line = line.permute(0, 3, 1, 2).reshape(n, 2 * c_in, out_h + 2 * ph, 1)  # (N, C_in, L, 2) -> (N, 2*C_in, L, 1)
        # (N, 2*C_out*cols, H*sh, 1) -> (N, 2, C_out, cols*H*sh) -> (N, C_out, 2*cols*H*sh), pixel (y, x) at x*H*sh + y
        share = F.conv2d(line, kernel, groups=2).reshape(n, 2, c_out, cols * out_h)
        shares.append(share.transpose(1, 2).reshape(n, c_out, 2 * cols * out_h))
        targets += [pixels[:, :cols].T.reshape(-1), pixels[:, out_w - cols :].T.reshape(-1)]
    if not shares:
        return out
    return _subtract_at(out, torch.cat(targets), torch.cat(shares, dim=2))
