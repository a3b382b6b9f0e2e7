"""The base class of the Keras-style layers: naming, lazy building, weights in Keras layout."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch

from upgan.keras import _args
from upgan.keras import activations as _activations
from upgan.keras import initializers as _initializers
from upgan.keras.backend import to_snake_case, unique_name

__all__ = ["Layer", "Shape"]

Shape = tuple  # a shape with the batch axis first, ``None`` where unknown


class Layer(torch.nn.Module):
    """Base class: a ``torch.nn.Module`` that builds itself from its first input shape.

    Subclasses set ``min_ndim`` / ``ndim`` (rank including the batch axis), create their
    weights in :meth:`build` with :meth:`add_weight`, and implement
    :meth:`compute_output_shape` and :meth:`call`. Weights live in torch layout (e.g. a
    Conv2D ``weight`` is ``(out, in, kh, kw)``); :meth:`get_weights` and :meth:`set_weights`
    convert to and from Keras layout.

    Args:
        name: layer name; default: the snake_case class name made unique per process
            (``dense``, ``dense_1``, ... as in Keras 3).
        trainable: whether the weights get gradients (default True).
        input_shape: shape of one sample, e.g. ``(2, 2, 1)``; only meaningful on the first
            layer of a :class:`~upgan.keras.models.Sequential` (Keras 3 prefers ``Input``
            and warns).
        input_dim: shorthand for ``input_shape=(input_dim,)`` (also warns, as Keras 3 does).

    Raises:
        ValueError: for a bad name, input_shape or input_dim.
        TypeError: if trainable is not a bool.

    >>> from upgan.keras.layers import Dense
    >>> layer = Dense(4, name="fc")
    >>> layer.built, layer.build_for((None, 3)), layer.built
    (False, (None, 4), True)
    >>> [w.shape for w in layer.get_weights()], tuple(layer.weight.shape)  # Keras layout, torch layout
    ([(3, 4), (4,)], (4, 3))
    """

    ndim: int | None = None  # exact rank of the input, batch axis included, if fixed
    min_ndim: int = 2

    def __init__(
        self,
        *,
        name: str | None = None,
        trainable: bool = True,
        input_shape: Sequence[int | None] | None = None,
        input_dim: int | None = None,
    ) -> None:
        super().__init__()
        if name is None:
            name = unique_name(to_snake_case(type(self).__name__))
        elif not isinstance(name, str) or not name or "." in name:
            raise ValueError(
                f"The `name` argument must be a non-empty string without '.'. Received name={name!r}"
            )
        if not isinstance(trainable, bool):
            raise TypeError(f"The `trainable` argument must be True or False. Received trainable={trainable!r}")
        self.name = name
        self._trainable = trainable
        self.built = False
        self.input_shape: Shape | None = None
        self.output_shape: Shape | None = None
        self._weight_specs: list[tuple[str, str, tuple[int, ...]]] = []
        declared = None
        if input_dim is not None:
            declared = (_args.positive_int(input_dim, "input_dim"),)
        if input_shape is not None:
            declared = _args.shape_tuple(input_shape, "input_shape")
        if declared is not None:
            # Keras 3 warns the same way (keras/src/layers/layer.py).
            warnings.warn(
                "Passing `input_shape`/`input_dim` to a layer is deprecated in Keras 3; "
                "prefer `Input(shape)` as the first item of a Sequential model.",
                UserWarning,
                stacklevel=3,
            )
        self.declared_input_shape: Shape | None = None if declared is None else (None, *declared)

    # -- trainable ---------------------------------------------------------------------

    @property
    def trainable(self) -> bool:
        """Whether the layer's parameters receive gradients (Keras's ``trainable``)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for param in self.parameters():
            param.requires_grad_(self._trainable)

    # -- building ----------------------------------------------------------------------

    def check_input_shape(self, shape: Shape) -> None:
        """Raise a Keras-style ValueError when ``shape`` cannot be this layer's input."""
        rank = len(shape)
        if self.ndim is not None and rank != self.ndim:
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                f"ndim={self.ndim}, found ndim={rank}. Full shape received: {tuple(shape)}"
            )
        if rank < self.min_ndim:
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                f"min_ndim={self.min_ndim}, found ndim={rank}. Full shape received: {tuple(shape)}"
            )
        if self.built:
            for axis, size in self.fixed_axes().items():
                if shape[axis] != size:
                    raise ValueError(
                        f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                        f"axis {axis} of input shape to have value {size}, but received input "
                        f"with shape {tuple(shape)}"
                    )

    def fixed_axes(self) -> dict[int, int]:
        """Axes whose size the built weights fix (e.g. ``{-1: 100}`` for a Dense layer)."""
        return {}

    def build(self, input_shape: Shape) -> None:
        """Create the weights for inputs of ``input_shape`` (batch axis first, may be None)."""

    def build_for(self, input_shape: Shape) -> Shape:
        """Check ``input_shape``, build if needed, and return the output shape."""
        input_shape = tuple(input_shape)
        self.check_input_shape(input_shape)
        if not self.built:
            self.build(input_shape)
            self.built = True
            self.trainable = self._trainable
        output_shape = self.compute_output_shape(input_shape)
        self.input_shape, self.output_shape = input_shape, output_shape
        return output_shape

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        """The output shape for ``input_shape`` (both with the batch axis first)."""
        return tuple(input_shape)

    # -- calling -----------------------------------------------------------------------

    def call(self, x: torch.Tensor) -> torch.Tensor:
        """The computation, on an input already checked (and the layer built)."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(
                f'Layer "{self.name}" expects a torch.Tensor. Received an input of type {type(x).__name__}'
            )
        if not self.built:
            self.build_for((None, *x.shape[1:]))
        else:
            self.check_input_shape(tuple(x.shape))
        return self.call(x)

    # -- weights -----------------------------------------------------------------------

    def _set_kernel_options(
        self, activation: object, use_bias: object, kernel_initializer: str, bias_initializer: str
    ) -> None:
        """Store the options Dense and the convolutions share, rejecting unknown names now, not at build."""
        self.activation = _activations.get(activation)
        self.activation_name = activation
        self.use_bias = bool(use_bias)
        _initializers.get(kernel_initializer, "kernel_initializer")
        _initializers.get(bias_initializer, "bias_initializer")
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer

    def add_weight(
        self,
        attr: str,
        keras_name: str,
        keras_shape: tuple[int, ...],
        initializer: str,
        *,
        torch_to_keras: tuple[int, ...] | None = None,
        trainable: bool = True,
    ) -> None:
        """Create a weight from a Keras-layout initialiser, stored in torch layout.

        ``torch_to_keras`` is the permutation taking the torch tensor to Keras layout
        (``keras = torch.permute(torch_to_keras)``); identity by default. Non-trainable
        weights (BatchNormalization's moving statistics) are buffers.
        """
        perm = tuple(range(len(keras_shape))) if torch_to_keras is None else torch_to_keras
        value = _initializers.get(initializer)(tuple(keras_shape))
        value = value.permute(_inverse(perm)).contiguous()  # Keras layout -> torch layout
        if trainable:
            self.register_parameter(attr, torch.nn.Parameter(value))
        else:
            self.register_buffer(attr, value)
        self._weight_specs.append((keras_name, attr, perm))

    def get_weights(self) -> list[np.ndarray]:
        """The weights as NumPy arrays in Keras layout and order."""
        return [
            getattr(self, attr).detach().permute(perm).cpu().numpy().copy()  # torch -> Keras layout
            for _, attr, perm in self._weight_specs
        ]

    def weight_shapes(self) -> list[tuple[int, ...]]:
        """Keras-layout shapes of the weights, in Keras order."""
        return [tuple(getattr(self, attr).permute(perm).shape) for _, attr, perm in self._weight_specs]

    def set_weights(self, weights: Sequence[object]) -> None:
        """Set the weights from arrays in Keras layout and order.

        Raises:
            ValueError: for a wrong number of arrays or a wrong shape (names the layer).
            TypeError: for non-numeric arrays.
        """
        expected = self.weight_shapes()
        if len(weights) != len(expected):
            raise ValueError(
                f'Layer "{self.name}" expects {len(expected)} weights with shapes {expected}, '
                f"but received {len(weights)} weights"
            )
        arrays = []
        for i, (value, shape, (keras_name, _, _)) in enumerate(zip(weights, expected, self._weight_specs)):
            array = np.asarray(value)
            if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
                raise TypeError(
                    f'Layer "{self.name}" weight {i} ({keras_name}) must be numeric. '
                    f"Received an array of dtype {array.dtype}"
                )
            if array.shape != shape:
                raise ValueError(
                    f'Layer "{self.name}" weight {i} ({keras_name}) has shape {shape}, '
                    f"but received an array of shape {array.shape}"
                )
            arrays.append(array)
        with torch.no_grad():
            for array, (_, attr, perm) in zip(arrays, self._weight_specs):
                target = getattr(self, attr)
                value = torch.as_tensor(array, dtype=target.dtype, device=target.device)
                target.copy_(value.permute(_inverse(perm)))  # Keras layout -> torch layout

    def count_params(self) -> int:
        """Number of scalars in all weights (trainable and not), as Keras counts them."""
        return sum(int(np.prod(shape)) for shape in self.weight_shapes())

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


def _inverse(perm: tuple[int, ...]) -> tuple[int, ...]:
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return tuple(inverse)
