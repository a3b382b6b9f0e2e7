"""``Activation`` and ``LeakyReLU``: element-wise activation layers."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from upgan.keras import activations as _activations
from upgan.keras.layers.layer import Layer

__all__ = ["Activation", "LeakyReLU"]


class Activation(Layer):
    """Keras ``Activation``: applies a named activation function.

    Args:
        activation: a function on tensors, or a name from :mod:`upgan.keras.activations`
            (relu, tanh, sigmoid, linear, leaky_relu, softmax, ...); softmax acts on the last
            axis, as in Keras.
        **kwargs: ``name``, ``trainable``, ``input_shape`` (see :class:`Layer`).

    Shape:
        - Input: any ``(N, *)``.
        - Output: same as the input.

    Raises:
        ValueError: for an unknown activation name.

    >>> import torch
    >>> Activation("relu")(torch.tensor([[-1.0, 2.0]]))
    tensor([[0., 2.]])
    """

    def __init__(self, activation: str | Callable[[torch.Tensor], torch.Tensor], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = _activations.get(activation)
        self.activation_name = activation

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(x)


class LeakyReLU(Layer):
    """Keras 3 ``LeakyReLU``: ``x`` for ``x >= 0``, ``negative_slope * x`` otherwise.

    Args:
        negative_slope: slope for negative inputs, a number >= 0 (default 0.3, Keras's).
        **kwargs: ``alpha`` (the Keras 2 name of ``negative_slope``: accepted with a
            DeprecationWarning, as Keras 3 does), ``name``, ``trainable``, ``input_shape``.

    Shape:
        - Input: any ``(N, *)``.
        - Output: same as the input.

    Raises:
        ValueError: for a negative or non-numeric slope.

    >>> import torch
    >>> LeakyReLU()(torch.tensor([[-1.0, 2.0]]))
    tensor([[-0.3000,  2.0000]])
    """

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn(
                "Argument `alpha` is deprecated. Use `negative_slope` instead.", DeprecationWarning, stacklevel=2
            )
        super().__init__(**kwargs)
        if not isinstance(negative_slope, numbers.Real) or isinstance(negative_slope, bool) or negative_slope < 0:
            raise ValueError(
                "The `negative_slope` argument must be a number >= 0. "
                f"Received negative_slope={negative_slope!r}"
            )
        self.negative_slope = float(negative_slope)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x, self.negative_slope)
