"""Argument checks shared by the Keras-style layers, with Keras-style error messages."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

from upgan.keras.backend import image_data_format

DATA_FORMATS = ("channels_last", "channels_first")
PADDINGS = ("valid", "same")


def is_int(value: object) -> bool:
    """True for Python and NumPy integers, False for bools and floats."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def as_sequence(value: object) -> object:
    """A 1-D NumPy array (or tensor) as a tuple of its items, as Keras takes them for shapes; anything else unchanged."""
    if hasattr(value, "ndim") and hasattr(value, "tolist") and getattr(value, "ndim") == 1:
        return tuple(value.tolist())
    return value


def positive_int(value: object, arg: str) -> int:
    """Return ``value`` as an int, or raise if it is not an integer > 0."""
    if not is_int(value) or value <= 0:
        raise ValueError(f"The `{arg}` argument must be a positive integer. Received {arg}={value!r}")
    return int(value)


def int_tuple(value: object, n: int, arg: str, *, allow_zero: bool = False) -> tuple[int, ...]:
    """Normalise an int or a sequence of ``n`` ints to a tuple of ``n`` ints.

    Values must be > 0, or >= 0 with ``allow_zero``.
    """
    bound = "non-negative" if allow_zero else "positive"
    value = as_sequence(value)
    error = ValueError(
        f"The `{arg}` argument must be an integer or a tuple of {n} {bound} integers. "
        f"Received {arg}={value!r}"
    )
    if is_int(value):
        values = (int(value),) * n
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == n:
        if not all(is_int(v) for v in value):
            raise error
        values = tuple(int(v) for v in value)
    else:
        raise error
    if any(v < 0 or (v == 0 and not allow_zero) for v in values):
        raise error
    return values


def choice(value: object, arg: str, allowed: Sequence[str]) -> str:
    """Lower-case ``value`` and check it is one of ``allowed``."""
    if not isinstance(value, str) or value.lower() not in allowed:
        raise ValueError(
            f"The `{arg}` argument must be one of {', '.join(repr(a) for a in allowed)}. "
            f"Received {arg}={value!r}"
        )
    return value.lower()


def data_format(value: str | None) -> str:
    """``None`` -> the default (channels_last); otherwise check against ``DATA_FORMATS``."""
    return image_data_format() if value is None else choice(value, "data_format", DATA_FORMATS)


def shape_tuple(value: object, arg: str) -> tuple[int | None, ...]:
    """Check a shape without the batch axis: a tuple of positive ints (``None`` allowed)."""
    value = as_sequence(value)
    if is_int(value):
        value = (value,)
    if (
        not isinstance(value, Sequence)
        or isinstance(value, str)
        or not all(v is None or (is_int(v) and v > 0) for v in value)
    ):
        raise ValueError(
            f"The `{arg}` argument must be a tuple of positive integers (or None). "
            f"Received {arg}={value!r}"
        )
    return tuple(None if v is None else int(v) for v in value)


def strides_and_dilation(strides: tuple[int, ...], dilation_rate: tuple[int, ...]) -> None:
    """Refuse strides > 1 together with dilation_rate > 1, as Keras's convolutions do."""
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError(
            "`strides > 1` is not supported together with `dilation_rate > 1`. "
            f"Received strides={strides}, dilation_rate={dilation_rate}"
        )
