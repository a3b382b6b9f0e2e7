"""Sequential: building, naming, predict, weights, torch training, and Keras-style errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from upgan.keras import Input, Sequential, backend, summarize
from upgan.keras import layers as upgan_layers
from upgan.keras.layers import (
    Activation,
    BatchNormalization,
    Conv2D,
    Conv2DTranspose,
    Dense,
    Dropout,
    Flatten,
    LeakyReLU,
    Reshape,
    UpSampling2D,
)


@pytest.fixture(autouse=True)
def fresh_names():
    backend.clear_session()


def tutorial_generator(upsample: bool) -> Sequential:
    model = Sequential()
    with pytest.warns(UserWarning, match="input_shape`/`input_dim` to a layer is deprecated"):
        model.add(Dense(128 * 5 * 5, input_dim=100))
    model.add(Reshape((5, 5, 128)))
    if upsample:
        model.add(UpSampling2D())
        model.add(Conv2D(1, (3, 3), padding="same"))
    else:
        model.add(Conv2DTranspose(1, (3, 3), strides=(2, 2), padding="same"))
    return model


def test_names_follow_keras3_and_are_unique_per_process(tf_keras):
    tf_keras.backend.clear_session()
    kinds = ["Dense", "Dense", "Conv2D", "Conv2DTranspose", "UpSampling2D", "LeakyReLU", "BatchNormalization", "Dense"]
    ours = [getattr(__import__("upgan.keras.layers", fromlist=[k]), k) for k in kinds]
    args = {"Dense": (2,), "Conv2D": (1, 1), "Conv2DTranspose": (1, 1)}
    names = [cls(*args.get(k, ())).name for k, cls in zip(kinds, ours)]
    ref = [getattr(tf_keras.layers, k)(*args.get(k, ())).name for k in kinds]
    assert names == ref
    assert Dense(2, name="head").name == "head"
    assert Sequential().name == "sequential" and Sequential().name == "sequential_1"


def test_tutorial_models_shapes_and_param_counts():
    for upsample in (True, False):
        model = tutorial_generator(upsample)
        assert model.output_shape == (None, 10, 10, 1)
        assert model.input_shape == (None, 100)
        assert model.count_params() == 324_353
        assert [layer.output_shape for layer in model.layers][:2] == [(None, 3200), (None, 5, 5, 128)]
        assert model.predict(np.zeros((3, 100), dtype=np.int64)).shape == (3, 10, 10, 1)


def test_input_first_and_layers_list():
    model = Sequential([Input(shape=(2, 2, 1)), UpSampling2D(size=(2, 3))])
    assert model.output_shape == (None, 4, 6, 1)
    assert [type(layer).__name__ for layer in model.layers] == ["UpSampling2D"]
    assert Sequential([Input(shape=(3,), batch_size=5), Dense(2)]).output_shape == (5, 2)


def test_lazy_build_on_first_call():
    model = Sequential([Dense(4), LeakyReLU(), Dense(2)])
    assert not model.built
    with pytest.raises(ValueError, match='Sequential model "sequential" has not been built yet, so it has no summary'):
        model.summary()
    with pytest.raises(ValueError, match="has not been built yet, so it has no output shape"):
        model.output_shape
    out = model(torch.ones(3, 7))
    assert out.shape == (3, 2) and model.built and model.output_shape == (None, 2)
    assert model.count_params() == 7 * 4 + 4 + 4 * 2 + 2


def test_predict_accepts_ints_lists_and_returns_float32():
    model = Sequential([Input(shape=(2, 2, 1)), UpSampling2D()])
    x = np.asarray([[1, 2], [3, 4]]).reshape((1, 2, 2, 1))
    y = model.predict(x)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.reshape(4, 4), np.repeat(np.repeat([[1, 2], [3, 4]], 2, 0), 2, 1))
    np.testing.assert_array_equal(model.predict(x.tolist()), y)
    big = np.arange(70 * 4).reshape(70, 2, 2, 1)
    np.testing.assert_array_equal(model.predict(big, batch_size=8), model.predict(big))


def test_predict_rejects_non_numeric_input():
    model = Sequential([Input(shape=(2,)), Dense(1)])
    with pytest.raises(TypeError, match="The `x` argument of predict\\(\\) must be numeric .* Received x with dtype <U1"):
        model.predict([["a", "b"]])
    with pytest.raises(TypeError, match="must be a numeric array. Received x that NumPy rejects"):
        model.predict([[1.0, 2.0], [1.0]])
    with pytest.raises(ValueError, match="The `batch_size` argument must be a positive integer. Received batch_size=0"):
        model.predict([[1.0, 2.0]], batch_size=0)
    with pytest.raises(ValueError, match="The `verbose` argument must be 'auto', 0, 1 or 2. Received verbose=3"):
        model.predict([[1.0, 2.0]], verbose=3)


def test_predict_runs_in_inference_mode_and_restores_training_mode():
    model = Sequential([Input(shape=(50,)), Dropout(0.5), BatchNormalization()])
    model.train()
    x = np.ones((4, 50), dtype=np.float32)
    y = model.predict(x)
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-3), rtol=1e-6)
    assert model.training
    np.testing.assert_array_equal(model.layers[1].get_weights()[2], np.zeros(50))  # stats untouched


def test_get_set_weights_use_keras_layouts_and_order():
    model = Sequential([Input(shape=(4, 4, 3)), Conv2D(5, (2, 3)), BatchNormalization(), Conv2DTranspose(2, 3),
                        Flatten(), Dense(7)])
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(2, 3, 3, 5), (5,), (5,), (5,), (5,), (5,), (3, 3, 2, 5), (2,), (5 * 4 * 2, 7), (7,)]
    conv, _, transpose, _, dense = model.layers
    assert conv.weight.shape == (5, 3, 2, 3) and transpose.weight.shape == (5, 2, 3, 3) and dense.weight.shape == (7, 40)
    rng = np.random.default_rng(0)
    new = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    model.set_weights(new)
    for a, b in zip(model.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(conv.weight.detach().numpy(), new[0].transpose(3, 2, 0, 1))
    np.testing.assert_array_equal(transpose.weight.detach().numpy(), new[6].transpose(3, 2, 0, 1))


def test_set_weights_rejects_wrong_count_and_shapes():
    model = Sequential([Input(shape=(3,)), Dense(2)])
    with pytest.raises(ValueError, match=r'Sequential model "sequential" expects 2 weights with shapes \[\(3, 2\), \(2,\)\], but received 1'):
        model.set_weights([np.zeros((3, 2))])
    with pytest.raises(ValueError, match=r'Layer "dense" weight 0 \(kernel\) has shape \(3, 2\), but received an array of shape \(2, 3\)'):
        model.set_weights([np.zeros((2, 3)), np.zeros(2)])
    with pytest.raises(TypeError, match=r'Layer "dense" weight 1 \(bias\) must be numeric. Received an array of dtype <U1'):
        model.set_weights([np.zeros((3, 2)), np.array(["a", "b"])])


def test_torch_can_train_it():
    torch.manual_seed(0)
    model = tutorial_generator(upsample=True)
    before = [w.copy() for w in model.get_weights()]
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss = model(torch.randn(4, 100)).square().mean()
    loss.backward()
    optimiser.step()
    after = model.get_weights()
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))
    assert all(p.grad is not None for p in model.parameters())


def test_trainable_false_freezes_and_counts_as_non_trainable():
    model = Sequential([Input(shape=(3,)), Dense(2, trainable=False), Dense(1)])
    lines = []
    model.summary(print_fn=lines.append)
    assert lines[-4:-1] == ["Total params: 11", "Trainable params: 3", "Non-trainable params: 8"]
    assert not model.layers[0].weight.requires_grad


def test_model_trainable_sets_every_layer_as_keras_does(tf_keras):
    """``model.trainable = False`` freezes every layer (weights, BatchNormalization statistics, the
    summary's counts); a layer set afterwards changes alone; ``True`` unfreezes all."""
    keras_model = tf_keras.Sequential([tf_keras.Input(shape=(3,)), tf_keras.layers.Dense(4), tf_keras.layers.BatchNormalization()])
    model = Sequential([Input(shape=(3,)), Dense(4), BatchNormalization()])
    for m in (keras_model, model):
        m.trainable = False
    assert model.trainable is keras_model.trainable is False
    assert [layer.trainable for layer in model.layers] == [layer.trainable for layer in keras_model.layers] == [False, False]
    assert not any(p.requires_grad for p in model.parameters())
    lines = []
    model.summary(print_fn=lines.append)
    assert lines[-4:-1] == ["Total params: 32", "Trainable params: 0", "Non-trainable params: 32"]
    model.train()
    x = torch.randn(8, 3) * 5 + 2
    before = [w.copy() for w in model.get_weights()]
    model(x)  # a frozen BatchNormalization normalises with (and keeps) its moving statistics
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    for m in (keras_model, model):
        m.layers[0].trainable = True
    assert [layer.trainable for layer in model.layers] == [layer.trainable for layer in keras_model.layers] == [True, False]
    assert model.trainable is keras_model.trainable is False
    for m in (keras_model, model):
        m.trainable = True
    assert [layer.trainable for layer in model.layers] == [layer.trainable for layer in keras_model.layers] == [True, True]
    assert all(p.requires_grad for p in model.parameters())


def test_input_rank_is_adjusted_or_refused_as_keras_does(tf_keras):
    """Keras 3 drops a trailing size-1 axis or adds one the input declares; other ranks are errors."""
    k = tf_keras.layers
    cases = [
        (lambda L, I: [I(shape=(4, 4, 1)), L.UpSampling2D()], (2, 4, 4)),  # missing channel axis of size 1
        (lambda L, I: [I(shape=(6,)), L.Reshape((2, 3))], (2, 6, 1)),  # extra trailing axis of size 1
        (lambda L, I: [I(shape=(4, 4, 1)), L.UpSampling2D()], (2, 5, 3, 1)),  # other spatial sizes are fine
        (lambda L, I: [I(shape=(6,)), L.Reshape((2, 3))], (2, 3, 2)),
        (lambda L, I: [I(shape=(6,)), L.Dense(3)], (2, 5, 6)),
        (lambda L, I: [I(shape=(4, 4, 1)), L.BatchNormalization()], (2, 3, 4, 4, 1)),  # squeezed, then wrong
        (lambda L, I: [I(shape=(4, 4, 1)), L.BatchNormalization()], (2, 4, 4, 1, 2)),
    ]
    for make, shape in cases:
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        keras_model = tf_keras.Sequential(make(k, tf_keras.Input))
        model = Sequential(make(upgan_layers, Input))
        model.set_weights(keras_model.get_weights())
        try:
            expected = keras_model.predict(x, verbose=0)
        except ValueError:
            with pytest.raises(ValueError, match=r"incompatible") as raised:
                model.predict(x)
            if shape[-1] != 1:  # not squeezed first: the model's own rank error
                assert re.search(r'Invalid input shape for Sequential model ".*": expected shape \(None, [\d, ]+\), '
                                 r"but the input has incompatible shape " + re.escape(str(shape)), str(raised.value))
        else:
            np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-6)
    lazy = Sequential([Dense(3)])  # built by its first call: later calls keep that rank
    lazy.predict(np.zeros((2, 6)))
    with pytest.raises(ValueError, match=r"expected shape \(None, 6\), but the input has incompatible shape \(2, 5, 6\)"):
        lazy.predict(np.zeros((2, 5, 6)))


