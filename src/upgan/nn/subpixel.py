"""``SubPixelConv2d``: the module form of :func:`upgan.functional.subpixel_conv2d`, with ICNR."""

from __future__ import annotations

import math

import torch
from torch import nn

from upgan.functional._checks import check_int, odd_pair
from upgan.functional.subpixel import conv2d_init_, icnr_, subpixel_conv2d

__all__ = ["SubPixelConv2d"]


class SubPixelConv2d(nn.Module):
    """A 'same' convolution to ``out_channels * s * s`` channels, then a pixel shuffle by ``s``.

    With ``icnr=True`` (default) the weight is ICNR-initialised (Aitken et al. 2017, "Checkerboard
    artifact free sub-pixel convolution"): each output channel's ``s * s`` convolution channels
    share one filter (and one bias), so at initialisation the layer equals that convolution
    followed by nearest upsampling (the paper's "convolution NN resize"; on the upsampled grid:
    nearest upsampling, then the filter dilated by ``s``), and has no checkerboard pattern. The filters repeat with
    ``repeat_interleave`` over the *consecutive* channels ``c*s*s .. c*s*s + s*s - 1`` that
    ``PixelShuffle`` spreads over one block, which is right for every ``s``; tiling whole kernels
    (filter ``c`` on channels ``c, c + C_out, ...``) is not. See
    :func:`upgan.functional.subpixel_conv2d`.

    Args:
        in_channels: input channels (>= 1).
        out_channels: output channels (>= 1).
        kernel_size: odd integer, or a tuple of 2 odd integers (default 3).
        scale_factor: integer ``s >= 1`` (default 2).
        icnr: ICNR initialisation (default ``True``); ``False`` initialises the
            ``(out * s * s, in, kh, kw)`` kernel as ``torch.nn.Conv2d`` would.

    Shape:
        ``(N, in_channels, H, W) -> (N, out_channels, H * s, W * s)``.

    Raises:
        TypeError, ValueError: an argument is not an allowed value (at construction); the
            input is not a 4-D tensor with ``in_channels`` channels (at call).

    >>> layer = SubPixelConv2d(8, 4, scale_factor=3)
    >>> layer
    SubPixelConv2d(8, 4, kernel_size=(3, 3), scale_factor=3, icnr=True)
    >>> layer.weight.shape, layer(torch.zeros(2, 8, 5, 7)).shape
    (torch.Size([36, 8, 3, 3]), torch.Size([2, 4, 15, 21]))
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int] = 3,
        scale_factor: int = 2,
        icnr: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels")
        self.out_channels = check_int(out_channels, "out_channels")
        self.kernel_size = odd_pair(kernel_size, "kernel_size")
        self.scale_factor = check_int(scale_factor, "scale_factor")
        if not isinstance(icnr, bool):
            raise TypeError(f"The `icnr` argument must be True or False. Received icnr={icnr!r}")
        self.icnr = icnr
        s2 = self.scale_factor**2
        self.weight = nn.Parameter(torch.empty(out_channels * s2, in_channels, *self.kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels * s2))
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """ICNR (or ``torch.nn.Conv2d``'s) initialisation; the bias is uniform in ``±1/sqrt(fan_in)``."""
        s2 = self.scale_factor**2
        bound = 1 / math.sqrt(self.weight[0].numel())
        if self.icnr:
            icnr_(self.weight, self.scale_factor)
            shared = self.bias.new_empty(self.out_channels).uniform_(-bound, bound)
            self.bias.copy_(shared.repeat_interleave(s2))  # (C_out,) -> (C_out*s*s,), as the weight
        else:
            conv2d_init_(self.weight)
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return subpixel_conv2d(x, self.weight, self.bias, self.scale_factor)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"scale_factor={self.scale_factor}, icnr={self.icnr}"
        )
