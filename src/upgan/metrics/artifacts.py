"""Checkerboard diagnostics in image space: transposed-convolution overlap and per-phase statistics.

Odena, Dumoulin and Olah (2016, "Deconvolution and Checkerboard Artifacts", Distill): a
transposed convolution with kernel ``k`` and stride ``s`` paints each input pixel's kernel
onto the output ``s`` pixels apart, so output pixels receive different numbers of
contributions unless ``s`` divides ``k``. The count of contributions per output pixel is
``conv_transpose2d(ones, ones(k, k), stride=s)``; away from the borders it repeats with
period ``s`` and, per axis, phase ``p`` (output position mod ``s``) receives
``ceil((k - p) / s)`` taps. For k=3, s=2 that is 2:1 in one dimension and 4:1 in two.

A trained generator's output shows the same period as a bias per phase, which
:func:`phase_statistics` measures.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from upgan.functional._checks import check_finite, check_int

__all__ = ["overlap_pattern", "overlap_period", "describe_overlap", "phase_statistics"]


def overlap_pattern(kernel_size: int, stride: int, input_size: int = 4) -> torch.Tensor:
    """How many kernel taps reach each output pixel of a transposed convolution.

    The full (uncropped) transposed convolution of an all-ones ``input_size`` x
    ``input_size`` map with an all-ones ``kernel_size`` x ``kernel_size`` kernel.

    Args:
        kernel_size: k (>= 1).
        stride: s (>= 1).
        input_size: side of the input map (>= 1). Default 4.

    Returns:
        (L, L) float tensor of counts, ``L = (input_size - 1) * s + k``.

    Shape:
        ``L = (input_size - 1) * stride + kernel_size`` on each side.

    Raises:
        TypeError, ValueError: an argument is not an integer >= 1.

    Example:
        >>> overlap_pattern(3, 2, input_size=2).int().tolist()
        [[1, 1, 2, 1, 1], [1, 1, 2, 1, 1], [2, 2, 4, 2, 2], [1, 1, 2, 1, 1], [1, 1, 2, 1, 1]]
    """
    k = check_int(kernel_size, "kernel_size")
    s = check_int(stride, "stride")
    n = check_int(input_size, "input_size")
    ones = torch.ones(1, 1, n, n, dtype=torch.float64)
    return F.conv_transpose2d(ones, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s)[0, 0]  # (L, L)


def overlap_period(kernel_size: int, stride: int) -> torch.Tensor:
    """The repeating s x s tile of the overlap pattern away from the borders.

    Row ``p``, column ``q`` holds the count at output positions ``y = p``, ``x = q``
    (mod ``stride``) in the interior, measured on :func:`overlap_pattern` of an input large
    enough for the interior to hold a whole period.

    Args:
        kernel_size: k (>= 1).
        stride: s (>= 1).

    Returns:
        (s, s) float64 tensor; equals the outer product of ``ceil((k - p) / s)``, p < s.

    Raises:
        TypeError, ValueError: an argument is not an integer >= 1.

    Example:
        >>> overlap_period(3, 2).int().tolist(), overlap_period(4, 2).int().tolist()
        ([[4, 2], [2, 1]], [[4, 4], [4, 4]])
    """
    k = check_int(kernel_size, "kernel_size")
    s = check_int(stride, "stride")
    # Output pixel y gets taps from inputs i with 0 <= y - i*s < k; it is interior (all such
    # inputs exist) once y >= k - 1 and y <= (n - 1) * s. Take the first whole period there.
    start = s * math.ceil((k - 1) / s)
    n = start // s + 2
    pattern = overlap_pattern(k, s, n)
    return pattern[start : start + s, start : start + s].clone()


def describe_overlap(kernel_size: int, stride: int) -> str:
    """One line saying whether a transposed convolution's overlap is even.

    Args:
        kernel_size: k (>= 1).
        stride: s (>= 1).

    Returns:
        ``"even: every output pixel gets N taps"``, ``"uneven: max/min = A:B"`` or, when
        the kernel is smaller than the stride, ``"gaps: ..."``.

    Raises:
        TypeError, ValueError: an argument is not an integer >= 1.

    Example:
        >>> describe_overlap(3, 2)
        'uneven: max/min = 4:1 (stride 2 does not divide kernel 3)'
        >>> describe_overlap(4, 2)
        'even: every output pixel gets 4 taps (stride 2 divides kernel 4)'
        >>> describe_overlap(1, 2)
        'gaps: 3 of 4 output pixels per period get no input (kernel 1 < stride 2)'
    """
    tile = overlap_period(kernel_size, stride)
    high, low = int(tile.max()), int(tile.min())
    if low == 0:
        zeros = int((tile == 0).sum())
        return (
            f"gaps: {zeros} of {tile.numel()} output pixels per period get no input "
            f"(kernel {kernel_size} < stride {stride})"
        )
    if high == low:
        return f"even: every output pixel gets {high} taps (stride {stride} divides kernel {kernel_size})"
    g = math.gcd(high, low)
    return f"uneven: max/min = {high // g}:{low // g} (stride {stride} does not divide kernel {kernel_size})"


def phase_statistics(images: torch.Tensor, period: int = 2) -> dict:
    """Mean statistics of an image set per phase (pixel position mod ``period``).

    Two (period x period) tables over all images and channels:

    - ``mean``: the mean pixel value at each phase;
    - ``residual``: the mean of ``x - box3(x)`` at each phase, where ``box3`` is the 3x3
      mean with replicated borders: a pixel's deviation from its neighbourhood, which a
      checkerboard makes alternate in sign between phases and which is near 0 at every phase
      for translation-invariant image statistics.

    and ``spread``: ``max(residual) - min(residual)``, one number to compare sets by.

    Args:
        images: (N, C, H, W), any range (generated and real sets on the same scale).
        period: phase period (>= 1; the upsampling stride). Default 2.

    Returns:
        ``{"period": int, "mean": list of lists, "residual": list of lists, "spread": float}``.

    Shape:
        H and W need not be multiples of ``period``: every pixel counts for its phase.

    Raises:
        ValueError: ``images`` is not a non-empty 4-D tensor, or holds NaN/inf.
        TypeError, ValueError: ``period`` is not an integer from 1 to min(H, W).

    Example:
        >>> y, x = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
        >>> checker = ((-1.0) ** (x + y)).view(1, 1, 8, 8)
        >>> stats = phase_statistics(checker)
        >>> stats["mean"], round(stats["spread"], 3)
        ([[1.0, -1.0], [-1.0, 1.0]], 1.944)
    """
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[0] < 1:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(
            f"The `images` argument must be a tensor of images (N, C, H, W) with N >= 1. Received images of shape {shape}"
        )
    p = check_int(period, "period")
    if p > min(images.shape[-2:]):
        raise ValueError(
            f"The `period` argument must be at most the image height and width, or some phases have no pixel. "
            f"Received period={p} for images of shape {tuple(images.shape)}"
        )
    check_finite(images, "The `images`")
    x = images.double().flatten(0, 1).unsqueeze(1)  # (N*C, 1, H, W)
    box = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)  # (N*C, 1, H, W)
    residual = x - box
    h, w = x.shape[-2:]
    mean = torch.zeros(p, p, dtype=torch.float64)
    res = torch.zeros(p, p, dtype=torch.float64)
    for a in range(p):
        for b in range(p):
            mean[a, b] = x[..., a:h:p, b:w:p].mean()
            res[a, b] = residual[..., a:h:p, b:w:p].mean()
    return {
        "period": p,
        "mean": mean.tolist(),
        "residual": res.tolist(),
        "spread": float(res.max() - res.min()),
    }
