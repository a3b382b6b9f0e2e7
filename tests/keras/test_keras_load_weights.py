"""``Sequential.load_weights`` reads the ``.weights.h5`` files Keras 3 writes."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import upgan.keras
from upgan.keras import backend


def stack(lib, extra_dense: bool = False, last_units: int = 3):
    L = lib.layers
    layers = [lib.Input(shape=(6,)), L.Dense(2 * 2 * 3, name="project"), L.Reshape((2, 2, 3)),
              L.Conv2DTranspose(4, 3, strides=2, padding="same"), L.BatchNormalization(), L.LeakyReLU(0.2),
              L.UpSampling2D(interpolation="bilinear"), L.Conv2D(2, 3, padding="same"), L.Flatten(), L.Dense(5),
              L.Dense(last_units, activation="tanh")]
    if extra_dense:
        layers.append(L.Dense(2))
    return lib.Sequential(layers)


@pytest.fixture
def saved(tf_keras, tmp_path):
    """A Keras model with random weights (moving statistics included), saved to .weights.h5."""
    ref = stack(tf_keras)
    rng = np.random.default_rng(0)
    ref.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(np.float32) for w in ref.get_weights()])
    path = tmp_path / "model.weights.h5"
    ref.save_weights(str(path))
    return ref, path


def test_load_weights_reproduces_keras(saved):
    pytest.importorskip("h5py")
    ref, path = saved
    backend.clear_session()
    Dense = upgan.keras.layers.Dense
    Dense(1)  # layer names need not match the file: Keras keys weights by layer type and order
    ours = stack(upgan.keras)
    ours.load_weights(path)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_array_equal(a, b)
    z = np.random.default_rng(1).standard_normal((3, 6)).astype(np.float32)
    np.testing.assert_allclose(ours.predict(z), np.asarray(ref(z, training=False)), rtol=1e-4, atol=1e-5)


def test_keras_loads_what_upgan_saves(tf_keras, tmp_path):
    pytest.importorskip("h5py")
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ours = stack(upgan.keras)
    ours.train()
    ours(torch.randn(4, 6))  # move BatchNormalization's moving statistics away from 0 and 1
    path = tmp_path / "ours.weights.h5"
    ours.save_weights(path)
    ref = stack(tf_keras)
    ref.load_weights(str(path))
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_array_equal(a, b)
    z = np.random.default_rng(2).standard_normal((3, 6)).astype(np.float32)
    np.testing.assert_allclose(ours.predict(z), np.asarray(ref(z, training=False)), rtol=1e-4, atol=1e-5)


def test_load_weights_rejects_another_architecture(saved, tmp_path):
    pytest.importorskip("h5py")
    _, path = saved
    with pytest.raises(ValueError, match=r'The weights file has no weights for layer "dense_\d+" \(looked for layers/dense_3/vars\)'):
        stack(upgan.keras, extra_dense=True).load_weights(path)
    L = upgan.keras.layers
    narrow = upgan.keras.Sequential([upgan.keras.Input(shape=(6,)), L.Dense(7), L.Reshape((7,))])
    with pytest.raises(ValueError, match=r"has weights of shapes \[\(6, 7\), \(7,\)\], but the file holds shapes \[\(6, 12\), \(12,\)\] under layers/dense/vars"):
        narrow.load_weights(path)
    last_differs = stack(upgan.keras, last_units=4)
    before = last_differs.get_weights()
    with pytest.raises(ValueError, match=r"has weights of shapes \[\(5, 4\), \(4,\)\], but the file holds"):
        last_differs.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(before, last_differs.get_weights()))  # nothing half-loaded
    short = upgan.keras.Sequential([upgan.keras.Input(shape=(6,)), L.Dense(12)])
    with pytest.raises(ValueError, match="The weights file holds layers this model does not have: batch_normalization, conv2d, "):
        short.load_weights(path)


def test_load_weights_argument_errors(tmp_path, monkeypatch):
    model = upgan.keras.Sequential([upgan.keras.Input(shape=(2,)), upgan.keras.layers.Dense(1)])
    with pytest.raises(ValueError, match=r"The `filepath` argument must end in `.weights.h5`. Received filepath='x.h5'"):
        model.load_weights("x.h5")
    with pytest.raises(FileNotFoundError, match="No such weights file"):
        model.load_weights(tmp_path / "missing.weights.h5")
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"Reading or writing .weights.h5 files needs the h5py package: pip install h5py"):
        model.load_weights(tmp_path / "missing.weights.h5")


def test_load_weights_rejects_a_different_weight_count(tmp_path):
    pytest.importorskip("h5py")
    L = upgan.keras.layers
    path = tmp_path / "no_bias.weights.h5"
    upgan.keras.Sequential([upgan.keras.Input(shape=(3,)), L.Dense(2, use_bias=False)]).save_weights(path)
    with_bias = upgan.keras.Sequential([upgan.keras.Input(shape=(3,)), L.Dense(2, name="head")])
    with pytest.raises(ValueError, match=r'Layer "head" expects 2 weights, but the file holds 1 under layers/dense/vars'):
        with_bias.load_weights(path)
    with pytest.raises(ValueError, match='Sequential model "sequential_.*" has not been built yet, so it has no weights to save'):
        upgan.keras.Sequential([L.Dense(2)]).save_weights(tmp_path / "unbuilt.weights.h5")
