"""Process-wide state of the Keras-style API: unique layer names and the data format.

Keras 3 names layers from their class (``Dense`` -> ``dense``, ``dense_1``, ...), unique per
process until :func:`clear_session`; upgan does the same so summaries read like Keras's.
"""

from __future__ import annotations

import collections
import re

__all__ = ["clear_session", "image_data_format", "unique_name", "to_snake_case"]

_name_counts: collections.Counter[str] = collections.Counter()


def to_snake_case(name: str) -> str:
    """Convert a class name to the prefix Keras 3 uses for automatic layer names.

    Args:
        name: a CamelCase class name.

    Returns:
        The snake_case prefix.

    >>> to_snake_case("UpSampling2D"), to_snake_case("Conv2DTranspose"), to_snake_case("LeakyReLU")
    ('up_sampling2d', 'conv2d_transpose', 'leaky_re_lu')
    """
    # Same two-pass rule as keras/src/utils/naming.py: split before a capital that starts a
    # lower-case run, then between a lower-case letter or digit and a capital.
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    """Return ``prefix`` the first time, then ``prefix_1``, ``prefix_2``, ... (per process).

    >>> clear_session()
    >>> unique_name("dense"), unique_name("dense"), unique_name("conv2d")
    ('dense', 'dense_1', 'conv2d')
    """
    count = _name_counts[prefix]
    _name_counts[prefix] += 1
    return prefix if count == 0 else f"{prefix}_{count}"


def clear_session() -> None:
    """Reset automatic naming, so the next ``Dense()`` is called ``dense`` again.

    >>> clear_session(); unique_name("dense")
    'dense'
    """
    _name_counts.clear()


def image_data_format() -> str:
    """The default image data format, ``"channels_last"`` as in Keras.

    >>> image_data_format()
    'channels_last'
    """
    return "channels_last"
