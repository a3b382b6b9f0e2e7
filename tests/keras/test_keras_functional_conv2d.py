"""``upgan.functional.conv2d``: TensorFlow's 'same' padding for every kernel, stride and dilation."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from upgan.functional import conv2d


def test_matches_tf_nn_conv2d(tf_keras):
    import tensorflow as tf

    r = random.Random(0)
    rng = np.random.default_rng(0)
    for _ in range(60):
        k = (r.randint(1, 5), r.randint(1, 5))
        dilated = r.random() < 0.3
        d = (r.randint(1, 3), r.randint(1, 3)) if dilated else (1, 1)
        s = (1, 1) if dilated else (r.randint(1, 4), r.randint(1, 4))
        padding = r.choice(["same", "valid"])
        span = [(kk - 1) * dd + 1 for kk, dd in zip(k, d)]
        h, w = span[0] + r.randint(0, 6), span[1] + r.randint(0, 6)
        x = rng.standard_normal((2, 3, h, w))
        weight = rng.standard_normal((2, 3, *k))
        ref = tf.nn.conv2d(x.transpose(0, 2, 3, 1), weight.transpose(2, 3, 1, 0), strides=s,
                           padding=padding.upper(), dilations=d).numpy().transpose(0, 3, 1, 2)
        ours = conv2d(torch.from_numpy(x), torch.from_numpy(weight), stride=s, padding=padding, dilation=d).numpy()
        np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-10, err_msg=f"k={k} s={s} d={d} {padding}")


@pytest.mark.parametrize("padding", [0, 1, (2, 0)])
def test_integer_padding_is_torch_padding(padding):
    x, weight, bias = torch.randn(1, 4, 6, 5), torch.randn(2, 2, 3, 2), torch.randn(2)
    expected = F.conv2d(x, weight, bias, stride=(2, 1), padding=padding, groups=2)
    torch.testing.assert_close(conv2d(x, weight, bias, stride=(2, 1), padding=padding, groups=2), expected)


@pytest.mark.parametrize(("kernel", "stride", "padding"), [((2, 3), (2, 1), "same"), ((4, 4), 3, "same"), (3, 1, "valid")])
def test_gradcheck(kernel, stride, padding):
    torch.manual_seed(0)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    x = torch.randn(1, 1, 5, 4, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(2, 1, kh, kw, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b, c: conv2d(a, b, c, stride=stride, padding=padding), (x, weight, bias))


def test_errors():
    x = torch.zeros(1, 2, 4, 4)
    with pytest.raises(TypeError, match=r"Expected `x` to be a torch.Tensor \(N, C, H, W\). Received type list"):
        conv2d([1.0], torch.zeros(1, 2, 3, 3))
    with pytest.raises(ValueError, match=r"Expected `x` to be a 4-D tensor \(N, C, H, W\). Received x.shape=\(2, 4, 4\)"):
        conv2d(torch.zeros(2, 4, 4), torch.zeros(1, 2, 3, 3))
    with pytest.raises(TypeError, match=r"The `weight` argument must be a 4-D torch.Tensor .* Received weight=\(1, 2, 3\)"):
        conv2d(x, torch.zeros(1, 2, 3))
    with pytest.raises(ValueError, match=r"The input has 2 channels but `weight` of shape \(1, 3, 3, 3\) with groups=1 expects 3"):
        conv2d(x, torch.zeros(1, 3, 3, 3))
    with pytest.raises(ValueError, match=r"The `padding` argument must be one of 'valid', 'same'. Received padding='full'"):
        conv2d(x, torch.zeros(1, 2, 3, 3), padding="full")
    with pytest.raises(ValueError, match=r"The `stride` argument must be an integer or a tuple of 2 integers, each >= 1. Received stride=\(1, 0\)"):
        conv2d(x, torch.zeros(1, 2, 3, 3), stride=(1, 0))
    with pytest.raises(ValueError, match=r"The convolution's output size would be -1 \(< 1\)"):
        conv2d(x, torch.zeros(1, 2, 6, 3))
    for padding in ("valid", "same"):  # Keras's rule; integer paddings keep torch's (allowed)
        with pytest.raises(ValueError, match=r"A `stride` > 1 is not supported together with a `dilation` > 1 .* Received stride=\(2, 1\), dilation=\(1, 2\)"):
            conv2d(x, torch.zeros(1, 2, 2, 2), stride=(2, 1), padding=padding, dilation=(1, 2))
    assert conv2d(x, torch.zeros(1, 2, 2, 2), stride=2, padding=1, dilation=2).shape == (1, 1, 2, 2)
    with pytest.raises(ValueError, match=r"Expected `bias` of shape \(1,\)\. Received bias\.shape=\(3,\)"):
        conv2d(x, torch.zeros(1, 2, 3, 3), torch.zeros(3))
    with pytest.raises(TypeError, match=r"Expected `x` to be a floating-point tensor. Received x.dtype=torch.int64"):
        conv2d(x.long(), torch.zeros(1, 2, 3, 3))


def test_single_channel_view_of_channels_last_memory(tf_keras):
    """A (N, H, W, 1) array permuted to NCHW, as a Keras channels_last layer passes it on.

    torch 2.13's oneDNN convolution returns wrong values for such views at some strides (stride
    1 along H, > 1 along W, an output 1 wide); upgan copies them to plain NCHW first.
    """
    import tensorflow as tf

    rng = np.random.default_rng(1)
    for h in range(1, 6):
        for w in range(1, 6):
            for k in [(2, 4), (3, 3), (4, 4), (1, 3)]:
                for s in [(1, 2), (1, 3), (2, 1), (2, 3)]:
                    for padding in ("same", "valid"):
                        if padding == "valid" and (h < k[0] or w < k[1]):
                            continue
                        nhwc = rng.standard_normal((2, h, w, 1)).astype(np.float32)
                        weight = rng.standard_normal((2, 1, *k)).astype(np.float32)
                        ref = tf.nn.conv2d(nhwc, weight.transpose(2, 3, 1, 0), strides=s, padding=padding.upper())
                        x = torch.from_numpy(nhwc).permute(0, 3, 1, 2)  # a view: strides (H*W, 1, W, 1)
                        ours = conv2d(x, torch.from_numpy(weight), stride=s, padding=padding)
                        np.testing.assert_allclose(
                            ours.permute(0, 2, 3, 1).numpy(), ref.numpy(), rtol=1e-5, atol=1e-5,
                            err_msg=f"size {(h, w)} k={k} s={s} {padding}",
                        )
