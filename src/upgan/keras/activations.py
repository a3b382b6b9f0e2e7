"""Activation functions by Keras name, as torch functions.

The definitions follow Keras 3 (``keras/src/activations``): ``leaky_relu`` uses
negative_slope 0.2, ``gelu`` is the exact (erf) form, ``hard_sigmoid`` is relu6(x + 3) / 6,
``celu`` has alpha 1, ``hard_shrink`` / ``soft_shrink`` threshold 0.5, ``squareplus`` b = 4,
and ``softmax``, ``log_softmax`` and ``glu`` act on the last axis. Two Keras names are left
out: ``threshold`` needs two arguments of its own (pass a function), and ``sparsemax`` on
TensorFlow (Keras 3.15) computes its threshold from the sum of the partial sums instead of
the last one, so its outputs do not sum to 1; neither an exact copy nor a correct version
would be "the same as Keras".
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
    "celu": F.celu,
    "glu": lambda x: F.glu(x, dim=-1),
    "hard_tanh": F.hardtanh,
    "hard_shrink": lambda x: F.hardshrink(x, 0.5),
    "soft_shrink": lambda x: F.softshrink(x, 0.5),
    "tanh_shrink": F.tanhshrink,
    "log_sigmoid": F.logsigmoid,
    "squareplus": lambda x: (x + torch.sqrt(x * x + 4)) / 2,
    # 0 below -1, 1 (sparse_sigmoid) or x (sparse_plus) above 1, (x + 1) / 2 or (x + 1)^2 / 4 between
    "sparse_sigmoid": lambda x: ((x + 1) / 2).clamp(0, 1),
    "sparse_plus": lambda x: torch.where(x >= 1, x, (x + 1).clamp(min=0) ** 2 / 4),
}



def get(name: str | Activation | None) -> Activation:
    """Look up an activation by its Keras name (``None`` means linear).

    Args:
        name: ``None``, a function on tensors (returned as is, as Keras accepts callables), or
            one of ``ACTIVATIONS``: linear, relu, relu6, leaky_relu, elu, selu, gelu, silu,
            swish, mish, softplus, softsign, tanh, sigmoid, hard_sigmoid, hard_silu,
            hard_swish, exponential, softmax, log_softmax, celu, glu, hard_tanh, hard_shrink,
            soft_shrink, tanh_shrink, log_sigmoid, squareplus, sparse_sigmoid, sparse_plus;
            case-insensitive.

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
