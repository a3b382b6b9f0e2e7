"""Fréchet and kernel distances (FID, KID) between two sets of features, via torchmetrics.

Features are computed once (:func:`upgan.metrics.features.extract_features`) and handed to
torchmetrics' ``FrechetInceptionDistance`` / ``KernelInceptionDistance`` through a feature
module that passes them through unchanged, so FID, KID and precision/recall share one pass
of the feature network. torchmetrics accumulates the FID statistics in float64; KID is the
mean (and standard deviation) over random subsets of the unbiased polynomial-kernel MMD²
(Bińkowski et al. 2018, arXiv:1801.01401).
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from upgan.functional._checks import check_finite

__all__ = ["fid", "kid"]


class _Given(nn.Module):
    """Hands precomputed (N, d) features to torchmetrics as if they were images."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features  # read by torchmetrics instead of a dummy forward

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


def _check_pair(real: object, fake: object, minimum: int, why: str) -> None:
    for name, x in (("real", real), ("fake", fake)):
        if not isinstance(x, torch.Tensor) or x.dim() != 2:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"The `{name}` argument must be a 2-D tensor of features (N, d). Received shape {shape}")
        if x.shape[0] < minimum:
            raise ValueError(f"The `{name}` argument needs at least {minimum} samples {why}. Received {x.shape[0]}")
        # A NaN covariance crashes LAPACK's eigenvalue routine (a segfault at d >= 128).
        check_finite(x, f"The `{name}` features")
    if real.shape[1] < 1:
        raise ValueError(f"The features must have at least 1 dimension. Received shape {tuple(real.shape)}")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            "The `real` and `fake` features must have the same dimension. "
            f"Received real of shape {tuple(real.shape)} and fake of shape {tuple(fake.shape)}"
        )


def fid(real: torch.Tensor, fake: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets.

    ``||mu_r - mu_f||² + Tr(S_r + S_f - 2 (S_r S_f)^(1/2))`` (Heusel et al. 2017), computed
    by ``torchmetrics.image.fid.FrechetInceptionDistance``.

    Args:
        real: real features (N, d), N >= 2.
        fake: generated features (M, d), M >= 2.

    Returns:
        The FID (>= 0 up to rounding; 0 for identical sets).

    Shape:
        real (N, d), fake (M, d) with the same d.

    Raises:
        ValueError: fewer than 2 samples in a set, not 2-D, or different d.

    Example:
        >>> x = torch.randn(50, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        >>> round(fid(x, x), 6), fid(x, x + 1.0) > 3.99
        (0.0, True)
    """
    _check_pair(real, fake, 2, "for FID (a covariance needs 2)")
    from torchmetrics.image.fid import FrechetInceptionDistance

    metric = FrechetInceptionDistance(feature=_Given(real.shape[1]))
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    return float(metric.compute())


def kid(
    real: torch.Tensor, fake: torch.Tensor, subset_size: int = 1000, subsets: int = 100, seed: int = 0
) -> tuple[float, float]:
    """Kernel Inception Distance: unbiased MMD² with a cubic polynomial kernel.

    Args:
        real: real features (N, d), N >= ``subset_size``.
        fake: generated features (M, d), M >= ``subset_size``.
        subset_size: samples per random subset (>= 2). Default 1000 (torchmetrics's).
        subsets: number of subsets averaged (>= 1). Default 100.
        seed: seed of the subset draws, so the result is reproducible. Default 0.

    Returns:
        ``(mean, std)`` over the subsets, unscaled (papers often report KID x 10^3). The
        estimator is torchmetrics's (Binkowski et al. 2018): its cross term averages all
        pairs, so a value can be slightly negative for sets from one distribution.

    Shape:
        real (N, d), fake (M, d) with the same d.

    Raises:
        ValueError: a set smaller than ``subset_size``, ``subset_size`` < 2, ``subsets`` < 1,
            not 2-D, or different d.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> x, y = torch.randn(40, 4, generator=g), torch.randn(40, 4, generator=g)
        >>> mean, std = kid(x, y + 2.0, subset_size=20, subsets=10)
        >>> mean > kid(x, y, subset_size=20, subsets=10)[0] + 0.5
        True
    """
    if not isinstance(subset_size, int) or subset_size < 2:
        raise ValueError(f"The `subset_size` argument must be an integer >= 2. Received subset_size={subset_size!r}")
    if not isinstance(subsets, int) or subsets < 1:
        raise ValueError(f"The `subsets` argument must be an integer >= 1. Received subsets={subsets!r}")
    _check_pair(real, fake, subset_size, f"for KID with subset_size={subset_size}")
    from torchmetrics.image.kid import KernelInceptionDistance

    with warnings.catch_warnings():
        # Its warning about keeping all features in memory: they are already in memory here.
        warnings.filterwarnings("ignore", message=".*will save all extracted features in buffer")
        metric = KernelInceptionDistance(feature=_Given(real.shape[1]), subset_size=subset_size, subsets=subsets)
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    # torchmetrics draws the subsets with the global generator: fork it to stay reproducible
    # without disturbing the caller's random stream.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        mean, std = metric.compute()
    return float(mean), float(std)
