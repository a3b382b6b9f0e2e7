"""upgan.functional.upsample / upgan.nn.Upsample2d against Keras 3 (TensorFlow) and a direct NumPy formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from upgan.functional import upsample
from upgan.nn import Upsample2d

# Tiny tensors: one torch thread is faster, and immune to OpenMP waits on a loaded machine
# (a float64 gradcheck took 12-19 s with 2 threads and 0.08 s with 1 under load).
pytestmark = pytest.mark.usefixtures("single_thread")

MODES = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area")


def _kernel(mode, t):
    """The interpolation kernels as TensorFlow defines them, for one scalar distance ``t``."""
    t = abs(t)
    if mode == "bilinear":
        return max(0.0, 1.0 - t)
    if mode == "bicubic":  # Keys, a = -0.5
        a = -0.5
        if t <= 1:
            return (a + 2) * t**3 - (a + 3) * t**2 + 1
        return a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a if t < 2 else 0.0
    radius = 3 if mode == "lanczos3" else 5
    if t >= radius:
        return 0.0
    if t == 0:
        return 1.0
    return radius * math.sin(math.pi * t) * math.sin(math.pi * t / radius) / (math.pi**2 * t * t)


def _reference_taps(size, factor, mode, o):
    """{input index: weight} for output index ``o``: half-pixel centres, taps outside dropped, renormalised."""
    src = (o + 0.5) / factor - 0.5  # the output's position in input pixel coordinates
    if mode == "nearest":
        return {o // factor: 1.0}
    if mode == "area":  # the mean over the footprint [o / f, (o + 1) / f) of input pixels [j, j + 1)
        overlap = {j: min(j + 1, (o + 1) / factor) - max(j, o / factor) for j in range(size)}
        return {j: v * factor for j, v in overlap.items() if v > 0}
    base = math.floor(src)
    frac = src - base
    if mode == "bicubic":
        frac = round(frac * 1024) / 1024  # TensorFlow's 1024-entry coefficient table
    weights = {j: _kernel(mode, j - base - frac) for j in range(base - 6, base + 7) if 0 <= j < size}
    total = sum(weights.values())
    return {j: w / total for j, w in weights.items()}


def reference_upsample(x, factors, mode):
    """Direct 2-D formula: y[o1, o2] = sum_j1 sum_j2 w(o1, j1) w(o2, j2) x[j1, j2], in float64."""
    n, c, h, w = x.shape
    fh, fw = factors
    y = np.zeros((n, c, h * fh, w * fw))
    taps_w = [_reference_taps(w, fw, mode, o) for o in range(w * fw)]
    for o1 in range(h * fh):
        for j1, w1 in _reference_taps(h, fh, mode, o1).items():
            for o2 in range(w * fw):
                for j2, w2 in taps_w[o2].items():
                    y[:, :, o1, o2] += w1 * w2 * x[:, :, j1, j2]
    return y


def _random_configs(count, seed):
    rng = np.random.default_rng(seed)
    configs = []
    for i in range(count):
        mode = MODES[i % len(MODES)]
        factors = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 8)), int(rng.integers(1, 8)))
        configs.append((mode, factors, shape))
    configs += [(mode, (3, 5), (1, 2, 3, 2)) for mode in MODES] + [(mode, (1, 1), (1, 1, 4, 3)) for mode in MODES]
    configs += [(mode, (8, 6), (1, 1, 2, 3)) for mode in MODES] + [(mode, (2, 7), (1, 1, 1, 9)) for mode in MODES]
    return configs


def test_matches_keras_upsampling2d(tf_keras, seeded):
    rng = seeded(0)
    configs = _random_configs(200, seed=1)
    for mode, factors, shape in configs:
        x = rng.standard_normal(shape).astype(np.float32)
        layer = tf_keras.layers.UpSampling2D(size=factors, interpolation=mode)
        expected = np.asarray(layer(x.transpose(0, 2, 3, 1))).transpose(0, 3, 1, 2)  # NHWC -> NCHW
        got = upsample(torch.from_numpy(x), factors, mode).numpy()
        assert got.shape == expected.shape, (mode, factors, shape)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=f"{mode} {factors} {shape}")


def test_channels_first_keras_layer_agrees(tf_keras):
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5) / 7
    for mode in MODES:
        expected = tf_keras.layers.UpSampling2D((2, 3), data_format="channels_first", interpolation=mode)(x)
        got = upsample(torch.from_numpy(x), (2, 3), mode)
        np.testing.assert_allclose(got.numpy(), np.asarray(expected), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_matches_direct_formula_float64(mode, seeded):
    rng = seeded(2)
    for factors, shape in [((2, 2), (2, 2, 5, 4)), ((3, 5), (1, 1, 3, 7)), ((4, 1), (1, 2, 1, 6)), ((1, 3), (1, 1, 11, 2)),
                           ((8, 6), (1, 1, 2, 3))]:
        x = rng.standard_normal(shape)
        got = upsample(torch.from_numpy(x), factors, mode)
        assert got.dtype == torch.float64
        np.testing.assert_allclose(got.numpy(), reference_upsample(x, factors, mode), rtol=1e-10, atol=1e-12)


def test_tutorial_arrays():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    assert upsample(x).squeeze().tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]
    assert upsample(x, (2, 3)).shape == (1, 1, 4, 6)
    # Keras 3's bilinear (half-pixel centres); the 2019 tutorial printed TF1's corner-aligned result.
    assert upsample(x, 2, "bilinear").squeeze().tolist() == [
        [1, 1.25, 1.75, 2], [1.5, 1.75, 2.25, 2.5], [2.5, 2.75, 3.25, 3.5], [3, 3.25, 3.75, 4]]


def test_nearest_is_repeat_for_any_dtype():
    for dtype in (torch.uint8, torch.int64, torch.bool, torch.float16, torch.float32):
        x = (torch.arange(24).reshape(2, 3, 2, 2) % 5).to(dtype)
        expected = x.repeat_interleave(3, dim=2).repeat_interleave(2, dim=3)
        got = upsample(x, (3, 2))
        assert got.dtype == dtype and torch.equal(got, expected)


def test_bilinear_equals_torch_align_corners_false(seeded):
    seeded(3)
    x = torch.randn(2, 3, 5, 6)
    torch.testing.assert_close(upsample(x, (2, 3), "bilinear"),
                               F.interpolate(x, scale_factor=(2, 3), mode="bilinear", align_corners=False))


@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_float64(mode, seeded):
    seeded(4)
    x = torch.randn(1, 2, 3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: upsample(t, (2, 3), mode), (x,))
    assert torch.autograd.gradgradcheck(lambda t: upsample(t, (3, 1), mode), (x,))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("mode", MODES)
def test_low_precision(mode, dtype, seeded):
    seeded(5)
    x = torch.randn(2, 3, 5, 4)
    got = upsample(x.to(dtype), (2, 3), mode)
    assert got.dtype == dtype
    torch.testing.assert_close(got.float(), upsample(x, (2, 3), mode), rtol=3e-2, atol=3e-2)


@pytest.mark.parametrize("mode", MODES)
def test_layouts_and_edges(mode, seeded):
    seeded(6)
    x = torch.randn(2, 3, 6, 5)
    expected = upsample(x, (2, 3), mode)
    # channels_last memory and a non-contiguous view give the same numbers.
    torch.testing.assert_close(upsample(x.to(memory_format=torch.channels_last), (2, 3), mode), expected)
    torch.testing.assert_close(upsample(x.transpose(2, 3).contiguous().transpose(2, 3), (2, 3), mode), expected)
    # Factor 1 is the identity; a 1-pixel axis becomes a constant run.
    torch.testing.assert_close(upsample(x, 1, mode), x)
    single = torch.randn(1, 2, 1, 1)
    torch.testing.assert_close(upsample(single, (3, 5), mode), single.expand(1, 2, 3, 5))
    # Constant images stay constant (weights sum to 1 everywhere, borders included).
    torch.testing.assert_close(upsample(torch.full((1, 1, 4, 3), 2.5), (4, 3), mode), torch.full((1, 1, 16, 9), 2.5))
    # Empty batches and channel-less inputs keep their shape rule (F.interpolate refuses C = 0).
    for shape in ((0, 3, 4, 5), (2, 0, 4, 5)):
        empty = torch.zeros(shape, requires_grad=True)
        y = upsample(empty, (2, 3), mode)
        assert y.shape == (*shape[:2], 8, 15)
        y.sum().backward()
        assert empty.grad.shape == empty.shape


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("mode", MODES)
def test_cuda_matches_cpu(mode, seeded):
    seeded(7)
    x = torch.randn(2, 3, 7, 5, requires_grad=True)
    xc = x.detach().cuda().requires_grad_()
    y, yc = upsample(x, (2, 3), mode), upsample(xc, (2, 3), mode)
    assert yc.device.type == "cuda"
    torch.testing.assert_close(yc.cpu(), y, rtol=1e-5, atol=1e-5)
    y.square().sum().backward()
    yc.square().sum().backward()
    torch.testing.assert_close(xc.grad.cpu(), x.grad, rtol=1e-4, atol=1e-4)
    assert upsample(xc.detach().bfloat16(), 2, mode).dtype == torch.bfloat16


def test_module():
    up = Upsample2d((2, 3), "lanczos3")
    assert repr(up) == "Upsample2d(scale_factor=(2, 3), mode='lanczos3')"
    assert list(up.parameters()) == [] and up.state_dict() == {}
    x = torch.randn(1, 2, 3, 4)
    torch.testing.assert_close(up(x), upsample(x, (2, 3), "lanczos3"))
    assert Upsample2d().scale_factor == (2, 2) and Upsample2d().mode == "nearest"


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda x: upsample(x, 0), ValueError, r"`scale_factor` argument must be an integer or a tuple of 2 integers, each >= 1\. Received scale_factor=0"),
        (lambda x: upsample(x, (2, 0)), ValueError, r"Received scale_factor=\(2, 0\)"),
        (lambda x: upsample(x, 2.0), TypeError, r"Received scale_factor=2\.0"),
        (lambda x: upsample(x, (2,)), TypeError, r"Received scale_factor=\(2,\)"),
        (lambda x: upsample(x, 2, "trilinear"), ValueError,
         r"`mode` argument must be one of 'nearest', 'bilinear', 'bicubic', 'lanczos3', 'lanczos5', 'area'\. "
         r"Received mode='trilinear'"),
        (lambda x: upsample(x, 2, "Bilinear"), ValueError, r"Received mode='Bilinear'"),
        (lambda x: upsample(x[0], 2), ValueError, r"Expected `x` to be a 4-D tensor \(N, C, H, W\)\. Received x\.shape=\(1, 2, 2\)"),
        (lambda x: upsample(x[:, :, :0], 2, "bicubic"), ValueError,
         r"Expected `x` to have a non-empty height and width\. Received x\.shape=\(1, 1, 0, 2\)"),
        (lambda x: upsample(x.numpy(), 2), TypeError, r"Expected `x` to be a torch\.Tensor .* Received type ndarray"),
        (lambda x: upsample(x.to(torch.uint8), 2, "bicubic"), TypeError,
         r"mode='bicubic' needs a floating-point tensor `x`\. Received x\.dtype=torch\.uint8"),
        (lambda x: Upsample2d(-1), ValueError, r"Received scale_factor=-1"),
        (lambda x: Upsample2d(2, "cubic"), ValueError, r"Received mode='cubic'"),
    ],
)
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(torch.ones(1, 1, 2, 2))


def test_torch_compile_traces(seeded):
    # backend="eager" runs Dynamo's tracing (which cannot trace the NumPy weight construction)
    # without compiling kernels, so the check stays cheap.
    seeded(8)
    module = Upsample2d((2, 3), "lanczos5")
    x = torch.randn(1, 2, 4, 3)
    torch.testing.assert_close(torch.compile(module, backend="eager", fullgraph=False)(x), module(x))