def test_predict_of_a_one_item_list_of_arrays_is_that_array_as_in_keras(tf_keras):
    model = Sequential([Input(shape=(2, 2, 1)), UpSampling2D()])
    reference = tf_keras.Sequential([tf_keras.Input(shape=(2, 2, 1)), tf_keras.layers.UpSampling2D()])
    x = np.arange(8, dtype=np.float32).reshape(2, 2, 2, 1)
    expected = reference.predict([x], verbose=0)
    assert expected.shape == (2, 4, 4, 1)
    np.testing.assert_array_equal(model.predict([x]), expected)
    np.testing.assert_array_equal(model.predict([torch.from_numpy(x)]), expected)
    nested = x.tolist()  # a nested list of numbers is data, batch axis first
    np.testing.assert_array_equal(model.predict(nested), expected)


def test_compile_refuses_keras_training_arguments_and_keeps_torch_compile():
    model = Sequential([Input(shape=(6,)), Dense(3)])
    with pytest.raises(TypeError, match=r"Sequential.compile\(\) with Keras's training arguments is not supported: upgan.keras has no fit\(\).* Received loss='mse', optimizer='adam'"):
        model.compile(optimizer="adam", loss="mse")
    with pytest.raises(TypeError, match=r"Received optimizer='rmsprop'"):
        model.compile("rmsprop")
    x = np.random.default_rng(0).standard_normal((2, 6)).astype(np.float32)
    expected = model.predict(x)
    model.compile(backend="eager")  # torch.nn.Module.compile, as before
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-6)


