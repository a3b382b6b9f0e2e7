"""Frequency-domain diagnostics of generated images: spectra and the checkerboard score.

Upsampling layers leave their period in the image spectrum: a x2 transposed convolution
whose kernel overlaps unevenly (Odena et al. 2016) adds energy at the Nyquist frequency, and
GANs generally fail to reproduce the high-frequency falloff of real images (Durall et al.
2020, arXiv:2003.01826; Frank et al. 2020, arXiv:2003.08685).

- :func:`radial_spectrum` follows Durall et al.'s reference code (cc-hpc-itwm/UpConv): grey
  image, ``fftshift(fft2)``, ``20 * log(|F| + 1e-8)``, the mean over rings of integer radius
  ``floor(hypot(u, v))`` about the zero-frequency bin, then a per-image min-max normalisation
  to [0, 1]. One difference: rings are centred on the zero-frequency bin ``(H // 2, W // 2)``
  of the shifted spectrum, where the reference code uses the array's geometric centre.
- :func:`spectral_distance`: root mean square difference of the mean spectra of two sets.
- :func:`checkerboard_score`: the share of each image's non-DC power at the frequencies of a
  period-``p`` pattern (multiples of ``H / p`` and ``W / p`` cycles), averaged over the
  generated set and divided by the same average over the real set. For ``p = 2`` these are
  the Nyquist bins (pi, 0), (0, pi) and (pi, pi). About 1 when the generated images carry as
  much period-``p`` energy as real ones; well above 1 means a visible grid.
"""

from __future__ import annotations

import torch

from upgan.functional._checks import check_finite

__all__ = [
    "to_grey",
    "radial_spectrum",
    "mean_spectrum",
    "spectral_distance",
    "period_energy",
    "checkerboard_score",
]

# ITU-R BT.601 luma weights, as OpenCV's RGB -> grey conversion the reference code uses.
_LUMA = (0.299, 0.587, 0.114)


def _check_images(images: object, name: str = "images") -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[0] < 1:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(
            f"The `{name}` argument must be a tensor of images (N, C, H, W) with N >= 1. Received {name} of shape {shape}"
        )
    check_finite(images, f"The `{name}` images")  # a NaN image would otherwise count as one without energy
    return images


def _check_same_size(gen: torch.Tensor, real: torch.Tensor) -> None:
    if gen.shape[-2:] != real.shape[-2:]:
        raise ValueError(
            "The `gen` and `real` images must have the same height and width. "
            f"Received gen of shape {tuple(gen.shape)} and real of shape {tuple(real.shape)}"
        )


def to_grey(images: torch.Tensor) -> torch.Tensor:
    """Grey images in float64: the single channel, BT.601 luma for RGB, else the channel mean.

    uint8 images are read as [0, 255] and mapped to [-1, 1], the range of upgan's generators,
    so a uint8 set and the same set in float [-1, 1] have the same spectra and scores.

    Args:
        images: (N, C, H, W), any real dtype.

    Returns:
        (N, H, W) float64.

    Raises:
        ValueError: ``images`` is not a non-empty 4-D tensor.

    Example:
        >>> grey = to_grey(torch.ones(1, 3, 2, 2))
        >>> grey.shape, round(float(grey[0, 0, 0]), 12)
        (torch.Size([1, 2, 2]), 1.0)
        >>> float(to_grey(torch.full((1, 1, 1, 1), 255, dtype=torch.uint8))[0, 0, 0])
        1.0
    """
    x = _check_images(images).double()
    if images.dtype == torch.uint8:
        x = x / 127.5 - 1
    if x.shape[1] == 1:
        return x[:, 0]
    if x.shape[1] == 3:
        return torch.einsum("nchw,c->nhw", x, torch.tensor(_LUMA, dtype=torch.float64))
    return x.mean(dim=1)


def _ring_index(height: int, width: int) -> torch.Tensor:
    """Integer radius of each bin of an fftshift-ed (H, W) spectrum about its DC bin."""
    v = torch.arange(height, dtype=torch.float64) - height // 2
    u = torch.arange(width, dtype=torch.float64) - width // 2
    return torch.hypot(v[:, None], u[None, :]).floor().long()  # (H, W)


def radial_spectrum(images: torch.Tensor) -> torch.Tensor:
    """Azimuthally averaged log-magnitude spectrum of each image, min-max normalised.

    Args:
        images: (N, C, H, W) images, uint8 (see :func:`to_grey`) or float. Scaling the values
            leaves the spectrum unchanged; an offset does not (it moves the zero-frequency
            ring, which the min-max normalisation uses), so compare float sets in the same range.

    Returns:
        (N, R) float64 in [0, 1] with ``R = floor(hypot(H // 2, W // 2)) + 1`` rings; ring
        ``r`` holds the frequencies with ``r <= hypot(u, v) < r + 1`` (in cycles per image).
        An image whose profile is flat (e.g. a single bright pixel) gives zeros.

    Shape:
        (N, C, H, W) -> (N, floor(sqrt((H//2)² + (W//2)²)) + 1).

    Raises:
        ValueError: ``images`` is not a non-empty 4-D tensor.

    Example:
        >>> x = torch.arange(16, dtype=torch.float64).view(1, 1, 1, 16)
        >>> stripes = torch.cos(2 * torch.pi * 4 * x / 16).expand(1, 1, 16, 16)
        >>> s = radial_spectrum(stripes)
        >>> s.shape, int(s.argmax()), float(s[0, 4])
        (torch.Size([1, 12]), 4, 1.0)
    """
    grey = to_grey(images)
    n, h, w = grey.shape
    spectrum = torch.fft.fftshift(torch.fft.fft2(grey), dim=(-2, -1))  # (N, H, W), DC at (H//2, W//2)
    log_mag = 20 * torch.log(spectrum.abs() + 1e-8)
    rings = _ring_index(h, w).flatten()  # (H*W,)
    n_rings = int(rings.max()) + 1
    sums = torch.zeros(n, n_rings, dtype=torch.float64).index_add_(1, rings, log_mag.reshape(n, h * w))
    profile = sums / torch.bincount(rings, minlength=n_rings).double()  # (N, R)
    low = profile.min(dim=1, keepdim=True).values
    span = profile.max(dim=1, keepdim=True).values - low
    return (profile - low) / span.clamp_min(1e-12)


