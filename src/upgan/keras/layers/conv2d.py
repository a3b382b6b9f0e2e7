"""``Conv2D`` with Keras's padding rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from upgan import functional, shapes
from upgan.keras import _args
from upgan.keras.layers import _layout
from upgan.keras.layers.layer import Layer, Shape

__all__ = ["Conv2D"]


class Conv2D(Layer):
    """Keras ``Conv2D``, computed by :func:`upgan.functional.conv2d` (TensorFlow's "same").

    Weights: ``weight`` ``(filters, in / groups, kh, kw)`` and ``bias`` ``(filters,)`` in torch
    layout; Keras layout kernel ``(kh, kw, in / groups, filters)``.

    Args:
        filters: number of output channels, a positive integer divisible by ``groups``.
        kernel_size: int or ``(kh, kw)``, each >= 1.
        strides: int or ``(sh, sw)``, each >= 1 (default 1).
        padding: ``"valid"`` (default) or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: int or ``(dh, dw)``, each >= 1 (default 1); > 1 only with strides 1.
        groups: channel groups (default 1), dividing the input channels and ``filters``.
        activation: activation name, a function on tensors, or None (default, linear).
        use_bias: add a bias (default True).
        kernel_initializer: default ``"glorot_uniform"``.
        bias_initializer: default ``"zeros"``.
        **kwargs: ``name``, ``trainable``, ``input_shape`` (see :class:`Layer`).

    Shape:
        - Input: ``(N, H, W, C)`` (channels_last) or ``(N, C, H, W)`` (channels_first).
        - Output: ``(N, H_out, W_out, filters)`` or ``(N, filters, H_out, W_out)`` with
          ``H_out = upgan.shapes.conv_output_size(H, kh, sh, padding, dh)``:
          ``ceil(H / sh)`` for "same", ``floor((H - k') / sh) + 1`` for "valid",
          ``k' = (kh - 1) * dh + 1``.

    Raises:
        ValueError: for a bad argument (named in the message), strides > 1 together with
            dilation_rate > 1 (Keras refuses it), or an input with the wrong rank or channels.

    >>> import torch
    >>> layer = Conv2D(1, (3, 3), padding="same", kernel_initializer="ones")
    >>> layer(torch.ones(1, 4, 4, 1))[0, :, :, 0]
    tensor([[4., 6., 6., 4.],
            [6., 9., 9., 6.],
            [6., 9., 9., 6.],
            [4., 6., 6., 4.]], grad_fn=<SelectBackward0>)
    """

    ndim = 4

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int],
        strides: int | tuple[int, int] = (1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int | tuple[int, int] = (1, 1),
        groups: int = 1,
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
        self.data_format = _args.data_format(data_format)
        self.dilation_rate = _args.int_tuple(dilation_rate, 2, "dilation_rate")
        self.groups = _args.positive_int(groups, "groups")
        if self.filters % self.groups:
            raise ValueError(
                "The `filters` argument must be divisible by `groups`. "
                f"Received filters={self.filters}, groups={self.groups}"
            )
        _args.strides_and_dilation(self.strides, self.dilation_rate)
        self._set_kernel_options(activation, use_bias, kernel_initializer, bias_initializer)

    def build(self, input_shape: Shape) -> None:
        channels = _layout.split_shape(input_shape, self.data_format)[0]
        if channels is None or channels % self.groups:
            raise ValueError(
                f'Layer "{self.name}": the number of input channels must be known and divisible by '
                f"groups={self.groups}. Received input_shape={input_shape}"
            )
        self.in_channels = channels
        # torch (out, in/g, kh, kw) -> Keras (kh, kw, in/g, out): permute(2, 3, 1, 0).
        kernel_shape = (*self.kernel_size, channels // self.groups, self.filters)
        self.add_weight("weight", "kernel", kernel_shape, self.kernel_initializer, torch_to_keras=(2, 3, 1, 0))
        if self.use_bias:
            self.add_weight("bias", "bias", (self.filters,), self.bias_initializer)

    def fixed_axes(self) -> dict[int, int]:
        return {_layout.channel_axis(self.data_format): self.in_channels}

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        _, height, width = _layout.split_shape(input_shape, self.data_format)
        try:
            height, width = (
                None if n is None else shapes.conv_output_size(n, k, s, self.padding, d)
                for n, k, s, d in zip((height, width), self.kernel_size, self.strides, self.dilation_rate)
            )
        except ValueError as err:
            raise ValueError(f'Layer "{self.name}" cannot take an input of shape {tuple(input_shape)}: {err}') from None
        return _layout.join_shape(input_shape[0], self.filters, height, width, self.data_format)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        self.compute_output_shape(tuple(x.shape))  # Keras-style error if the input is too small
        y = functional.conv2d(
            _layout.to_nchw(x, self.data_format).to(self.weight.dtype),
            self.weight,
            self.bias if self.use_bias else None,
            self.strides,
            self.padding,
            self.dilation_rate,
            self.groups,
        )
        return self.activation(_layout.from_nchw(y, self.data_format))
