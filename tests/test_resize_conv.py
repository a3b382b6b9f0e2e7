"""upgan.functional.resize_conv2d / upgan.nn.ResizeConv2d against the naive upsample-then-convolve."""

from __future__ import annotations

import itertools
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from upgan.functional import resize_conv2d
from upgan.functional.resize_conv import BILINEAR_FORMULATIONS, _bilinear, _bilinear_formulation, _formulation_applies
from upgan.nn import ResizeConv2d

MODES = ("nearest", "bilinear")

# Tiny tensors: one torch thread avoids OpenMP waits on the shared 2-core machines.
pytestmark = pytest.mark.usefixtures("single_thread")


def naive(x, weight, bias, scale_factor, mode):
    """The composition the fused op replaces: torch's interpolate, then a 'same' conv2d."""
    extra = {"align_corners": False} if mode == "bilinear" else {}
    up = F.interpolate(x, scale_factor=scale_factor, mode=mode, **extra)
    return F.conv2d(up, weight, bias, padding=(weight.shape[2] // 2, weight.shape[3] // 2))


def numpy_bilinear_then_conv(x, weight, factor):
    """Independent float64 reference: half-pixel bilinear with clamped taps, then zero-padded correlation."""
    n, c, h, w = x.shape
    k = weight.shape[2]

    def axis_matrix(size):
        m = np.zeros((size * factor, size))
        for o in range(size * factor):
            src = max((o + 0.5) / factor - 0.5, 0.0)
            i0 = int(np.floor(src))
            i1 = min(i0 + 1, size - 1)
            m[o, i0] += 1 - (src - i0)
            m[o, i1] += src - i0
        return m

    up = np.einsum("Hh,nchw,Ww->ncHW", axis_matrix(h), x, axis_matrix(w))
    p = k // 2
    padded = np.pad(up, ((0, 0), (0, 0), (p, p), (p, p)))
    out = np.zeros((n, weight.shape[0], h * factor, w * factor))
    for a in range(k):
        for b in range(k):
            window = padded[:, :, a : a + h * factor, b : b + w * factor]
            out += np.einsum("nchw,oc->nohw", window, weight[:, :, a, b])
    return out


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("factor", [1, 2, 3, 4])
@pytest.mark.parametrize("kernel_size", [1, 3, 5, 7])
def test_forward_equals_naive_on_every_small_size(mode, factor, kernel_size, seeded):
    """float64, sizes 1..9 and non-square ones: exact to rounding, borders included."""
    seeded(factor * 10 + kernel_size)
    weight = torch.randn(3, 2, kernel_size, kernel_size, dtype=torch.float64)
    bias = torch.randn(3, dtype=torch.float64)
    sizes = [(s, s) for s in range(1, 10)] + [(1, 4), (5, 2), (3, 8), (7, 1)]
    for h, w in sizes:
        x = torch.randn(2, 2, h, w, dtype=torch.float64)
        got = resize_conv2d(x, weight, bias, factor, mode)
        torch.testing.assert_close(got, naive(x, weight, bias, factor, mode), rtol=1e-12, atol=1e-12)


SIZES = [(s, s) for s in range(1, 10)] + [(1, 4), (5, 2), (3, 8), (7, 1), (2, 6)]


def _bilinear_cases():
    """(formulation, factors, kernel shape) for every formulation that applies to some size."""
    for formulation in BILINEAR_FORMULATIONS:
        for factors in [(2, 2), (3, 3), (4, 4), (2, 3)]:
            for kernel in [(3, 3), (5, 5), (7, 7), (3, 5)]:
                if any(_formulation_applies(formulation, *kernel, *factors, h, w) for h, w in SIZES):
                    yield formulation, factors, kernel


def test_bilinear_dispatch():
    """Frame for x2 and 3x3 on 2x2 and larger, else zero-frame for few output channels where the
    kernel radius covers the blur radius, else replicate."""
    assert _bilinear_formulation(256, 3, 3, 2, 2, 4, 4) == "frame"
    assert _bilinear_formulation(1, 3, 3, 2, 2, 2, 9) == "frame"
    assert _bilinear_formulation(3, 3, 3, 2, 2, 1, 5) == "zero_frame"  # a single row: no frame
    assert _bilinear_formulation(64, 3, 3, 2, 2, 1, 5) == "replicate"
    assert _bilinear_formulation(1, 3, 3, 3, 3, 8, 8) == "zero_frame"
    assert _bilinear_formulation(64, 5, 5, 2, 2, 8, 8) == "replicate"
    assert _bilinear_formulation(1, 3, 5, 4, 4, 8, 8) == "replicate"  # blur radius 2 > 3 // 2
    assert _bilinear_formulation(1, 5, 5, 4, 4, 8, 8) == "zero_frame"
    assert _formulation_applies("frame", 3, 3, 2, 2, 2, 2)
    assert not _formulation_applies("frame", 3, 5, 2, 2, 8, 8)
    assert not _formulation_applies("frame", 3, 3, 2, 3, 8, 8)


def test_forcing_a_formulation_that_does_not_apply_is_an_error():
    x, weight = torch.zeros(1, 2, 1, 4), torch.zeros(3, 2, 3, 3)
    with pytest.raises(ValueError, match=r"formulation 'frame' does not apply to kernel \(3, 3\), scale factor \(2, 2\) and input size \(1, 4\)"):
        _bilinear(x, weight, None, 2, 2, formulation="frame")


@pytest.mark.parametrize("formulation,factors,kernel", list(_bilinear_cases()))
def test_each_bilinear_formulation_equals_naive(formulation, factors, kernel, seeded):
    """Each formulation forced, float64, sizes 1..9 and non-square: exact to rounding, borders included."""
    seeded(sum(factors) * 10 + sum(kernel))
    weight = torch.randn(3, 2, *kernel, dtype=torch.float64)
    bias = torch.randn(3, dtype=torch.float64)
    for h, w in SIZES:
        if not _formulation_applies(formulation, *kernel, *factors, h, w):
            continue
        x = torch.randn(2, 2, h, w, dtype=torch.float64)
        got = _bilinear(x, weight, bias, *factors, formulation=formulation)
        torch.testing.assert_close(got, naive(x, weight, bias, factors, "bilinear"), rtol=1e-12, atol=1e-12)


GRADCHECK_CASES = [((2, 2), (3, 3), (3, 2)), ((2, 2), (3, 3), (4, 5)), ((3, 2), (3, 5), (1, 2)), ((2, 2), (5, 3), (2, 3))]


@pytest.mark.parametrize(
    "formulation,factors,kernel,size",
    [(f, *case) for f in BILINEAR_FORMULATIONS for case in GRADCHECK_CASES if _formulation_applies(f, *case[1], *case[0], *case[2])],
)
def test_each_bilinear_formulation_gradcheck(formulation, factors, kernel, size, seeded):
    seeded(8)
    x = torch.randn(1, 2, *size, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(2, 2, *kernel, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda *t: _bilinear(*t, *factors, formulation=formulation), (x, weight, bias))


def test_torch_compile_dynamic_shapes_with_the_weight_as_input(seeded):
    """``dynamic=True`` makes the weight's shape symbolic; with few output channels (the eager
    sub-pixel path) inductor could not lower the kernel reshuffle. Values and gradients as eager."""
    if not (shutil.which("g++") or shutil.which("c++")):
        pytest.skip("inductor needs a C++ compiler")
    seeded(2)
    fn = lambda x, w, b: resize_conv2d(x, w, b, 2, "nearest")  # noqa: E731
    compiled = torch.compile(fn, dynamic=True)
    for shape in ((2, 4, 6, 6), (3, 4, 5, 7)):
        x = torch.randn(*shape, requires_grad=True)
        w, b = torch.randn(3, 4, 3, 3, requires_grad=True), torch.randn(3, requires_grad=True)
        got = torch.autograd.grad(compiled(x, w, b).square().sum(), (x, w, b))
        want = torch.autograd.grad(naive(x, w, b, 2, "nearest").square().sum(), (x, w, b))
        for g, r in zip(got, want):
            torch.testing.assert_close(g, r, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("formulation", BILINEAR_FORMULATIONS)
@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_each_bilinear_formulation_float32_gradients(formulation, memory_format, seeded):
    """float32, both memory formats: output and input/weight/bias gradients within 1e-5 of the naive form."""
    seeded(12)
    x = torch.randn(3, 5, 7, 6).contiguous(memory_format=memory_format)
    weight, bias = torch.randn(4, 5, 3, 3), torch.randn(4)
    grad_out = torch.randn(3, 4, 14, 12)
    results = []
    for fn in (lambda *t: _bilinear(*t, 2, 2, formulation=formulation), lambda *t: naive(*t, 2, "bilinear")):
        leaves = [t.detach().clone().requires_grad_() for t in (x, weight, bias)]
        y = fn(*leaves)
        y.backward(grad_out)
        results.append([y.detach()] + [t.grad for t in leaves])
    for got, want in zip(*results):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5 * want.abs().max().item())


@pytest.mark.parametrize("kernel_size", [3, 5])
@pytest.mark.parametrize("factor", [2, 3])
def test_bilinear_matches_numpy_reference(kernel_size, factor, seeded):
    rng = seeded(7)
    x = rng.standard_normal((1, 2, 4, 3))
    weight = rng.standard_normal((2, 2, kernel_size, kernel_size))
    got = resize_conv2d(torch.from_numpy(x), torch.from_numpy(weight), None, factor, "bilinear")
    np.testing.assert_allclose(got.numpy(), numpy_bilinear_then_conv(x, weight, factor), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_separate_factors_and_kernel_sizes(mode, seeded):
    seeded(3)
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    weight = torch.randn(2, 3, 3, 5, dtype=torch.float64)
    bias = torch.randn(2, dtype=torch.float64)
    got = resize_conv2d(x, weight, bias, (2, 3), mode)
    assert got.shape == (2, 2, 8, 15)
    torch.testing.assert_close(got, naive(x, weight, bias, (2, 3), mode), rtol=1e-12, atol=1e-12)



@pytest.mark.parametrize("mode", MODES)
def test_every_pair_of_factors_and_kernel_sizes(mode, seeded):
    """Per-axis factors 1-4 and odd kernel sizes 1-7 in every combination, values and gradients.

    Includes a factor of 1 on one axis only, where that axis needs no border correction.
    """
    seeded(11)
    for sh, sw, kh, kw in itertools.product([1, 2, 3, 4], [1, 2, 3, 4], [1, 3, 5, 7], [1, 3, 5, 7]):
        for h, w in [(3, 4), (1, 2)]:
            x = torch.randn(2, 2, h, w, dtype=torch.float64, requires_grad=True)
            weight = torch.randn(3, 2, kh, kw, dtype=torch.float64, requires_grad=True)
            bias = torch.randn(3, dtype=torch.float64, requires_grad=True)
            got = resize_conv2d(x, weight, bias, (sh, sw), mode)
            want = naive(x, weight, bias, (sh, sw), mode)
            grad = torch.randn_like(want)
            case = f"factors {(sh, sw)}, kernel {(kh, kw)}, size {(h, w)}"
            torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12, msg=lambda m: f"{case}: {m}")
            got_grads = torch.autograd.grad(got, (x, weight, bias), grad)
            want_grads = torch.autograd.grad(want, (x, weight, bias), grad)
            for name, g, r in zip(("input", "weight", "bias"), got_grads, want_grads):
                torch.testing.assert_close(g, r, rtol=1e-12, atol=1e-12, msg=lambda m: f"{case}, {name} grad: {m}")

def _random_configs(count, seed):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield (
            str(rng.choice(MODES)),
            int(rng.integers(2, 5)),  # factor
            int(rng.choice([1, 3, 5, 7])),  # kernel size
            int(rng.integers(1, 4)),  # batch
            int(rng.integers(1, 6)),  # in channels
            int(rng.integers(1, 6)),  # out channels
            int(rng.integers(1, 8)),  # height
            int(rng.integers(1, 8)),  # width
        )


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_float32_values_and_gradients_match_naive(memory_format, seeded):
    """Random configurations in float32: output and the input/weight/bias gradients within 1e-5."""
    seeded(11)
    for mode, factor, k, n, c_in, c_out, h, w in _random_configs(12, seed=5):
        x = torch.randn(n, c_in, h, w).contiguous(memory_format=memory_format)
        weight = torch.randn(c_out, c_in, k, k)
        bias = torch.randn(c_out)
        grad_out = torch.randn(n, c_out, h * factor, w * factor)
        results = []
        for fn in (resize_conv2d, naive):
            leaves = [t.detach().clone().requires_grad_() for t in (x, weight, bias)]
            y = fn(*leaves, factor, mode)
            y.backward(grad_out)
            results.append([y.detach()] + [t.grad for t in leaves])
        for got, want in zip(*results):
            scale = want.abs().max().item()
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5 * scale)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("factor,kernel_size,size", [(2, 3, (3, 2)), (3, 3, (1, 2)), (2, 5, (2, 3)), (4, 1, (2, 2))])
def test_gradcheck(mode, factor, kernel_size, size, seeded):
    seeded(2)
    x = torch.randn(1, 2, *size, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(2, 2, kernel_size, kernel_size, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda *t: resize_conv2d(*t, factor, mode), (x, weight, bias))


@pytest.mark.parametrize("mode", MODES)
def test_bfloat16_autocast(mode, seeded):
    """Under CPU bf16 autocast (the GAN trainer's default on bf16 hardware) it follows the naive form."""
    seeded(6)
    x = torch.randn(2, 8, 7, 5, requires_grad=True)
    weight, bias = torch.randn(4, 8, 3, 3, requires_grad=True), torch.randn(4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = resize_conv2d(x, weight, bias, 2, mode)
        want = naive(x, weight, bias, 2, mode)
    assert got.dtype == want.dtype == torch.bfloat16
    torch.testing.assert_close(got.float(), want.float(), rtol=0.02, atol=0.02 * want.abs().max().item())
    got.float().sum().backward()
    assert weight.grad.dtype == torch.float32 and torch.isfinite(x.grad).all()


@pytest.mark.parametrize("mode", MODES)
def test_no_upsampled_intermediate_in_the_graph(mode, seeded):
    """No tensor with the upsampled input's size (N, C_in, sH, sW) is saved for backward."""
    seeded(0)
    x = torch.randn(2, 16, 6, 6, requires_grad=True)
    weight = torch.randn(4, 16, 3, 3, requires_grad=True)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.shape) or t, lambda t: t):
        resize_conv2d(x, weight, None, 2, mode)
    assert saved, "nothing saved: the hook did not run"
    assert (2, 16, 12, 12) not in saved
    assert max(torch.Size(s).numel() for s in saved) < 2 * 16 * 12 * 12


def test_nearest_kernel_is_a_transposed_convolution():
    """Nearest x2 + 3x3 is one 4x4 stride-2 transposed conv: 1-D taps [w2, w1+w2, w0+w1, w0]."""
    w1d = torch.tensor([1.0, 10.0, 100.0])
    weight = (w1d[:, None] * torch.tensor([1.0, 0.0, 0.0])[None, :])[None, None]  # only column 0 of the kernel
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 2] = 1.0
    y = resize_conv2d(x, weight)
    # the impulse response along rows in the output column that sees kernel column 0
    torch.testing.assert_close(y[0, 0, 3:7, 5], torch.tensor([100.0, 110.0, 11.0, 1.0]))


@pytest.mark.parametrize("mode", MODES)
def test_module_is_a_conv2d_after_an_upsample(mode, seeded):
    seeded(4)
    layer = ResizeConv2d(3, 5, kernel_size=3, scale_factor=2, mode=mode)
    conv = nn.Conv2d(3, 5, 3, padding=1)
    conv.load_state_dict(layer.state_dict())
    x = torch.randn(2, 3, 6, 4)
    reference = conv(nn.Upsample(scale_factor=2, mode=mode)(x))
    torch.testing.assert_close(layer(x), reference, rtol=1e-5, atol=1e-5)
    layer.load_state_dict(nn.Conv2d(3, 5, 3).state_dict())  # and back


def test_module_initialises_like_conv2d():
    torch.manual_seed(9)
    layer = ResizeConv2d(6, 4, kernel_size=5)
    torch.manual_seed(9)
    conv = nn.Conv2d(6, 4, 5)
    assert torch.equal(layer.weight, conv.weight) and torch.equal(layer.bias, conv.bias)
    assert ResizeConv2d(6, 4, bias=False).bias is None
    assert "bias" not in ResizeConv2d(6, 4, bias=False).state_dict()


def test_module_repr():
    assert repr(ResizeConv2d(2, 3, (3, 5), (2, 3), "bilinear", bias=False)) == (
        "ResizeConv2d(2, 3, kernel_size=(3, 5), scale_factor=(2, 3), mode='bilinear', bias=False)"
    )


@pytest.mark.parametrize("mode", MODES)
def test_torch_compile(mode, seeded):
    """Compiles without graph breaks (fullgraph) and matches eager, forward and backward.

    The nearest path goes through inductor; the bilinear one through AOTAutograd only
    (``aot_eager``: tracing and functionalisation, no code generation), because inductor's C++
    build of its larger graph takes 15-50 s on a loaded 2-core machine (it compiles and matches).
    """
    if mode == "nearest" and not (shutil.which("g++") or shutil.which("c++")):
        pytest.skip("inductor needs a C++ compiler")
    seeded(1)
    layer = ResizeConv2d(3, 2, mode=mode)
    compiled = torch.compile(layer, backend="inductor" if mode == "nearest" else "aot_eager", fullgraph=True)
    x = torch.randn(2, 3, 5, 4, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()
    y = compiled(x)
    y.sum().backward()
    y_ref = layer(x_ref)
    torch.testing.assert_close(y, y_ref, rtol=1e-5, atol=1e-5)
    weight_grad = layer.weight.grad.clone()
    layer.zero_grad()
    y_ref.sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(weight_grad, layer.weight.grad, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("formulation", BILINEAR_FORMULATIONS)
def test_each_bilinear_formulation_compiles(formulation, seeded):
    """fullgraph AOTAutograd trace (the custom blur autograd.Function included) matches eager."""
    seeded(13)
    x = torch.randn(2, 3, 5, 4, requires_grad=True)
    weight = torch.randn(4, 3, 3, 3, requires_grad=True)

    def fn(x, weight):
        return _bilinear(x, weight, None, 2, 2, formulation=formulation)

    compiled = torch.compile(fn, backend="aot_eager", fullgraph=True)
    grads = [torch.autograd.grad(f(x, weight).square().sum(), (x, weight)) for f in (compiled, fn)]
    torch.testing.assert_close(compiled(x, weight), naive(x, weight, None, 2, "bilinear"), rtol=1e-5, atol=1e-5)
    for got, want in zip(*grads):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("formulation", BILINEAR_FORMULATIONS)
def test_cuda_bilinear_formulations_match_naive(formulation, seeded):
    """On CUDA (float64): each forced formulation equals the naive form, values and gradients."""
    seeded(21)
    x = torch.randn(2, 3, 7, 6, dtype=torch.float64, device="cuda", requires_grad=True)
    weight = torch.randn(4, 3, 3, 3, dtype=torch.float64, device="cuda", requires_grad=True)
    bias = torch.randn(4, dtype=torch.float64, device="cuda", requires_grad=True)
    got = _bilinear(x, weight, bias, 2, 2, formulation=formulation)
    want = naive(x, weight, bias, 2, "bilinear")
    assert got.device.type == "cuda"
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    grads = [torch.autograd.grad(y.square().sum(), (x, weight, bias)) for y in (got, want)]
    for g, w in zip(*grads):
        torch.testing.assert_close(g, w, rtol=1e-10, atol=1e-10)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("mode", MODES)
def test_cuda_module_float32_and_channels_last(mode, seeded):
    seeded(22)
    layer = ResizeConv2d(8, 5, 3, 2, mode=mode).cuda()
    for fmt in (torch.contiguous_format, torch.channels_last):
        x = torch.randn(3, 8, 9, 9, device="cuda").contiguous(memory_format=fmt)
        torch.testing.assert_close(layer(x), naive(x, layer.weight, layer.bias, 2, mode), rtol=1e-4, atol=1e-4)


def test_errors():
    x, w = torch.zeros(1, 2, 3, 3), torch.zeros(4, 2, 3, 3)
    with pytest.raises(ValueError, match=r"The `mode` argument must be one of 'nearest', 'bilinear'. Received mode='bicubic'"):
        resize_conv2d(x, w, mode="bicubic")
    with pytest.raises(ValueError, match=r"The `scale_factor` argument must be .* each >= 1. Received scale_factor=0"):
        resize_conv2d(x, w, scale_factor=0)
    with pytest.raises(TypeError, match=r"The `scale_factor` argument .* Received scale_factor=1.5"):
        resize_conv2d(x, w, scale_factor=1.5)
    with pytest.raises(ValueError, match=r"odd kh and kw. Received weight.shape=\(4, 2, 2, 3\)"):
        resize_conv2d(x, torch.zeros(4, 2, 2, 3))
    with pytest.raises(TypeError, match=r"Expected `weight` to be a torch.Tensor .* Received type list"):
        resize_conv2d(x, [1.0])
    with pytest.raises(ValueError, match=r"Expected `x` to have 2 channels \(dimension 1\). Received x.shape=\(1, 3, 3, 3\)"):
        resize_conv2d(torch.zeros(1, 3, 3, 3), w)
    with pytest.raises(ValueError, match=r"Expected `x` to be a 4-D tensor \(N, C, H, W\). Received x.shape=\(2, 3, 3\)"):
        resize_conv2d(torch.zeros(2, 3, 3), w)
    with pytest.raises(ValueError, match=r"Expected `bias` to be None or a tensor of shape \(4,\). Received \(3,\)"):
        resize_conv2d(x, w, torch.zeros(3))
    with pytest.raises(ValueError, match=r"The `kernel_size` argument must be an odd integer .* Received kernel_size=4"):
        ResizeConv2d(2, 3, kernel_size=4)
    with pytest.raises(ValueError, match=r"The `in_channels` argument must be an integer >= 1. Received in_channels=0"):
        ResizeConv2d(0, 3)
    with pytest.raises(ValueError, match=r"The `mode` argument must be one of 'nearest', 'bilinear'. Received mode='area'"):
        ResizeConv2d(2, 3, mode="area")
    for bias in ("yes", None, 1):
        with pytest.raises(TypeError, match=r"The `bias` argument must be True or False. Received bias="):
            ResizeConv2d(2, 3, bias=bias)
    with pytest.raises(TypeError, match=r"Expected `x` to be a floating-point tensor. Received x.dtype=torch.int64"):
        ResizeConv2d(2, 3)(torch.zeros(1, 2, 3, 3, dtype=torch.int64))
