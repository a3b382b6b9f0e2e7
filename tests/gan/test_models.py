"""Generator/Discriminator architecture, losses, augmentation, EMA and latent interpolation."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from upgan.gan import Discriminator, Generator, UPSAMPLE_METHODS
from upgan.gan.augment import cutout, diff_augment, translate
from upgan.gan.ema import ema_decay, make_ema, update_ema
from upgan.gan.interpolate import latent_walk, lerp, slerp
from upgan.gan.losses import discriminator_loss, generator_loss, gradient_penalty
from upgan.gan.models import upsampling_layer
from upgan.nn import ConvTranspose2d, ResizeConv2d, SubPixelConv2d


@pytest.mark.parametrize("upsample", UPSAMPLE_METHODS)
@pytest.mark.parametrize("shape, stages", [((1, 28, 28), 2), ((3, 32, 32), 3), ((1, 12, 12), 1), ((3, 6, 6), 1)])
def test_generator_shapes_and_stage_plan(upsample, shape, stages):
    torch.manual_seed(0)
    g = Generator(latent_dim=5, image_shape=shape, upsample=upsample, width=2)
    out = g(torch.randn(3, 5))
    assert out.shape == (3, *shape) and out.abs().max() <= 1
    ups = [name for name, _ in g.named_children() if name.startswith("up")]
    assert len(ups) == stages  # base * 2**stages == size, from upgan.shapes.plan_upsampling
    d = Discriminator(shape, width=2)
    assert d(out).shape == (3,)


def test_only_the_upsampling_layers_differ():
    nets = {m: Generator(8, (1, 28, 28), m, 4) for m in UPSAMPLE_METHODS}
    layouts = {
        m: [(name, type(layer).__name__) for name, layer in g.named_children() if not name.startswith("up")]
        for m, g in nets.items()
    }
    assert len({tuple(v) for v in layouts.values()}) == 1
    kinds = {m: type(g.up1) for m, g in nets.items()}
    assert kinds == {"transposed": ConvTranspose2d, "nearest": ResizeConv2d, "bilinear": ResizeConv2d, "subpixel": SubPixelConv2d}
    assert nets["transposed"].up1.padding == "same" and nets["transposed"].up1.weight.shape[-2:] == (4, 4)
    assert nets["bilinear"].up1.mode == "bilinear"


@pytest.mark.parametrize("method", UPSAMPLE_METHODS)
def test_upsampling_layer_matches_plain_torch(method):
    """Each stage equals its textbook torch composition with the same weights."""
    torch.manual_seed(1)
    layer = upsampling_layer(method, 3, 2).double()
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64)
    w, b = layer.weight, layer.bias
    if method == "transposed":  # Keras 'same' for k=4, s=2 is torch padding 1
        ref = F.conv_transpose2d(x, w, b, stride=2, padding=1)
    elif method == "subpixel":
        ref = F.pixel_shuffle(F.conv2d(x, w, b, padding=1), 2)  # (N, 4C, H, W) -> (N, C, 2H, 2W)
    else:
        ref = F.conv2d(F.interpolate(x, scale_factor=2, mode=method), w, b, padding=1)
    torch.testing.assert_close(layer(x), ref)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(upsample="deconv"), ValueError, "upsample"),
        (dict(width=0), ValueError, "The `width` argument must be an integer >= 1. Received width=0"),
        (dict(latent_dim=True), TypeError, "The `latent_dim` argument must be an integer >= 1. Received latent_dim=True"),
        (dict(image_shape=(1, 28)), ValueError, r"The `image_shape` argument must be a tuple \(channels, height, width\)"),
        (dict(image_shape=(1, 28, 32)), ValueError, "with height == width. Received image_shape=\\(1, 28, 32\\)"),
        (dict(image_shape=(1, 30, 30)), ValueError, "Cannot reach image_size=30 .* Sizes that work up to 60: 6, 8, 10"),
    ],
)
def test_generator_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        Generator(**kwargs)


def test_discriminator_errors():
    with pytest.raises(TypeError, match="The `spectral_norm` argument must be a bool. Received spectral_norm=1"):
        Discriminator(spectral_norm=1)
    with pytest.raises(ValueError, match="The `width` argument must be an integer >= 1. Received width=-2"):
        Discriminator(width=-2)


def test_discriminator_hidden_layer():
    torch.manual_seed(4)
    x = torch.randn(5, 1, 12, 12)
    plain, deep = Discriminator((1, 12, 12), 3, hidden=0), Discriminator((1, 12, 12), 3, hidden=7)
    assert [n for n, _ in plain.named_children()] == ["down1", "act1", "flatten", "logit", "squeeze"]
    assert [n for n, _ in deep.named_children()] == ["down1", "act1", "flatten", "dense", "act2", "logit", "squeeze"]
    assert tuple(deep.dense.weight.shape) == (7, 3 * 6 * 6) and tuple(deep.logit.weight.shape) == (1, 7)
    # The same computation written out: conv, LeakyReLU, dense, LeakyReLU, linear (weights as normalised).
    deep.eval()
    h = F.leaky_relu(F.conv2d(x, deep.down1.weight, deep.down1.bias, stride=2, padding=1), 0.2).flatten(1)
    h = F.leaky_relu(F.linear(h, deep.dense.weight, deep.dense.bias), 0.2)
    torch.testing.assert_close(deep(x), F.linear(h, deep.logit.weight, deep.logit.bias).flatten())
    assert deep.config()["hidden"] == 7 and Discriminator(**deep.config()).dense.out_features == 7
    with pytest.raises(ValueError, match="The `hidden` argument must be an integer >= 0. Received hidden=-1"):
        Discriminator(hidden=-1)


def test_spectral_norm_bounds_every_layer():
    torch.manual_seed(2)
    d = Discriminator((1, 12, 12), width=3)
    for _ in range(200):  # power iteration converges over forward passes in train mode
        d(torch.randn(4, 1, 12, 12))
    for name in ("down1", "dense", "logit"):  # 12 = 6 * 2: one stage
        w = getattr(d, name).weight
        sigma = torch.linalg.matrix_norm(w.detach().flatten(1), ord=2)
        assert sigma.item() == pytest.approx(1.0, abs=1e-3), name
    assert Discriminator((1, 12, 12), width=3, spectral_norm=False).down1.weight.requires_grad


def test_latent_walk_argument_errors():
    points = torch.randn(3, 2, 5)
    with pytest.raises(ValueError, match=r"The `method` argument must be 'slerp' or 'lerp'. Received method='nonsense'"):
        list(latent_walk(points, 2, "nonsense"))
    for steps in (0, 1.5, True):
        with pytest.raises(ValueError, match=r"The `steps` argument must be an integer >= 1"):
            list(latent_walk(points, steps))


def test_summary_table(capsys):
    g = Generator(8, (1, 12, 12), "nearest", 2)
    table = g.summary()
    trainable = sum(p.numel() for p in g.parameters())
    stats = sum(b.numel() for b in g.buffers() if b.is_floating_point())  # BatchNorm moving statistics, as Keras
    assert f"Total params: {trainable + stats:,}" in table and f"Trainable params: {trainable:,}" in table
    assert "(None, 1, 12, 12)" in table
    assert "up1 (ResizeConv2d)" in table
    assert capsys.readouterr().out.strip() == table.strip()
    assert "Total params" in Discriminator((1, 12, 12), 2).summary(print_fn=None)


def test_losses_against_closed_forms():
    torch.manual_seed(3)
    real, fake = torch.randn(6, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
    bce = F.binary_cross_entropy_with_logits
    expected = bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))
    torch.testing.assert_close(discriminator_loss("bce", real, fake), expected)
    torch.testing.assert_close(generator_loss("bce", fake), bce(fake, torch.ones_like(fake)))
    hinge = torch.clamp(1 - real, min=0).mean() + torch.clamp(1 + fake, min=0).mean()
    torch.testing.assert_close(discriminator_loss("hinge", real, fake), hinge)
    torch.testing.assert_close(discriminator_loss("wgan-gp", real, fake), fake.mean() - real.mean())
    torch.testing.assert_close(generator_loss("hinge", fake), -fake.mean())


def test_gradient_penalty_of_a_linear_critic():
    # D(x) = <v, x>: grad = v everywhere, penalty = (|v| - 1)^2
    v = torch.tensor([3.0, 4.0], dtype=torch.float64, requires_grad=True)
    x = torch.randn(7, 1, 1, 2, dtype=torch.float64, requires_grad=True)
    gp = gradient_penalty(lambda t: t.flatten(1) @ v, x)
    assert gp.item() == pytest.approx(16.0)
    (grad_v,) = torch.autograd.grad(gp, v)  # create_graph: the penalty trains D; d/dv (|v| - 1)^2 = 2 (|v| - 1) v / |v|
    torch.testing.assert_close(grad_v, 2 * 4 * v.detach() / 5)


def _naive_translate(x, dy, dx):
    out = torch.full_like(x, -1.0)
    n, _, h, w = x.shape
    for i in range(n):
        for r in range(h):
            for c in range(w):
                sr, sc = r + int(dy[i]), c + int(dx[i])
                if 0 <= sr < h and 0 <= sc < w:
                    out[i, :, r, c] = x[i, :, sr, sc]
    return out


def test_translate_matches_a_loop():
    x = torch.randn(5, 2, 8, 8)
    torch.manual_seed(4)
    y = translate(x)
    torch.manual_seed(4)  # replay the same draws: dy then dx, each in [-1, 1] for size 8, ratio 1/8
    dy, dx = torch.randint(-1, 2, (5, 1, 1)).flatten(), torch.randint(-1, 2, (5, 1, 1)).flatten()
    torch.testing.assert_close(y, _naive_translate(x, dy, dx))
    for channels in (1, 3):  # plain NCHW strides, even where one channel makes NHWC look contiguous
        assert translate(torch.randn(2, channels, 8, 8)).stride() == (channels * 64, 64, 8, 1)


def test_cutout_matches_a_mask():
    x = torch.randn(4, 3, 8, 8)
    torch.manual_seed(5)
    y = cutout(x)
    torch.manual_seed(5)
    top, left = torch.randint(0, 5, (4, 1, 1)).flatten(), torch.randint(0, 5, (4, 1, 1)).flatten()
    ref = x.clone()
    for i in range(4):
        ref[i, :, top[i] : top[i] + 4, left[i] : left[i] + 4] = 0
    torch.testing.assert_close(y, ref)


@pytest.mark.parametrize("policy", ["translation", "cutout", "translation,cutout"])
def test_augment_gradcheck(policy):
    x = torch.randn(2, 1, 6, 6, dtype=torch.float64, requires_grad=True)

    def fixed_draws(t):
        torch.manual_seed(6)
        return diff_augment(t, policy)

    assert torch.autograd.gradcheck(fixed_draws, (x,))


def test_ema_follows_the_formula_with_warm_up():
    model = nn.Linear(2, 2)
    ema = make_ema(model)
    start = ema.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    update_ema(ema, model, ema_decay(0.999, 0))  # warm-up: decay 0.1 at the first step
    torch.testing.assert_close(ema.weight, 0.1 * start + 0.9 * model.weight.detach())
    assert not ema.weight.requires_grad and not ema.training
    bn, bn_ema = nn.BatchNorm1d(2), make_ema(nn.BatchNorm1d(2))
    bn(torch.randn(8, 2))
    update_ema(bn_ema, bn, 0.5)
    torch.testing.assert_close(bn_ema.running_mean, bn.running_mean)  # buffers are copied, not averaged


def test_slerp_and_lerp():
    torch.manual_seed(7)
    a, b = torch.randn(3, 16, dtype=torch.float64), torch.randn(3, 16, dtype=torch.float64)
    torch.testing.assert_close(slerp(a, b, 0.0), a)
    torch.testing.assert_close(slerp(a, b, 1.0), b)
    mid = slerp(a, b, 0.3)
    # the angle to a is 0.3 of the angle between a and b; the norm moves linearly
    angle = lambda u, v: torch.acos((u * v).sum(-1) / (u.norm(dim=-1) * v.norm(dim=-1)))  # noqa: E731
    torch.testing.assert_close(angle(a, mid), 0.3 * angle(a, b))
    torch.testing.assert_close(mid.norm(dim=-1), 0.7 * a.norm(dim=-1) + 0.3 * b.norm(dim=-1))
    torch.testing.assert_close(lerp(a, b, 0.3), 0.7 * a + 0.3 * b)
    frames = list(latent_walk(torch.stack([a, b]), 4))
    assert len(frames) == 8
    torch.testing.assert_close(frames[0], a)
    torch.testing.assert_close(frames[4], b)


@pytest.mark.parametrize("n, group_size, expected_group", [(8, 4, 4), (6, 4, 3), (5, 4, 1), (2, 4, 2)])
def test_minibatch_stddev_matches_a_loop(n, group_size, expected_group):
    from upgan.gan.models import MinibatchStdDev

    torch.manual_seed(8)
    x = torch.randn(n, 3, 2, 2, dtype=torch.float64)
    out = MinibatchStdDev(group_size)(x)
    assert out.shape == (n, 4, 2, 2)
    torch.testing.assert_close(out[:, :3], x)
    for start in range(0, n, expected_group):
        group = x[start : start + expected_group]
        std = ((group - group.mean(0)).pow(2).mean(0) + 1e-8).sqrt().mean()
        torch.testing.assert_close(out[start : start + expected_group, 3], std.expand(expected_group, 2, 2))
    x.requires_grad_()
    assert torch.autograd.gradcheck(lambda t: MinibatchStdDev(group_size)(t), (x,))


def test_minibatch_std_keeps_real_and_fake_apart():
    """D sees cat([real, fake]): a group must never straddle the two halves."""
    d = Discriminator((1, 12, 12), width=2, minibatch_std=True).eval()  # eval: no power-iteration update between calls
    real, fake = torch.randn(8, 1, 12, 12), torch.zeros(8, 1, 12, 12)
    torch.testing.assert_close(d(torch.cat([real, fake]))[8:], d(fake))


def test_image_grid_mapping_and_argument_errors():
    from upgan.gan.images import make_grid, to_uint8

    x = torch.tensor([[[[-1.0, 0.0, 1.0, 2.0, -3.0, float("nan"), float("inf"), float("-inf")]]]])
    assert to_uint8(x).tolist() == [[[[0, 128, 255, 255, 0, 0, 255, 0]]]]  # NaN as black, not whatever a cast gives
    for images, message in (
        (torch.zeros(0, 1, 4, 4), r"N >= 1 and C in \{1, 3\}. Received \(0, 1, 4, 4\)"),
        (torch.zeros(2, 2, 4, 4), r"Received \(2, 2, 4, 4\)"),
        (torch.zeros(2, 4, 4), r"Received \(2, 4, 4\)"),
    ):
        with pytest.raises(ValueError, match=message):
            make_grid(images)
    for kwargs, message in (({"nrow": 0}, "nrow=0"), ({"nrow": -1}, "nrow=-1"), ({"padding": -1}, "padding=-1")):
        with pytest.raises(ValueError, match=message):
            make_grid(torch.zeros(2, 1, 4, 4), **kwargs)