def mean_spectrum(images: torch.Tensor) -> torch.Tensor:
    """The mean over images of :func:`radial_spectrum`.

    Args:
        images: (N, C, H, W) images, as :func:`radial_spectrum`.

    Returns:
        (R,) float64, R as in :func:`radial_spectrum`.

    Raises:
        ValueError: ``images`` is not a non-empty 4-D tensor.

    Example:
        >>> mean_spectrum(torch.rand(3, 1, 8, 8)).shape
        torch.Size([6])
    """
    return radial_spectrum(images).mean(dim=0)


def spectral_distance(gen: torch.Tensor, real: torch.Tensor) -> float:
    """Root mean square difference between the mean spectra of two image sets.

    Args:
        gen: generated images (N, C, H, W).
        real: real images (M, C', H, W), same H and W; uint8 or float in the same range as
            ``gen`` (see :func:`radial_spectrum`).

    Returns:
        ``sqrt(mean_r (S_gen[r] - S_real[r])²)`` with S from :func:`mean_spectrum`; in [0, 1],
        0 for identical spectra.

    Raises:
        ValueError: not 4-D, empty, or different H, W.

    Example:
        >>> x = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(0))
        >>> spectral_distance(x, x), spectral_distance(x, x.flip(-1)) < 1e-12
        (0.0, True)
    """
    _check_same_size(_check_images(gen, "gen"), _check_images(real, "real"))
    diff = mean_spectrum(gen) - mean_spectrum(real)
    return float(diff.square().mean().sqrt())


def _check_period(period: object, height: int, width: int) -> int:
    if not isinstance(period, int) or isinstance(period, bool) or period < 2:
        raise ValueError(f"The `period` argument must be an integer >= 2. Received period={period!r}")
    if height % period or width % period:
        raise ValueError(
            f"The `period` argument must divide the image height and width ({height}x{width}) "
            f"so that its frequencies fall on FFT bins. Received period={period}"
        )
    return period


def period_energy(images: torch.Tensor, period: int = 2) -> torch.Tensor:
    """Share of each image's non-DC power at the frequencies of a period-``period`` pattern.

    Those are the FFT bins ``(a * H / p, b * W / p)`` for ``a, b`` in ``0 .. p - 1``, except
    ``(0, 0)``: for ``p = 2`` the three Nyquist bins.

    Args:
        images: (N, C, H, W) images (converted with :func:`to_grey`).
        period: the pattern's period in pixels (>= 2, dividing H and W). Default 2.

    Returns:
        (N,) float64 in [0, 1]; 0 for a constant image.

    Raises:
        ValueError: ``images`` is not a non-empty 4-D tensor, or a bad ``period``.

    Example:
        >>> y, x = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
        >>> checker = ((-1.0) ** (x + y)).view(1, 1, 8, 8)
        >>> period_energy(checker).tolist(), period_energy(checker, period=4).tolist()
        ([1.0], [1.0])
    """
    grey = to_grey(images)
    n, h, w = grey.shape
    period = _check_period(period, h, w)
    power = torch.fft.fft2(grey).abs().square()  # (N, H, W), DC at (0, 0)
    power[:, 0, 0] = 0
    total = power.flatten(1).sum(dim=1)
    at_period = power[:, :: h // period, :: w // period].flatten(1).sum(dim=1)  # (N,)
    return torch.where(total > 0, at_period / total.clamp_min(1e-300), torch.zeros_like(total))


def checkerboard_score(gen: torch.Tensor, real: torch.Tensor, period: int = 2) -> float:
    """Period-``period`` energy of generated images relative to real ones.

    Args:
        gen: generated images (N, C, H, W).
        real: real images (M, C', H, W), same H and W.
        period: the upsampling period in pixels (>= 2, dividing H and W). Default 2, the
            Nyquist frequency, where a stride-2 upsampling leaves its checkerboard.

    Returns:
        ``mean(period_energy(gen)) / mean(period_energy(real))``: about 1 when they match,
        larger when the generated images carry a grid. 1 when neither set has any energy
        there (e.g. both nearest-upsampled), ``inf`` when only the generated set has.

    Raises:
        ValueError: as :func:`period_energy`, or different H, W.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> smooth = torch.nn.functional.avg_pool2d(torch.rand(8, 1, 18, 18, generator=g), 3, 1)
        >>> y, x = torch.meshgrid(torch.arange(16), torch.arange(16), indexing="ij")
        >>> grid = smooth + 0.05 * (-1.0) ** (x + y)
        >>> checkerboard_score(smooth, smooth), checkerboard_score(grid, smooth) > 5
        (1.0, True)
    """
    _check_same_size(_check_images(gen, "gen"), _check_images(real, "real"))
    g = period_energy(gen, period).mean()
    r = period_energy(real, period).mean()
    if r == 0:
        return 1.0 if g == 0 else float("inf")
    return float(g / r)
