"""FID and KID: closed forms, torchmetrics plumbing, and monotonic rise with corruption."""

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from upgan.metrics.features import RandomConvFeatures, extract_features, feature_network
from upgan.metrics.fid import fid, kid

# Tiny tensors: one torch thread avoids OpenMP waits on the shared 2-core machines.
pytestmark = pytest.mark.usefixtures("single_thread")

DATA = Path(__file__).resolve().parents[2] / "src" / "upgan" / "data" / "mnist5k.npz"


def _fid_np(a, b):
    """FID from the definition, with the matrix square root by eigendecomposition (NumPy)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # sqrt(ca) cb sqrt(ca) is symmetric PSD and has the same trace of square root as ca cb.
    w, v = np.linalg.eigh(ca)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = np.linalg.eigvalsh(root_a @ cb @ root_a)
    return ((mu_a - mu_b) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * np.sqrt(np.clip(inner, 0, None)).sum()


def _kid_np(a, b):
    """Unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3 on the full sets."""
    d = a.shape[1]
    k = lambda x, y: (x @ y.T / d + 1) ** 3  # noqa: E731
    m = len(a)
    kxx, kyy, kxy = k(a, a), k(b, b), k(a, b)
    return (
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        - 2 * kxy.mean()
    )


@pytest.mark.parametrize("seed", range(3))
def test_fid_matches_numpy_definition(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(60, 5))
    b = rng.normal(loc=0.3, scale=1.5, size=(40, 5)) @ rng.normal(size=(5, 5))
    assert fid(torch.from_numpy(a), torch.from_numpy(b)) == pytest.approx(_fid_np(a, b), rel=1e-6)


def test_kid_with_one_full_subset_matches_numpy_definition():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(30, 4)), rng.normal(loc=0.5, size=(30, 4))
    mean, std = kid(torch.from_numpy(a), torch.from_numpy(b), subset_size=30, subsets=3)
    # every "subset" is the whole set, so all agree
    assert mean == pytest.approx(_kid_np(a, b), rel=1e-5) and std == pytest.approx(0.0, abs=1e-6)


def test_kid_reproducible_and_leaves_global_rng_alone():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(50, 3, generator=g), torch.randn(50, 3, generator=g)
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    first = kid(a, b, subset_size=10, subsets=5, seed=7)
    assert torch.rand(1) == expected_next
    assert kid(a, b, subset_size=10, subsets=5, seed=7) == first
    assert kid(a, b, subset_size=10, subsets=5, seed=8) != first


def test_too_few_samples_and_shape_errors():
    x = torch.randn(1, 4)
    with pytest.raises(ValueError, match=r"`fake` argument needs at least 2 samples for FID .* Received 1"):
        fid(torch.randn(5, 4), x)
    with pytest.raises(ValueError, match=r"`real` argument needs at least 20 samples for KID with subset_size=20\. Received 10"):
        kid(torch.randn(10, 4), torch.randn(30, 4), subset_size=20)
    with pytest.raises(ValueError, match=r"`subset_size` argument must be an integer >= 2\. Received subset_size=1"):
        kid(torch.randn(10, 4), torch.randn(30, 4), subset_size=1)
    with pytest.raises(ValueError, match=r"`subsets` argument must be an integer >= 1\. Received subsets=0"):
        kid(torch.randn(10, 4), torch.randn(30, 4), subset_size=5, subsets=0)
    with pytest.raises(ValueError, match=r"same dimension\. Received real of shape \(5, 4\) and fake of shape \(5, 3\)"):
        fid(torch.randn(5, 4), torch.randn(5, 3))
    with pytest.raises(ValueError, match=r"at least 1 dimension\. Received shape \(30, 0\)"):
        kid(torch.randn(30, 0), torch.randn(30, 0), subset_size=5)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_features_are_an_error(bad):
    """Checked before torchmetrics: a NaN covariance crashed LAPACK (segfault) at d = 128."""
    real, fake = torch.randn(300, 128, dtype=torch.float64), torch.randn(300, 128, dtype=torch.float64)
    fake[0, 0] = bad
    with pytest.raises(ValueError, match=r"The `fake` features must be finite\. Received 1 NaN or infinite"):
        fid(real, fake)
    with pytest.raises(ValueError, match=r"The `fake` features must be finite"):
        kid(real, fake, subset_size=50)


def _blur(x, sigma):
    radius = 3
    t = torch.arange(-radius, radius + 1, dtype=x.dtype)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = k / k.sum()
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    return F.conv2d(F.pad(x, (0, 0, radius, radius), mode="replicate"), k.view(1, 1, -1, 1))


@pytest.fixture(scope="module")
def real_halves():
    # The bundled file is sorted by label: take a random 600.
    idx = np.random.default_rng(0).permutation(5000)[:600]
    images = torch.from_numpy(np.load(DATA)["images"][idx]).float().div(127.5).sub(1).unsqueeze(1)
    return images[:300], images[300:]


@pytest.mark.parametrize("features", ["classifier", "random"])
@pytest.mark.parametrize("corruption", ["noise", "blur"])
def test_fid_kid_rise_monotonically_with_corruption(real_halves, features, corruption):
    reference, other = real_halves
    net, _ = feature_network(features, (1, 28, 28))
    ref = extract_features(net, reference)
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(other.shape, generator=g)
    levels = [0.0, 0.15, 0.4, 1.0] if corruption == "noise" else [0.0, 0.7, 1.2, 2.0]
    fids, kids = [], []
    for level in levels:
        if corruption == "noise":
            corrupted = (other + level * noise).clamp(-1, 1)
        else:
            corrupted = other if level == 0 else _blur(other, level)
        feats = extract_features(net, corrupted)
        fids.append(fid(ref, feats))
        kids.append(kid(ref, feats, subset_size=150, subsets=10)[0])
    assert all(a < b for a, b in zip(fids, fids[1:])), fids
    assert all(a < b for a, b in zip(kids, kids[1:])), kids


def test_random_features_are_fixed_and_shape_agnostic():
    a, b = RandomConvFeatures(3), RandomConvFeatures(3)
    x = torch.rand(2, 3, 20, 12) * 2 - 1
    torch.testing.assert_close(a(x), b(x))
    assert not torch.allclose(RandomConvFeatures(3, seed=1)(x), a(x))


def test_feature_network_errors():
    with pytest.raises(ValueError, match=r"`features` argument must be one of \['auto', 'classifier', 'random', 'inception'\]\. Received features='vgg'"):
        feature_network("vgg", (1, 28, 28))
    with pytest.raises(ValueError, match=r"1x28x28 images only\. Received images of shape \(3, 32, 32\)"):
        feature_network("classifier", (3, 32, 32))


def test_inception_without_torch_fidelity_is_a_clear_error():
    pytest.importorskip("torchmetrics")
    try:
        import torch_fidelity  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("torch-fidelity is installed here; the missing-package message cannot be tested")
    from upgan.metrics.features import FeatureNetworkUnavailable

    with pytest.raises(FeatureNetworkUnavailable, match=r"need the `torch-fidelity` package .* --features classifier\|random"):
        feature_network("inception", (1, 28, 28))


def test_extract_features_errors_and_uint8():
    net = RandomConvFeatures(1)
    u8 = torch.full((2, 1, 8, 8), 255, dtype=torch.uint8)
    torch.testing.assert_close(extract_features(net, u8), extract_features(net, torch.ones(2, 1, 8, 8)))
    with pytest.raises(ValueError, match=r"4-D tensor \(N, C, H, W\)\. Received images of shape \(8, 8\)"):
        extract_features(net, torch.zeros(8, 8))
    with pytest.raises(ValueError, match=r"`batch_size` argument must be an integer >= 1\. Received batch_size=0"):
        extract_features(net, u8, batch_size=0)


def test_inception_wrapper_feeds_uint8_rgb():
    """The wrapper around torch-fidelity's network: grey -> RGB, [-1, 1] -> uint8, (N, 2048)."""
    from upgan.metrics.features import _InceptionFeatures

    seen = []

    class Recorder(torch.nn.Module):
        def forward(self, x):
            seen.append(x)
            return torch.ones(x.shape[0], 2048)

    net = _InceptionFeatures(Recorder())
    out = net(torch.tensor([-1.0, 0.0, 1.0, 2.0]).view(1, 1, 2, 2))
    assert out.shape == (1, 2048) and net.num_features == 2048
    assert seen[0].dtype == torch.uint8 and seen[0].shape == (1, 3, 2, 2)
    assert seen[0][0, :, 0].tolist() == [[0, 128]] * 3 and seen[0][0, :, 1].tolist() == [[255, 255]] * 3