def test_shape_arguments_may_be_numpy_arrays_as_in_keras(tf_keras):
    with pytest.warns(UserWarning, match="input_shape`/`input_dim` to a layer is deprecated"):
        first = Dense(4, input_shape=np.array([6]))
    model = Sequential([first, Reshape(np.array([2, 2, 1])), Conv2D(2, np.array([2, 2]), strides=np.array([1, 1]))])
    keras_model = tf_keras.Sequential([
        tf_keras.Input(shape=np.array([6])), tf_keras.layers.Dense(4), tf_keras.layers.Reshape(np.array([2, 2, 1])),
        tf_keras.layers.Conv2D(2, np.array([2, 2]), strides=np.array([1, 1])),
    ])
    model.set_weights(keras_model.get_weights())
    assert model.output_shape == keras_model.output_shape == (None, 1, 1, 2)
    x = np.random.default_rng(0).standard_normal((3, 6)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x), keras_model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_dropout_rate_one_drops_everything_in_training_and_nothing_in_inference(tf_keras):
    x = torch.tensor([[1.0, float("inf"), -2.0]])
    assert torch.equal(Dropout(1.0).train()(x), torch.zeros_like(x))
    keras_layer = tf_keras.layers.Dropout(1.0)  # accepted by Keras; identity in inference
    np.testing.assert_array_equal(Dropout(1.0).eval()(x).numpy(), keras_layer(x.numpy(), training=False))


