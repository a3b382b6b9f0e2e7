"""upgan.functional.subpixel_conv2d / upgan.nn.SubPixelConv2d: layout, ICNR for every factor, gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from upgan.functional import subpixel_conv2d
from upgan.functional.subpixel import icnr_
from upgan.nn import SubPixelConv2d

# Tiny tensors: one torch thread avoids OpenMP waits on the shared 2-core machines.
pytestmark = pytest.mark.usefixtures("single_thread")


def numpy_pixel_shuffle(y, s):
    """out[n, c, h*s + i, w*s + j] = y[n, c*s*s + i*s + j, h, w], written as loops."""
    n, cs, h, w = y.shape
    out = np.zeros((n, cs // (s * s), h * s, w * s))
    for c in range(cs // (s * s)):
        for i in range(s):
            for j in range(s):
                out[:, c, i::s, j::s] = y[:, c * s * s + i * s + j]
    return out


@pytest.mark.parametrize("factor", [1, 2, 3, 4])
@pytest.mark.parametrize("kernel_size", [1, 3, 5])
def test_functional_is_conv_then_shuffle(factor, kernel_size, seeded):
    seeded(factor + kernel_size)
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    weight = torch.randn(2 * factor**2, 3, kernel_size, kernel_size, dtype=torch.float64)
    bias = torch.randn(2 * factor**2, dtype=torch.float64)
    conv = F.conv2d(x, weight, bias, padding=kernel_size // 2).numpy()
    got = subpixel_conv2d(x, weight, bias, factor)
    np.testing.assert_allclose(got.numpy(), numpy_pixel_shuffle(conv, factor), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("factor", [2, 3, 4])
@pytest.mark.parametrize("kernel_size", [1, 3, 5])
def test_icnr_init_is_conv_then_nearest_resize(factor, kernel_size, seeded):
    """At initialisation, "convolution then NN resize" (Aitken et al. 2017) with the shared kernel.

    On the upsampled grid that is nearest resize followed by the shared kernel dilated by ``s``
    (its taps ``s`` samples apart read one coarse pixel each); for a 1x1 kernel, plain nearest
    resize + conv.
    """
    seeded(factor)
    layer = SubPixelConv2d(3, 4, kernel_size=kernel_size, scale_factor=factor).double()
    s2 = factor**2
    shared_w, shared_b = layer.weight[::s2], layer.bias[::s2]  # filter c lives at channels c*s^2 ...
    x = torch.randn(2, 3, 5, 4, dtype=torch.float64)
    small = F.conv2d(x, shared_w, shared_b, padding=kernel_size // 2)
    expected = small.repeat_interleave(factor, dim=2).repeat_interleave(factor, dim=3)
    torch.testing.assert_close(layer(x), expected, rtol=1e-12, atol=1e-12)
    up = F.interpolate(x, scale_factor=factor, mode="nearest")
    dilated = F.conv2d(up, shared_w, shared_b, padding=(kernel_size // 2) * factor, dilation=factor)
    torch.testing.assert_close(layer(x), dilated, rtol=1e-12, atol=1e-12)
    if kernel_size == 1:  # a 1x1 conv commutes with nearest upsampling
        torch.testing.assert_close(layer(x), F.conv2d(up, shared_w, shared_b), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("factor", [2, 3])
def test_icnr_blocks_are_constant_and_filters_differ(factor):
    torch.manual_seed(0)
    weight = icnr_(torch.empty(3 * factor**2, 2, 3, 3), factor)
    blocks = weight.reshape(3, factor**2, 2, 3, 3)  # (C_out*s*s, ...) -> (C_out, s*s, ...)
    assert torch.equal(blocks, blocks[:, :1].expand_as(blocks))
    assert not torch.equal(blocks[0, 0], blocks[1, 0])
    # the tiled order (filter c on channels c, c + C_out, ...) would not be constant per block
    tiled = blocks[:, 0].repeat(factor**2, 1, 1, 1)
    assert not torch.equal(tiled, weight)


def test_icnr_false_initialises_like_conv2d():
    torch.manual_seed(5)
    layer = SubPixelConv2d(3, 2, scale_factor=3, icnr=False)
    torch.manual_seed(5)
    conv = nn.Conv2d(3, 2 * 9, 3, padding=1)
    assert torch.equal(layer.weight, conv.weight) and torch.equal(layer.bias, conv.bias)


def test_icnr_shared_kernel_has_conv2d_scale():
    """The shared kernel is drawn with nn.Conv2d's bound, 1/sqrt(fan_in) for a=sqrt(5)."""
    torch.manual_seed(0)
    layer = SubPixelConv2d(64, 64, scale_factor=2)
    bound = 1 / np.sqrt(64 * 9)
    assert layer.weight.abs().max() <= bound and layer.weight.abs().max() > 0.9 * bound
    assert layer.bias.abs().max() <= bound


