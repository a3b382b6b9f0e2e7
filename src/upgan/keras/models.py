"""``Sequential``: a Keras-style stack of layers that is also a ``torch.nn.Module``."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np
import torch

from upgan.keras import _args
from upgan.keras.backend import unique_name
from upgan.keras.layers.input_layer import InputLayer
from upgan.keras.layers.layer import Layer, Shape
from upgan.keras.summary import format_shape, format_summary

__all__ = ["Sequential"]


class Sequential(torch.nn.Module):
    """A linear stack of :mod:`upgan.keras.layers`, used as in Keras.

    The input shape comes from an ``Input(shape=...)`` first item or from the first layer's
    ``input_shape=`` / ``input_dim=``; each layer is built as soon as its input shape is
    known, or, without one, on the first call. As a ``torch.nn.Module`` the model takes and
    returns torch tensors in the layers' data format, and torch optimisers can train its
    ``parameters()`` once it is built. Dropout and BatchNormalization follow torch's
    ``train()`` / ``eval()`` mode; :meth:`predict` always runs in inference mode.

    Args:
        layers: optional list of layers (the first may be an ``Input``).
        name: model name (default ``sequential``, ``sequential_1``, ...).

    Shape:
        ``output_shape`` is the last layer's output shape; each layer's comes from
        :mod:`upgan.shapes`.

    Raises:
        TypeError: when something other than a layer is added.
        ValueError: for duplicate layer names, a misplaced Input, or incompatible shapes.

    >>> from upgan.keras.layers import Input, Dense, Reshape, UpSampling2D, Conv2D
    >>> from upgan.keras.backend import clear_session
    >>> clear_session()
    >>> model = Sequential([Input(shape=(100,)), Dense(128 * 5 * 5), Reshape((5, 5, 128)),
    ...                     UpSampling2D(), Conv2D(1, (3, 3), padding="same")])
    >>> model.summary()
    _________________________________________________________________
    Layer (type)                 Output Shape              Param #
    =================================================================
    dense (Dense)                (None, 3200)              323200
    _________________________________________________________________
    reshape (Reshape)            (None, 5, 5, 128)         0
    _________________________________________________________________
    up_sampling2d (UpSampling2D) (None, 10, 10, 128)       0
    _________________________________________________________________
    conv2d (Conv2D)              (None, 10, 10, 1)         1153
    =================================================================
    Total params: 324,353
    Trainable params: 324,353
    Non-trainable params: 0
    _________________________________________________________________
    >>> model.predict(np.zeros((2, 100))).shape
    (2, 10, 10, 1)
    """

    def __init__(self, layers: Sequence[Layer | InputLayer] | None = None, name: str | None = None) -> None:
        super().__init__()
        self.name = name if name is not None else unique_name("sequential")
        self._stack: list[Layer] = []
        self._input_shape: Shape | None = None
        self._trainable = True
        for layer in layers or []:
            self.add(layer)

    # -- building ----------------------------------------------------------------------

    def add(self, layer: Layer | InputLayer) -> None:
        """Append a layer (or, first, an ``Input``), building it if the input shape is known.

        Raises:
            TypeError: ``layer`` is not an upgan.keras layer.
            ValueError: an Input after other layers, or a duplicate layer name.
        """
        if isinstance(layer, InputLayer):
            if self._stack or self._input_shape is not None:
                raise ValueError(
                    f"An Input can only be the first item of a Sequential model. Received {layer!r} "
                    f"after {len(self._stack)} layer(s)"
                )
            self._input_shape = layer.batch_shape
            return
        if not isinstance(layer, Layer):
            raise TypeError(
                "Only upgan.keras layers can be added to a Sequential model. "
                f"Received layer={layer!r} of type {type(layer).__name__}"
            )
        if layer.name in {existing.name for existing in self._stack}:
            raise ValueError(
                "All layers added to a Sequential model should have unique names. "
                f'Name "{layer.name}" is already the name of a layer in this model.'
            )
        if not self._stack and self._input_shape is None:
            self._input_shape = layer.declared_input_shape
        if hasattr(self, layer.name):
            raise ValueError(
                f'The layer name "{layer.name}" clashes with an attribute of Sequential; choose another `name`.'
            )
        self.add_module(layer.name, layer)
        self._stack.append(layer)
        if self._input_shape is not None:
            layer.build_for(self._shape_before(len(self._stack) - 1))

    def pop(self) -> Layer:
        """Remove the last layer and return it; the layers before it keep their weights.

        Raises:
            IndexError: the model has no layers (as Keras 3).
        """
        if not self._stack:
            raise IndexError(f'Sequential model "{self.name}" has no layers to pop.')
        layer = self._stack.pop()
        delattr(self, layer.name)  # the submodule registered by add()
        return layer

    def _shape_before(self, index: int) -> Shape:
        return self._input_shape if index == 0 else self._stack[index - 1].output_shape

    def build(self, input_shape: Sequence[int | None]) -> None:
        """Build every layer for inputs of ``input_shape`` (batch axis first, may be None)."""
        self._input_shape = tuple(input_shape)
        for i, layer in enumerate(self._stack):
            layer.build_for(self._shape_before(i))

    @property
    def built(self) -> bool:
        """True once every layer knows its input shape."""
        return bool(self._stack) and all(layer.output_shape is not None for layer in self._stack)

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(
                f'Sequential model "{self.name}" has not been built yet, so it has no {what}. Give it an input '
                "shape (Input(shape=...) first, or input_shape= on the first layer) or call it on a batch of data."
            )

    # -- trainable ---------------------------------------------------------------------

    @property
    def trainable(self) -> bool:
        """Keras's model-level ``trainable``: setting it sets every layer's (and so their weights'
        ``requires_grad``, and BatchNormalization's inference mode); reading it gives the value last set."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for layer in self._stack:
            layer.trainable = self._trainable

    # -- introspection -----------------------------------------------------------------

    @property
    def layers(self) -> list[Layer]:
        """The layers, in order (an ``Input`` is not one of them, as in Keras 3)."""
        return list(self._stack)

    @property
    def input_shape(self) -> Shape:
        """The model's input shape, batch axis first."""
        self._require_built("input shape")
        return self._input_shape

    @property
    def output_shape(self) -> Shape:
        """The last layer's output shape, batch axis first."""
        self._require_built("output shape")
        return self._stack[-1].output_shape

    def count_params(self) -> int:
        """Number of scalars in all weights (trainable and not)."""
        self._require_built("weights to count")
        return sum(layer.count_params() for layer in self._stack)

    def summary(self, print_fn: Callable[[str], object] | None = None) -> None:
        """Print the tutorial's summary table (see :mod:`upgan.keras.summary`).

        Args:
            print_fn: called with each line (default ``print``).

        Raises:
            ValueError: if the model has not been built.
        """
        self._require_built("summary")
        rows = [
            (f"{layer.name} ({type(layer).__name__})", format_shape(layer.output_shape), layer.count_params())
            for layer in self._stack
        ]
        trainable = sum(p.numel() for p in self.parameters() if p.requires_grad)
        total = self.count_params()
        for line in format_summary(rows, trainable, total - trainable).splitlines():
            (print_fn or print)(line)

    # -- running -----------------------------------------------------------------------

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self._stack:
            raise ValueError(f'Sequential model "{self.name}" has no layers to call')
        if self._input_shape is None:
            self._input_shape = (None, *x.shape[1:])
        x = self._adjust_rank(x)
        for layer in self._stack:
            x = layer(x)
        return x

    def _adjust_rank(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` with the model's input rank, as Keras 3 adjusts it: a trailing axis of size 1 is
        dropped, or added when the model's input ends in one; any other rank is an error."""
        expected = len(self._input_shape)
        if x.dim() == expected:
            return x
        if x.dim() == expected + 1 and x.shape[-1] == 1:
            return x.squeeze(-1)
        if x.dim() == expected - 1 and self._input_shape[-1] == 1:
            return x.unsqueeze(-1)
        raise ValueError(
            f'Invalid input shape for Sequential model "{self.name}": expected shape {format_shape(self._input_shape)}, '
            f"but the input has incompatible shape {tuple(x.shape)}"
        )

    def compile(self, *args: object, **kwargs: object) -> None:
        """``torch.nn.Module.compile`` (``torch.compile`` in place); Keras's training setup is refused.

        Raises:
            TypeError: for Keras's arguments (``optimizer``, ``loss``, ``metrics``, ...): upgan.keras
                has no ``fit()``; train the module's parameters with a torch optimiser, or use ``upgan train``.
        """
        keras_args = {
            "optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", "run_eagerly",
            "steps_per_execution", "jit_compile", "auto_scale_loss",
        }
        given = sorted(keras_args & kwargs.keys())
        if given or args:  # torch's compile takes keyword arguments only
            received = ", ".join(f"{k}={kwargs[k]!r}" for k in given) or f"optimizer={args[0]!r}"
            raise TypeError(
                f"Sequential.compile() with Keras's training arguments is not supported: upgan.keras has no fit(). "
                f"Train the model's parameters() with a torch optimiser (it is a torch.nn.Module), or use "
                f"`upgan train`. Received {received}"
            )
        super().compile(*args, **kwargs)

    def predict(self, x: object, batch_size: int | None = None, verbose: str | int = "auto") -> np.ndarray:
        """Run the model in inference mode on numeric data and return float32 NumPy.

        Args:
            x: a NumPy array (integers too), a nested list of numbers, or a tensor, with the
                batch axis first.
            batch_size: samples per forward pass (default 32, as in Keras).
            verbose: ``"auto"`` or 0 (default: silent, like the tutorial's output), 1 or 2
                (print one line with the number of batches).

        Returns:
            The outputs as a float32 ``np.ndarray``.

        Raises:
            TypeError: ``x`` is not numeric.
            ValueError: a bad batch_size / verbose, or an input of the wrong shape.
        """
        batch_size = 32 if batch_size is None else _args.positive_int(batch_size, "batch_size")
        if verbose not in ("auto", 0, 1, 2):
            raise ValueError(f"The `verbose` argument must be 'auto', 0, 1 or 2. Received verbose={verbose!r}")
        tensor = _as_tensor(x)
        if tensor.dim() == 0:
            raise ValueError(
                f"The `x` argument of predict() needs a batch axis. Received x with shape {tuple(tensor.shape)}"
            )
        param = next(self.parameters(), None)
        dtype = param.dtype if param is not None else torch.float32
        device = param.device if param is not None else torch.device("cpu")
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                chunks = torch.split(tensor, batch_size) if len(tensor) else (tensor,)
                outputs = [self(chunk.to(device=device, dtype=dtype)) for chunk in chunks]
        finally:
            self.train(was_training)
        if verbose in (1, 2):
            print(f"{len(outputs)}/{len(outputs)} batches")
        return torch.cat(outputs).cpu().to(torch.float32).numpy()

    # -- weights -----------------------------------------------------------------------

    def get_weights(self) -> list[np.ndarray]:
        """All weights as NumPy arrays, in Keras layout and order (layer by layer)."""
        return [w for layer in self._stack for w in layer.get_weights()]

    def set_weights(self, weights: Sequence[object]) -> None:
        """Set all weights from arrays in Keras layout and order.

        Raises:
            ValueError: a wrong number of arrays, or a wrong shape (names layer and shapes).
            TypeError: non-numeric arrays.
        """
        expected = [shape for layer in self._stack for shape in layer.weight_shapes()]
        if len(weights) != len(expected):
            raise ValueError(
                f'Sequential model "{self.name}" expects {len(expected)} weights with shapes {expected}, '
                f"but received {len(weights)} weights"
            )
        start = 0
        for layer in self._stack:
            n = len(layer.weight_shapes())
            layer.set_weights(list(weights[start : start + n]))
            start += n

    def load_weights(self, filepath: str | os.PathLike) -> None:
        """Load weights from a Keras 3 ``.weights.h5`` file saved for the same architecture.

        Needs h5py (``pip install upgan[h5]``); see :func:`upgan.keras.saving.load_weights`.
        """
        from upgan.keras.saving import load_weights

        load_weights(self, filepath)

    def save_weights(self, filepath: str | os.PathLike) -> None:
        """Write the weights as a Keras 3 ``.weights.h5`` file, loadable by Keras's ``load_weights``.

        Needs h5py; see :func:`upgan.keras.saving.save_weights`.
        """
        from upgan.keras.saving import save_weights

        save_weights(self, filepath)


def _as_tensor(x: object) -> torch.Tensor:
    if isinstance(x, (list, tuple)) and len(x) == 1 and isinstance(x[0], (np.ndarray, torch.Tensor)):
        x = x[0]  # Keras reads a one-item list of arrays as the model's one input, not as a batch of 1
    if isinstance(x, torch.Tensor):
        tensor = x
    else:
        try:
            array = np.asarray(x)
        except ValueError as err:  # ragged nested lists
            raise TypeError(
                f"The `x` argument of predict() must be a numeric array. Received x that NumPy rejects: {err}"
            ) from None
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
            raise TypeError(
                "The `x` argument of predict() must be numeric (a NumPy array, a list of numbers or a tensor). "
                f"Received x with dtype {array.dtype}"
            )
        tensor = torch.from_numpy(np.asarray(array, order="C"))  # (ascontiguousarray would make 0-d 1-d)
    if tensor.is_complex():
        raise TypeError(f"The `x` argument of predict() must be real-valued. Received x with dtype {tensor.dtype}")
    return tensor
