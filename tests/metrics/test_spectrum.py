"""Spectra and the checkerboard score against NumPy references and known patterns."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from upgan.metrics.spectrum import (
    checkerboard_score,
    mean_spectrum,
    period_energy,
    radial_spectrum,
    spectral_distance,
    to_grey,
)

# Tiny tensors: one torch thread avoids OpenMP waits on the shared 2-core machines.
pytestmark = pytest.mark.usefixtures("single_thread")


def _radial_np(img):
    """Durall et al.'s recipe written out with loops: one grey (H, W) image."""
    h, w = img.shape
    f = np.fft.fftshift(np.fft.fft2(img))
    mag = 20 * np.log(np.abs(f) + 1e-8)
    rings = {}
    for y in range(h):
        for x in range(w):
            r = int(math.floor(math.hypot(y - h // 2, x - w // 2)))
            rings.setdefault(r, []).append(mag[y, x])
    prof = np.array([np.mean(rings[r]) for r in range(max(rings) + 1)])
    return (prof - prof.min()) / (prof.max() - prof.min())


@pytest.mark.parametrize("shape", [(2, 1, 8, 8), (1, 3, 10, 12), (3, 2, 9, 7)])
def test_radial_spectrum_matches_numpy_loops(shape):
    x = torch.rand(shape, generator=torch.Generator().manual_seed(sum(shape)), dtype=torch.float64)
    got = radial_spectrum(x)
    grey = to_grey(x).numpy()
    for i in range(shape[0]):
        np.testing.assert_allclose(got[i].numpy(), _radial_np(grey[i]), rtol=1e-10, atol=1e-12)


def test_to_grey_luma_and_mean():
    x = torch.rand(2, 3, 4, 4, dtype=torch.float64)
    expected = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    torch.testing.assert_close(to_grey(x), expected)
    y = torch.rand(2, 2, 4, 4, dtype=torch.float64)
    torch.testing.assert_close(to_grey(y), y.mean(1))


@pytest.mark.parametrize("freq", [1, 3, 5, 8])
def test_pure_cosine_peaks_at_its_frequency(freq):
    n = 16
    x = torch.arange(n, dtype=torch.float64)
    cosine = torch.cos(2 * math.pi * freq * x / n).view(1, 1, 1, n).expand(1, 1, n, n)
    s = radial_spectrum(cosine)[0]
    # All power sits in the two bins (0, +-freq): their ring is the maximum, the rest the floor.
    assert int(s.argmax()) == freq and s[freq] == 1.0
    others = torch.cat([s[:freq], s[freq + 1 :]])
    assert torch.all(others < 0.5)
    # Energy at period 2 only when the cosine is the Nyquist one.
    assert period_energy(cosine).item() == pytest.approx(1.0 if freq == n // 2 else 0.0, abs=1e-12)


def test_period_energy_matches_numpy():
    x = torch.rand(3, 1, 12, 12, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for p in (2, 3, 4):
        got = period_energy(x, p).numpy()
        for i in range(3):
            power = np.abs(np.fft.fft2(x[i, 0].numpy())) ** 2
            power[0, 0] = 0
            bins = [(a * 12 // p, b * 12 // p) for a in range(p) for b in range(p) if (a, b) != (0, 0)]
            assert got[i] == pytest.approx(sum(power[b] for b in bins) / power.sum(), rel=1e-10)


def _smooth(n, size, seed):
    g = torch.Generator().manual_seed(seed)
    return F.avg_pool2d(torch.rand(n, 1, size + 2, size + 2, generator=g, dtype=torch.float64) * 2 - 1, 3, 1)


def test_checkerboard_scores_grid_high_smooth_low():
    real, gen = _smooth(32, 16, 0), _smooth(32, 16, 1)
    y, x = torch.meshgrid(torch.arange(16), torch.arange(16), indexing="ij")
    checker = (-1.0) ** (x + y)
    assert 0.5 < checkerboard_score(gen, real) < 2.0
    assert checkerboard_score(gen + 0.1 * checker, real) > 10
    # stronger grid, higher score
    assert checkerboard_score(gen + 0.2 * checker, real) > checkerboard_score(gen + 0.1 * checker, real)
    # A period-2 pattern along rows only, like a stride-2 transposed conv with k=3 in 1-D.
    stripes = ((-1.0) ** y).double()
    assert checkerboard_score(gen + 0.1 * stripes, real) > 5
    # Period 4 looks at the (pi/2) bins: a period-4 pattern scores there.
    period4 = torch.cos(math.pi * x / 2).double()
    assert checkerboard_score(gen + 0.1 * period4, real, period=4) > 3
    assert checkerboard_score(gen + 0.1 * period4, real, period=2) < 2


def test_checkerboard_zero_real_energy():
    """No period-2 energy in either set is a match (1), not 'less grid than real' (0)."""
    flat = torch.zeros(2, 1, 4, 4)
    assert checkerboard_score(flat, flat) == 1.0
    nearest = F.interpolate(torch.rand(3, 1, 4, 4, generator=torch.Generator().manual_seed(0)), scale_factor=2)
    assert period_energy(nearest).max() < 1e-30  # nearest x2 has nothing at the Nyquist bins
    assert checkerboard_score(nearest, nearest.flip(-1)) == 1.0
    y, x = torch.meshgrid(torch.arange(4), torch.arange(4), indexing="ij")
    assert checkerboard_score(((-1.0) ** (x + y)).expand(2, 1, 4, 4), flat) == math.inf


def test_spectral_distance():
    a, b = _smooth(8, 16, 0), _smooth(8, 16, 1)
    noisy = torch.rand(8, 1, 16, 16, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert spectral_distance(a, a) == 0.0
    assert spectral_distance(a, b) < spectral_distance(a, noisy)
    ref = np.sqrt(np.mean((mean_spectrum(a).numpy() - mean_spectrum(noisy).numpy()) ** 2))
    assert spectral_distance(a, noisy) == pytest.approx(ref)


def test_uint8_images_are_read_as_the_float_range_of_generators():
    """A uint8 set and the same images in [-1, 1] have the same spectra and scores; an offset between
    two float sets moves the zero-frequency ring and with it the normalisation (documented)."""
    images = torch.randint(0, 256, (6, 1, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    as_float = images.double() / 127.5 - 1
    torch.testing.assert_close(to_grey(images), to_grey(as_float))
    torch.testing.assert_close(radial_spectrum(images), radial_spectrum(as_float))
    assert spectral_distance(images, as_float) < 1e-12
    assert checkerboard_score(images, as_float) == pytest.approx(1.0)
    assert spectral_distance(as_float * 3, as_float) < 1e-9  # a scale is harmless
    assert spectral_distance(as_float + 1, as_float) > 1e-3  # an offset is not


def test_errors():
    with pytest.raises(ValueError, match=r"`period` argument must be an integer >= 2\. Received period=1"):
        period_energy(torch.zeros(1, 1, 8, 8), period=1)
    with pytest.raises(ValueError, match=r"must divide the image height and width \(9x8\) .* Received period=2"):
        period_energy(torch.zeros(1, 1, 9, 8))
    with pytest.raises(ValueError, match=r"same height and width\. Received gen of shape \(1, 1, 8, 8\) and real of shape \(1, 1, 16, 16\)"):
        checkerboard_score(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 16, 16))
    with pytest.raises(ValueError, match=r"`gen` argument must be a tensor of images \(N, C, H, W\) with N >= 1\. Received gen of shape \(0, 1, 8, 8\)"):
        spectral_distance(torch.zeros(0, 1, 8, 8), torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match=r"Received images of shape \(8, 8\)"):
        radial_spectrum(torch.zeros(8, 8))
    nan_image = torch.zeros(2, 1, 8, 8)
    nan_image[1, 0, 3, 3] = float("nan")
    with pytest.raises(ValueError, match=r"The `gen` images must be finite\. Received 1 NaN or infinite value"):
        checkerboard_score(nan_image, torch.zeros(2, 1, 8, 8))
