"""``ConvTranspose2d``: the module form of :func:`upgan.functional.conv_transpose2d`."""

from __future__ import annotations

import math

import torch
from torch import nn

from upgan.functional._checks import check_int, pair
from upgan.functional.conv_transpose import conv_transpose2d, _conv_transpose_args

__all__ = ["ConvTranspose2d"]


class ConvTranspose2d(nn.Module):
    """Transposed convolution with Keras's ``"valid"`` / ``"same"`` paddings or PyTorch's integer ones.

    Computes :func:`upgan.functional.conv_transpose2d`. With an integer or tuple ``padding`` it is
    a drop-in for ``torch.nn.ConvTranspose2d`` given keyword arguments (after ``output_padding``
    the order is ``dilation, groups, bias``; torch's is ``groups, bias, dilation``): the same
    parameters ``weight`` ``(C_in, C_out / groups, kh, kw)`` and ``bias`` ``(C_out,)``, the same
    ``state_dict`` keys and the same default initialisation (the same numbers under the same seed). With
    ``padding="same"`` the output is ``input * stride`` for every kernel size and stride, and
    ``"valid"`` (the default, as in Keras) gives ``(input - 1) * stride + max(k', stride)``.

    Args:
        in_channels: input channels ``C_in`` (>= 1, divisible by ``groups``).
        out_channels: output channels ``C_out`` (>= 1, divisible by ``groups``).
        kernel_size: integer or ``(kh, kw)``, each >= 1.
        stride: integer or ``(sh, sw)``, each >= 1 (default 1).
        padding: ``"valid"`` (default), ``"same"``, or an integer / ``(ph, pw)`` >= 0.
        output_padding: ``None`` (default) or an integer / ``(oh, ow)`` >= 0, below the stride.
        dilation: integer or ``(dh, dw)``, each >= 1 (default 1).
        groups: channel groups (>= 1, default 1).
        bias: whether to add a learnable bias (default ``True``).
        device, dtype: where and in which dtype to create the parameters (default: torch's
            defaults), as for ``torch.nn.ConvTranspose2d``.

    Shape:
        ``(N, C_in, H, W) -> (N, C_out, H_out, W_out)`` with ``H_out`` from
        :func:`upgan.shapes.conv_transpose_output_size` (see
        :func:`upgan.functional.conv_transpose2d`).

    Raises:
        TypeError, ValueError: an argument is not an allowed value (at construction), or the
            input has the wrong rank or channel count (at call).

    >>> layer = ConvTranspose2d(128, 64, 4, stride=2, padding="same")
    >>> layer
    ConvTranspose2d(128, 64, kernel_size=(4, 4), stride=(2, 2), padding='same')
    >>> layer(torch.zeros(1, 128, 7, 7)).shape
    torch.Size([1, 64, 14, 14])
    >>> sorted(ConvTranspose2d(3, 2, 3, padding=1).state_dict())
    ['bias', 'weight']
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: str | int | tuple[int, int] = "valid",
        output_padding: int | tuple[int, int] | None = None,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels")
        self.out_channels = check_int(out_channels, "out_channels")
        self.groups = check_int(groups, "groups")
        for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
            if channels % groups:
                raise ValueError(
                    f"The `{name}` argument must be divisible by `groups`. Received {name}={channels}, groups={groups}"
                )
        if not isinstance(bias, bool):
            raise TypeError(f"The `bias` argument must be True or False. Received bias={bias!r}")
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride, self.padding, self.output_padding, self.dilation = _conv_transpose_args(
            stride, padding, output_padding, dilation
        )
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.empty(in_channels, out_channels // groups, *self.kernel_size, **factory))
        self.bias = nn.Parameter(torch.empty(out_channels, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Initialise as ``torch.nn.ConvTranspose2d`` does (``torch/nn/modules/conv.py``, ``_ConvNd``)."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            # For a (C_in, C_out / groups, kh, kw) weight torch's fan_in is C_out / groups * kh * kw.
            fan_in = self.weight.shape[1] * self.weight.shape[2] * self.weight.shape[3]
            bound = 1 / math.sqrt(fan_in)
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return conv_transpose2d(
            x, self.weight, self.bias, self.stride, self.padding, self.output_padding, self.dilation, self.groups
        )

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding!r}"
        if self.output_padding is not None:
            text += f", output_padding={self.output_padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
