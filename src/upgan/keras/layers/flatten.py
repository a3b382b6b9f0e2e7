"""``Flatten``: collapse each sample to a vector."""

from __future__ import annotations

import math
from typing import Any

import torch

from upgan.keras import _args
from upgan.keras.layers.layer import Layer, Shape

__all__ = ["Flatten"]


class Flatten(Layer):
    """Keras ``Flatten``: ``(N, d1, ..., dk)`` -> ``(N, d1 * ... * dk)``.

    With ``data_format="channels_first"`` the channel axis is moved last before flattening,
    as Keras does, so the feature order is the same in both formats.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        **kwargs: ``name``, ``trainable``, ``input_shape`` (see :class:`Layer`).

    Shape:
        - Input: ``(N, *S)``, rank >= 2.
        - Output: ``(N, prod(S))``.

    Raises:
        ValueError: for an unknown ``data_format``.

    >>> import torch
    >>> Flatten()(torch.arange(8.0).reshape(1, 2, 2, 2))
    tensor([[0., 1., 2., 3., 4., 5., 6., 7.]])
    >>> Flatten(data_format="channels_first")(torch.arange(8.0).reshape(1, 2, 2, 2))
    tensor([[0., 4., 1., 5., 2., 6., 3., 7.]])
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _args.data_format(data_format)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        sample = input_shape[1:]
        return (input_shape[0], None if any(v is None for v in sample) else math.prod(sample))

    def call(self, x: torch.Tensor) -> torch.Tensor:
        if self.data_format == "channels_first" and x.dim() > 2:
            x = x.movedim(1, -1)  # (N, C, *S) -> (N, *S, C)
        return x.reshape(x.shape[0], -1)  # (N, *S) -> (N, prod(S))
