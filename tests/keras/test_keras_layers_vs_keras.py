"""Every upgan.keras layer against real Keras 3 (TensorFlow backend), same weights in.

Hundreds of seeded random configurations per layer; channels_first cases are made by
transposing channels_last ones (TensorFlow's CPU kernels refuse channels_first convolutions),
and dilated transposed convolutions (which TensorFlow's CPU kernel refuses too) are checked
against a NumPy reference that is itself checked against Keras on the cases Keras runs.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from upgan.keras import activations, layers

RTOL, ATOL = 1e-4, 1e-5


def run_ours(layer, x: np.ndarray, weights=None, training: bool = False) -> np.ndarray:
    layer.build_for((None, *x.shape[1:]))
    if weights is not None:
        layer.set_weights(weights)
    layer.train(training)
    with torch.no_grad():
        return layer(torch.from_numpy(x)).numpy()


def run_keras(layer, x: np.ndarray, training: bool = False) -> np.ndarray:
    return np.asarray(layer(x, training=training))


def nhwc_to_nchw(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))  # (N, H, W, C) -> (N, C, H, W)


def random_weights(rng: np.random.Generator, shapes) -> list[np.ndarray]:
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


# -- Conv2D -----------------------------------------------------------------------------


def conv2d_configs(n: int, seed: int):
    r = random.Random(seed)
    for _ in range(n):
        kernel = (r.randint(1, 4), r.randint(1, 4))
        dilated = r.random() < 0.25
        dilation = (r.randint(1, 3), r.randint(1, 3)) if dilated else (1, 1)
        strides = (1, 1) if dilated else (r.randint(1, 3), r.randint(1, 3))
        groups = r.choice([1, 1, 1, 2])
        span = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
        yield dict(
            filters=groups * r.randint(1, 2),
            kernel_size=kernel,
            strides=strides,
            padding=r.choice(["valid", "same"]),
            dilation_rate=dilation,
            groups=groups,
            use_bias=r.random() < 0.8,
            activation=r.choice([None, "relu", "tanh"]),
        ), (r.randint(1, 3), span[0] + r.randint(0, 5), span[1] + r.randint(0, 5), groups * r.randint(1, 2))


@pytest.mark.parametrize("seed", [0, 1])
def test_conv2d_matches_keras(tf_keras, seed):
    rng = np.random.default_rng(seed)
    for config, (n, h, w, c) in conv2d_configs(75, seed):
        x = rng.standard_normal((n, h, w, c)).astype(np.float32)
        ref_layer = tf_keras.layers.Conv2D(**config)
        ref_layer.build((None, h, w, c))
        weights = random_weights(rng, [v.shape for v in ref_layer.get_weights()])
        ref_layer.set_weights(weights)
        ref = run_keras(ref_layer, x)
        ours = run_ours(layers.Conv2D(**config), x, weights)
        np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=ATOL, err_msg=str(config))
        first = run_ours(layers.Conv2D(**config, data_format="channels_first"), nhwc_to_nchw(x), weights)
        np.testing.assert_allclose(first, nhwc_to_nchw(ref), rtol=RTOL, atol=ATOL, err_msg=str(config))


# -- Conv2DTranspose ----------------------------------------------------------------------


def numpy_conv_transpose(x, kernel, bias, strides, padding, output_padding, dilation):
    """Transposed conv as the adjoint of TensorFlow's conv2d, written from its definition.

    ``x`` (N, H, W, C_in), ``kernel`` (kh, kw, C_out, C_in) in Keras layout. The output
    length L is Keras's (formulas written out here, not taken from upgan); the forward conv
    that maps L back to the input pads ``max((i - 1) * s + k' - L, 0) // 2`` before for 'same'
    and nothing for 'valid', and output position p receives x[a] * w[t] where
    ``p = a * s + t * d - pad_before``.
    """
    n, _, _, _ = x.shape
    kh, kw, c_out, _ = kernel.shape
    lengths, befores = [], []
    for i, k, s, d, op in zip(x.shape[1:3], (kh, kw), strides, dilation, output_padding or (None, None)):
        span = (k - 1) * d + 1
        if padding == "valid":
            length = (i - 1) * s + (max(span, s) if op is None else span + op)
            before = 0
        else:
            length = i * s if op is None else (i - 1) * s + span % 2 + op
            before = max((i - 1) * s + span - length, 0) // 2
        lengths.append(length)
        befores.append(before)
    y = np.zeros((n, *lengths, c_out), dtype=np.float64)
    for a in range(x.shape[1]):
        for b in range(x.shape[2]):
            for t in range(kh):
                p = a * strides[0] + t * dilation[0] - befores[0]
                if not 0 <= p < lengths[0]:
                    continue
                for u in range(kw):
                    q = b * strides[1] + u * dilation[1] - befores[1]
                    if 0 <= q < lengths[1]:
                        y[:, p, q, :] += x[:, a, b, :].astype(np.float64) @ kernel[t, u].T.astype(np.float64)
    return y + (0 if bias is None else bias)


def conv_transpose_configs(n: int, seed: int, dilated: bool):
    r = random.Random(seed)
    for _ in range(n):
        kernel = (r.randint(1, 5), r.randint(1, 5))
        dilation = (r.randint(1, 3), r.randint(1, 3)) if dilated else (1, 1)
        strides = (1, 1) if dilated else (r.randint(1, 3), r.randint(1, 3))
        output_padding = None
        if r.random() < 0.4:
            output_padding = tuple(r.randint(0, s - 1) for s in strides)
        yield dict(
            filters=r.randint(1, 3),
            kernel_size=kernel,
            strides=strides,
            padding=r.choice(["valid", "same"]),
            output_padding=output_padding,
            dilation_rate=dilation,
            use_bias=r.random() < 0.8,
            activation=r.choice([None, "sigmoid"]),
        ), (r.randint(1, 2), r.randint(1, 6), r.randint(1, 6), r.randint(1, 3))


def tensorflow_runs(config, sizes) -> bool:
    """Whether TensorFlow's kernel accepts the configuration.

    Keras passes its output length L to ``tf.nn.conv2d_transpose``, which requires the forward
    convolution of L to give back the input length i: ``ceil(L / s) == i`` for 'same' and
    ``(L - k) // s + 1 == i`` for 'valid'. Keras's output_padding formulas can break that (and
    can give L < 1); those configurations fail in Keras itself, so there is nothing to compare.
    """
    ops = config["output_padding"] or (None, None)
    for i, k, s, op in zip(sizes, config["kernel_size"], config["strides"], ops):
        if op is None:
            continue
        length = (i - 1) * s + (k + op if config["padding"] == "valid" else k % 2 + op)
        if length < 1 or (-(-length // s) if config["padding"] == "same" else (length - k) // s + 1) != i:
            return False
    return True


def _ref_activation(config, y):
    return 1 / (1 + np.exp(-y)) if config["activation"] == "sigmoid" else y


@pytest.mark.parametrize("seed", [0, 1])
def test_conv2d_transpose_matches_keras(tf_keras, seed):
    rng = np.random.default_rng(seed)
    checked = 0
    for config, (n, h, w, c) in conv_transpose_configs(75, seed, dilated=False):
        if not tensorflow_runs(config, (h, w)):
            continue
        x = rng.standard_normal((n, h, w, c)).astype(np.float32)
        ref_layer = tf_keras.layers.Conv2DTranspose(**config)
        ref_layer.build((None, h, w, c))
        weights = random_weights(rng, [v.shape for v in ref_layer.get_weights()])
        ref_layer.set_weights(weights)
        ref = run_keras(ref_layer, x)
        ours = run_ours(layers.Conv2DTranspose(**config), x, weights)
        np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=ATOL, err_msg=str(config))
        first = run_ours(layers.Conv2DTranspose(**config, data_format="channels_first"), nhwc_to_nchw(x), weights)
        np.testing.assert_allclose(first, nhwc_to_nchw(ref), rtol=RTOL, atol=ATOL, err_msg=str(config))
        # The NumPy reference used for dilated kernels agrees with Keras where Keras runs.
        numpy_ref = numpy_conv_transpose(
            x, weights[0], weights[1] if config["use_bias"] else None, config["strides"], config["padding"],
            config["output_padding"], config["dilation_rate"],
        )
        np.testing.assert_allclose(_ref_activation(config, numpy_ref), ref, rtol=RTOL, atol=ATOL, err_msg=str(config))
        checked += 1
    assert checked >= 60


def test_dilated_conv2d_transpose_matches_numpy_reference(seeded):
    rng = seeded(3)
    for config, (n, h, w, c) in conv_transpose_configs(60, 3, dilated=True):
        spans = [(k - 1) * d + 1 for k, d in zip(config["kernel_size"], config["dilation_rate"])]
        if config["padding"] == "same" and any(i == 1 and k % 2 == 0 for i, k in zip((h, w), spans)):
            if config["output_padding"] is not None:
                continue  # Keras's formula gives an empty output (upgan refuses it; see test_keras_sequential)
        x = rng.standard_normal((n, h, w, c)).astype(np.float32)
        layer = layers.Conv2DTranspose(**config)
        layer.build_for((None, h, w, c))
        weights = random_weights(rng, layer.weight_shapes())
        ref = numpy_conv_transpose(
            x, weights[0], weights[1] if config["use_bias"] else None, config["strides"], config["padding"],
            config["output_padding"], config["dilation_rate"],
        )
        ref = _ref_activation(config, ref)
        ours = run_ours(layer, x, weights)
        np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=ATOL, err_msg=str(config))
        first = run_ours(layers.Conv2DTranspose(**config, data_format="channels_first"), nhwc_to_nchw(x), weights)
        np.testing.assert_allclose(first, nhwc_to_nchw(ref), rtol=RTOL, atol=ATOL, err_msg=str(config))


# -- UpSampling2D -------------------------------------------------------------------------


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_up_sampling2d_matches_keras(tf_keras, interpolation, data_format):
    rng = np.random.default_rng(7)
    r = random.Random(7)
    for size in [(1, 1), (2, 2), (1, 3), (3, 2), (2, 1)] + [(r.randint(1, 4), r.randint(1, 4)) for _ in range(5)]:
        shape = (r.randint(1, 2), r.randint(1, 5), r.randint(1, 5), r.randint(1, 3))
        x = rng.uniform(-2, 2, shape).astype(np.float32)
        ref = run_keras(tf_keras.layers.UpSampling2D(size=size, interpolation=interpolation), x)
        if data_format == "channels_first":
            x, ref = nhwc_to_nchw(x), nhwc_to_nchw(ref)
        ours = run_ours(layers.UpSampling2D(size=size, data_format=data_format, interpolation=interpolation), x)
        np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=ATOL, err_msg=f"size={size} x.shape={shape}")


def test_up_sampling2d_int_size_and_integer_input(tf_keras):
    x = np.arange(12, dtype=np.int64).reshape(1, 2, 3, 2)
    ref = run_keras(tf_keras.layers.UpSampling2D(size=3), x.astype(np.float32))
    ours = run_ours(layers.UpSampling2D(size=3), x)
    np.testing.assert_array_equal(ours, ref)


# -- Dense, Reshape, Flatten ----------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1")
def test_dense_matches_keras(tf_keras):
    r = random.Random(11)
    rng = np.random.default_rng(11)
    for _ in range(40):
        config = dict(units=r.randint(1, 6), use_bias=r.random() < 0.8, activation=r.choice([None, "relu", "softmax", "gelu"]))
        shape = (r.randint(1, 3), *([r.randint(1, 3)] if r.random() < 0.3 else []), r.randint(1, 7))
        x = rng.standard_normal(shape).astype(np.float32)
        ref_layer = tf_keras.layers.Dense(**config)
        ref_layer.build((None, *shape[1:]))
        weights = random_weights(rng, [v.shape for v in ref_layer.get_weights()])
        ref_layer.set_weights(weights)
        ours = run_ours(layers.Dense(**config), x, weights)
        np.testing.assert_allclose(ours, run_keras(ref_layer, x), rtol=RTOL, atol=ATOL, err_msg=str(config))


@pytest.mark.parametrize(
    ("target", "shape"), [((5, 5, 2), (2, 50)), ((-1, 4), (3, 2, 2, 2)), ((2, -1, 3), (1, 12)), ((6,), (2, 3, 2))]
)
def test_reshape_matches_keras(tf_keras, target, shape):
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    ours_layer = layers.Reshape(target)
    ours = run_ours(ours_layer, x)
    ref_layer = tf_keras.layers.Reshape(target)
    np.testing.assert_array_equal(ours, run_keras(ref_layer, x))
    assert ours_layer.output_shape == (None, *ref_layer.compute_output_shape((None, *shape[1:]))[1:])


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 4), (1, 2, 3, 4), (2, 1, 2, 3, 2)])
def test_flatten_matches_keras(tf_keras, data_format, shape):
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    ref = run_keras(tf_keras.layers.Flatten(data_format=data_format), x)
    np.testing.assert_array_equal(run_ours(layers.Flatten(data_format=data_format), x), ref)


# -- activations, LeakyReLU, Dropout ----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(activations.ACTIVATIONS))
def test_activation_matches_keras(tf_keras, name):
    x = np.random.default_rng(5).uniform(-4, 4, (3, 2, 6)).astype(np.float32)  # glu halves an even last axis
    x[0, 0, :4] = [-1.0, 1.0, -0.5, 0.5]  # the kinks of the piecewise ones
    ref = run_keras(tf_keras.layers.Activation(name), x)
    np.testing.assert_allclose(run_ours(layers.Activation(name), x), ref, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("slope", [0.3, 0.0, 0.2, 1.5])
def test_leaky_relu_matches_keras(tf_keras, slope):
    x = np.linspace(-3, 3, 24, dtype=np.float32).reshape(2, 3, 4)
    ref = run_keras(tf_keras.layers.LeakyReLU(negative_slope=slope), x)
    np.testing.assert_allclose(run_ours(layers.LeakyReLU(negative_slope=slope), x), ref, rtol=RTOL, atol=ATOL)


def test_leaky_relu_default_and_alpha(tf_keras):
    x = np.linspace(-3, 3, 8, dtype=np.float32).reshape(2, 4)
    np.testing.assert_allclose(run_ours(layers.LeakyReLU(), x), run_keras(tf_keras.layers.LeakyReLU(), x), rtol=RTOL)
    with pytest.warns(DeprecationWarning, match="`alpha` is deprecated"):
        layer = layers.LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1


def test_dropout_inference_is_identity_and_training_drops_and_rescales(seeded):
    seeded(0)
    x = np.ones((200, 50), dtype=np.float32)
    np.testing.assert_array_equal(run_ours(layers.Dropout(0.4), x), x)
    y = run_ours(layers.Dropout(0.4), x, training=True)
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.6)}
    assert abs((y == 0).mean() - 0.4) < 0.02
    y = run_ours(layers.Dropout(0.5, noise_shape=(None, 1)), x, training=True)
    assert ((y == 0).all(axis=1) | (y != 0).all(axis=1)).all()  # whole rows dropped together


# -- BatchNormalization -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [{}, {"axis": 1}, {"center": False}, {"scale": False}, {"momentum": 0.5, "epsilon": 0.1}, {"axis": 2}],
)
def test_batch_normalization_matches_keras(tf_keras, config):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3, 5, 2)).astype(np.float32) * 3 + 1
    ref_layer = tf_keras.layers.BatchNormalization(**config)
    ref_layer.build(x.shape)
    weights = [rng.uniform(0.5, 2, v.shape).astype(np.float32) for v in ref_layer.get_weights()]
    ref_layer.set_weights(weights)
    ours_layer = layers.BatchNormalization(**config)
    # inference: moving statistics
    np.testing.assert_allclose(run_ours(ours_layer, x, weights), run_keras(ref_layer, x), rtol=RTOL, atol=ATOL)
    # training: batch statistics, then the moving statistics move the same way
    for _ in range(2):
        ours = run_ours(ours_layer, x, training=True)
        ref = run_keras(ref_layer, x, training=True)
        np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=ATOL)
    for a, b in zip(ours_layer.get_weights(), ref_layer.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def test_frozen_batch_normalization_uses_moving_statistics_in_training(tf_keras):
    x = np.random.default_rng(4).standard_normal((4, 3)).astype(np.float32)
    ref_layer = tf_keras.layers.BatchNormalization(trainable=False)
    ref = run_keras(ref_layer, x, training=True)
    ours = run_ours(layers.BatchNormalization(trainable=False), x, training=True)
    np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=ATOL)


# -- whole generator stacks -------------------------------------------------------------------


def generator_stack(lib, r: random.Random, data_format: str = "channels_last"):
    """A random DCGAN-style generator built from ``lib.layers`` (Keras or upgan.keras)."""
    L = lib.layers
    base, channels, latent = r.randint(2, 4), r.randint(2, 4), r.randint(3, 6)
    stack = [lib.Input(shape=(latent,)), L.Dense(base * base * channels), L.Reshape((base, base, channels))]
    for _ in range(r.randint(1, 2)):
        if r.random() < 0.5:
            mode = r.choice(["nearest", "bilinear", "bicubic"])
            stack += [L.UpSampling2D(interpolation=mode), L.Conv2D(channels, r.choice([3, 4]), padding="same")]
        else:
            stack += [L.Conv2DTranspose(channels, r.choice([3, 4]), strides=2, padding=r.choice(["same", "valid"]))]
        stack += [L.BatchNormalization(), L.LeakyReLU(0.2)]
    stack += [L.Conv2D(1, 3, padding="same", activation="tanh")]
    return stack


@pytest.mark.parametrize("seed", range(8))
def test_generator_stack_matches_keras(tf_keras, seed):
    import upgan.keras

    ours = upgan.keras.Sequential(generator_stack(upgan.keras, random.Random(seed)))
    ref = tf_keras.Sequential(generator_stack(tf_keras, random.Random(seed)))
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(0.5, 1.5, w.shape).astype(np.float32) if w.ndim == 1 else
               rng.standard_normal(w.shape).astype(np.float32) * 0.3 for w in ref.get_weights()]
    ref.set_weights(weights)
    ours.set_weights(weights)
    assert ours.output_shape == ref.output_shape
    assert ours.count_params() == ref.count_params()
    z = rng.standard_normal((3, ref.input_shape[1])).astype(np.float32)
    np.testing.assert_allclose(ours.predict(z), np.asarray(ref(z, training=False)), rtol=RTOL, atol=ATOL)
    ours.train()
    with torch.no_grad():
        trained = ours(torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(trained, np.asarray(ref(z, training=True)), rtol=1e-3, atol=1e-4)
    for a, b in zip(ours.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
