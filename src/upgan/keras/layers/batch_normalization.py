"""``BatchNormalization`` with Keras's defaults and moving-statistics update."""

from __future__ import annotations

import numbers
from typing import Any

import torch

from upgan.keras import _args
from upgan.keras import initializers as _initializers
from upgan.keras.layers.layer import Layer, Shape

__all__ = ["BatchNormalization"]


class BatchNormalization(Layer):
    """Keras ``BatchNormalization``.

    Training mode (torch's ``module.training`` and ``trainable``) normalises with the batch
    mean and *biased* variance and updates ``moving = moving * momentum + batch * (1 -
    momentum)`` for both statistics, as Keras 3 does (torch's BatchNorm2d uses the unbiased
    variance for its running estimate and ``momentum`` with the opposite meaning). Inference
    mode (``eval()``, ``predict``, or ``trainable=False``) uses the moving statistics.

    Weights in Keras order: ``gamma`` and ``beta`` (trainable, when ``scale`` / ``center``),
    ``moving_mean`` and ``moving_variance`` (buffers: non-trainable), each of shape ``(C,)``.

    Args:
        axis: the feature axis (default -1, channels_last; use 1 for channels_first).
        momentum: moving-average momentum in [0, 1] (default 0.99).
        epsilon: added to the variance, > 0 (default 1e-3).
        center: learn an offset ``beta`` (default True).
        scale: learn a scale ``gamma`` (default True).
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer: initialiser names (defaults zeros, ones, zeros, ones).
        **kwargs: ``name``, ``trainable``, ``input_shape`` (see :class:`Layer`).

    Shape:
        - Input: any ``(N, *)`` with a known size ``C`` on ``axis``.
        - Output: same as the input.

    Raises:
        ValueError: for an axis outside the input, a bad momentum or epsilon, or an input
            whose feature axis differs from the built size.

    >>> import torch
    >>> layer = BatchNormalization()
    >>> layer(torch.tensor([[0.0], [4.0]]))  # training mode: batch mean 2, variance 4
    tensor([[-0.9999],
            [ 0.9999]], grad_fn=<AddBackward0>)
    >>> [w.round(4) for w in layer.get_weights()[2:]]  # moving mean, variance after one update
    [array([0.02], dtype=float32), array([1.03], dtype=float32)]
    """

    min_ndim = 2

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: str = "zeros",
        gamma_initializer: str = "ones",
        moving_mean_initializer: str = "zeros",
        moving_variance_initializer: str = "ones",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not _args.is_int(axis):
            raise ValueError(f"The `axis` argument must be an integer. Received axis={axis!r}")
        if not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1:
            raise ValueError(f"The `momentum` argument must be a number in [0, 1]. Received momentum={momentum!r}")
        if not isinstance(epsilon, numbers.Real) or epsilon <= 0:
            raise ValueError(f"The `epsilon` argument must be a positive number. Received epsilon={epsilon!r}")
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.initializers = {
            "beta_initializer": beta_initializer,
            "gamma_initializer": gamma_initializer,
            "moving_mean_initializer": moving_mean_initializer,
            "moving_variance_initializer": moving_variance_initializer,
        }
        for arg, name in self.initializers.items():
            _initializers.get(name, arg)

    def check_input_shape(self, shape: Shape) -> None:
        super().check_input_shape(shape)
        if not -len(shape) <= self.axis < len(shape) or self.axis % len(shape) == 0:
            raise ValueError(
                f'Layer "{self.name}": the `axis` argument must name a non-batch axis of the input. '
                f"Received axis={self.axis} for an input of shape {tuple(shape)}"
            )

    def build(self, input_shape: Shape) -> None:
        self.rank = len(input_shape)
        self.features = input_shape[self.axis]
        if self.features is None:
            raise ValueError(
                f'Layer "{self.name}" needs a known size on axis {self.axis}. Received input_shape={input_shape}'
            )
        c = (self.features,)
        init = self.initializers
        if self.scale:
            self.add_weight("gamma", "gamma", c, init["gamma_initializer"])
        if self.center:
            self.add_weight("beta", "beta", c, init["beta_initializer"])
        self.add_weight("moving_mean", "moving_mean", c, init["moving_mean_initializer"], trainable=False)
        self.add_weight("moving_variance", "moving_variance", c, init["moving_variance_initializer"], trainable=False)

    def fixed_axes(self) -> dict[int, int]:
        return {self.axis: self.features}

    def call(self, x: torch.Tensor) -> torch.Tensor:
        axis = self.axis % x.dim()
        reduce = [d for d in range(x.dim()) if d != axis]
        view = [1] * x.dim()
        view[axis] = self.features  # broadcast (C,) along the feature axis
        if self.training and self.trainable:
            var, mean = torch.var_mean(x, dim=reduce, correction=0)
            with torch.no_grad():
                m = self.momentum
                self.moving_mean.mul_(m).add_(mean.detach().to(self.moving_mean.dtype), alpha=1 - m)
                self.moving_variance.mul_(m).add_(var.detach().to(self.moving_variance.dtype), alpha=1 - m)
        else:
            mean, var = self.moving_mean, self.moving_variance
        inv = torch.rsqrt(var + self.epsilon)
        if self.scale:
            inv = inv * self.gamma
        shift = -mean * inv
        if self.center:
            shift = shift + self.beta
        return x * inv.reshape(view) + shift.reshape(view)  # (C,) -> broadcastable
