"""Paths through latent space: linear and spherical interpolation."""

from __future__ import annotations

from collections.abc import Iterator

import torch

__all__ = ["lerp", "slerp", "latent_walk"]


def lerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """``(1 - t) a + t b``.

    >>> lerp(torch.tensor([0.0, 2.0]), torch.tensor([2.0, 4.0]), 0.25).tolist()
    [0.5, 2.5]
    """
    return torch.lerp(a, b, t)


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation along the last axis (Shoemake 1985; White 2016, "Sampling Generative Networks").

    High-dimensional Gaussian noise lies near a sphere; the straight line between two
    samples passes inside it, where the generator saw no training noise. ``slerp``
    follows the great circle, scaling the norm linearly between the two ends.

    Shape:
        a, b (..., D) -> (..., D).

    >>> a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    >>> [round(v, 4) for v in slerp(a, b, 0.5).tolist()]
    [0.7071, 0.7071]
    """
    na, nb = a.norm(dim=-1, keepdim=True), b.norm(dim=-1, keepdim=True)
    ua, ub = a / na, b / nb
    omega = torch.acos((ua * ub).sum(-1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7))
    so = torch.sin(omega)
    direction = (torch.sin((1 - t) * omega) * ua + torch.sin(t * omega) * ub) / so
    return direction * torch.lerp(na, nb, t)


def latent_walk(points: torch.Tensor, steps: int, method: str = "slerp") -> Iterator[torch.Tensor]:
    """Frames of a closed walk through ``points``: ``steps`` frames from each point to the next, back to the first.

    Args:
        points: (P, N, D) latent vectors, P >= 2 stops for each of N walks.
        steps: frames per leg (>= 1).
        method: ``"slerp"`` or ``"lerp"``.

    Raises:
        ValueError: another ``method``, or ``steps`` < 1.

    Shape:
        yields P * steps tensors of shape (N, D).

    >>> frames = list(latent_walk(torch.randn(3, 2, 5), 4, "lerp"))
    >>> len(frames), tuple(frames[0].shape)
    (12, (2, 5))
    """
    if method not in ("slerp", "lerp"):
        raise ValueError(f"The `method` argument must be 'slerp' or 'lerp'. Received method={method!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"The `steps` argument must be an integer >= 1. Received steps={steps!r}")
    mix = slerp if method == "slerp" else lerp
    count = points.shape[0]
    for i in range(count):
        a, b = points[i], points[(i + 1) % count]
        for k in range(steps):
            yield mix(a, b, k / steps)
