"""Transposed convolution with Keras 3's ``"valid"`` / ``"same"`` rules or PyTorch's integer padding."""

from __future__ import annotations

import torch

from upgan import shapes
from upgan.functional._checks import check_bias, check_floating, check_int, check_nchw, pair
from upgan.functional._fast_conv_transpose import conv_transpose2d_fast

__all__ = ["conv_transpose2d"]

Pair = tuple[int, int]


def conv_transpose2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: str | int | tuple[int, int] = "valid",
    output_padding: int | tuple[int, int] | None = None,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> torch.Tensor:
    """2-D transposed convolution with Keras's string paddings or PyTorch's integer ones.

    After ``output_padding`` the arguments are ``dilation, groups``, where
    ``torch.nn.functional.conv_transpose2d`` has ``groups, dilation``: pass them by keyword in
    code that moves between the two.

    The weight layout is PyTorch's ``(C_in, C_out / groups, kh, kw)``; a Keras
    ``Conv2DTranspose`` kernel ``(kh, kw, C_out, C_in)`` becomes it by ``permute(3, 2, 0, 1)``
    (no spatial flip).

    - ``padding="valid"`` / ``"same"`` follow Keras 3 on TensorFlow exactly: output
      ``(i - 1) * s + max(k', s)`` and ``i * s`` by default (see :mod:`upgan.shapes`), with the
      window cut from the full result as TensorFlow cuts it (an odd excess is cropped at the
      end; :func:`upgan.shapes.conv_transpose_padding`). TensorFlow's own kernel refuses
      ``"same"`` with an even dilated kernel and ``output_padding=0`` (its output
      ``(i - 1) * s`` is shorter than ``i * s``); there upgan follows Keras's formula and the
      split of Keras's JAX backend, which agrees with TensorFlow everywhere TensorFlow runs.
    - An integer or tuple ``padding`` means exactly what it means in
      ``torch.nn.functional.conv_transpose2d``.

    Args:
        x: input ``(N, C_in, H, W)``.
        weight: ``(C_in, C_out / groups, kh, kw)``.
        bias: ``(C_out,)`` or ``None`` (default).
        stride: integer or ``(sh, sw)``, each >= 1 (default 1).
        padding: ``"valid"`` (default), ``"same"``, or an integer / ``(ph, pw)`` >= 0
            (PyTorch's meaning).
        output_padding: ``None`` (default: Keras's default for a string padding, 0 for an
            integer one) or an integer / ``(oh, ow)`` >= 0; each must be < the stride for a string
            padding, < ``max(stride, dilation)`` for an integer one.
        dilation: integer or ``(dh, dw)``, each >= 1 (default 1). With a string padding, Keras
            refuses a stride > 1 on any axis together with a dilation > 1 on any axis.
        groups: number of channel groups >= 1 dividing ``C_in`` (default 1).

    Returns:
        ``(N, C_out, H_out, W_out)``, same dtype and device as ``x``.

    Shape:
        With ``k' = (k - 1) * d + 1`` per axis: ``"valid"``: ``o = (i - 1) * s + max(k', s)``
        (``(i - 1) * s + k' + op`` with ``output_padding``); ``"same"``: ``o = i * s``
        (``(i - 1) * s + k' % 2 + op``); integer ``p``: ``o = (i - 1) * s - 2p + k' + op``.

    Raises:
        TypeError: ``x``, ``weight`` or ``bias`` is not a tensor, or an argument has the wrong type.
        ValueError: a wrong rank or channel count, a non-positive stride/dilation/groups, an
            unknown padding, an ``output_padding`` not below the stride, a stride > 1 with a
            dilation > 1 under a string padding, or an empty output.

    >>> x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> conv_transpose2d(x, torch.ones(1, 1, 1, 1), stride=2)  # Keras "valid": 2 -> 4
    tensor([[[[1., 0., 2., 0.],
              [0., 0., 0., 0.],
              [3., 0., 4., 0.],
              [0., 0., 0., 0.]]]])
    >>> conv_transpose2d(x, torch.ones(1, 1, 1, 1), stride=2, padding=0).shape  # torch: 2 -> 3
    torch.Size([1, 1, 3, 3])
    >>> [tuple(conv_transpose2d(torch.ones(1, 1, 5, 5), torch.ones(1, 1, 3, 3), stride=2, padding=p).shape[2:])
    ...  for p in ("same", "valid")]
    [(10, 10), (11, 11)]
    """
    check_nchw(x)
    check_floating(x)
    _check_weight(weight, x.shape[1], groups)
    check_bias(bias, weight.shape[1] * groups)
    kernel_size = (weight.shape[2], weight.shape[3])
    stride, padding, output_padding, dilation = _conv_transpose_args(stride, padding, output_padding, dilation)
    out_size, crops = [], []
    for axis in range(2):
        padding_i = padding if isinstance(padding, str) else padding[axis]
        op = None if output_padding is None else output_padding[axis]
        args = (kernel_size[axis], stride[axis], padding_i, op, dilation[axis])
        out_size.append(shapes.conv_transpose_output_size(x.shape[2 + axis], *args))
        crops.append(shapes.conv_transpose_padding(*args))
    # torch's padding p crops p at both ends and output_padding appends at the end; a window
    # (crop_before, crop_after) is padding=crop_before, output_padding=crop_before - crop_after
    # when that is >= 0, else one more element computed at the end and sliced off.
    torch_padding = (crops[0][0], crops[1][0])
    torch_output_padding = (max(crops[0][0] - crops[0][1], 0), max(crops[1][0] - crops[1][1], 0))
    y = conv_transpose2d_fast(x, weight, bias, stride, torch_padding, torch_output_padding, dilation, groups)
    if tuple(y.shape[2:]) != tuple(out_size):
        y = y[:, :, : out_size[0], : out_size[1]]  # (N, C_out, H_out, W_out)
    return y