@pytest.mark.parametrize("factor", [2, 3])
def test_gradcheck(factor, seeded):
    seeded(1)
    x = torch.randn(1, 2, 3, 2, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(factor**2, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(factor**2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda *t: subpixel_conv2d(*t, factor), (x, weight, bias))


def test_channels_last_input(seeded):
    seeded(2)
    layer = SubPixelConv2d(4, 3, scale_factor=2)
    x = torch.randn(2, 4, 5, 6)
    torch.testing.assert_close(layer(x.contiguous(memory_format=torch.channels_last)), layer(x))


def test_repr():
    assert repr(SubPixelConv2d(2, 3, 5, 4, icnr=False)) == "SubPixelConv2d(2, 3, kernel_size=(5, 5), scale_factor=4, icnr=False)"


def test_errors():
    x = torch.zeros(1, 2, 3, 3)
    with pytest.raises(ValueError, match=r"Expected `weight` to be a 4-D tensor \(C_out\*9, C_in, kh, kw\) .* scale_factor=3. Received weight.shape=\(4, 2, 3, 3\)"):
        subpixel_conv2d(x, torch.zeros(4, 2, 3, 3), None, 3)
    with pytest.raises(ValueError, match=r"Expected `x` to have 2 channels \(dimension 1\). Received x.shape=\(1, 3, 3, 3\)"):
        subpixel_conv2d(torch.zeros(1, 3, 3, 3), torch.zeros(4, 2, 3, 3), None, 2)
    with pytest.raises(TypeError, match=r"Expected `weight` to be a torch.Tensor .* Received type NoneType"):
        subpixel_conv2d(x, None)
    with pytest.raises(ValueError, match=r"The `scale_factor` argument must be an integer >= 1. Received scale_factor=0"):
        subpixel_conv2d(x, torch.zeros(4, 2, 3, 3), None, 0)
    with pytest.raises(ValueError, match=r"Expected `weight.shape\[0\]` to be a multiple of scale_factor\*\*2 = 4. Received weight.shape=\(6, 2, 3, 3\)"):
        icnr_(torch.zeros(6, 2, 3, 3), 2)
    with pytest.raises(TypeError, match=r"The `scale_factor` argument must be an integer >= 1. Received scale_factor=\(2, 2\)"):
        SubPixelConv2d(2, 3, scale_factor=(2, 2))
    with pytest.raises(ValueError, match=r"The `kernel_size` argument must be an odd integer .* Received kernel_size=\(3, 2\)"):
        SubPixelConv2d(2, 3, kernel_size=(3, 2))
    with pytest.raises(TypeError, match=r"The `icnr` argument must be True or False. Received icnr='yes'"):
        SubPixelConv2d(2, 3, icnr="yes")
    with pytest.raises(ValueError, match=r"Expected `bias` of shape \(4,\)\. Received bias\.shape=\(3,\)"):
        subpixel_conv2d(x, torch.zeros(4, 2, 3, 3), torch.zeros(3))
    with pytest.raises(TypeError, match=r"Expected `bias` to be a torch\.Tensor or None\. Received type list"):
        subpixel_conv2d(x, torch.zeros(4, 2, 3, 3), [0.0] * 4)
    with pytest.raises(TypeError, match=r"Expected `x` to be a floating-point tensor. Received x.dtype=torch.uint8"):
        subpixel_conv2d(x.to(torch.uint8), torch.zeros(4, 2, 3, 3))
