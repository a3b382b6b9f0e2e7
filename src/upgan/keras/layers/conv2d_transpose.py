"""``Conv2DTranspose`` with Keras's output sizes and 'same' split."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from upgan import functional, shapes
from upgan.keras import _args
from upgan.keras.layers import _layout
from upgan.keras.layers.layer import Layer, Shape

__all__ = ["Conv2DTranspose"]


class Conv2DTranspose(Layer):
    """Keras ``Conv2DTranspose``, computed by :func:`upgan.functional.conv_transpose2d`.

    Output sizes and the "same" padding split are Keras 3's: with ``strides=(2, 2)`` and a
    1x1 kernel a 2x2 input gives 4x4 (``torch.nn.ConvTranspose2d`` gives 3x3).

    Weights: ``weight`` ``(in, filters, kh, kw)`` and ``bias`` ``(filters,)`` in torch layout
    (``torch.nn.ConvTranspose2d``); Keras layout kernel ``(kh, kw, filters, in)``.

    Args:
        filters: number of output channels, a positive integer.
        kernel_size: int or ``(kh, kw)``, each >= 1.
        strides: int or ``(sh, sw)``, each >= 1 (default 1).
        padding: ``"valid"`` (default) or ``"same"``.
        output_padding: None (default: Keras's sizes below) or int / ``(oh, ow)``, each >= 0 and
            < the stride on its axis.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: int or ``(dh, dw)``, each >= 1 (default 1); > 1 only with strides 1.
        activation: activation name, a function on tensors, or None (default, linear).
        use_bias: add a bias (default True).
        kernel_initializer: default ``"glorot_uniform"``.
        bias_initializer: default ``"zeros"``.
        **kwargs: ``name``, ``trainable``, ``input_shape`` (see :class:`Layer`).

    Shape:
        - Input: ``(N, H, W, C)`` (channels_last) or ``(N, C, H, W)`` (channels_first).
        - Output: ``(N, H_out, W_out, filters)`` or ``(N, filters, H_out, W_out)`` with
          ``H_out = upgan.shapes.conv_transpose_output_size(H, kh, sh, padding, oh, dh)``,
          ``k' = (kh - 1) * dh + 1``: "valid": ``(H - 1) * sh + max(k', sh)``; "same":
          ``H * sh``; with output_padding ``oh``: ``(H - 1) * sh + k' + oh`` (valid) or
          ``(H - 1) * sh + k' % 2 + oh`` (same).

    Raises:
        ValueError: for a bad argument (named in the message), output_padding >= strides,
            strides > 1 together with dilation_rate > 1, or an input with the wrong rank or
            channels.

    >>> import torch
    >>> layer = Conv2DTranspose(1, (1, 1), strides=(2, 2))
    >>> layer.build_for((None, 2, 2, 1))
    (None, 4, 4, 1)
    >>> layer.set_weights([[[[[1.0]]]], [0.0]])
    >>> layer(torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1))[0, :, :, 0]
    tensor([[1., 0., 2., 0.],
            [0., 0., 0., 0.],
            [3., 0., 4., 0.],
            [0., 0., 0., 0.]], grad_fn=<SelectBackward0>)
    """

    ndim = 4

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int],
        strides: int | tuple[int, int] = (1, 1),
        padding: str = "valid",
        output_padding: int | tuple[int, int] | None = None,
        data_format: str | None = None,
        dilation_rate: int | tuple[int, int] = (1, 1),
        activation: str | Callable[[torch.Tensor], torch.Tensor] | None = None,
        use_bias: bool = True,
        kernel_initializer: str = "glorot_uniform",
        bias_initializer: str = "zeros",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = _args.positive_int(filters, "filters")
        self.kernel_size = _args.int_tuple(kernel_size, 2, "kernel_size")
        self.strides = _args.int_tuple(strides, 2, "strides")
        self.padding = _args.choice(padding, "padding", _args.PADDINGS)
        self.output_padding = (
            None if output_padding is None else _args.int_tuple(output_padding, 2, "output_padding", allow_zero=True)
        )
        if self.output_padding is not None and any(o >= s for o, s in zip(self.output_padding, self.strides)):
            raise ValueError(
                "The `output_padding` argument must be strictly less than `strides` on each axis. "
                f"Received output_padding={self.output_padding}, strides={self.strides}"
            )
        self.data_format = _args.data_format(data_format)
        self.dilation_rate = _args.int_tuple(dilation_rate, 2, "dilation_rate")
        _args.strides_and_dilation(self.strides, self.dilation_rate)
        self._set_kernel_options(activation, use_bias, kernel_initializer, bias_initializer)

    def build(self, input_shape: Shape) -> None:
        channels = _layout.split_shape(input_shape, self.data_format)[0]
        if channels is None:
            raise ValueError(
                f'Layer "{self.name}": the number of input channels must be known. Received input_shape={input_shape}'
            )
        self.in_channels = channels
        # torch (in, out, kh, kw) -> Keras (kh, kw, out, in): permute(2, 3, 1, 0).
        kernel_shape = (*self.kernel_size, self.filters, channels)
        self.add_weight("weight", "kernel", kernel_shape, self.kernel_initializer, torch_to_keras=(2, 3, 1, 0))
        if self.use_bias:
            self.add_weight("bias", "bias", (self.filters,), self.bias_initializer)

    def fixed_axes(self) -> dict[int, int]:
        return {_layout.channel_axis(self.data_format): self.in_channels}

    def _output_paddings(self) -> tuple[int | None, int | None]:
        return (None, None) if self.output_padding is None else self.output_padding

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        _, height, width = _layout.split_shape(input_shape, self.data_format)
        sizes = []
        for axis, n, k, s, op, d in zip(
            ("height", "width"), (height, width), self.kernel_size, self.strides, self._output_paddings(), self.dilation_rate
        ):
            try:
                sizes.append(None if n is None else shapes.conv_transpose_output_size(n, k, s, self.padding, op, d))
            except ValueError as err:
                # Keras 3 on TensorFlow returns an empty tensor here; upgan refuses, naming the layer and axis.
                raise ValueError(
                    f'Layer "{self.name}" cannot take an input of shape {tuple(input_shape)} (along the {axis}): {err}'
                ) from None
        height, width = sizes
        return _layout.join_shape(input_shape[0], self.filters, height, width, self.data_format)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        self.compute_output_shape(tuple(x.shape))  # the layer-named error if the output would be empty
        y = functional.conv_transpose2d(
            _layout.to_nchw(x, self.data_format).to(self.weight.dtype),
            self.weight,
            self.bias if self.use_bias else None,
            stride=self.strides,
            padding=self.padding,
            output_padding=self.output_padding,
            dilation=self.dilation_rate,
        )
        return self.activation(_layout.from_nchw(y, self.data_format))
