"""upgan.shapes against PyTorch's own shape rules, Keras's, and TensorFlow's numbers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from upgan import shapes

# Tiny tensors: one torch thread is faster, and immune to OpenMP waits on a loaded machine
# (a float64 gradcheck took 12-19 s with 2 threads and 0.08 s with 1 under load).
pytestmark = pytest.mark.usefixtures("single_thread")

# (size, kernel, stride, dilation) over small values, odd and even kernels.
GRID = list(itertools.product(range(1, 8), range(1, 6), range(1, 4), range(1, 3)))


def _meta(*shape):
    return torch.empty(*shape, device="meta")


def test_conv_transpose_int_padding_matches_torch():
    checked = 0
    for size, k, s, d in GRID:
        for p in range(0, 3):
            for op in range(max(s, d)):
                expected = (size - 1) * s - 2 * p + (k - 1) * d + op + 1
                if expected < 1:
                    with pytest.raises(ValueError, match="output size would be"):
                        shapes.conv_transpose_output_size(size, k, s, p, op, d)
                    continue
                y = F.conv_transpose2d(_meta(1, 1, size, 1), _meta(1, 1, k, 1), stride=(s, 1), padding=(p, 0),
                                       output_padding=(op, 0), dilation=(d, 1))
                assert shapes.conv_transpose_output_size(size, k, s, p, op, d) == y.shape[2]
                checked += 1
    assert checked > 1000


def test_conv_output_size_int_padding_matches_torch():
    for size, k, s, d in GRID:
        for p in range(0, 3):
            if size + 2 * p < (k - 1) * d + 1:
                with pytest.raises(ValueError, match="output size would be"):
                    shapes.conv_output_size(size, k, s, p, d)
                continue
            y = F.conv2d(_meta(1, 1, size, 1), _meta(1, 1, k, 1), stride=(s, 1), padding=(p, 0), dilation=(d, 1))
            assert shapes.conv_output_size(size, k, s, p, d) == y.shape[2]
            assert shapes.conv_padding(size, k, s, p, d) == (p, p)


def _keras_cases():
    for size, k, s, d in GRID:
        if s > 1 and d > 1:
            continue  # Keras refuses strides > 1 with dilation_rate > 1
        for padding in ("valid", "same"):
            for op in [None, *range(s)]:
                yield size, k, s, d, padding, op


def test_conv_transpose_string_padding_matches_keras(tf_keras):
    from keras.src.backend.common.backend_utils import compute_conv_transpose_padding_args_for_jax

    for size, k, s, d, padding, op in _keras_cases():
        layer = tf_keras.layers.Conv2DTranspose(1, (k, 1), strides=(s, 1), padding=padding,
                                                output_padding=None if op is None else (op, 0),
                                                dilation_rate=(d, 1))
        expected = layer.compute_output_shape((1, size, 1, 1))[1]
        if expected < 1:
            with pytest.raises(ValueError, match="output size would be"):
                shapes.conv_transpose_output_size(size, k, s, padding, op, d)
            continue
        assert shapes.conv_transpose_output_size(size, k, s, padding, op, d) == expected, (size, k, s, d, padding, op)
        # Keras's JAX/torch rule pads the zero-inserted input by (left, right); as a crop of
        # the full result that is k' - 1 - left before and k' - 1 - right after.
        (left, right), = compute_conv_transpose_padding_args_for_jax(
            (1, 1, size), (k, 1, 1), s, padding, op, d)
        dk = (k - 1) * d + 1
        assert shapes.conv_transpose_padding(k, s, padding, op, d) == (dk - 1 - left, dk - 1 - right)
        steps = shapes.conv_transpose_steps(size, k, s, padding, op, d)
        assert (steps.pad_before, steps.pad_after) == (left, right)
        assert steps.zero_inserted + steps.pad_before + steps.pad_after - steps.dilated_kernel + 1 == expected
        assert steps.full - steps.crop_before - steps.crop_after == steps.output_size == expected


def test_conv_output_size_string_padding_matches_keras(tf_keras):
    for size, k, s, d in GRID:
        if s > 1 and d > 1:
            continue
        for padding in ("valid", "same"):
            layer = tf_keras.layers.Conv2D(1, (k, 1), strides=(s, 1), padding=padding, dilation_rate=(d, 1))
            try:
                expected = layer.compute_output_shape((1, size, 1, 1))[1]
            except ValueError as err:  # Keras refuses an empty output; so must upgan
                assert "zero or negative" in str(err)
                with pytest.raises(ValueError, match="output size would be"):
                    shapes.conv_output_size(size, k, s, padding, d)
                continue
            assert shapes.conv_output_size(size, k, s, padding, d) == expected


def test_conv_padding_same_split_matches_tensorflow(tf_keras, seeded):
    import tensorflow as tf

    rng = seeded(0)
    for size, k, s, d in GRID:
        if s > 1 and d > 1:
            continue
        x = rng.standard_normal((1, size, 1)).astype(np.float32)
        w = rng.standard_normal((k, 1, 1)).astype(np.float32)
        expected = tf.nn.conv1d(x, w, stride=s, padding="SAME", dilations=d).numpy()[0, :, 0]
        before, after = shapes.conv_padding(size, k, s, "same", d)
        xt = F.pad(torch.from_numpy(x).permute(0, 2, 1), (before, after))  # (1, 1, size + before + after)
        # tf.nn.conv1d is a correlation, as F.conv1d; the kernel (k, in, out) becomes (out, in, k).
        got = F.conv1d(xt, torch.from_numpy(w).permute(2, 1, 0), stride=s, dilation=d)[0, 0]
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)
        assert got.shape[0] == shapes.conv_output_size(size, k, s, "same", d)


def test_tutorial_numbers():
    assert shapes.conv_transpose_output_size(5, 3, 2, "same") == 10
    assert shapes.conv_transpose_output_size(5, 3, 2, "valid") == 11
    assert shapes.conv_transpose_output_size(2, 1, 2, "valid") == 4
    assert shapes.conv_transpose_output_size(2, 1, 2, 0) == 3
    assert shapes.upsample_output_size(2, 2) == 4
    assert shapes.upsample_output_size(2, 3) == 6


def _brute_force_reachable(limit, factor, max_base, min_base):
    return sorted({b * factor**n for b in range(min_base, max_base + 1) for n in range(1, 12)
                   if b * factor**n <= limit})


@pytest.mark.parametrize("factor,max_base,min_base", [(2, 7, 3), (3, 5, 2), (2, 4, 4), (4, 9, 1)])
def test_plan_upsampling_against_brute_force(factor, max_base, min_base):
    for image_size in range(1, 200):
        plans = [(b, n) for b in range(min_base, max_base + 1) for n in range(1, 12) if b * factor**n == image_size]
        if plans:
            assert shapes.plan_upsampling(image_size, factor, max_base, min_base) == min(plans, key=lambda p: p[1])
        else:
            works = ", ".join(map(str, _brute_force_reachable(2 * image_size, factor, max_base, min_base)))
            with pytest.raises(ValueError, match=f"Cannot reach image_size={image_size} .* {works or 'none'}$"):
                shapes.plan_upsampling(image_size, factor, max_base, min_base)
    assert shapes.reachable_sizes(500, factor, max_base, min_base) == _brute_force_reachable(
        500, factor, max_base, min_base)


def test_plan_upsampling_dcgan_sizes():
    assert shapes.plan_upsampling(28) == (7, 2)
    assert shapes.plan_upsampling(32) == (4, 3)
    assert shapes.plan_upsampling(64) == (4, 4)


def _reference_output_size(i, k, s, padding, op):
    # The formulas as ../shared/NOTES.md states them (Keras 3 and torch docs), dilation 1.
    if padding == "valid":
        return (i - 1) * s + (max(k, s) if op is None else k + op)
    if padding == "same":
        return i * s if op is None else (i - 1) * s + k % 2 + op
    return (i - 1) * s - 2 * padding + k + op


def test_solve_conv_transpose_is_complete_and_correct():
    for in_size, out_size in [(7, 14), (5, 10), (5, 11), (2, 4), (4, 8), (3, 3), (1, 5)]:
        found = shapes.solve_conv_transpose(in_size, out_size)
        expected = []
        for conv, s, k in itertools.product(("keras", "torch"), range(1, 5), range(1, 8)):
            paddings = ("valid", "same") if conv == "keras" else range(k)
            ops = [None, *range(s)] if conv == "keras" else range(s)
            for p, op in itertools.product(paddings, ops):
                if _reference_output_size(in_size, k, s, p, op) == out_size:
                    expected.append((conv, k, s, p, op))
        assert [(c["convention"], c["kernel_size"], c["stride"], c["padding"], c["output_padding"])
                for c in found] == expected
        for c in found:
            if c["convention"] == "torch":
                y = F.conv_transpose2d(_meta(1, 1, in_size, 1), _meta(1, 1, c["kernel_size"], 1),
                                       stride=(c["stride"], 1), padding=(c["padding"], 0),
                                       output_padding=(c["output_padding"], 0))
                assert y.shape[2] == out_size
    assert ("keras", 3, 2, "same", None) in [tuple(c.values()) for c in shapes.solve_conv_transpose(5, 10)]
    assert ("torch", 4, 2, 1, 0) in [tuple(c.values()) for c in shapes.solve_conv_transpose(7, 14)]
    assert shapes.solve_conv_transpose(7, 1000) == []


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda: shapes.conv_transpose_output_size(0, 3), ValueError, r"`size` argument must be an integer >= 1\. Received size=0"),
        (lambda: shapes.conv_transpose_output_size(5, 3, stride=0), ValueError, r"Received stride=0"),
        (lambda: shapes.conv_transpose_output_size(5, 3.0), TypeError, r"`kernel_size` .* Received kernel_size=3\.0 of type float"),
        (lambda: shapes.conv_transpose_output_size(5, 3, 2, "full"), ValueError,
         r"`padding` argument must be one of 'valid', 'same'\. Received padding='full'"),
        (lambda: shapes.conv_transpose_output_size(5, 3, 2, -1), ValueError,
         r"'valid', 'same' or an integer >= 0\. Received padding=-1"),
        (lambda: shapes.conv_transpose_output_size(5, 3, 2, None), TypeError, r"Received padding=None"),
        (lambda: shapes.conv_transpose_output_size(5, 3, 2, "same", 2), ValueError,
         r"`output_padding` argument must be smaller than `stride`\. Received output_padding=2, stride=2"),
        (lambda: shapes.conv_transpose_output_size(5, 3, 2, 1, 2, 2), ValueError,
         r"smaller than `stride` or `dilation`\. Received output_padding=2, stride=2, dilation=2"),
        (lambda: shapes.conv_transpose_output_size(5, 3, 2, "same", -1), ValueError, r"Received output_padding=-1"),
        (lambda: shapes.conv_transpose_output_size(1, 2, 2, "same", 0), ValueError,
         r"transposed convolution's output size would be 0 \(< 1\)"),
        (lambda: shapes.conv_output_size(2, 3), ValueError, r"convolution's output size would be 0 \(< 1\)"),
        (lambda: shapes.conv_output_size(5, 3, dilation=True), TypeError, r"Received dilation=True of type bool"),
        (lambda: shapes.upsample_output_size(4, 0), ValueError, r"Received scale_factor=0"),
        (lambda: shapes.plan_upsampling(28, factor=1), ValueError, r"`factor` argument must be an integer >= 2"),
        (lambda: shapes.plan_upsampling(28, max_base=2), ValueError,
         r"`min_base` argument must not exceed `max_base`\. Received min_base=3, max_base=2"),
        (lambda: shapes.reachable_sizes(0), ValueError, r"Received limit=0"),
        (lambda: shapes.solve_conv_transpose(5, 10, strides=[0]), ValueError, r"Received strides=0"),
    ],
)
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_numpy_integers_are_integers():
    assert shapes.conv_transpose_output_size(np.int64(5), np.int32(3), np.int64(2), np.int64(1)) == 9
    assert type(shapes.conv_output_size(np.int64(5), 3)) is int
    with pytest.raises(TypeError, match=r"Received stride=.*2\.0.* of type float64"):
        shapes.conv_output_size(5, 3, np.float64(2.0))


def test_integer_paddings_come_back_as_plain_ints():
    import numpy as np

    pads = shapes.conv_padding(5, 3, 1, np.int64(1))
    assert pads == (1, 1) and all(type(p) is int for p in pads)
