"""``Dropout``: random zeroing during training."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import torch

from upgan.keras import _args
from upgan.keras.layers.layer import Layer

__all__ = ["Dropout"]


class Dropout(Layer):
    """Keras ``Dropout``: in training mode, zero each entry with probability ``rate`` and scale
    the rest by ``1 / (1 - rate)``; in inference mode (``module.eval()``, ``predict``), identity.

    Training mode is torch's ``module.training`` flag.

    Args:
        rate: fraction dropped, a number in [0, 1] (1 drops everything in training mode).
        noise_shape: shape of the mask, broadcast over the input; ``None`` entries take the
            input's size (default None: the input's shape).
        **kwargs: ``name``, ``trainable``, ``input_shape`` (see :class:`Layer`).

    Shape:
        - Input: any ``(N, *)``.
        - Output: same as the input.

    Raises:
        ValueError: for a rate outside [0, 1] or a malformed noise_shape.

    >>> import torch
    >>> layer = Dropout(0.5).eval()
    >>> layer(torch.ones(1, 3))
    tensor([[1., 1., 1.]])
    """

    def __init__(self, rate: float, noise_shape: Sequence[int | None] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(rate, numbers.Real) or isinstance(rate, bool) or not 0 <= rate <= 1:
            raise ValueError(f"The `rate` argument must be a number in [0, 1]. Received rate={rate!r}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else _args.shape_tuple(noise_shape, "noise_shape")

    def call(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0:
            return x
        shape = x.shape
        if self.noise_shape is not None:
            if len(self.noise_shape) != x.dim():
                raise ValueError(
                    f'Layer "{self.name}": `noise_shape` {self.noise_shape} must have the rank of the '
                    f"input, received input with shape {tuple(x.shape)}"
                )
            shape = torch.Size(s if n is None else n for n, s in zip(self.noise_shape, x.shape))
        if self.rate == 1:
            return torch.zeros_like(x)  # everything dropped (x * 0 would turn inf into NaN)
        keep = torch.rand(shape, device=x.device) >= self.rate
        return x * keep.to(x.dtype) / (1 - self.rate)
