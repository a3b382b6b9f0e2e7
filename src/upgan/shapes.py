"""Output-size arithmetic for convolution, transposed convolution and upsampling.

Every output size in upgan comes from here. Two conventions are supported:

- **Keras** (``padding="valid"`` or ``"same"``), as Keras 3 computes it
  (``keras/src/backend/common/backend_utils.py``, ``compute_conv_transpose_output_shape``);
- **PyTorch** (``padding`` an integer), as ``torch.nn.Conv2d`` / ``ConvTranspose2d`` compute it.

All functions work on one spatial axis and take and return plain integers. With
``k' = (k - 1) * d + 1`` the dilated kernel size:

============================  ======================================  ==============================
                              convolution                             transposed convolution
============================  ======================================  ==============================
Keras ``"valid"``             ``floor((i - k') / s) + 1``             ``(i - 1) * s + max(k', s)``
Keras ``"same"``              ``ceil(i / s)``                         ``i * s``
Keras, ``output_padding=op``                                          valid: ``(i - 1) * s + k' + op``,
                                                                      same: ``(i - 1) * s + k' % 2 + op``
PyTorch ``padding=p``         ``floor((i + 2p - k') / s) + 1``        ``(i - 1) * s - 2p + k' + op``
============================  ======================================  ==============================

>>> conv_transpose_output_size(5, 3, stride=2, padding="same")
10
>>> conv_transpose_output_size(5, 3, stride=2, padding="valid")
11
>>> conv_transpose_output_size(2, 1, stride=2, padding="valid")  # Keras
4
>>> conv_transpose_output_size(2, 1, stride=2, padding=0)  # torch
3
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Iterable

from upgan._validation import check_choice, check_int

__all__ = [
    "conv_output_size",
    "conv_padding",
    "conv_transpose_output_size",
    "conv_transpose_padding",
    "conv_transpose_steps",
    "ConvTransposeSteps",
    "upsample_output_size",
    "plan_upsampling",
    "reachable_sizes",
    "solve_conv_transpose",
]

PADDINGS = ("valid", "same")


def _check_padding(padding: object) -> str | int:
    """Return ``padding`` if it is 'valid', 'same' or an integer >= 0."""
    if isinstance(padding, str):
        return check_choice(padding, "padding", PADDINGS)
    message = f"The `padding` argument must be 'valid', 'same' or an integer >= 0. Received padding={padding!r}"
    if not isinstance(padding, numbers.Integral) or isinstance(padding, bool):
        raise TypeError(message)
    if padding < 0:
        raise ValueError(message)
    return int(padding)


def _dilated(kernel_size: int, dilation: int) -> int:
    # k' = (k - 1) * d + 1: the span of a dilated kernel.
    return (check_int(kernel_size, "kernel_size") - 1) * check_int(dilation, "dilation") + 1


def _positive_result(size: int, what: str, arguments: str, advice: str) -> int:
    if size < 1:
        raise ValueError(f"The {what} would be {size} (< 1) for {arguments}; {advice}.")
    return size


def conv_output_size(
    size: int, kernel_size: int, stride: int = 1, padding: str | int = "valid", dilation: int = 1
) -> int:
    """Output length of a convolution along one axis.

    Args:
        size: input length ``i`` (>= 1).
        kernel_size: kernel length ``k`` (>= 1).
        stride: stride ``s`` (>= 1, default 1).
        padding: ``"valid"`` (default) or ``"same"`` for Keras's rules, or an integer ``p >= 0``
            for PyTorch's symmetric padding.
        dilation: dilation ``d`` (>= 1, default 1).

    Returns:
        The output length ``o``.

    Shape:
        With ``k' = (k - 1) * d + 1``: ``"valid"``: ``o = floor((i - k') / s) + 1``;
        ``"same"``: ``o = ceil(i / s)``; integer ``p``: ``o = floor((i + 2p - k') / s) + 1``.

    Raises:
        TypeError, ValueError: an argument is not an allowed value, or the output would be empty.

    >>> conv_output_size(10, 3, padding="same"), conv_output_size(10, 3), conv_output_size(10, 3, padding=1)
    (10, 8, 10)
    >>> conv_output_size(7, 4, stride=2, padding="same")
    4
    """
    size = check_int(size, "size")
    stride = check_int(stride, "stride")
    padding = _check_padding(padding)
    k = _dilated(kernel_size, dilation)
    if padding == "same":
        out = -(-size // stride)
    elif padding == "valid":
        out = (size - k) // stride + 1
    else:
        out = (size + 2 * padding - k) // stride + 1
    return _positive_result(
        out, "convolution's output size", f"size={size}, kernel_size={kernel_size}, stride={stride}, "
        f"padding={padding!r}, dilation={dilation}", "use a larger input, a smaller kernel or more padding"
    )


def conv_padding(
    size: int, kernel_size: int, stride: int = 1, padding: str | int = "valid", dilation: int = 1
) -> tuple[int, int]:
    """Zeros added before and after the input along one axis by a convolution.

    For Keras's ``"same"`` the total is ``max((o - 1) * s + k' - i, 0)`` with ``o = ceil(i / s)``,
    and the odd one goes after (TensorFlow's split: ``before = total // 2``). ``"valid"`` adds
    none; an integer ``p`` adds ``p`` on each side.

    Args:
        size, kernel_size, stride, padding, dilation: as in :func:`conv_output_size`.

    Returns:
        ``(pad_before, pad_after)``.

    Shape:
        ``conv_output_size(...) == (i + pad_before + pad_after - k') // s + 1``.

    Raises:
        TypeError, ValueError: as :func:`conv_output_size`.

    >>> conv_padding(5, 3, padding="same"), conv_padding(6, 4, stride=2, padding="same")
    ((1, 1), (1, 1))
    >>> conv_padding(5, 4, padding="same"), conv_padding(5, 3, padding=2)
    ((1, 2), (2, 2))
    """
    out = conv_output_size(size, kernel_size, stride, padding, dilation)
    if padding == "valid":
        return 0, 0
    if padding == "same":
        total = max((out - 1) * stride + _dilated(kernel_size, dilation) - size, 0)
        return total // 2, total - total // 2
    return int(padding), int(padding)


def conv_transpose_padding(
    kernel_size: int,
    stride: int = 1,
    padding: str | int = "valid",
    output_padding: int | None = None,
    dilation: int = 1,
) -> tuple[int, int]:
    """How much a transposed convolution crops from its full result, along one axis.

    The *full* transposed convolution of an input of length ``i`` (every product of every
    input pixel with every kernel tap, zero padding nowhere) has length ``(i - 1) * s + k'``.
    Every padding rule keeps a window of it: it drops ``crop_before`` elements at the start and
    ``crop_after`` at the end; a negative ``crop_after`` appends that many zeros instead (the
    window reaches past the full result, so those outputs get no kernel tap, only the bias).

    - Keras's rules, from the difference ``D = full - output`` (independent of ``i``):
      ``crop_before = max(D, 0) // 2`` and ``crop_after = D - crop_before``.
      This is TensorFlow's split (``tf.nn.conv2d_transpose`` pads the equivalent forward
      convolution with ``total // 2`` before), which is also Keras's JAX/torch split
      ``left = min(ceil((s + k' - 2) / 2), k' - 1)`` written as a crop (see keras#22876).
    - PyTorch's rule for an integer ``p``: ``crop_before = p``, ``crop_after = p - output_padding``.

    Args:
        kernel_size: kernel length ``k`` (>= 1).
        stride: stride ``s`` (>= 1, default 1).
        padding: ``"valid"`` (default), ``"same"`` or an integer ``p >= 0``.
        output_padding: extra length at the end. ``None`` (default) means Keras's default for a
            string padding and 0 for an integer one. Must be < ``stride`` for a string padding
            and < ``max(stride, dilation)`` for an integer one.
        dilation: dilation ``d`` (>= 1, default 1).

    Returns:
        ``(crop_before, crop_after)``.

    Shape:
        ``output = (i - 1) * s + k' - crop_before - crop_after`` with ``k' = (k - 1) * d + 1``.

    Raises:
        TypeError, ValueError: an argument is not an allowed value.

    >>> conv_transpose_padding(3, 2, "same")   # 5 -> 11 in full, keep 10
    (0, 1)
    >>> conv_transpose_padding(4, 2, "same"), conv_transpose_padding(5, 2, "same")
    ((1, 1), (1, 2))
    >>> conv_transpose_padding(1, 2, "valid")  # one zero appended: 2 -> 4, not 3
    (0, -1)
    >>> conv_transpose_padding(4, 2, 1)        # torch's ConvTranspose2d(k=4, s=2, p=1)
    (1, 1)
    """
    stride = check_int(stride, "stride")
    padding = _check_padding(padding)
    k = _dilated(kernel_size, dilation)
    if isinstance(padding, int):
        op = 0 if output_padding is None else check_int(output_padding, "output_padding", minimum=0)
        if op >= max(stride, dilation):
            raise ValueError(
                "The `output_padding` argument must be smaller than `stride` or `dilation`. "
                f"Received output_padding={op}, stride={stride}, dilation={dilation}"
            )
        return padding, padding - op
    if output_padding is not None:
        check_int(output_padding, "output_padding", minimum=0)
        if output_padding >= stride:
            raise ValueError(
                "The `output_padding` argument must be smaller than `stride`. "
                f"Received output_padding={output_padding}, stride={stride}"
            )
    if padding == "valid":
        # output = (i-1)s + k' + op, with op defaulting to max(k', s) - k'.
        op = max(k, stride) - k if output_padding is None else output_padding
        diff = -op
    elif output_padding is None:
        diff = k - stride  # output = i * s
    else:
        diff = k - k % 2 - output_padding  # output = (i-1)s + k' % 2 + op
    before = max(diff, 0) // 2
    return before, diff - before


def conv_transpose_output_size(
    size: int,
    kernel_size: int,
    stride: int = 1,
    padding: str | int = "valid",
    output_padding: int | None = None,
    dilation: int = 1,
) -> int:
    """Output length of a transposed convolution along one axis.

    Args:
        size: input length ``i`` (>= 1).
        kernel_size, stride, padding, output_padding, dilation: as in
            :func:`conv_transpose_padding` (a string padding follows Keras 3, an integer one
            PyTorch).

    Returns:
        The output length ``o``.

    Shape:
        With ``k' = (k - 1) * d + 1``: ``"valid"``: ``o = (i - 1) * s + max(k', s)``, or
        ``(i - 1) * s + k' + op`` with ``output_padding=op``; ``"same"``: ``o = i * s``, or
        ``(i - 1) * s + k' % 2 + op``; integer ``p``: ``o = (i - 1) * s - 2p + k' + op``.

    Raises:
        TypeError, ValueError: an argument is not an allowed value, or the output would be empty.

    >>> [conv_transpose_output_size(5, 3, 2, p) for p in ("same", "valid", 0, 1)]
    [10, 11, 11, 9]
    >>> conv_transpose_output_size(7, 4, 2, "same"), conv_transpose_output_size(7, 4, 2, 1)
    (14, 14)
    """
    size = check_int(size, "size")
    before, after = conv_transpose_padding(kernel_size, stride, padding, output_padding, dilation)
    out = (size - 1) * stride + _dilated(kernel_size, dilation) - before - after
    return _positive_result(
        out, "transposed convolution's output size", f"size={size}, kernel_size={kernel_size}, stride={stride}, "
        f"padding={padding!r}, output_padding={output_padding!r}, dilation={dilation}",
        "use a larger input, less padding or a larger output_padding",
    )


@dataclasses.dataclass(frozen=True)
class ConvTransposeSteps:
    """The intermediate quantities of a transposed convolution along one axis.

    A transposed convolution equals: insert ``stride - 1`` zeros between input elements
    (length ``zero_inserted``), pad ``pad_before`` / ``pad_after`` zeros (negative: crop), and
    run a stride-1 "valid" convolution with the spatially flipped kernel.

    Attributes:
        size: input length ``i``.
        kernel_size, stride, dilation: as given.
        padding, output_padding: as given.
        dilated_kernel: ``k' = (k - 1) * d + 1``.
        zero_inserted: ``(i - 1) * s + 1``.
        full: ``(i - 1) * s + k'``, the length before cropping.
        crop_before, crop_after: see :func:`conv_transpose_padding`.
        pad_before, pad_after: ``k' - 1 - crop_before`` and ``k' - 1 - crop_after``.
        output_size: ``full - crop_before - crop_after``.
    """

    size: int
    kernel_size: int
    stride: int
    padding: str | int
    output_padding: int | None
    dilation: int
    dilated_kernel: int
    zero_inserted: int
    full: int
    crop_before: int
    crop_after: int
    pad_before: int
    pad_after: int
    output_size: int


def conv_transpose_steps(
    size: int,
    kernel_size: int,
    stride: int = 1,
    padding: str | int = "valid",
    output_padding: int | None = None,
    dilation: int = 1,
) -> ConvTransposeSteps:
    """The step-by-step arithmetic of a transposed convolution along one axis.

    Args:
        size, kernel_size, stride, padding, output_padding, dilation: as in
            :func:`conv_transpose_output_size`.

    Returns:
        A :class:`ConvTransposeSteps`.

    Shape:
        ``zero_inserted + pad_before + pad_after - dilated_kernel + 1 == output_size``.

    Raises:
        TypeError, ValueError: as :func:`conv_transpose_output_size`.

    >>> s = conv_transpose_steps(5, 3, stride=2, padding="same")
    >>> s.zero_inserted, s.pad_before, s.pad_after, s.full, s.crop_before, s.crop_after, s.output_size
    (9, 2, 1, 11, 0, 1, 10)
    """
    out = conv_transpose_output_size(size, kernel_size, stride, padding, output_padding, dilation)
    before, after = conv_transpose_padding(kernel_size, stride, padding, output_padding, dilation)
    k = _dilated(kernel_size, dilation)
    return ConvTransposeSteps(
        size=size,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        dilated_kernel=k,
        zero_inserted=(size - 1) * stride + 1,
        full=(size - 1) * stride + k,
        crop_before=before,
        crop_after=after,
        pad_before=k - 1 - before,
        pad_after=k - 1 - after,
        output_size=out,
    )


def upsample_output_size(size: int, scale_factor: int) -> int:
    """Output length of upsampling by an integer factor along one axis.

    Args:
        size: input length ``i`` (>= 1).
        scale_factor: integer factor ``f`` (>= 1).

    Shape:
        ``o = i * f``.

    Raises:
        TypeError, ValueError: an argument is not a positive integer.

    >>> upsample_output_size(7, 2)
    14
    """
    return check_int(size, "size") * check_int(scale_factor, "scale_factor")


def _check_plan(factor: int, max_base: int, min_base: int) -> None:
    check_int(factor, "factor", minimum=2)
    check_int(min_base, "min_base")
    check_int(max_base, "max_base")
    if min_base > max_base:
        raise ValueError(
            f"The `min_base` argument must not exceed `max_base`. Received min_base={min_base}, max_base={max_base}"
        )


def reachable_sizes(limit: int, factor: int = 2, max_base: int = 7, min_base: int = 3) -> list[int]:
    """Image sizes up to ``limit`` that a stack of upsampling stages can produce.

    A size is reachable when it equals ``base * factor ** n`` for some ``base`` in
    ``[min_base, max_base]`` and ``n >= 1`` stages.

    Args:
        limit: the largest size to list (>= 1).
        factor: upsampling factor of each stage (>= 2, default 2).
        max_base: largest starting map size (default 7).
        min_base: smallest starting map size (default 3, <= ``max_base``).

    Returns:
        The sorted list of reachable sizes ``<= limit``.

    Raises:
        TypeError, ValueError: an argument is not an allowed value.

    >>> reachable_sizes(32)
    [6, 8, 10, 12, 14, 16, 20, 24, 28, 32]
    """
    check_int(limit, "limit")
    _check_plan(factor, max_base, min_base)
    sizes = set()
    for base in range(min_base, max_base + 1):
        size = base * factor
        while size <= limit:
            sizes.add(size)
            size *= factor
    return sorted(sizes)


def plan_upsampling(image_size: int, factor: int = 2, max_base: int = 7, min_base: int = 3) -> tuple[int, int]:
    """Starting map size and number of upsampling stages that produce ``image_size``.

    Among the plans ``base * factor ** n_stages == image_size`` with ``n_stages >= 1`` and
    ``min_base <= base <= max_base``, returns the one with the fewest stages (the largest base),
    as DCGAN-style generators do: 7 -> 14 -> 28 for MNIST, 4 -> 8 -> 16 -> 32 for CIFAR-10.

    Args:
        image_size: the generated image's height (= width), >= 1.
        factor, max_base, min_base: as in :func:`reachable_sizes`.

    Returns:
        ``(base_size, n_stages)``.

    Shape:
        ``base_size * factor ** n_stages == image_size``.

    Raises:
        TypeError: an argument is not an integer.
        ValueError: no plan reaches ``image_size``; the message lists the sizes that work up to
            ``2 * image_size``.

    >>> plan_upsampling(28), plan_upsampling(32), plan_upsampling(64)
    ((7, 2), (4, 3), (4, 4))
    >>> plan_upsampling(30)
    Traceback (most recent call last):
    ...
    ValueError: Cannot reach image_size=30 by upsampling a map of size 3 to 7 by a factor of 2 at least once. Sizes that work up to 60: 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56
    """
    check_int(image_size, "image_size")
    _check_plan(factor, max_base, min_base)
    size, n_stages = image_size, 0
    while size % factor == 0 and (size > max_base or n_stages == 0):
        size, n_stages = size // factor, n_stages + 1
    if n_stages >= 1 and min_base <= size <= max_base:
        return size, n_stages
    works = ", ".join(str(s) for s in reachable_sizes(2 * image_size, factor, max_base, min_base))
    raise ValueError(
        f"Cannot reach image_size={image_size} by upsampling a map of size {min_base} to {max_base} by a factor "
        f"of {factor} at least once. Sizes that work up to {2 * image_size}: {works or 'none'}"
    )


def solve_conv_transpose(
    in_size: int,
    out_size: int,
    kernel_sizes: Iterable[int] = range(1, 8),
    strides: Iterable[int] = range(1, 5),
) -> list[dict]:
    """Transposed-convolution configurations that map ``in_size`` to ``out_size``.

    Searches both conventions (dilation 1):

    - ``"keras"``: ``padding`` in ``"valid"``, ``"same"``; ``output_padding`` ``None`` or
      ``0 .. stride - 1``;
    - ``"torch"``: integer ``padding`` in ``0 .. kernel_size - 1`` (a larger padding would crop
      whole kernel footprints away); ``output_padding`` in ``0 .. stride - 1``.

    Args:
        in_size: input length (>= 1).
        out_size: wanted output length (>= 1).
        kernel_sizes: kernel lengths to try (default 1 to 7).
        strides: strides to try (default 1 to 4).

    Returns:
        A list of dicts with keys ``convention``, ``kernel_size``, ``stride``, ``padding``,
        ``output_padding``, ordered by convention, stride, kernel size, then padding.

    Raises:
        TypeError, ValueError: a size, kernel size or stride is not a positive integer.

    >>> [c for c in solve_conv_transpose(7, 14, kernel_sizes=[4], strides=[2]) if c["output_padding"] is None]
    [{'convention': 'keras', 'kernel_size': 4, 'stride': 2, 'padding': 'same', 'output_padding': None}]
    >>> [(c["padding"], c["output_padding"]) for c in solve_conv_transpose(7, 14, [4], [2])
    ...  if c["convention"] == "torch"]
    [(1, 0)]
    """
    check_int(in_size, "in_size")
    check_int(out_size, "out_size")
    kernel_sizes = [check_int(k, "kernel_sizes") for k in kernel_sizes]
    strides = [check_int(s, "strides") for s in strides]
    found = []
    for convention, paddings in (("keras", lambda k: PADDINGS), ("torch", lambda k: range(k))):
        for stride in sorted(set(strides)):
            for kernel in sorted(set(kernel_sizes)):
                for padding in paddings(kernel):
                    ops = [None, *range(stride)] if convention == "keras" else range(stride)
                    for op in ops:
                        before, after = conv_transpose_padding(kernel, stride, padding, op)
                        if (in_size - 1) * stride + kernel - before - after == out_size:
                            found.append(
                                {
                                    "convention": convention,
                                    "kernel_size": kernel,
                                    "stride": stride,
                                    "padding": padding,
                                    "output_padding": op,
                                }
                            )
    return found
