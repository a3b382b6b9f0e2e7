"""Argument checks on plain Python values, shared by :mod:`upgan.shapes` and :mod:`upgan.functional`.

This module imports nothing heavy, so :mod:`upgan.shapes` stays free of torch. Every check raises
``ValueError`` or ``TypeError`` with a message in Keras's style: it names the argument, says what
was expected and shows the value received, e.g. "The `stride` argument must be an integer or a
tuple of 2 integers, each >= 1. Received stride=(1, 0)".
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

__all__ = ["check_int", "pair", "odd_pair", "check_choice"]


def _is_int(value: object) -> bool:
    # Python and NumPy integers; bool is an Integral too, but `stride=True` is a mistake.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(value: object, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` if it is an integer >= ``minimum``.

    Args:
        value: the value to check.
        name: the argument's name, used in the error message.
        minimum: the smallest allowed value (default 1).

    Raises:
        TypeError: ``value`` is not an integer (bools are refused).
        ValueError: ``value`` is smaller than ``minimum``.

    >>> check_int(3, "groups")
    3
    >>> check_int(0, "groups")
    Traceback (most recent call last):
    ...
    ValueError: The `groups` argument must be an integer >= 1. Received groups=0
    """
    if not _is_int(value):
        raise TypeError(
            f"The `{name}` argument must be an integer >= {minimum}. "
            f"Received {name}={value!r} of type {type(value).__name__}"
        )
    if value < minimum:
        raise ValueError(f"The `{name}` argument must be an integer >= {minimum}. Received {name}={value!r}")
    return int(value)


def pair(value: object, name: str, *, minimum: int = 1) -> tuple[int, int]:
    """Return ``value`` as a ``(height, width)`` tuple of integers >= ``minimum``.

    Args:
        value: an integer (used for both axes) or a tuple/list of 2 integers.
        name: the argument's name, used in the error message.
        minimum: the smallest allowed entry (default 1; 0 for paddings).

    Raises:
        TypeError: ``value`` is neither an integer nor a sequence of 2 integers.
        ValueError: an entry is smaller than ``minimum``.

    >>> pair(2, "stride")
    (2, 2)
    >>> pair([1, 3], "stride")
    (1, 3)
    >>> pair((1, 0), "stride")
    Traceback (most recent call last):
    ...
    ValueError: The `stride` argument must be an integer or a tuple of 2 integers, each >= 1. Received stride=(1, 0)
    """
    expected = f"The `{name}` argument must be an integer or a tuple of 2 integers, each >= {minimum}."
    if _is_int(value):
        values = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_int(v) for v in value):
        values = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{expected} Received {name}={value!r}")
    if min(values) < minimum:
        raise ValueError(f"{expected} Received {name}={value!r}")
    return values


def check_choice(value: object, name: str, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of the strings in ``allowed``.

    Args:
        value: the value to check.
        name: the argument's name, used in the error message.
        allowed: the accepted strings, listed in the error message in this order.

    Raises:
        ValueError: ``value`` is not one of ``allowed``.

    >>> check_choice("nearest", "mode", ("nearest", "bilinear"))
    'nearest'
    >>> check_choice("cubic", "mode", ("nearest", "bilinear"))
    Traceback (most recent call last):
    ...
    ValueError: The `mode` argument must be one of 'nearest', 'bilinear'. Received mode='cubic'
    """
    allowed = tuple(allowed)
    if not isinstance(value, str) or value not in allowed:
        listed = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"The `{name}` argument must be one of {listed}. Received {name}={value!r}")
    return value


def odd_pair(value: object, name: str) -> tuple[int, int]:
    """:func:`pair` for kernel sizes that must be odd (centred "same" convolutions).

    >>> odd_pair(3, "kernel_size")
    (3, 3)
    >>> odd_pair((3, 4), "kernel_size")
    Traceback (most recent call last):
    ...
    ValueError: The `kernel_size` argument must be an odd integer or a tuple of 2 odd integers. Received kernel_size=(3, 4)
    """
    values = pair(value, name)
    if values[0] % 2 == 0 or values[1] % 2 == 0:
        raise ValueError(
            f"The `{name}` argument must be an odd integer or a tuple of 2 odd integers. Received {name}={value!r}"
        )
    return values
