"""Moving between a layer's data format and the NCHW layout upgan.functional computes in."""

from __future__ import annotations

import torch

from upgan.keras.layers.layer import Shape


def to_nchw(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """channels_last input -> NCHW; channels_first passes through."""
    if data_format == "channels_last":
        return x.permute(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)
    return x


def from_nchw(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """NCHW -> the layer's data format."""
    if data_format == "channels_last":
        return x.permute(0, 2, 3, 1)  # (N, C, H, W) -> (N, H, W, C)
    return x


def split_shape(shape: Shape, data_format: str) -> tuple[int | None, int | None, int | None]:
    """``(channels, height, width)`` of a rank-4 shape in ``data_format``."""
    if data_format == "channels_last":
        return shape[3], shape[1], shape[2]
    return shape[1], shape[2], shape[3]


def join_shape(
    batch: int | None, channels: int | None, height: int | None, width: int | None, data_format: str
) -> Shape:
    """The rank-4 shape in ``data_format`` from its parts."""
    if data_format == "channels_last":
        return (batch, height, width, channels)
    return (batch, channels, height, width)


def channel_axis(data_format: str) -> int:
    """-1 for channels_last, 1 for channels_first."""
    return -1 if data_format == "channels_last" else 1