def test_pop_removes_the_last_layer_as_keras_does(tf_keras):
    keras_model = tf_keras.Sequential(
        [tf_keras.Input(shape=(3,)), tf_keras.layers.Dense(4, name="a"), tf_keras.layers.Dense(2, name="b")]
    )
    model = Sequential([Input(shape=(3,)), Dense(4, name="a"), Dense(2, name="b")])
    model.set_weights(keras_model.get_weights())
    assert keras_model.pop().name == model.pop().name == "b"
    assert [layer.name for layer in model.layers] == ["a"] and "b" not in dict(model.named_modules())
    assert model.output_shape == keras_model.output_shape == (None, 4)
    assert model.count_params() == keras_model.count_params() == 16
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x), keras_model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    model.add(Dense(1, name="b"))  # the name is free again
    assert model.output_shape == (None, 1)
    model.pop()
    model.pop()
    with pytest.raises(IndexError, match='Sequential model ".*" has no layers to pop'):
        model.pop()


def test_add_errors():
    model = Sequential([Input(shape=(3,)), Dense(2, name="a")])
    with pytest.raises(ValueError, match='should have unique names. Name "a" is already the name of a layer'):
        model.add(Dense(2, name="a"))
    with pytest.raises(TypeError, match="Only upgan.keras layers can be added .* of type Linear"):
        model.add(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="An Input can only be the first item of a Sequential model"):
        model.add(Input(shape=(2,)))
    with pytest.raises(ValueError, match='The layer name "forward" clashes with an attribute of Sequential'):
        model.add(Dense(2, name="forward"))
    with pytest.raises(ValueError, match="The `name` argument must be a non-empty string without '.'. Received name='a.b'"):
        Dense(2, name="a.b")


