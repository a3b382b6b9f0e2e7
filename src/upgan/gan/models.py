"""DCGAN-style generator and discriminator whose upsampling method is a parameter."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from upgan.functional._checks import check_choice, check_int
from upgan.nn import ConvTranspose2d, ResizeConv2d, SubPixelConv2d
from upgan.shapes import plan_upsampling

__all__ = ["Generator", "Discriminator", "MinibatchStdDev", "UPSAMPLE_METHODS", "upsampling_layer"]

UPSAMPLE_METHODS = ("transposed", "nearest", "bilinear", "subpixel")


def upsampling_layer(method: str, in_channels: int, out_channels: int) -> nn.Module:
    """The x2 upsampling layer of one generator stage: the only part that differs between methods.

    Args:
        method: ``"transposed"`` (ConvTranspose2d, kernel 4, stride 2, Keras 'same'),
            ``"nearest"`` / ``"bilinear"`` (ResizeConv2d: resize x2 then 3x3 conv) or
            ``"subpixel"`` (SubPixelConv2d: 3x3 conv to 4x the channels, pixel shuffle,
            ICNR initialisation).
        in_channels, out_channels: channels before and after.

    Shape:
        (N, in_channels, H, W) -> (N, out_channels, 2H, 2W).

    Raises:
        ValueError: unknown ``method``.

    >>> upsampling_layer("nearest", 8, 4)(torch.zeros(1, 8, 7, 7)).shape
    torch.Size([1, 4, 14, 14])
    """
    check_choice(method, "upsample", UPSAMPLE_METHODS)
    if method == "transposed":
        # Kernel 4 is divisible by stride 2, so every output pixel gets the same number of
        # kernel taps: no checkerboard from uneven overlap (Odena et al., Distill 2016).
        return ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding="same")
    if method == "subpixel":
        return SubPixelConv2d(in_channels, out_channels, 3, scale_factor=2, icnr=True)
    return ResizeConv2d(in_channels, out_channels, 3, scale_factor=2, mode=method)


def _check_image_shape(image_shape: object) -> tuple[int, int, int]:
    if (
        not isinstance(image_shape, Sequence)
        or len(image_shape) != 3
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in image_shape)
        or image_shape[1] != image_shape[2]
    ):
        raise ValueError(
            "The `image_shape` argument must be a tuple (channels, height, width) of positive integers "
            f"with height == width. Received image_shape={image_shape!r}"
        )
    return tuple(image_shape)


class Generator(nn.Sequential):
    """DCGAN-style generator: Dense -> reshape to a small map -> x2 upsampling stages -> image.

    The map starts at ``base`` x ``base`` with ``width * 2**n`` channels, where
    ``(base, n) = upgan.shapes.plan_upsampling(H)`` (7 -> 14 -> 28 for MNIST,
    4 -> 8 -> 16 -> 32 for CIFAR-10). Each stage halves the channels and doubles the
    size with :func:`upsampling_layer`, then BatchNorm and ReLU; a 3x3 convolution and
    tanh make the image. Only the upsampling layers depend on ``upsample``.

    Args:
        latent_dim: length of the noise vector z. Default 100.
        image_shape: (C, H, W) of the images, H == W. Default (1, 28, 28).
        upsample: ``"transposed"``, ``"nearest"`` (default), ``"bilinear"`` or ``"subpixel"``.
        width: channels of the last feature map (before the image convolution). Default 32.

    Shape:
        (N, latent_dim) -> (N, C, H, W), values in [-1, 1].

    Raises:
        TypeError / ValueError: non-integer or non-positive ``latent_dim`` or ``width``,
            unknown ``upsample``, malformed ``image_shape``, or an image size the stage
            plan cannot reach (the message lists the sizes that work).

    >>> g = Generator(latent_dim=8, image_shape=(1, 28, 28), width=4)
    >>> g(torch.randn(2, 8)).shape
    torch.Size([2, 1, 28, 28])
    >>> [(name, type(m).__name__, tuple(m.weight.shape)) for name, m in g.named_children() if name.startswith("up")]
    [('up1', 'ResizeConv2d', (8, 16, 3, 3)), ('up2', 'ResizeConv2d', (4, 8, 3, 3))]
    """

    def __init__(
        self,
        latent_dim: int = 100,
        image_shape: Sequence[int] = (1, 28, 28),
        upsample: str = "nearest",
        width: int = 32,
    ) -> None:
        super().__init__()
        self.latent_dim = check_int(latent_dim, "latent_dim")
        self.image_shape = _check_image_shape(image_shape)
        self.upsample = check_choice(upsample, "upsample", UPSAMPLE_METHODS)
        self.width = check_int(width, "width")
        channels, size = self.image_shape[0], self.image_shape[1]
        base, n_stages = plan_upsampling(size)
        start = width * 2**n_stages
        layers: dict[str, nn.Module] = {
            "project": nn.Linear(latent_dim, start * base * base),
            "reshape": nn.Unflatten(1, (start, base, base)),  # (N, start*base*base) -> (N, start, base, base)
            "norm0": nn.BatchNorm2d(start),
            "act0": nn.ReLU(),
        }
        for i in range(1, n_stages + 1):
            c_in, c_out = width * 2 ** (n_stages - i + 1), width * 2 ** (n_stages - i)
            layers[f"up{i}"] = upsampling_layer(upsample, c_in, c_out)
            layers[f"norm{i}"] = nn.BatchNorm2d(c_out)
            layers[f"act{i}"] = nn.ReLU()
        layers["to_image"] = nn.Conv2d(width, channels, 3, padding=1)
        layers["tanh"] = nn.Tanh()
        for name, layer in layers.items():
            self.add_module(name, layer)

    def config(self) -> dict:
        """The constructor arguments, enough to rebuild this architecture."""
        return {
            "latent_dim": self.latent_dim,
            "image_shape": list(self.image_shape),
            "upsample": self.upsample,
            "width": self.width,
        }

    def summary(self, print_fn: Callable[[str], object] | None = print) -> str:
        """Print and return the Keras-style table (layer, output shape, params) of this model."""
        from upgan.keras.summary import summarize

        return summarize(self, (self.latent_dim,), print_fn=print_fn)


class MinibatchStdDev(nn.Module):
    """Append one channel: the mean over features of each feature's std within a group of samples.

    A generator that collapses to few modes makes low-variance groups; this lets D see
    it (Karras et al. 2018, "Progressive Growing of GANs", section 3). Groups are
    *consecutive* samples, so a batch made of real images then fake ones never mixes
    the two in a group as long as each half is a multiple of the group size. The group
    size is the largest divisor of N that is at most ``group_size``.

    Args:
        group_size: samples per group. Default 4.

    Shape:
        (N, C, H, W) -> (N, C + 1, H, W).

    >>> x = torch.tensor([0.0, 2.0, 5.0, 9.0]).view(4, 1, 1, 1)
    >>> MinibatchStdDev(2)(x)[:, 1].flatten().tolist()  # groups (0, 2) and (5, 9)
    [1.0, 1.0, 2.0, 2.0]
    """

    def __init__(self, group_size: int = 4) -> None:
        super().__init__()
        self.group_size = check_int(group_size, "group_size")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = max(d for d in range(1, min(self.group_size, n) + 1) if n % d == 0)
        groups = x.reshape(n // g, g, c, h, w)  # (N, C, H, W) -> (N/g, g, C, H, W)
        std = groups.var(dim=1, unbiased=False).add(1e-8).sqrt().mean(dim=(1, 2, 3))  # (N/g,)
        feature = std.repeat_interleave(g).view(n, 1, 1, 1).expand(n, 1, h, w)  # (N/g,) -> (N, 1, H, W)
        return torch.cat([x, feature], dim=1)


class Discriminator(nn.Sequential):
    """DCGAN-style discriminator mirroring :class:`Generator`: stride-2 convolutions down to the base map.

    Each stage is a 4x4 stride-2 convolution (padding 1, halving the size) and
    LeakyReLU(0.2); the channels go ``width, 2*width, ...``. A hidden dense layer of ``hidden``
    units with LeakyReLU(0.2) (as in InfoGAN's MNIST discriminator; ``hidden=0`` leaves it out)
    and a linear layer give one logit. Without the hidden layer the logit is a sum of
    local patch scores, which judges strokes but not whole digits: on the bundled digits
    the generator then makes too few 4s and too many 9s and 7s; with it, every digit is 6-15%
    of the samples the digit classifier recognises, whatever the upsampling method.
    With ``spectral_norm`` every layer's weight is divided by its largest singular value
    (Miyato et al. 2018), which keeps the discriminator's gradients bounded. With
    ``minibatch_std`` a :class:`MinibatchStdDev` channel is added before the dense layers.

    Args:
        image_shape: (C, H, W) of the images, H == W. Default (1, 28, 28).
        width: channels of the first stage. Default 64.
        spectral_norm: wrap each layer in spectral normalisation. Default True.
        minibatch_std: add the minibatch standard-deviation channel. Default False.
        hidden: units of the hidden dense layer; 0 for none. Default 128.

    Shape:
        (N, C, H, W) -> (N,) logits.

    Raises:
        TypeError / ValueError: as :class:`Generator` for ``image_shape`` and ``width``.

    >>> d = Discriminator((1, 28, 28), width=4)
    >>> d(torch.zeros(3, 1, 28, 28)).shape
    torch.Size([3])
    """

    def __init__(
        self,
        image_shape: Sequence[int] = (1, 28, 28),
        width: int = 64,
        spectral_norm: bool = True,
        minibatch_std: bool = False,
        hidden: int = 128,
    ) -> None:
        super().__init__()
        self.image_shape = _check_image_shape(image_shape)
        self.width = check_int(width, "width")
        self.hidden = check_int(hidden, "hidden", minimum=0)
        for name, value in (("spectral_norm", spectral_norm), ("minibatch_std", minibatch_std)):
            if not isinstance(value, bool):
                raise TypeError(f"The `{name}` argument must be a bool. Received {name}={value!r}")
        self.spectral_norm = spectral_norm
        self.minibatch_std = minibatch_std
        wrap = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda m: m)
        base, n_stages = plan_upsampling(self.image_shape[1])
        c_in = self.image_shape[0]
        for i in range(1, n_stages + 1):
            c_out = width * 2 ** (i - 1)
            self.add_module(f"down{i}", wrap(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1)))
            self.add_module(f"act{i}", nn.LeakyReLU(0.2))
            c_in = c_out
        if minibatch_std:
            self.add_module("stddev", MinibatchStdDev())
            c_in += 1
        self.add_module("flatten", nn.Flatten())  # (N, c, base, base) -> (N, c*base*base)
        features = c_in * base * base
        if self.hidden:
            self.add_module("dense", wrap(nn.Linear(features, self.hidden)))
            self.add_module(f"act{n_stages + 1}", nn.LeakyReLU(0.2))
            features = self.hidden
        self.add_module("logit", wrap(nn.Linear(features, 1)))
        self.add_module("squeeze", nn.Flatten(0))  # (N, 1) -> (N,)

    def config(self) -> dict:
        """The constructor arguments, enough to rebuild this architecture."""
        return {
            "image_shape": list(self.image_shape),
            "width": self.width,
            "spectral_norm": self.spectral_norm,
            "minibatch_std": self.minibatch_std,
            "hidden": self.hidden,
        }

    def summary(self, print_fn: Callable[[str], object] | None = print) -> str:
        """Print and return the Keras-style table (layer, output shape, params) of this model."""
        from upgan.keras.summary import summarize

        return summarize(self, self.image_shape, print_fn=print_fn)