def _conv_transpose_args(
    stride: object,
    padding: object,
    output_padding: object,
    dilation: object,
) -> tuple[Pair, str | Pair, Pair | None, Pair]:
    """Check and normalise the arguments of a transposed convolution.

    Returns ``(stride, padding, output_padding, dilation)`` as pairs (``padding`` stays a string
    when it is one, ``output_padding`` stays ``None``). Raises ``TypeError`` / ``ValueError``
    in Keras's style for every value Keras or PyTorch would refuse.
    """
    stride = pair(stride, "stride")
    dilation = pair(dilation, "dilation")
    if isinstance(padding, str):
        if padding not in shapes.PADDINGS:
            raise ValueError(
                "The `padding` argument must be one of 'valid', 'same', or an integer or a tuple of 2 integers "
                f">= 0. Received padding={padding!r}"
            )
        # keras/src/layers/convolutional/base_conv_transpose.py refuses the combination.
        if max(stride) > 1 and max(dilation) > 1:
            raise ValueError(
                "A `stride` > 1 is not supported together with a `dilation` > 1 for padding='valid' or 'same' "
                f"(as in Keras). Received stride={stride}, dilation={dilation}"
            )
    else:
        padding = pair(padding, "padding", minimum=0)
    if output_padding is not None:
        output_padding = pair(output_padding, "output_padding", minimum=0)
        limit = stride if isinstance(padding, str) else tuple(map(max, stride, dilation))
        if output_padding[0] >= limit[0] or output_padding[1] >= limit[1]:
            what = "`stride`" if isinstance(padding, str) else "`stride` or `dilation`"
            raise ValueError(
                f"The `output_padding` argument must be smaller than {what} on each axis. "
                f"Received output_padding={output_padding}, stride={stride}, dilation={dilation}"
            )
    return stride, padding, output_padding, dilation


def _check_weight(weight: object, in_channels: int, groups: object) -> torch.Tensor:
    """Check a transposed-convolution weight ``(C_in, C_out / groups, kh, kw)`` against the input."""
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"Expected `weight` to be a torch.Tensor. Received type {type(weight).__name__}")
    if weight.dim() != 4:
        raise ValueError(
            "Expected `weight` to be a 4-D tensor (C_in, C_out / groups, kh, kw). "
            f"Received weight.shape={tuple(weight.shape)}"
        )
    groups = check_int(groups, "groups")
    if in_channels % groups:
        raise ValueError(f"The `groups` argument must divide the input channels. Received groups={groups} for "
                         f"{in_channels} input channels")
    if weight.shape[0] != in_channels:
        raise ValueError(
            f"The input has {in_channels} channels but `weight` expects {weight.shape[0]} "
            f"(weight.shape={tuple(weight.shape)} is (C_in, C_out / groups, kh, kw))"
        )
    if min(weight.shape) < 1:
        raise ValueError(f"Expected `weight` to have no empty dimension. Received weight.shape={tuple(weight.shape)}")
    return weight

