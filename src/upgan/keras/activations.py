"""Activation functions by Keras name, as torch functions.

The definitions follow Keras 3 (``keras/src/activations``): ``leaky_relu`` uses
negative_slope 0.2, ``gelu`` is the exact (erf) form, ``hard_sigmoid`` is relu6(x + 3) / 6,
and ``softmax`` / ``log_softmax`` act on the last axis.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = ["get", "ACTIVATIONS"]

Activation = Callable[[torch.Tensor], torch.Tensor]

ACTIVATIONS: dict[str, Activation] = {
    "linear": lambda x: x,
    "relu": F.relu,
    "relu6": F.relu6,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
    "elu": F.elu,
    "selu": F.selu,
    "gelu": F.gelu,
    "silu": F.silu,
    "swish": F.silu,
    "mish": F.mish,
    "softplus": F.softplus,
    "softsign": F.softsign,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": F.hardsigmoid,
    "hard_silu": F.hardswish,
    "hard_swish": F.hardswish,
    "exponential": torch.exp,
    "softmax": lambda x: torch.softmax(x, dim=-1),
    "log_softmax": lambda x: torch.log_softmax(x, dim=-1),
}


def get(name: str | Activation | None) -> Activation:
    """Look up an activation by its Keras name (``None`` means linear).

    Args:
        name: ``None``, a function on tensors (returned as is, as Keras accepts callables), or
            one of ``ACTIVATIONS``: linear, relu, relu6, leaky_relu, elu, selu, gelu, silu,
            swish, mish, softplus, softsign, tanh, sigmoid, hard_sigmoid, hard_silu,
            hard_swish, exponential, softmax, log_softmax; case-insensitive.

    Returns:
        A function on tensors.

    Raises:
        ValueError: for an unknown name.

    >>> get("relu")(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    >>> get(None)(torch.tensor([-1.0]))
    tensor([-1.])
    >>> get(torch.abs)(torch.tensor([-1.0]))
    tensor([1.])
    """
    if callable(name):
        return name
    key = "linear" if name is None else (name.lower() if isinstance(name, str) else name)
    if key not in ACTIVATIONS:
        raise ValueError(
            f"Unknown activation: `activation`={name!r}. Known activations: {', '.join(ACTIVATIONS)}"
        )
    return ACTIVATIONS[key]
