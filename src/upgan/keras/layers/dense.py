"""``Dense``: a fully connected layer on the last axis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from upgan.keras import _args
from upgan.keras.layers.layer import Layer, Shape

__all__ = ["Dense"]


class Dense(Layer):
    """Keras ``Dense``: ``activation(x @ kernel + bias)`` on the last axis.

    Weights: ``weight`` ``(units, in)`` and ``bias`` ``(units,)`` in torch layout
    (``torch.nn.Linear``); Keras layout kernel ``(in, units)``, bias ``(units,)``.

    Args:
        units: number of outputs, a positive integer.
        activation: an activation name (see :mod:`upgan.keras.activations`) or a function on
            tensors; default None (linear).
        use_bias: add a bias (default True).
        kernel_initializer: initialiser name (default ``"glorot_uniform"``).
        bias_initializer: initialiser name (default ``"zeros"``).
        **kwargs: ``name``, ``trainable``, ``input_shape``, ``input_dim`` (see :class:`Layer`).

    Shape:
        - Input: ``(N, *, in)``, rank >= 2.
        - Output: ``(N, *, units)``.

    Raises:
        ValueError: for non-positive ``units``, unknown activation or initialiser names, or an
            input whose last axis is unknown or differs from the built size.

    >>> import torch
    >>> layer = Dense(3, kernel_initializer="ones", name="fc")
    >>> layer(torch.ones(2, 4))
    tensor([[4., 4., 4.],
            [4., 4., 4.]], grad_fn=<AddmmBackward0>)
    >>> [w.shape for w in layer.get_weights()]
    [(4, 3), (3,)]
    """

    def __init__(
        self,
        units: int,
        activation: str | Callable[[torch.Tensor], torch.Tensor] | None = None,
        use_bias: bool = True,
        kernel_initializer: str = "glorot_uniform",
        bias_initializer: str = "zeros",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = _args.positive_int(units, "units")
        self._set_kernel_options(activation, use_bias, kernel_initializer, bias_initializer)

    def build(self, input_shape: Shape) -> None:
        in_features = input_shape[-1]
        if in_features is None:
            raise ValueError(
                f'Layer "{self.name}" needs a known last axis to build its kernel. '
                f"Received input_shape={input_shape}"
            )
        # torch layout (units, in) == Keras (in, units) transposed.
        self.add_weight("weight", "kernel", (in_features, self.units), self.kernel_initializer, torch_to_keras=(1, 0))
        if self.use_bias:
            self.add_weight("bias", "bias", (self.units,), self.bias_initializer)
        self.in_features = in_features

    def fixed_axes(self) -> dict[int, int]:
        return {-1: self.in_features}

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return (*input_shape[:-1], self.units)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(F.linear(x.to(self.weight.dtype), self.weight, self.bias if self.use_bias else None))
