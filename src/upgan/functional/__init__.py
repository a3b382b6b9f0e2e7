"""Pure functions on NCHW tensors: upsampling and transposed convolution with Keras's rules."""

__all__: list[str] = []
