"""Weight initialisers by Keras name, drawn with torch's random generator.

Shapes are in Keras layout (a Conv2D kernel is ``(kh, kw, in, out)``) because Keras computes
fan-in and fan-out from that layout; the layer then permutes the tensor into torch layout.
Defaults follow Keras 3 (``keras/src/initializers``): random_normal / truncated_normal have
stddev 0.05, random_uniform is U(-0.05, 0.05), and the *_normal variance-scaling initialisers
draw from a normal truncated at two standard deviations, rescaled by 1 / 0.87962566103423978
so that the variance is the intended one.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

__all__ = ["get", "INITIALIZERS", "compute_fans"]

Initializer = Callable[[tuple[int, ...]], torch.Tensor]

# Standard deviation of a unit normal truncated to [-2, 2] (as in keras/src/initializers).
_TRUNCATED_STD = 0.87962566103423978


def compute_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """Fan-in and fan-out of a Keras-layout weight, as Keras computes them.

    >>> compute_fans((3, 3, 16, 32))
    (144, 288)
    >>> compute_fans((100, 10))
    (100, 10)
    """
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _uniform(limit: float) -> Initializer:
    return lambda shape: torch.empty(shape).uniform_(-limit, limit)


def _truncated(std: float) -> Initializer:
    return lambda shape: torch.nn.init.trunc_normal_(torch.empty(shape), 0.0, std, -2 * std, 2 * std)


def _variance_scaling(scale: float, mode: str, distribution: str) -> Initializer:
    def init(shape: tuple[int, ...]) -> torch.Tensor:
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
        variance = scale / max(1.0, n)
        if distribution == "uniform":
            return _uniform(math.sqrt(3.0 * variance))(shape)
        return _truncated(math.sqrt(variance) / _TRUNCATED_STD)(shape)

    return init


INITIALIZERS: dict[str, Initializer] = {
    "zeros": torch.zeros,
    "ones": torch.ones,
    "random_normal": lambda shape: torch.empty(shape).normal_(0.0, 0.05),
    "random_uniform": _uniform(0.05),
    "truncated_normal": _truncated(0.05),
    "glorot_uniform": _variance_scaling(1.0, "fan_avg", "uniform"),
    "glorot_normal": _variance_scaling(1.0, "fan_avg", "normal"),
    "he_uniform": _variance_scaling(2.0, "fan_in", "uniform"),
    "he_normal": _variance_scaling(2.0, "fan_in", "normal"),
    "lecun_uniform": _variance_scaling(1.0, "fan_in", "uniform"),
    "lecun_normal": _variance_scaling(1.0, "fan_in", "normal"),
}


def get(name: str, arg: str = "initializer") -> Initializer:
    """Look up an initialiser by its Keras name.

    Args:
        name: one of ``INITIALIZERS`` (zeros, ones, random_normal, random_uniform,
            truncated_normal, glorot_uniform, glorot_normal, he_uniform, he_normal,
            lecun_uniform, lecun_normal); case-insensitive.
        arg: the argument name used in the error message.

    Returns:
        A function from a Keras-layout shape to a float32 tensor.

    Raises:
        ValueError: for an unknown name.

    >>> _ = torch.manual_seed(0)
    >>> w = get("glorot_uniform")((100, 10))
    >>> tuple(w.shape), bool(w.abs().max() <= math.sqrt(6 / 110))
    ((100, 10), True)
    >>> get("ones")((2,))
    tensor([1., 1.])
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in INITIALIZERS:
        raise ValueError(
            f"Unknown initializer: `{arg}`={name!r}. Known initializers: {', '.join(INITIALIZERS)}"
        )
    return INITIALIZERS[key]
