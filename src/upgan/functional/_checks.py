"""Argument checks shared by upgan's functions and modules.

Every check raises ``ValueError`` or ``TypeError`` with a message in Keras's style: it names the
argument, says what was expected and shows the value received, e.g. "The `stride` argument must
be an integer or a tuple of 2 integers, each >= 1. Received stride=(1, 0)". The checks on plain
values live in :mod:`upgan._validation` (free of torch, for :mod:`upgan.shapes`) and are
re-exported here.
"""

from __future__ import annotations

import torch

from upgan._validation import check_choice, check_int, odd_pair, pair

__all__ = ["check_int", "pair", "odd_pair", "check_choice", "check_nchw", "check_floating", "check_bias", "check_finite"]


def check_nchw(x: object, name: str = "x", channels: int | None = None) -> torch.Tensor:
    """Return ``x`` if it is a 4-D tensor ``(N, C, H, W)`` with ``H, W >= 1`` (and ``channels`` channels).

    Args:
        x: the value to check.
        name: the argument's name, used in the error message (default ``"x"``).
        channels: the required size of dimension 1, or ``None`` (default) for any.

    Raises:
        TypeError: ``x`` is not a ``torch.Tensor``.
        ValueError: ``x`` is not 4-D, has an empty height or width, or has the wrong number of
            channels.

    >>> check_nchw(torch.zeros(2, 3, 4, 5), channels=3).shape
    torch.Size([2, 3, 4, 5])
    >>> check_nchw(torch.zeros(3, 4, 5))
    Traceback (most recent call last):
    ...
    ValueError: Expected `x` to be a 4-D tensor (N, C, H, W). Received x.shape=(3, 4, 5)
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"Expected `{name}` to be a torch.Tensor (N, C, H, W). Received type {type(x).__name__}")
    if x.dim() != 4:
        raise ValueError(f"Expected `{name}` to be a 4-D tensor (N, C, H, W). Received {name}.shape={tuple(x.shape)}")
    if x.shape[2] == 0 or x.shape[3] == 0:
        raise ValueError(f"Expected `{name}` to have a non-empty height and width. Received {name}.shape={tuple(x.shape)}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(
            f"Expected `{name}` to have {channels} channels (dimension 1). Received {name}.shape={tuple(x.shape)}"
        )
    return x


def check_floating(x: torch.Tensor, name: str = "x") -> None:
    """Raise unless ``x`` is a floating-point tensor (a convolution has float weights).

    >>> check_floating(torch.zeros(1, dtype=torch.int64))
    Traceback (most recent call last):
    ...
    TypeError: Expected `x` to be a floating-point tensor. Received x.dtype=torch.int64; convert it with x.float()
    """
    if not x.is_floating_point():
        raise TypeError(
            f"Expected `{name}` to be a floating-point tensor. Received {name}.dtype={x.dtype}; convert it with {name}.float()"
        )


def check_bias(bias: object, out_channels: int) -> None:
    """Raise unless ``bias`` is ``None`` or a ``(out_channels,)`` tensor.

    >>> check_bias(torch.zeros(3), 4)
    Traceback (most recent call last):
    ...
    ValueError: Expected `bias` of shape (4,). Received bias.shape=(3,)
    """
    if bias is None:
        return
    if not isinstance(bias, torch.Tensor):
        raise TypeError(f"Expected `bias` to be a torch.Tensor or None. Received type {type(bias).__name__}")
    if tuple(bias.shape) != (out_channels,):
        raise ValueError(f"Expected `bias` of shape ({out_channels},). Received bias.shape={tuple(bias.shape)}")


def check_finite(values: torch.Tensor, label: str) -> None:
    """Raise unless every element of ``values`` is finite (integer tensors always are).

    Args:
        values: the tensor to check.
        label: how the message names it, e.g. ``"The `fake` features"``.

    Raises:
        ValueError: ``values`` holds a NaN or an infinity; the message counts them.

    >>> check_finite(torch.tensor([1.0, float("nan")]), "The `x` argument")
    Traceback (most recent call last):
    ...
    ValueError: The `x` argument must be finite. Received 1 NaN or infinite value(s)
    """
    if not values.is_floating_point():
        return
    bad = int((~torch.isfinite(values)).sum())
    if bad:
        raise ValueError(f"{label} must be finite. Received {bad} NaN or infinite value(s)")