def test_wrong_rank_and_channels_are_keras_style_errors():
    model = Sequential([Input(shape=(4, 4, 3)), Conv2D(2, 3)])
    with pytest.raises(ValueError, match=r'Input 0 of layer "conv2d" is incompatible with the layer: expected axis -1 of input shape to have value 3, but received input with shape \(1, 4, 4, 2\)'):
        model.predict(np.zeros((1, 4, 4, 2)))
    with pytest.raises(ValueError, match=r'Invalid input shape for Sequential model "sequential": expected shape \(None, 4, 4, 3\), but the input has incompatible shape \(1, 4, 4\)'):
        model.predict(np.zeros((1, 4, 4)))
    with pytest.raises(ValueError, match=r'Input 0 of layer "conv2d" is incompatible with the layer: expected ndim=4, found ndim=3. Full shape received: \(1, 4, 4\)'):
        model.layers[0](torch.zeros(1, 4, 4))  # the layer alone
    with pytest.raises(ValueError, match=r'expected ndim=4, found ndim=2. Full shape received: \(None, 3\)'):
        Sequential([Input(shape=(3,)), UpSampling2D()])
    with pytest.raises(ValueError, match=r'Layer "reshape": the total size of the new array must be unchanged. Received input_shape=\(None, 6\), target_shape=\(4, 2\)'):
        Sequential([Input(shape=(6,)), Reshape((4, 2))])
    with pytest.raises(ValueError, match=r'Layer "conv2d_1" cannot take an input of shape \(None, 2, 2, 1\): The convolution\'s output size would be -2 \(< 1\)'):
        Sequential([Input(shape=(2, 2, 1)), Conv2D(1, 5)])
    # Keras on TensorFlow returns an empty tensor here; upgan names the layer and the axis.
    with pytest.raises(ValueError, match=r'Layer "conv2d_transpose" cannot take an input of shape \(None, 3, 1, 1\) \(along the width\): The transposed convolution\'s output size would be 0'):
        Sequential([Input(shape=(3, 1, 1)), Conv2DTranspose(1, 4, strides=4, padding="same", output_padding=0)])
    lazy = Sequential([Conv2DTranspose(1, 4, strides=(1, 4), padding="same", output_padding=0)])
    with pytest.raises(ValueError, match=r'Layer "conv2d_transpose_1" cannot take .* \(along the width\)'):
        lazy.predict(np.zeros((1, 3, 1, 1)))
    with pytest.raises(TypeError, match='Layer "dense" expects a torch.Tensor. Received an input of type list'):
        Dense(1)([1.0])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: UpSampling2D(size=(0, 2)), r"The `size` argument must be an integer or a tuple of 2 positive integers. Received size=\(0, 2\)"),
        (lambda: UpSampling2D(size=-1), r"The `size` argument must be .* Received size=-1"),
        (lambda: UpSampling2D(interpolation="gaussian"), r"The `interpolation` argument must be one of 'nearest', 'bilinear', 'bicubic', 'lanczos3', 'lanczos5', 'area'. Received interpolation='gaussian'"),
        (lambda: UpSampling2D(data_format="NHWC"), r"The `data_format` argument must be one of 'channels_last', 'channels_first'. Received data_format='NHWC'"),
        (lambda: Conv2D(1, 3, strides=(1, 0)), r"The `strides` argument must be an integer or a tuple of 2 positive integers. Received strides=\(1, 0\)"),
        (lambda: Conv2D(0, 3), r"The `filters` argument must be a positive integer. Received filters=0"),
        (lambda: Conv2D(1, (3, 3, 3)), r"The `kernel_size` argument must be .* Received kernel_size=\(3, 3, 3\)"),
        (lambda: Conv2D(1, 3, padding="full"), r"The `padding` argument must be one of 'valid', 'same'. Received padding='full'"),
        (lambda: Conv2D(1, 3, strides=2, dilation_rate=2), r"`strides > 1` is not supported together with `dilation_rate > 1`. Received strides=\(2, 2\), dilation_rate=\(2, 2\)"),
        (lambda: Conv2D(3, 3, groups=2), r"The `filters` argument must be divisible by `groups`. Received filters=3, groups=2"),
        (lambda: Conv2DTranspose(1, 3, strides=2, output_padding=2), r"The `output_padding` argument must be strictly less than `strides` on each axis. Received output_padding=\(2, 2\), strides=\(2, 2\)"),
        (lambda: Conv2DTranspose(1, 3, strides=(2, 1), dilation_rate=2), r"`strides > 1` is not supported together with `dilation_rate > 1`"),
        (lambda: Conv2DTranspose(1, 3, output_padding=-1), r"The `output_padding` argument must be an integer or a tuple of 2 non-negative integers. Received output_padding=-1"),
        (lambda: Conv2DTranspose(1, 3, padding="SAME!"), r"The `padding` argument must be one of 'valid', 'same'. Received padding='SAME!'"),
        (lambda: Dense(0), r"The `units` argument must be a positive integer. Received units=0"),
        (lambda: Dense(2.5), r"The `units` argument must be a positive integer. Received units=2.5"),
        (lambda: Dense(2, activation="swishy"), r"Unknown activation: `activation`='swishy'. Known activations: linear, relu"),
        (lambda: Dense(2, kernel_initializer="glorot"), r"Unknown initializer: `kernel_initializer`='glorot'. Known initializers: zeros, ones"),
        (lambda: Dense(2, input_dim=0), r"The `input_dim` argument must be a positive integer. Received input_dim=0"),
        (lambda: Dense(2, input_shape=(3, -1)), r"The `input_shape` argument must be a tuple of positive integers \(or None\). Received input_shape=\(3, -1\)"),
        (lambda: Reshape((2, -1, -1)), r"The `target_shape` argument must be a tuple of positive integers with at most one -1. Received target_shape=\(2, -1, -1\)"),
        (lambda: Dropout(1.01), r"The `rate` argument must be a number in \[0, 1\]. Received rate=1.01"),
        (lambda: Dropout(-0.1), r"The `rate` argument must be a number in \[0, 1\]. Received rate=-0.1"),
        (lambda: LeakyReLU(-0.1), r"The `negative_slope` argument must be a number >= 0. Received negative_slope=-0.1"),
        (lambda: BatchNormalization(momentum=2), r"The `momentum` argument must be a number in \[0, 1\]. Received momentum=2"),
        (lambda: BatchNormalization(epsilon=0), r"The `epsilon` argument must be a positive number. Received epsilon=0"),
        (lambda: Activation("nope"), r"Unknown activation: `activation`='nope'"),
        (lambda: Input(shape=(0, 2)), r"The `shape` argument must be a tuple of positive integers \(or None\). Received shape=\(0, 2\)"),
    ],
)
def test_constructor_errors(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_batch_normalization_axis_error():
    with pytest.raises(ValueError, match=r'Layer "batch_normalization": the `axis` argument must name a non-batch axis of the input. Received axis=3 for an input of shape \(None, 4\)'):
        Sequential([Input(shape=(4,)), BatchNormalization(axis=3)])


def test_summarize_of_sequential_equals_its_summary():
    model = tutorial_generator(upsample=True)
    lines = []
    model.summary(print_fn=lines.append)
    assert summarize(model, (100,), print_fn=None) == "\n".join(lines)


@pytest.mark.parametrize("training", [False, True])
def test_gradcheck_through_a_generator_stack(training):
    torch.manual_seed(0)
    model = Sequential([
        Input(shape=(3,)), Dense(2 * 2 * 2), Reshape((2, 2, 2)), Conv2DTranspose(2, 3, strides=2, padding="same"),
        BatchNormalization(), LeakyReLU(0.2), UpSampling2D(interpolation="bilinear", data_format="channels_last"),
        Conv2D(1, 2, padding="same", activation="tanh"), Flatten(),
    ]).double()
    model.train(training)
    names, params = zip(*model.named_parameters())
    z = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)

    def run(z, *weights):
        return torch.func.functional_call(model, dict(zip(names, weights)), (z,))

    inputs = (z, *[p.detach().clone().requires_grad_(True) for p in params])
    assert torch.autograd.gradcheck(run, inputs, fast_mode=True)


