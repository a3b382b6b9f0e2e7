"""``ResizeConv2d``: the module form of :func:`upgan.functional.resize_conv2d`."""

from __future__ import annotations

import math

import torch
from torch import nn

from upgan.functional._checks import check_choice, check_int, odd_pair, pair
from upgan.functional.resize_conv import RESIZE_MODES, resize_conv2d
from upgan.functional.subpixel import conv2d_init_

__all__ = ["ResizeConv2d"]


class ResizeConv2d(nn.Module):
    """Upsample by ``scale_factor``, then a 'same' ``kernel_size`` convolution, fused.

    Computes ``nn.Conv2d(in, out, k, padding=k // 2)(nn.Upsample(scale_factor, mode)(x))``
    (``align_corners=False`` for bilinear, as Keras's ``UpSampling2D``) without forming the
    upsampled tensor: nearest runs as one stride-``s`` transposed convolution (for ``s = 2,
    k = 3``: 4 multiply-adds per output and input channel instead of 9), bilinear as that
    transposed convolution followed by a small per-channel blur, with exact borders. See
    :func:`upgan.functional.resize_conv2d`.

    ``weight`` ``(out, in, kh, kw)`` and ``bias`` ``(out,)`` are initialised as
    ``torch.nn.Conv2d``'s, so state dicts move between the two unchanged.

    Args:
        in_channels: input channels (>= 1).
        out_channels: output channels (>= 1).
        kernel_size: odd integer, or a tuple of 2 odd integers (default 3).
        scale_factor: integer >= 1, or a tuple ``(sh, sw)`` (default 2).
        mode: ``"nearest"`` (default) or ``"bilinear"``.
        bias: whether to learn an additive bias (default ``True``).

    Shape:
        ``(N, in_channels, H, W) -> (N, out_channels, H * sh, W * sw)``.

    Raises:
        TypeError, ValueError: an argument is not an allowed value (at construction); the
            input is not a 4-D tensor with ``in_channels`` channels (at call).

    >>> layer = ResizeConv2d(8, 4, mode="bilinear")
    >>> layer
    ResizeConv2d(8, 4, kernel_size=(3, 3), scale_factor=(2, 2), mode='bilinear')
    >>> layer(torch.zeros(2, 8, 5, 7)).shape
    torch.Size([2, 4, 10, 14])
    >>> conv = nn.Conv2d(8, 4, 3, padding=1)
    >>> conv.load_state_dict(layer.state_dict())
    <All keys matched successfully>
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int] = 3,
        scale_factor: int | tuple[int, int] = 2,
        mode: str = "nearest",
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels")
        self.out_channels = check_int(out_channels, "out_channels")
        self.kernel_size = odd_pair(kernel_size, "kernel_size")
        self.scale_factor = pair(scale_factor, "scale_factor")
        self.mode = check_choice(mode, "mode", RESIZE_MODES)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, *self.kernel_size))
        if not isinstance(bias, bool):
            raise TypeError(f"The `bias` argument must be True or False. Received bias={bias!r}")
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``torch.nn.Conv2d``'s initialisation: Kaiming-uniform weight, bias uniform in ``±1/sqrt(fan_in)``."""
        conv2d_init_(self.weight)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.weight[0].numel())
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return resize_conv2d(x, self.weight, self.bias, self.scale_factor, self.mode)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
        text += f"scale_factor={self.scale_factor}, mode={self.mode!r}"
        return text if self.bias is not None else text + ", bias=False"
