"""Reading Keras 3 ``.weights.h5`` files into upgan.keras models."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from upgan.keras.backend import to_snake_case

if TYPE_CHECKING:
    from upgan.keras.models import Sequential

__all__ = ["load_weights"]


def load_weights(model: Sequential, filepath: str | os.PathLike) -> None:
    """Load a Keras 3 ``.weights.h5`` file (``model.save_weights(...)``) into ``model``.

    Keras 3 (``keras/src/saving/saving_lib.py``) stores a Sequential's weights under
    ``layers/<key>/vars/<i>``, where ``<key>`` is the layer's snake_case class name made
    unique within the model (``dense``, ``dense_1``, ... whatever the layers are called) and
    ``<i>`` counts the layer's weights in Keras order. The arrays are in Keras layout and go
    through ``set_weights``, so shapes are checked.

    Args:
        model: a built Sequential model of the same architecture as the saved one.
        filepath: path ending in ``.weights.h5``.

    Raises:
        ImportError: h5py is not installed.
        ValueError: the file name does not end in ``.weights.h5``, the model is not built, or a
            layer's weights are missing, extra or of the wrong count or shape (the message
            names the layer).
        FileNotFoundError: the file does not exist.
    """
    if not str(filepath).endswith(".weights.h5"):
        raise ValueError(f"The `filepath` argument must end in `.weights.h5`. Received filepath={str(filepath)!r}")
    try:
        import h5py
    except ImportError as err:
        raise ImportError(
            "Reading .weights.h5 files needs the h5py package: pip install h5py (or pip install 'upgan[h5]')"
        ) from err
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No such weights file: {str(filepath)!r}")
    model._require_built("weights to load")
    counts: dict[str, int] = {}
    loaded = []
    with h5py.File(filepath, "r") as f:
        stored = f.get("layers")
        keys = []
        for layer in model.layers:
            prefix = to_snake_case(type(layer).__name__)
            key = prefix if prefix not in counts else f"{prefix}_{counts[prefix]}"
            counts[prefix] = counts.get(prefix, 0) + 1
            keys.append(key)
            expected = len(layer.weight_shapes())
            group = None if stored is None else stored.get(f"{key}/vars")
            if group is None:
                if expected:
                    raise ValueError(
                        f'The weights file has no weights for layer "{layer.name}" (looked for layers/{key}/vars); '
                        "was it saved from a model of the same architecture?"
                    )
                continue
            if len(group) != expected:
                raise ValueError(
                    f'Layer "{layer.name}" expects {expected} weights, but the file holds {len(group)} '
                    f"under layers/{key}/vars"
                )
            layer_weights = [group[str(i)][()] for i in range(expected)]
            shapes = [w.shape for w in layer_weights]
            if shapes != layer.weight_shapes():
                raise ValueError(
                    f'Layer "{layer.name}" has weights of shapes {layer.weight_shapes()}, but the file holds '
                    f"shapes {shapes} under layers/{key}/vars"
                )
            loaded.append((layer, layer_weights))
        extra = sorted(set(stored or ()) - set(keys))
        if extra:
            raise ValueError(
                f"The weights file holds layers this model does not have: {', '.join(extra)}; "
                "was it saved from a model of the same architecture?"
            )
    for layer, layer_weights in loaded:
        layer.set_weights(layer_weights)
