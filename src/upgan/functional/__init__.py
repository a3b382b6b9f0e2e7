"""Pure functions on NCHW tensors: upsampling and transposed convolution with Keras's rules."""

from upgan.functional.conv import conv2d
from upgan.functional.conv_transpose import conv_transpose2d
from upgan.functional.resize_conv import resize_conv2d
from upgan.functional.subpixel import subpixel_conv2d
from upgan.functional.upsample import upsample

__all__ = [
    "conv_transpose2d",
    "upsample",
    "conv2d",
    "resize_conv2d",
    "subpixel_conv2d",
]
