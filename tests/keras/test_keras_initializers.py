"""Initialisers by Keras name: same distributions as Keras 3's (compared on large samples)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from upgan.keras import initializers
from upgan.keras.layers import Conv2D, Conv2DTranspose, Dense


@pytest.mark.parametrize("name", sorted(initializers.INITIALIZERS))
def test_distribution_matches_keras(tf_keras, name):
    shape = (3, 3, 40, 70)  # Keras layout: fan_in = 360, fan_out = 630
    torch.manual_seed(0)
    ours = initializers.get(name)(shape).numpy()
    tf_keras.utils.set_random_seed(0)
    ref = np.asarray(tf_keras.initializers.get(name)(shape))
    assert ours.shape == shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours.mean(), ref.mean(), atol=0.03 * max(ref.std(), 1e-3) + 1e-7)
    np.testing.assert_allclose(ours.std(), ref.std(), rtol=0.02, atol=1e-7)
    if name != "random_normal":  # every other one is bounded: uniform, or normal truncated at 2 sigma
        np.testing.assert_allclose(np.abs(ours).max(), np.abs(ref).max(), rtol=0.02, atol=1e-7)


def test_fans_follow_keras_layout_for_each_layer():
    torch.manual_seed(0)
    limit = np.sqrt(6 / (3 * 3 * 4 + 3 * 3 * 50))  # glorot_uniform, kernel (3, 3, 4, 50)
    for layer, shape in ((Conv2D(50, 3), (None, 5, 5, 4)), (Conv2DTranspose(4, 3), (None, 5, 5, 50))):
        layer.build_for(shape)
        kernel = layer.get_weights()[0]
        assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.95 * limit
    dense = Dense(30, kernel_initializer="he_normal")
    dense.build_for((None, 2000))
    np.testing.assert_allclose(dense.get_weights()[0].std(), np.sqrt(2 / 2000), rtol=0.03)


def test_unknown_initializer():
    with pytest.raises(ValueError, match="Unknown initializer: `bias_initializer`='zero'. Known initializers: zeros, ones, random_normal"):
        Dense(2, bias_initializer="zero")