def test_predict_verbose_prints_one_line(capsys):
    model = Sequential([Input(shape=(2,)), Dense(1)])
    model.predict(np.zeros((5, 2)), batch_size=2)
    assert capsys.readouterr().out == ""
    model.predict(np.zeros((5, 2)), batch_size=2, verbose=1)
    assert capsys.readouterr().out == "3/3 batches\n"


def test_activation_may_be_a_function():
    x = torch.tensor([[-2.0, 3.0]])
    torch.testing.assert_close(Activation(torch.abs)(x), torch.tensor([[2.0, 3.0]]))
    dense = Dense(1, activation=torch.square, kernel_initializer="ones")
    torch.testing.assert_close(dense(x), torch.tensor([[1.0]]), check_stride=False)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Dense(2, trainable="yes"), TypeError, r"The `trainable` argument must be True or False. Received trainable='yes'"),
        (lambda: Sequential([Input(shape=()), Dense(2)]), ValueError,
         r'Input 0 of layer "dense" is incompatible with the layer: expected min_ndim=2, found ndim=1. Full shape received: \(None,\)'),
        (lambda: Sequential([Input(shape=(None,)), Dense(2)]), ValueError,
         r'Layer "dense" needs a known last axis to build its kernel. Received input_shape=\(None, None\)'),
        (lambda: Sequential([Input(shape=(4, 4, 3)), Conv2D(2, 3, groups=2)]), ValueError,
         r'Layer "conv2d": the number of input channels must be known and divisible by groups=2. Received input_shape=\(None, 4, 4, 3\)'),
        (lambda: Sequential([Input(shape=(4, 4, None)), Conv2DTranspose(2, 3)]), ValueError,
         r'Layer "conv2d_transpose": the number of input channels must be known. Received input_shape=\(None, 4, 4, None\)'),
        (lambda: Sequential([Input(shape=(None, 3)), BatchNormalization(axis=1)]), ValueError,
         r'Layer "batch_normalization" needs a known size on axis 1. Received input_shape=\(None, None, 3\)'),
        (lambda: BatchNormalization(axis=1.5), ValueError, r"The `axis` argument must be an integer. Received axis=1.5"),
        (lambda: Dropout(0.5, noise_shape=(1, 0)), ValueError,
         r"The `noise_shape` argument must be a tuple of positive integers \(or None\). Received noise_shape=\(1, 0\)"),
        (lambda: Input(shape=(2,), batch_size=0), ValueError, r"The `batch_size` argument must be a positive integer. Received batch_size=0"),
        (lambda: Sequential()(torch.zeros(1, 2)), ValueError, r'Sequential model "sequential" has no layers to call'),
        (lambda: Sequential([Dense(1)]).predict(np.float32(1.0)), ValueError,
         r"The `x` argument of predict\(\) needs a batch axis. Received x with shape \(\)"),
        (lambda: Sequential([Dense(1)]).predict(np.ones((1, 2), dtype=np.complex64)), TypeError,
         r"The `x` argument of predict\(\) must be real-valued. Received x with dtype torch.complex64"),
        (lambda: Sequential([Dense(1)]).predict(torch.ones(1, 2, dtype=torch.complex64)), TypeError,
         r"The `x` argument of predict\(\) must be real-valued. Received x with dtype torch.complex64"),
    ],
)
def test_more_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_layer_level_weight_errors_and_dropout_noise_rank():
    dense = Dense(2)
    dense.build_for((None, 3))
    with pytest.raises(ValueError, match=r'Layer "dense" expects 2 weights with shapes \[\(3, 2\), \(2,\)\], but received 3 weights'):
        dense.set_weights([np.zeros((3, 2)), np.zeros(2), np.zeros(2)])
    dropout = Dropout(0.5, noise_shape=(None, 1)).train()
    with pytest.raises(ValueError, match=r'Layer "dropout": `noise_shape` \(None, 1\) must have the rank of the input, received input with shape \(2, 3, 4\)'):
        dropout(torch.ones(2, 3, 4))
