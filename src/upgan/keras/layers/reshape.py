"""``Reshape``: reshape each sample, keeping the batch axis."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from upgan.keras import _args
from upgan.keras.layers.layer import Layer, Shape

__all__ = ["Reshape"]


class Reshape(Layer):
    """Keras ``Reshape``: each sample takes ``target_shape`` (row-major, like NumPy).

    In channels_last models ``Reshape((5, 5, 128))`` after a Dense layer reads the 3200
    features in (H, W, C) order, as Keras does.

    Args:
        target_shape: the new shape of one sample; positive integers and at most one -1
            (inferred from the input size).
        **kwargs: ``name``, ``trainable``, ``input_shape`` (see :class:`Layer`).

    Shape:
        - Input: ``(N, *S)``.
        - Output: ``(N, *target_shape)`` with ``prod(target_shape) == prod(S)``.

    Raises:
        ValueError: for a malformed ``target_shape`` or an input of another size.

    >>> import torch
    >>> Reshape((2, -1))(torch.arange(6.0).reshape(1, 6))
    tensor([[[0., 1., 2.],
             [3., 4., 5.]]])
    """

    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        target_shape = _args.as_sequence(target_shape)
        is_sequence = isinstance(target_shape, Sequence) and not isinstance(target_shape, str)
        values = tuple(target_shape) if is_sequence else None
        if (
            values is None
            or not values
            or not all(_args.is_int(v) and (v > 0 or v == -1) for v in values)
            or values.count(-1) > 1
        ):
            raise ValueError(
                "The `target_shape` argument must be a tuple of positive integers with at most "
                f"one -1. Received target_shape={target_shape!r}"
            )
        self.target_shape = tuple(int(v) for v in values)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        sample = input_shape[1:]
        known = math.prod(v for v in self.target_shape if v != -1)
        if any(v is None for v in sample):
            resolved = tuple(None if v == -1 else v for v in self.target_shape)
            return (input_shape[0], *resolved)
        size = math.prod(sample)
        missing = size // known if -1 in self.target_shape else None
        resolved = tuple(missing if v == -1 else v for v in self.target_shape)
        if (-1 in self.target_shape and size % known) or math.prod(resolved) != size:
            raise ValueError(
                f'Layer "{self.name}": the total size of the new array must be unchanged. '
                f"Received input_shape={tuple(input_shape)}, target_shape={self.target_shape}"
            )
        return (input_shape[0], *resolved)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        self.compute_output_shape((None, *x.shape[1:]))
        return x.reshape(x.shape[0], *self.target_shape)  # (N, *S) -> (N, *target_shape)
