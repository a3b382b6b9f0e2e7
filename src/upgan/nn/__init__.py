"""``torch.nn.Module`` wrappers of :mod:`upgan.functional`."""

from upgan.nn.conv_transpose import ConvTranspose2d
from upgan.nn.resize_conv import ResizeConv2d
from upgan.nn.subpixel import SubPixelConv2d
from upgan.nn.upsample import Upsample2d

__all__ = [
    "ConvTranspose2d",
    "Upsample2d",
    "ResizeConv2d",
    "SubPixelConv2d",
]
