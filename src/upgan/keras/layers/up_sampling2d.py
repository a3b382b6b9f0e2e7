"""``UpSampling2D``: repeat or interpolate rows and columns."""

from __future__ import annotations

from typing import Any

import torch

from upgan import functional, shapes
from upgan.keras import _args
from upgan.keras.layers import _layout
from upgan.keras.layers.layer import Layer, Shape

__all__ = ["UpSampling2D"]

INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area")


class UpSampling2D(Layer):
    """Keras ``UpSampling2D``: scale height and width by integer factors.

    ``nearest`` repeats each row ``size[0]`` times and each column ``size[1]`` times; the
    other modes interpolate as Keras 3 on TensorFlow does (``tf.image.resize`` with
    half-pixel centres and no antialiasing), computed by :func:`upgan.functional.upsample`.
    No weights.

    Args:
        size: int or ``(rows, cols)`` upsampling factors, each >= 1 (default ``(2, 2)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        interpolation: ``"nearest"`` (default), ``"bilinear"``, ``"bicubic"``,
            ``"lanczos3"``, ``"lanczos5"`` or ``"area"`` (as Keras: with integer factors, nearest).
        **kwargs: ``name``, ``trainable``, ``input_shape`` (see :class:`Layer`).

    Shape:
        - Input: ``(N, H, W, C)`` (channels_last) or ``(N, C, H, W)`` (channels_first).
        - Output: ``(N, H * rows, W * cols, C)`` or ``(N, C, H * rows, W * cols)``.

    Raises:
        ValueError: for a bad size, data_format or interpolation, or an input that is not 4-D.

    >>> import torch
    >>> x = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)
    >>> UpSampling2D()(x)[0, :, :, 0]
    tensor([[1., 1., 2., 2.],
            [1., 1., 2., 2.],
            [3., 3., 4., 4.],
            [3., 3., 4., 4.]])
    >>> UpSampling2D(interpolation="bilinear")(x)[0, :, :, 0]
    tensor([[1.0000, 1.2500, 1.7500, 2.0000],
            [1.5000, 1.7500, 2.2500, 2.5000],
            [2.5000, 2.7500, 3.2500, 3.5000],
            [3.0000, 3.2500, 3.7500, 4.0000]])
    """

    ndim = 4

    def __init__(
        self,
        size: int | tuple[int, int] = (2, 2),
        data_format: str | None = None,
        interpolation: str = "nearest",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.size = _args.int_tuple(size, 2, "size")
        self.data_format = _args.data_format(data_format)
        self.interpolation = _args.choice(interpolation, "interpolation", INTERPOLATIONS)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        channels, height, width = _layout.split_shape(input_shape, self.data_format)
        height, width = (
            None if n is None else shapes.upsample_output_size(n, f) for n, f in zip((height, width), self.size)
        )
        return _layout.join_shape(input_shape[0], channels, height, width, self.data_format)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        if not x.is_floating_point():
            x = x.float()
        y = functional.upsample(_layout.to_nchw(x, self.data_format), self.size, mode=self.interpolation)
        return _layout.from_nchw(y, self.data_format)
