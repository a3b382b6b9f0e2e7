"""The transposed-convolution fast path: the sub-pixel decomposition and the dispatch rule."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import upgan.functional._fast_conv_transpose as fast
from upgan.functional._fast_conv_transpose import conv_transpose2d_fast, conv_transpose2d_subpixel, prefers_subpixel
from upgan.nn import ConvTranspose2d

# Tiny tensors: one torch thread avoids OpenMP waits on the shared 2-core machines.
pytestmark = pytest.mark.usefixtures("single_thread")


def _random_config(rng):
    """A random torch-valid configuration (output at least 1x1)."""
    while True:
        k = tuple(int(v) for v in rng.integers(1, 8, size=2))
        s = tuple(int(v) for v in rng.integers(1, 5, size=2))
        p = tuple(int(rng.integers(0, ki)) for ki in k)
        op = tuple(int(rng.integers(0, si)) for si in s)
        size = tuple(int(v) for v in rng.integers(1, 7, size=2))
        out = [(size[i] - 1) * s[i] - 2 * p[i] + k[i] + op[i] for i in range(2)]
        if min(out) >= 1:
            return dict(kernel=k, stride=s, padding=p, output_padding=op, size=size)


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_subpixel_equals_conv_transpose2d_on_random_configs(memory_format, seeded):
    rng = seeded(0)
    for _ in range(60):
        cfg = _random_config(rng)
        c_in, c_out = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        x = torch.randn(2, c_in, *cfg["size"], dtype=torch.float64).contiguous(memory_format=memory_format)
        w = torch.randn(c_in, c_out, *cfg["kernel"], dtype=torch.float64)
        b = torch.randn(c_out, dtype=torch.float64) if rng.random() < 0.5 else None
        args = cfg["stride"], cfg["padding"], cfg["output_padding"]
        want = F.conv_transpose2d(x, w, b, *args)
        got = conv_transpose2d_subpixel(x, w, b, *args)
        assert got.shape == want.shape, cfg
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12, msg=str(cfg))


def test_subpixel_float32_gradients_match_native(seeded):
    seeded(3)
    x = torch.randn(3, 8, 5, 6)
    w = torch.randn(8, 4, 4, 4)
    b = torch.randn(4)
    grad_out = torch.randn(3, 4, 10, 12)
    results = []
    for fn in (conv_transpose2d_subpixel, F.conv_transpose2d):
        leaves = [t.clone().requires_grad_() for t in (x, w, b)]
        fn(*leaves, (2, 2), (1, 1), (0, 0)).backward(grad_out)
        results.append([t.grad for t in leaves])
    for got, want in zip(*results):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5 * want.abs().max().item())


@pytest.mark.parametrize("stride,padding,output_padding", [((2, 2), (1, 1), (0, 0)), ((3, 2), (2, 0), (1, 1))])
def test_subpixel_gradcheck(stride, padding, output_padding, seeded):
    seeded(1)
    x = torch.randn(1, 2, 3, 2, dtype=torch.float64, requires_grad=True)
    w = torch.randn(2, 2, 4, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda *t: conv_transpose2d_subpixel(*t, stride, padding, output_padding), (x, w, b))


def test_empty_batch_forward_and_backward_on_every_path(seeded):
    """torch 2.13's pixel_shuffle backward fails on an empty batch; upgan's layers must not."""
    from upgan.nn import ResizeConv2d, SubPixelConv2d

    seeded(0)
    layers = [
        (ConvTranspose2d(3, 2, 4, 2, 1), torch.nn.ConvTranspose2d(3, 2, 4, 2, 1)),  # sub-pixel path (C_out*4 <= 16)
        (ConvTranspose2d(3, 8, 4, 2, 1), torch.nn.ConvTranspose2d(3, 8, 4, 2, 1)),  # native path
        (ConvTranspose2d(3, 2, 4, stride=(2, 3), padding="same"), None),
        (ResizeConv2d(3, 3), None),
        (ResizeConv2d(3, 3, mode="bilinear"), None),
        (SubPixelConv2d(3, 2), None),
    ]
    for layer, reference in layers:
        x = torch.zeros(0, 3, 5, 6, requires_grad=True)
        y = layer(x)
        if reference is not None:
            reference.load_state_dict(layer.state_dict())
            assert y.shape == reference(x).shape
        y.sum().backward()
        assert x.grad.shape == x.shape and layer.weight.grad is not None and not layer.weight.grad.any()


def test_pixel_shuffle_matches_torch_and_the_unequal_factor_layout():
    y = torch.randn(2, 3 * 2 * 3, 4, 5)
    torch.testing.assert_close(fast.pixel_shuffle(y[:, :12], 2, 2), F.pixel_shuffle(y[:, :12], 2))
    z = fast.pixel_shuffle(y, 2, 3)  # channel c*6 + i*3 + j -> sub-pixel (i, j)
    assert z.shape == (2, 3, 8, 15)
    for c, i, j in [(0, 0, 0), (1, 1, 2), (2, 0, 1)]:
        torch.testing.assert_close(z[:, c, i::2, j::3], y[:, c * 6 + i * 3 + j])


def test_dispatch_rule():
    x, few, many = torch.zeros(1, 8, 4, 4), torch.zeros(8, 4, 4, 4), torch.zeros(8, 5, 4, 4)
    assert prefers_subpixel(x, few, (2, 2), (1, 1), 1)  # C_out * s * s = 16
    assert not prefers_subpixel(x, many, (2, 2), (1, 1), 1)  # 20 channels: native
    assert not prefers_subpixel(x, few, (1, 1), (1, 1), 1)  # stride 1: nothing to decompose
    assert not prefers_subpixel(x, few, (2, 2), (2, 2), 1)  # dilated
    assert not prefers_subpixel(x, torch.zeros(8, 2, 4, 4), (2, 2), (1, 1), 2)  # grouped
    assert prefers_subpixel(x, few.requires_grad_(), (2, 2), (1, 1), 1)  # training too
    with torch.no_grad():
        assert not prefers_subpixel(x, many, (2, 2), (1, 1), 1)  # inference or not: the same rule


@pytest.mark.parametrize("grad", [False, True])
def test_fast_equals_native_for_every_configuration(grad, seeded):
    """Whatever path is taken (grouped and dilated ones included), the result is torch's."""
    rng = seeded(5)
    for _ in range(25):
        cfg = _random_config(rng)
        groups = int(rng.choice([1, 2]))
        dilation = (1, 1) if rng.random() < 0.5 else (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        if max(cfg["output_padding"][i] - max(cfg["stride"][i], dilation[i]) + 1 for i in range(2)) > 0:
            continue
        x = torch.randn(2, 2 * groups, *cfg["size"], dtype=torch.float64)
        w = torch.randn(2 * groups, int(rng.integers(1, 4)), *cfg["kernel"], dtype=torch.float64, requires_grad=grad)
        args = (cfg["stride"], cfg["padding"], cfg["output_padding"], dilation, groups)
        try:
            want = F.conv_transpose2d(x, w, None, args[0], args[1], args[2], groups, dilation)
        except RuntimeError:  # a dilated kernel can make the output empty
            continue
        torch.testing.assert_close(conv_transpose2d_fast(x, w, None, *args), want, rtol=1e-12, atol=1e-12)


def test_module_takes_the_subpixel_path_for_few_output_channels(monkeypatch, seeded):
    seeded(2)
    calls = []

    def counting(*args):
        calls.append(1)
        return conv_transpose2d_subpixel(*args)

    monkeypatch.setattr(fast, "conv_transpose2d_subpixel", counting)
    layer = ConvTranspose2d(16, 3, 4, stride=2, padding=1)
    reference = torch.nn.ConvTranspose2d(16, 3, 4, stride=2, padding=1)
    reference.load_state_dict(layer.state_dict())
    x = torch.randn(2, 16, 7, 7)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), reference(x), rtol=1e-5, atol=1e-5)
    assert len(calls) == 1
    grad = torch.randn(2, 3, 14, 14)
    x.requires_grad_()
    mine = torch.autograd.grad(layer(x), (x, layer.weight, layer.bias), grad)  # training: the same path
    assert len(calls) == 2
    want = torch.autograd.grad(reference(x), (x, reference.weight, reference.bias), grad)
    for a, b in zip(mine, want):  # and torch's gradients
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
