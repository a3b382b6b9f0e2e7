"""Precision/recall and density/coverage against a brute-force NumPy reference."""

import numpy as np
import pytest
import torch

from upgan.metrics import prdc
from upgan.metrics.prdc import density_coverage, knn_radii, precision_recall

# Tiny tensors: one torch thread avoids OpenMP waits on the shared 2-core machines.
pytestmark = pytest.mark.usefixtures("single_thread")


def _radii_np(x, k):
    n = len(x)
    out = np.empty(n)
    for i in range(n):
        d = sorted(np.sqrt(((x[i] - x[j]) ** 2).sum()) for j in range(n) if j != i)
        out[i] = d[k - 1]
    return out


def _inside(p, centre, r):
    return np.sqrt(((p - centre) ** 2).sum()) <= r


def _prdc_np(real, fake, k_pr, k_dc):
    rr, fr = _radii_np(real, k_pr), _radii_np(fake, k_pr)
    precision = np.mean([any(_inside(y, x, r) for x, r in zip(real, rr)) for y in fake])
    recall = np.mean([any(_inside(x, y, r) for y, r in zip(fake, fr)) for x in real])
    rd = _radii_np(real, k_dc)
    density = sum(_inside(y, x, r) for y in fake for x, r in zip(real, rd)) / (k_dc * len(fake))
    coverage = np.mean([any(_inside(y, x, r) for y in fake) for x, r in zip(real, rd)])
    return precision, recall, density, coverage


@pytest.mark.parametrize("seed", range(6))
def test_matches_bruteforce_reference(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    n, m, d = int(rng.integers(8, 30)), int(rng.integers(8, 30)), int(rng.integers(1, 5))
    real = rng.normal(size=(n, d))
    fake = rng.normal(loc=rng.uniform(0, 1.5), scale=rng.uniform(0.5, 2), size=(m, d))
    # Small blocks so the blocked loops run several times.
    monkeypatch.setattr(prdc, "_BLOCK", 5)
    p, r = precision_recall(torch.from_numpy(real), torch.from_numpy(fake), k=3)
    dens, cov = density_coverage(torch.from_numpy(real), torch.from_numpy(fake), k=5)
    ref = _prdc_np(real, fake, 3, 5)
    assert (p, r, dens, cov) == pytest.approx(ref, abs=1e-12)


def test_knn_radii_matches_reference():
    x = np.random.default_rng(0).normal(size=(20, 3))
    for k in (1, 3, 19):
        np.testing.assert_allclose(knn_radii(torch.from_numpy(x), k).numpy(), _radii_np(x, k), rtol=1e-12)


def test_identical_sets():
    x = torch.randn(50, 8, generator=torch.Generator().manual_seed(0))
    assert precision_recall(x, x) == (1.0, 1.0)
    density, coverage = density_coverage(x, x)
    assert coverage == 1.0
    assert density == pytest.approx(_prdc_np(x.numpy(), x.numpy(), 3, 5)[2])
    assert 0.8 < density < 1.5


def test_duplicates_lie_at_distance_zero():
    """Exact ties count (closed balls): distances are not left to the matrix-product form's rounding."""
    x = torch.randn(40, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    assert knn_radii(torch.cat([x, x]), 1).max().item() == 0.0  # every point has its twin at distance 0
    # The very same set: each point lies in its own ball and in those of the k it is the k-NN of,
    # in exact arithmetic (k + 1) / k on average; the NumPy reference computes differences directly.
    density, coverage = density_coverage(x, x, k=5)
    assert coverage == 1.0 and density == pytest.approx(_prdc_np(x.numpy(), x.numpy(), 3, 5)[2], abs=1e-12)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_features_are_an_error(bad):
    x, y = torch.randn(20, 4), torch.randn(20, 4)
    y[3, 1] = bad
    for call in (lambda: precision_recall(x, y), lambda: density_coverage(x, y), lambda: knn_radii(y, 3)):
        with pytest.raises(ValueError, match=r"must be finite\. Received 1 NaN or infinite value\(s\)"):
            call()


def test_disjoint_far_sets():
    x = torch.randn(40, 4, generator=torch.Generator().manual_seed(1))
    far = x + 1000.0
    assert precision_recall(x, far) == (0.0, 0.0)
    assert density_coverage(x, far) == (0.0, 0.0)


def test_fake_in_a_corner_of_real_has_high_precision_low_recall():
    g = torch.Generator().manual_seed(2)
    real = torch.randn(300, 2, generator=g)
    collapsed = real[real[:, 0] > 1.0]  # a mode-collapsed generator: one corner of the data
    p, r = precision_recall(real, collapsed)
    _, coverage = density_coverage(real, collapsed)
    assert p == 1.0 and r < 0.3 and coverage < 0.3


@pytest.mark.parametrize("k", [0, -1, 2.0, True])
def test_bad_k(k):
    x = torch.zeros(10, 2)
    with pytest.raises(ValueError, match=r"The `k` argument must be an integer >= 1\. Received k="):
        precision_recall(x, x, k=k)


def test_too_few_samples():
    x = torch.randn(3, 2)
    with pytest.raises(ValueError, match=r"`real` argument needs more than k=3 samples .* Received 3 samples"):
        precision_recall(x, torch.randn(10, 2), k=3)
    with pytest.raises(ValueError, match=r"`fake` argument needs more than k=3 samples .* Received 3 samples"):
        precision_recall(torch.randn(10, 2), x, k=3)
    with pytest.raises(ValueError, match=r"`real` argument needs more than k=5 samples .* Received 5 samples"):
        density_coverage(torch.randn(5, 2), x, k=5)
    with pytest.raises(ValueError, match=r"`fake` argument needs at least 1 sample\. Received 0 samples"):
        density_coverage(torch.randn(10, 2), torch.zeros(0, 2), k=5)


def test_shape_errors():
    with pytest.raises(ValueError, match=r"same dimension\. Received real of shape \(10, 2\) and fake of shape \(10, 3\)"):
        precision_recall(torch.zeros(10, 2), torch.zeros(10, 3))
    with pytest.raises(ValueError, match=r"`real` argument must be a 2-D tensor of features \(N, d\)\. Received real of shape \(10,\)"):
        density_coverage(torch.zeros(10), torch.zeros(10, 3))
