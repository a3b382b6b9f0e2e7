"""Keras 3 ``.weights.h5`` files: read into and write from upgan.keras models.

Keras 3 (``keras/src/saving/saving_lib.py``) stores a Sequential's weights under
``layers/<key>/vars/<i>``, where ``<key>`` is the layer's snake_case class name made unique
within the model (``dense``, ``dense_1``, ... whatever the layers are called) and ``<i>``
counts the layer's weights in Keras order and layout; each ``vars`` group carries the
object's name as its ``name`` attribute, and the model's own (empty) ``vars`` group sits at
the root.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from upgan.keras.backend import to_snake_case

if TYPE_CHECKING:
    from upgan.keras.models import Sequential

__all__ = ["load_weights", "save_weights"]

SUFFIX = ".weights.h5"


def _h5py(filepath: str | os.PathLike):
    if not str(filepath).endswith(SUFFIX):
        raise ValueError(f"The `filepath` argument must end in `{SUFFIX}`. Received filepath={str(filepath)!r}")
    try:
        import h5py
    except ImportError as err:
        raise ImportError(
            "Reading or writing .weights.h5 files needs the h5py package: pip install h5py (or pip install 'upgan[h5]')"
        ) from err
    return h5py


def _keys(model: Sequential) -> list[str]:
    """The group name Keras 3 gives each layer of ``model``."""
    counts: dict[str, int] = {}
    keys = []
    for layer in model.layers:
        prefix = to_snake_case(type(layer).__name__)
        keys.append(prefix if prefix not in counts else f"{prefix}_{counts[prefix]}")
        counts[prefix] = counts.get(prefix, 0) + 1
    return keys


def save_weights(model: Sequential, filepath: str | os.PathLike) -> None:
    """Write ``model``'s weights as Keras 3's ``model.save_weights(filepath)`` does.

    Keras 3 loads the file into a Keras model of the same architecture.

    Args:
        model: a built Sequential model.
        filepath: path ending in ``.weights.h5`` (overwritten if it exists).

    Raises:
        ImportError: h5py is not installed.
        ValueError: the file name does not end in ``.weights.h5`` or the model is not built.

    >>> import os, tempfile
    >>> from upgan.keras import Input, Sequential, layers
    >>> model = Sequential([Input(shape=(3,)), layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.weights.h5")
    >>> save_weights(model, path)
    >>> copy = Sequential([Input(shape=(3,)), layers.Dense(2)])
    >>> load_weights(copy, path)
    >>> all((a == b).all() for a, b in zip(copy.get_weights(), model.get_weights()))
    True
    """
    h5py = _h5py(filepath)
    model._require_built("weights to save")
    with h5py.File(filepath, "w") as f:
        for key, layer in zip(_keys(model), model.layers):
            group = f.create_group(f"layers/{key}/vars")
            group.attrs["name"] = layer.name
            for i, array in enumerate(layer.get_weights()):
                group.create_dataset(str(i), data=array)
        f.create_group("vars").attrs["name"] = model.name


def load_weights(model: Sequential, filepath: str | os.PathLike) -> None:
    """Load a Keras 3 ``.weights.h5`` file (``model.save_weights(...)``) into ``model``.

    The arrays are matched to layers by Keras's keys (layer type and position, not layer
    name), checked against each layer's weight shapes, and only then copied in, so a file for
    another architecture changes nothing.

    Args:
        model: a built Sequential model of the same architecture as the saved one.
        filepath: path ending in ``.weights.h5``.

    Raises:
        ImportError: h5py is not installed.
        ValueError: the file name does not end in ``.weights.h5``, the model is not built, or a
            layer's weights are missing, extra or of the wrong count or shape (the message
            names the layer).
        FileNotFoundError: the file does not exist.

    (Example: see :func:`save_weights`.)
    """
    h5py = _h5py(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No such weights file: {str(filepath)!r}")
    model._require_built("weights to load")
    keys = _keys(model)
    loaded = []
    with h5py.File(filepath, "r") as f:
        stored = f.get("layers")
        for key, layer in zip(keys, model.layers):
            expected = layer.weight_shapes()
            group = None if stored is None else stored.get(f"{key}/vars")
            if group is None:
                if expected:
                    raise ValueError(
                        f'The weights file has no weights for layer "{layer.name}" (looked for layers/{key}/vars); '
                        "was it saved from a model of the same architecture?"
                    )
                continue
            if len(group) != len(expected):
                raise ValueError(
                    f'Layer "{layer.name}" expects {len(expected)} weights, but the file holds {len(group)} '
                    f"under layers/{key}/vars"
                )
            arrays = [group[str(i)][()] for i in range(len(expected))]
            if [a.shape for a in arrays] != expected:
                raise ValueError(
                    f'Layer "{layer.name}" has weights of shapes {expected}, but the file holds '
                    f"shapes {[a.shape for a in arrays]} under layers/{key}/vars"
                )
            loaded.append((layer, arrays))
        extra = sorted(set(stored or ()) - set(keys))
        if extra:
            raise ValueError(
                f"The weights file holds layers this model does not have: {', '.join(extra)}; "
                "was it saved from a model of the same architecture?"
            )
    for layer, arrays in loaded:
        layer.set_weights(arrays)
