"""upgan.functional.conv_transpose2d / upgan.nn.ConvTranspose2d against Keras 3 (TensorFlow), a NumPy
scatter-add reference and torch.nn.ConvTranspose2d."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from upgan.functional import conv_transpose2d
from upgan.nn import ConvTranspose2d

# Tiny tensors: one torch thread is faster, and immune to OpenMP waits on a loaded machine
# (a float64 gradcheck took 12-19 s with 2 threads and 0.08 s with 1 under load).
pytestmark = pytest.mark.usefixtures("single_thread")


def reference_conv_transpose(x, w, b, stride, padding, output_padding, dilation, groups):
    """Transposed convolution from its definition, in float64 NumPy.

    Every input pixel adds ``x * kernel`` into a "full" canvas at ``stride`` steps; the result is
    the window of the canvas each convention keeps (past the canvas's end: zeros):
    Keras/TensorFlow keep ``o`` elements starting at ``max(full - o, 0) // 2`` for "same" (the
    forward "same" convolution's padding before) and at 0 for "valid"; torch starts at ``p``.
    """
    n, cin, h, wd = x.shape
    _, opg, kh, kw = w.shape
    ipg = cin // groups
    (sh, sw), (dh, dw) = stride, dilation
    kdh, kdw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    full = np.zeros((n, opg * groups, (h - 1) * sh + kdh, (wd - 1) * sw + kdw))
    for g in range(groups):
        xg = x[:, g * ipg:(g + 1) * ipg]
        for a in range(kh):
            for c in range(kw):
                contribution = np.einsum("nihw,io->nohw", xg, w[g * ipg:(g + 1) * ipg, :, a, c])
                full[:, g * opg:(g + 1) * opg, a * dh:a * dh + (h - 1) * sh + 1:sh,
                     c * dw:c * dw + (wd - 1) * sw + 1:sw] += contribution
    starts, sizes = [], []
    for i, s, kd, length, axis in ((h, sh, kdh, full.shape[2], 0), (wd, sw, kdw, full.shape[3], 1)):
        op = None if output_padding is None else output_padding[axis]
        if padding == "valid":
            size = (i - 1) * s + (max(kd, s) if op is None else kd + op)
            start = 0
        elif padding == "same":
            size = i * s if op is None else (i - 1) * s + kd % 2 + op
            start = max(length - size, 0) // 2
        else:
            size = length - 2 * padding[axis] + (op or 0)
            start = padding[axis]
        starts.append(start)
        sizes.append(size)
    out = np.zeros((n, opg * groups, sizes[0], sizes[1]))
    window = full[:, :, starts[0]:starts[0] + sizes[0], starts[1]:starts[1] + sizes[1]]
    out[:, :, :window.shape[2], :window.shape[3]] = window
    if b is not None:
        out += b[None, :, None, None]
    return out


def _random_config(rng, dilated=False, grouped=False, torch_padding=False):
    k = tuple(int(v) for v in rng.integers(1, 6, size=2))
    s = (1, 1) if dilated and not torch_padding else tuple(int(v) for v in rng.integers(1, 4, size=2))
    d = tuple(int(v) for v in rng.integers(1, 4, size=2)) if dilated else (1, 1)
    groups = int(rng.integers(1, 4)) if grouped else 1
    cin, cout = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    if torch_padding:
        padding = tuple(int(v) for v in rng.integers(0, 3, size=2))
        op = tuple(int(rng.integers(0, max(a, b))) for a, b in zip(s, d))
    else:
        padding = "same" if rng.random() < 0.5 else "valid"
        op = None if rng.random() < 0.4 else tuple(int(rng.integers(0, v)) for v in s)
    shape = (int(rng.integers(1, 3)), cin, int(rng.integers(1, 8)), int(rng.integers(1, 8)))
    return dict(k=k, s=s, d=d, groups=groups, cout=cout, padding=padding, op=op, shape=shape)


def _reference_size(i, k, s, d, padding, op):
    kd = (k - 1) * d + 1
    if padding == "valid":
        return (i - 1) * s + (max(kd, s) if op is None else kd + op)
    return i * s if op is None else (i - 1) * s + kd % 2 + op


def _tensors(rng, cfg, dtype=np.float32):
    x = rng.standard_normal(cfg["shape"]).astype(dtype)
    w = rng.standard_normal((cfg["shape"][1], cfg["cout"] // cfg["groups"], *cfg["k"])).astype(dtype)
    b = rng.standard_normal(cfg["cout"]).astype(dtype)
    return x, w, b


def _upgan(x, w, b, cfg):
    return conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), cfg["s"],
                            cfg["padding"], cfg["op"], cfg["d"], cfg["groups"]).numpy()


def _edge_configs():
    """Large strides, kernels smaller than the stride, 1-pixel inputs, the largest kernels."""
    configs = []
    for k, s, shape in [((1, 7), (4, 5), (1, 2, 3, 2)), ((2, 3), (3, 2), (1, 1, 1, 1)), ((7, 7), (1, 1), (2, 1, 2, 5)),
                        ((1, 2), (3, 3), (1, 3, 4, 1)), ((5, 4), (5, 4), (1, 1, 2, 3))]:
        for padding in ("valid", "same"):
            for op in (None, (0, 0), (s[0] - 1, s[1] - 1)):
                configs.append(dict(k=k, s=s, d=(1, 1), groups=1, cout=2, padding=padding, op=op, shape=shape))
    return configs


def test_matches_keras_conv2d_transpose(tf_keras, seeded):
    rng = seeded(0)
    compared = numpy_only = 0
    configs = [_random_config(rng) for _ in range(320)] + _edge_configs()
    for index, cfg in enumerate(configs):
        sizes = [_reference_size(cfg["shape"][2 + a], cfg["k"][a], cfg["s"][a], 1, cfg["padding"],
                                 None if cfg["op"] is None else cfg["op"][a]) for a in range(2)]
        x, w, b = _tensors(rng, cfg)
        if min(sizes) < 1:
            with pytest.raises(ValueError, match="output size would be"):
                _upgan(x, w, b, cfg)
            continue
        got = _upgan(x, w, b, cfg)
        assert got.shape[2:] == tuple(sizes)
        # TensorFlow refuses "same" with an even kernel and output_padding 0 on an axis (its
        # output would be shorter than input * stride); Keras's formula still defines it.
        tf_refuses = cfg["padding"] == "same" and cfg["op"] is not None and any(
            k % 2 == 0 and op == 0 for k, op in zip(cfg["k"], cfg["op"]))
        if tf_refuses:
            expected = reference_conv_transpose(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64),
                                                cfg["s"], cfg["padding"], cfg["op"], cfg["d"], 1)
            numpy_only += 1
        elif index % 8 == 0:  # the layer itself, for a share of the configs
            layer = tf_keras.layers.Conv2DTranspose(cfg["cout"], cfg["k"], strides=cfg["s"], padding=cfg["padding"],
                                                    output_padding=cfg["op"])
            layer.build((None, *cfg["shape"][2:], cfg["shape"][1]))
            # Keras's kernel is (kh, kw, C_out, C_in): torch's (C_in, C_out, kh, kw).permute(2, 3, 1, 0).
            layer.set_weights([w.transpose(2, 3, 1, 0), b])
            expected = np.asarray(layer(x.transpose(0, 2, 3, 1))).transpose(0, 3, 1, 2)  # NHWC -> NCHW
            compared += 1
        else:  # the op the layer calls (building a layer costs ~10 ms of variable set-up)
            expected = np.asarray(tf_keras.ops.conv_transpose(
                x.transpose(0, 2, 3, 1), w.transpose(2, 3, 1, 0), cfg["s"], cfg["padding"], cfg["op"],
                data_format="channels_last")).transpose(0, 3, 1, 2) + b[:, None, None]  # NHWC -> NCHW, + bias
            compared += 1
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4, err_msg=str(cfg))
    assert compared > 200 and numpy_only > 5


def test_tensorflow_refuses_what_numpy_covers(tf_keras):
    layer = tf_keras.layers.Conv2DTranspose(1, 2, strides=2, padding="same", output_padding=0)
    with pytest.raises(Exception, match="Conv2DBackpropInput"):
        layer(np.ones((1, 3, 3, 1), np.float32))


@pytest.mark.parametrize("kind", ["dilated", "grouped", "torch"])
def test_matches_numpy_reference(kind, seeded):
    rng = seeded({"dilated": 1, "grouped": 2, "torch": 3}[kind])
    checked = 0
    for _ in range(150):
        cfg = _random_config(rng, dilated=kind in ("dilated", "torch"), grouped=kind in ("grouped", "torch"),
                             torch_padding=kind == "torch")
        x, w, b = _tensors(rng, cfg, np.float64)
        try:
            expected = reference_conv_transpose(x, w, b, cfg["s"], cfg["padding"], cfg["op"], cfg["d"], cfg["groups"])
        except ValueError:  # an empty output: numpy cannot even allocate it
            expected = None
        if expected is None or min(expected.shape[2:]) < 1:
            with pytest.raises(ValueError, match="output size would be"):
                _upgan(x, w, b, cfg)
            continue
        got = _upgan(x, w, b, cfg)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10, err_msg=str(cfg))
        if kind == "torch":  # integer padding is torch's (to rounding: inference may take the sub-pixel path)
            t = F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), cfg["s"],
                                   cfg["padding"], cfg["op"], cfg["groups"], cfg["d"])
            torch.testing.assert_close(torch.from_numpy(got), t, rtol=1e-12, atol=1e-12)
        checked += 1
    assert checked > 100


def test_edge_cases_against_numpy(seeded):
    rng = seeded(8)
    checked = 0
    for size, k, s, padding in itertools.product((1, 2), (1, 2, 5, 7), (1, 4, 5), ("valid", "same", 0, 2)):
        ops = (None, 0, s - 1) if isinstance(padding, str) else (0, s - 1)
        for op in ops:
            x, w, b = rng.standard_normal((1, 2, size, 3)), rng.standard_normal((2, 1, k, 2)), rng.standard_normal(1)
            cfg = dict(s=(s, 1), padding=padding if isinstance(padding, str) else (padding, 0),
                       op=None if op is None else (op, 0), d=(1, 1), groups=1)
            try:
                expected = reference_conv_transpose(x, w, b, cfg["s"], cfg["padding"], cfg["op"], cfg["d"], 1)
            except ValueError:  # an empty output: numpy cannot even allocate it
                expected = None
            if expected is None or expected.shape[2] < 1:
                with pytest.raises(ValueError, match="output size would be"):
                    _upgan(x, w, b, cfg)
                continue
            np.testing.assert_allclose(_upgan(x, w, b, cfg), expected, rtol=1e-10, atol=1e-10, err_msg=str(cfg))
            checked += 1
    assert checked > 150


def test_tutorial_examples():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    y = conv_transpose2d(x, torch.ones(1, 1, 1, 1), torch.zeros(1), stride=2)
    assert y.squeeze().tolist() == [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]
    assert conv_transpose2d(x, torch.ones(1, 1, 1, 1), stride=2, padding=0).shape[2:] == (3, 3)
    x5 = torch.ones(1, 1, 5, 5)
    assert conv_transpose2d(x5, torch.ones(1, 1, 3, 3), stride=2, padding="same").shape[2:] == (10, 10)
    assert conv_transpose2d(x5, torch.ones(1, 1, 3, 3), stride=2).shape[2:] == (11, 11)


@pytest.mark.parametrize(
    "k,s,padding,op,d,groups",
    [
        (3, 2, "same", None, 1, 1),        # odd kernel, stride 2: one extra element sliced off
        (4, 2, "same", None, 1, 2),
        ((2, 3), (3, 1), "valid", None, 1, 1),  # kernel smaller than stride: zeros appended
        (3, (2, 3), "same", (1, 2), 1, 1),
        (2, 2, "same", 0, 1, 1),
        (3, 1, "same", None, (2, 3), 1),
        (3, 2, (1, 0), (1, 0), 1, 2),
    ],
)
def test_gradcheck_float64(k, s, padding, op, d, groups, seeded):
    seeded(4)
    kh, kw = (k, k) if isinstance(k, int) else k
    x = torch.randn(1, 2 * groups, 3, 4, dtype=torch.float64, requires_grad=True)
    w = torch.randn(2 * groups, 2, kh, kw, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2 * groups, dtype=torch.float64, requires_grad=True)
    fn = lambda x, w, b: conv_transpose2d(x, w, b, s, padding, op, d, groups)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, w, b))


@pytest.mark.parametrize("padding", ["same", "valid", 1])
def test_bfloat16_and_layouts(padding, seeded):
    seeded(5)
    x, w, b = torch.randn(2, 4, 5, 6), torch.randn(4, 3, 3, 3), torch.randn(3)
    expected = conv_transpose2d(x, w, b, 2, padding)
    got = conv_transpose2d(x.bfloat16(), w.bfloat16(), b.bfloat16(), 2, padding)
    assert got.dtype == torch.bfloat16
    torch.testing.assert_close(got.float(), expected, rtol=5e-2, atol=1e-1)
    cl = conv_transpose2d(x.to(memory_format=torch.channels_last), w, b, 2, padding)
    torch.testing.assert_close(cl, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_cuda_matches_cpu(padding, seeded):
    seeded(6)
    layer = ConvTranspose2d(4, 3, 3, stride=2, padding=padding)
    x = torch.randn(2, 4, 5, 6)
    expected = layer(x)
    got = layer.cuda()(x.cuda())
    torch.testing.assert_close(got.cpu(), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kernel_size=4, stride=2, padding=1),
        dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), output_padding=(1, 0), groups=2),
        dict(kernel_size=3, dilation=2, padding=2, bias=False),
    ],
)
def test_module_is_a_drop_in_for_torch(kwargs, seeded):
    seeded(7)
    reference = torch.nn.ConvTranspose2d(4, 6, **kwargs)
    seeded(7)
    layer = ConvTranspose2d(4, 6, **kwargs)
    assert layer.state_dict().keys() == reference.state_dict().keys()
    for name, value in reference.state_dict().items():
        assert torch.equal(layer.state_dict()[name], value), name  # same default initialisation
    layer.load_state_dict(reference.state_dict())
    x = torch.randn(2, 4, 5, 3)
    assert torch.equal(layer(x), reference(x))


def test_positional_arguments_follow_the_documented_order(seeded):
    """in, out, kernel, stride, padding, output_padding, dilation, groups, bias (torch has groups, bias,
    dilation there), and x, weight, bias, stride, padding, output_padding, dilation, groups for the function."""
    seeded(3)
    reference = torch.nn.ConvTranspose2d(4, 6, 3, 2, 1, 1, groups=2, bias=False, dilation=2)
    seeded(3)
    layer = ConvTranspose2d(4, 6, 3, 2, 1, 1, 2, 2, False)
    assert (layer.dilation, layer.groups, layer.bias) == ((2, 2), 2, None)
    x = torch.randn(2, 4, 5, 4)
    assert torch.equal(layer(x), reference(x))
    w, b = torch.randn(4, 3, 3, 3), torch.randn(6)
    torch.testing.assert_close(
        conv_transpose2d(x, w, b, 2, 1, 1, 2, 2),
        torch.nn.functional.conv_transpose2d(x, w, b, 2, 1, 1, groups=2, dilation=2),
    )


def test_module_device_and_dtype():
    layer = ConvTranspose2d(2, 3, 3, stride=2, padding="same", dtype=torch.float64, device="meta")
    assert layer.weight.dtype == layer.bias.dtype == torch.float64
    assert layer.weight.device.type == "meta"
    assert layer(torch.empty(1, 2, 4, 5, dtype=torch.float64, device="meta")).shape == (1, 3, 8, 10)


def test_module_keras_padding_and_repr():
    layer = ConvTranspose2d(3, 2, 3, stride=2, padding="same")
    assert layer(torch.zeros(1, 3, 5, 7)).shape == (1, 2, 10, 14)
    assert repr(layer) == "ConvTranspose2d(3, 2, kernel_size=(3, 3), stride=(2, 2), padding='same')"
    layer = ConvTranspose2d(4, 2, (1, 2), output_padding=(1, 0), stride=(2, 1), groups=2, bias=False)
    assert repr(layer) == ("ConvTranspose2d(4, 2, kernel_size=(1, 2), stride=(2, 1), padding='valid', "
                           "output_padding=(1, 0), groups=2, bias=False)")
    assert layer.bias is None and layer.weight.shape == (4, 1, 1, 2)
    assert repr(ConvTranspose2d(1, 1, 3, padding=0, dilation=2)) == (
        "ConvTranspose2d(1, 1, kernel_size=(3, 3), stride=(1, 1), dilation=(2, 2))")


X = torch.ones(1, 2, 3, 3)
W = torch.ones(2, 1, 3, 3)


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda: conv_transpose2d(X, W, stride=0), ValueError,
         r"`stride` argument must be an integer or a tuple of 2 integers, each >= 1\. Received stride=0"),
        (lambda: conv_transpose2d(X, W, stride=(1, 2, 3)), TypeError, r"Received stride=\(1, 2, 3\)"),
        (lambda: conv_transpose2d(X, W, padding="full"), ValueError,
         r"`padding` argument must be one of 'valid', 'same', or an integer .* Received padding='full'"),
        (lambda: conv_transpose2d(X, W, padding=-1), ValueError, r"each >= 0\. Received padding=-1"),
        (lambda: conv_transpose2d(X, W, stride=2, output_padding=2), ValueError,
         r"`output_padding` argument must be smaller than `stride` on each axis\. Received output_padding=\(2, 2\), "
         r"stride=\(2, 2\)"),
        (lambda: conv_transpose2d(X, W, stride=(2, 1), padding="same", output_padding=(1, 1)), ValueError,
         r"Received output_padding=\(1, 1\), stride=\(2, 1\)"),
        (lambda: conv_transpose2d(X, W, stride=2, padding=1, output_padding=2, dilation=(1, 3)), ValueError,
         r"smaller than `stride` or `dilation` on each axis\. Received output_padding=\(2, 2\)"),
        (lambda: conv_transpose2d(X, W, stride=(2, 1), dilation=(1, 2), padding="same"), ValueError,
         r"`stride` > 1 is not supported together with a `dilation` > 1 .* Received stride=\(2, 1\), dilation=\(1, 2\)"),
        (lambda: conv_transpose2d(X, W, dilation=0), ValueError, r"Received dilation=0"),
        (lambda: conv_transpose2d(X[0], W), ValueError, r"Expected `x` to be a 4-D tensor \(N, C, H, W\)"),
        (lambda: conv_transpose2d(X, W[0]), ValueError,
         r"Expected `weight` to be a 4-D tensor \(C_in, C_out / groups, kh, kw\)\. Received weight\.shape=\(1, 3, 3\)"),
        (lambda: conv_transpose2d(X, W.numpy()), TypeError, r"Expected `weight` to be a torch\.Tensor"),
        (lambda: conv_transpose2d(X, torch.ones(3, 1, 3, 3)), ValueError,
         r"The input has 2 channels but `weight` expects 3"),
        (lambda: conv_transpose2d(X, W, groups=3), ValueError,
         r"`groups` argument must divide the input channels\. Received groups=3 for 2 input channels"),
        (lambda: conv_transpose2d(X, W, groups=0), ValueError, r"Received groups=0"),
        (lambda: conv_transpose2d(X, W, torch.ones(2)), ValueError, r"Expected `bias` of shape \(1,\)\. Received bias\.shape=\(2,\)"),
        (lambda: conv_transpose2d(X, W, [0.0]), TypeError, r"Expected `bias` to be a torch\.Tensor or None"),
        (lambda: conv_transpose2d(torch.ones(1, 2, 1, 1), torch.ones(2, 1, 2, 2), stride=2, padding="same",
                                  output_padding=0), ValueError, r"output size would be 0"),
        (lambda: ConvTranspose2d(0, 1, 3), ValueError, r"`in_channels` argument must be an integer >= 1\. Received in_channels=0"),
        (lambda: ConvTranspose2d(4, 3, 3, groups=2), ValueError,
         r"`out_channels` argument must be divisible by `groups`\. Received out_channels=3, groups=2"),
        (lambda: ConvTranspose2d(2, 2, 0), ValueError, r"Received kernel_size=0"),
        (lambda: ConvTranspose2d(2, 2, 3, bias=1), TypeError, r"`bias` argument must be True or False\. Received bias=1"),
        (lambda: ConvTranspose2d(2, 2, 3, stride=2, dilation=2, padding="valid"), ValueError, r"Received stride=\(2, 2\), dilation=\(2, 2\)"),
        (lambda: ConvTranspose2d(2, 2, 3)(torch.ones(1, 3, 4, 4)), ValueError, r"The input has 3 channels but `weight` expects 2"),
    ],
)
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_numpy_integer_arguments():
    x, w = torch.randn(1, 2, 3, 4), torch.randn(2, 3, 3, 2)
    expected = conv_transpose2d(x, w, None, (2, 1), "same", (1, 0))
    torch.testing.assert_close(conv_transpose2d(x, w, None, (np.int64(2), 1), "same", np.array([1, 0]).tolist()), expected)
    assert ConvTranspose2d(np.int64(2), 3, np.int32(3), stride=np.int64(2)).stride == (2, 2)


def test_torch_compile_traces(seeded):
    seeded(9)
    layer = ConvTranspose2d(2, 3, 3, stride=2, padding="same")
    x = torch.randn(1, 2, 4, 3)
    torch.testing.assert_close(torch.compile(layer, backend="eager", fullgraph=True)(x), layer(x))
