"""``conv2d`` with Keras's padding rules on NCHW tensors."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from upgan import shapes
from upgan.functional._checks import check_bias, check_floating, check_int, check_nchw, pair

__all__ = ["conv2d"]


def conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: str | int | tuple[int, int] = "valid",
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> torch.Tensor:
    """2-D convolution whose ``"same"`` padding is TensorFlow's, for every kernel and stride.

    ``torch.nn.functional.conv2d(padding="same")`` only allows stride 1 and, for even
    kernels, puts the extra zero before the input; TensorFlow (and so Keras) pads
    ``total = max((ceil(i / s) - 1) * s + k' - i, 0)`` zeros with the odd one after
    (:func:`upgan.shapes.conv_padding`). Here ``"same"`` and ``"valid"`` follow Keras on each
    axis, and integers keep torch's meaning (symmetric zero padding).

    Args:
        x: input ``(N, C_in, H, W)``.
        weight: kernel ``(C_out, C_in / groups, kh, kw)``, torch's layout.
        bias: ``(C_out,)`` or None (default).
        stride: int or (sh, sw), each >= 1 (default 1).
        padding: ``"valid"`` (default), ``"same"``, or an int / (ph, pw) >= 0 (torch's rule).
        dilation: int or (dh, dw), each >= 1 (default 1).
        groups: number of channel groups, dividing C_in and C_out (default 1).

    Returns:
        The output ``(N, C_out, H_out, W_out)``.

    Shape:
        ``H_out = upgan.shapes.conv_output_size(H, kh, sh, padding, dh)``, same for W:
        ``ceil(H / sh)`` for "same", ``floor((H - k') / sh) + 1`` for "valid" with
        ``k' = (kh - 1) * dh + 1``.

    Raises:
        TypeError: x or weight is not a tensor, or an argument has the wrong type.
        ValueError: x is not 4-D, channels do not match ``weight`` and ``groups``, an
            argument is out of range, or a stride > 1 comes with a dilation > 1 under a string
            padding (Keras refuses it; integer paddings allow it, as torch).

    >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
    >>> conv2d(x, torch.ones(1, 1, 2, 2), padding="same")  # the extra row/column goes after
    tensor([[[[10., 14., 18., 10.],
              [26., 30., 34., 18.],
              [42., 46., 50., 26.],
              [25., 27., 29., 15.]]]])
    >>> conv2d(x, torch.ones(1, 1, 3, 3), stride=2, padding="same").shape
    torch.Size([1, 1, 2, 2])
    """
    check_nchw(x)
    if not isinstance(weight, torch.Tensor) or weight.dim() != 4:
        raise TypeError(
            "The `weight` argument must be a 4-D torch.Tensor (C_out, C_in / groups, kh, kw). "
            f"Received weight={type(weight).__name__ if not isinstance(weight, torch.Tensor) else tuple(weight.shape)}"
        )
    groups = check_int(groups, "groups")
    if x.shape[1] != weight.shape[1] * groups or weight.shape[0] % groups:
        raise ValueError(
            f"The input has {x.shape[1]} channels but `weight` of shape {tuple(weight.shape)} with groups={groups} "
            f"expects {weight.shape[1] * groups} (and C_out divisible by groups). Received x.shape={tuple(x.shape)}"
        )
    check_bias(bias, weight.shape[0])
    check_floating(x)
    stride = pair(stride, "stride")
    dilation = pair(dilation, "dilation")
    if isinstance(padding, str):
        if max(stride) > 1 and max(dilation) > 1:  # as conv_transpose2d, Keras's Conv2D and TensorFlow's kernel
            raise ValueError(
                "A `stride` > 1 is not supported together with a `dilation` > 1 for padding='valid' or 'same' "
                f"(as in Keras). Received stride={stride}, dilation={dilation}"
            )
        pads = [
            shapes.conv_padding(size, k, s, padding, d)
            for size, k, s, d in zip(x.shape[2:], weight.shape[2:], stride, dilation)
        ]
        (top, bottom), (left, right) = pads
        if top != bottom or left != right:
            x = F.pad(x, (left, right, top, bottom))  # (N, C, H + top + bottom, W + left + right)
            torch_padding = (0, 0)
        else:
            torch_padding = (top, left)
    else:
        torch_padding = pair(padding, "padding", minimum=0)
    for size, k, s, p, d in zip(x.shape[2:], weight.shape[2:], stride, torch_padding, dilation):
        shapes.conv_output_size(size, k, s, p, d)  # raises if the output would be empty
    return F.conv2d(_dense_nchw(x), weight, bias, stride, torch_padding, dilation, groups)


def _dense_nchw(x: torch.Tensor) -> torch.Tensor:
    """``x``, copied to plain NCHW strides if it is a single-channel view of NHWC memory.

    Such a view (e.g. ``(N, H, W, 1)`` permuted to ``(N, 1, H, W)``, as a Keras channels_last
    layer makes) counts as contiguous in torch, so ``.contiguous()`` keeps it; torch 2.13's CPU
    convolution (oneDNN) then returns wrong values for some strided shapes (seen with stride 1
    along H, > 1 along W and an output 1 wide). A copy of one channel is cheap.
    """
    n, c, h, w = x.shape
    if c == 1 and h * w > 1 and x.stride(1) != h * w:
        return x.clone(memory_format=torch.contiguous_format)
    return x
