"""``Input``: declares the shape of a Sequential model's input."""

from __future__ import annotations

from collections.abc import Sequence

from upgan.keras import _args
from upgan.keras.backend import unique_name

__all__ = ["Input", "InputLayer"]


class InputLayer:
    """The input of a model: a sample shape and an optional fixed batch size.

    Made by :func:`Input`; has no weights and, as in Keras 3, is not listed in
    ``Sequential.layers`` or the summary.

    Args:
        shape: shape of one sample, positive integers or None (unknown).
        batch_size: a fixed batch size, or None (default: any).
        name: default ``input_layer``, ``input_layer_1``, ...

    Raises:
        ValueError: for a malformed shape or batch size.
    """

    def __init__(self, shape: Sequence[int | None], batch_size: int | None = None, name: str | None = None) -> None:
        self.shape = _args.shape_tuple(shape, "shape")
        self.batch_size = None if batch_size is None else _args.positive_int(batch_size, "batch_size")
        self.name = name if name is not None else unique_name("input_layer")

    @property
    def batch_shape(self) -> tuple[int | None, ...]:
        """``(batch_size, *shape)``."""
        return (self.batch_size, *self.shape)

    def __repr__(self) -> str:
        return f"<InputLayer name={self.name!r} batch_shape={self.batch_shape}>"


def Input(  # noqa: N802 (Keras's name)
    shape: Sequence[int | None], batch_size: int | None = None, name: str | None = None
) -> InputLayer:
    """Declare a model input of ``shape`` (without the batch axis), as ``keras.Input``.

    Args:
        shape: shape of one sample, e.g. ``(2, 2, 1)``; positive integers or None.
        batch_size: a fixed batch size, or None (default).
        name: optional name.

    Returns:
        An :class:`InputLayer`, to be the first item of a Sequential model.

    Shape:
        The model's input shape is ``(batch_size, *shape)``, shown as ``(None, *shape)``.

    Raises:
        ValueError: for a malformed shape or batch size.

    >>> Input(shape=(2, 2, 1)).batch_shape
    (None, 2, 2, 1)
    """
    return InputLayer(shape, batch_size=batch_size, name=name)
