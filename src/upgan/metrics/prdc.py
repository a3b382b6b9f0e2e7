"""Precision/recall (Kynkäänniemi et al. 2019) and density/coverage (Naeem et al. 2020).

Both estimate each set's support in feature space as a union of balls: around every sample
a ball whose radius is the distance to its k-th nearest neighbour in the same set (the
sample itself excluded). With real features ``X`` (N of them) and generated features ``Y``
(M of them), ``B(x, r) = {y : ||y - x|| <= r}`` (closed balls, as in Kynkäänniemi et al.'s
definition of f(phi, Phi)) and ``r_k(x)`` the k-NN radius:

- precision = (1/M) · #{ j : Y_j lies in some B(X_i, r_k(X_i)) }   (Kynkäänniemi, eq. 1-2)
- recall    = (1/N) · #{ i : X_i lies in some B(Y_j, r_k(Y_j)) }
- density   = 1/(k·M) · sum_j #{ i : Y_j in B(X_i, r_k(X_i)) }     (Naeem, eq. 4)
- coverage  = (1/N) · #{ i : some Y_j lies in B(X_i, r_k(X_i)) }    (Naeem, eq. 5)

The papers use k=3 for precision/recall and k=5 for density/coverage. Distances are
Euclidean, computed in float64 in blocks so that 5,000 x 5,000 sets fit in little memory.
"""

from __future__ import annotations

import torch

from upgan.functional._checks import check_finite

__all__ = ["knn_radii", "precision_recall", "density_coverage"]

_BLOCK = 1024  # rows of the distance matrix held at once


def _check_features(features: object, name: str, k: int) -> torch.Tensor:
    """``features`` as float64 if it is (N, d) with N > k; k = 0 only asks for one sample."""
    if not isinstance(features, torch.Tensor) or features.dim() != 2:
        shape = tuple(features.shape) if isinstance(features, torch.Tensor) else type(features).__name__
        raise ValueError(
            f"The `{name}` argument must be a 2-D tensor of features (N, d). Received {name} of shape {shape}"
        )
    if k == 0 and features.shape[0] == 0:
        raise ValueError(f"The `{name}` argument needs at least 1 sample. Received 0 samples")
    if features.shape[0] <= k:
        raise ValueError(
            f"The `{name}` argument needs more than k={k} samples for k-nearest-neighbour radii. "
            f"Received {features.shape[0]} samples"
        )
    # A NaN or inf would fall in no ball (comparisons with NaN are false) and go unnoticed.
    check_finite(features, f"The `{name}` argument")
    return features.double()


def _check_k(k: object) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"The `k` argument must be an integer >= 1. Received k={k!r}")
    return k


def _check_dims(real: torch.Tensor, fake: torch.Tensor) -> None:
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            "The `real` and `fake` features must have the same dimension. "
            f"Received real of shape {tuple(real.shape)} and fake of shape {tuple(fake.shape)}"
        )


def knn_radii(features: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each sample to its k-th nearest neighbour in the same set.

    Args:
        features: (N, d) tensor, N > k.
        k: which neighbour (>= 1); the sample itself does not count.

    Returns:
        (N,) float64 tensor of radii.

    Shape:
        features (N, d) -> radii (N,).

    Raises:
        ValueError: ``k`` < 1, or ``features`` is not 2-D with more than ``k`` rows.

    Example:
        >>> knn_radii(torch.tensor([[0.0], [1.0], [3.0]]), k=1).tolist()
        [1.0, 1.0, 2.0]
    """
    k = _check_k(k)
    x = _check_features(features, "features", k)
    radii = []
    for start in range(0, len(x), _BLOCK):
        d = _distances(x[start : start + _BLOCK], x)  # (B, N)
        # The k+1 smallest include the sample itself at distance 0.
        radii.append(d.topk(k + 1, dim=1, largest=False).values[:, k])
    return torch.cat(radii)


def _distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distances ``(len(a), len(b))``, from differences: the faster matrix-product form
    (``|a|^2 + |b|^2 - 2 a.b``) leaves rounding noise where points coincide, and the closed
    balls here count ties (a duplicate sample lies at distance exactly 0)."""
    return torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")


def _ball_counts(centres: torch.Tensor, radii: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """For each point, how many balls B(centres[i], radii[i]) contain it: (len(points),) int64."""
    counts = []
    for start in range(0, len(points), _BLOCK):
        d = _distances(points[start : start + _BLOCK], centres)  # (B, N)
        counts.append((d <= radii.unsqueeze(0)).sum(dim=1))
    return torch.cat(counts)


def _covered(centres: torch.Tensor, radii: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """For each centre, whether its ball contains at least one point: (len(centres),) bool."""
    covered = torch.zeros(len(centres), dtype=torch.bool)
    for start in range(0, len(points), _BLOCK):
        d = _distances(points[start : start + _BLOCK], centres)  # (B, N)
        covered |= (d <= radii.unsqueeze(0)).any(dim=0)
    return covered


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall of Kynkäänniemi et al. (2019, arXiv:1904.06991).

    Args:
        real: real features (N, d), N > k.
        fake: generated features (M, d), M > k.
        k: the nearest neighbour defining each ball's radius. Default 3 (the paper's).

    Returns:
        ``(precision, recall)``, each in [0, 1].

    Shape:
        real (N, d), fake (M, d) with the same d.

    Raises:
        ValueError: ``k`` < 1, a set has ``k`` or fewer samples, or the dimensions differ.

    Example:
        >>> real = torch.tensor([[0.0], [1.0], [2.0], [3.0], [4.0]])
        >>> precision_recall(real, real + 100.0, k=3), precision_recall(real, real, k=3)
        ((0.0, 0.0), (1.0, 1.0))
    """
    k = _check_k(k)
    x, y = _check_features(real, "real", k), _check_features(fake, "fake", k)
    _check_dims(x, y)
    precision = (_ball_counts(x, knn_radii(x, k), y) > 0).double().mean().item()
    recall = (_ball_counts(y, knn_radii(y, k), x) > 0).double().mean().item()
    return precision, recall


def density_coverage(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> tuple[float, float]:
    """Density and coverage of Naeem et al. (2020, arXiv:2002.09797).

    Args:
        real: real features (N, d), N > k.
        fake: generated features (M, d), M >= 1.
        k: the nearest neighbour defining each real ball's radius. Default 5 (the paper's).

    Returns:
        ``(density, coverage)``: density >= 0 (about 1 when both are samples of one
            distribution, can exceed 1; (k + 1) / k for the very same set, each point lying in
            its own closed ball),
        coverage in [0, 1].

    Shape:
        real (N, d), fake (M, d) with the same d.

    Raises:
        ValueError: ``k`` < 1, ``real`` has ``k`` or fewer samples, or the dimensions differ.

    Example:
        >>> real = torch.tensor([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
        >>> density_coverage(real, real + 100.0, k=5), density_coverage(real, real[:1], k=5)[1]
        ((0.0, 0.0), 1.0)
    """
    k = _check_k(k)
    x = _check_features(real, "real", k)
    y = _check_features(fake, "fake", 0)
    _check_dims(x, y)
    radii = knn_radii(x, k)
    density = _ball_counts(x, radii, y).double().sum().item() / (k * len(y))
    coverage = _covered(x, radii, y).double().mean().item()
    return density, coverage
