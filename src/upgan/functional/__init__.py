"""Pure functions on NCHW tensors: upsampling and transposed convolution with Keras's rules."""

from upgan.functional.conv import conv2d
from upgan.functional.upsample import upsample

__all__ = [
    "upsample",
    "conv2d",
]
