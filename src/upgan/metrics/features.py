"""Feature networks for FID, KID, precision/recall and density/coverage.

Three choices, picked by name (``--features`` on the command line):

- ``"classifier"``: the penultimate 128-d embedding of the shipped mnist5k digit classifier
  (:func:`upgan.metrics.classifier.load_classifier`). Only for 1x28x28 images.
- ``"random"``: a fixed, randomly initialised conv net (seed 0) for any image shape: 4 blocks
  of 3x3 conv + LeakyReLU(0.2), the last three with stride 2, then the per-channel mean and
  standard deviation over space, 256-d in all. Random embeddings are a known, if weaker,
  stand-in for trained ones (Naeem et al. 2020, section 5): scores rank models on one
  dataset but are comparable with nothing published. It is what ``"auto"`` picks for
  images that are not 1x28x28.
- ``"inception"``: InceptionV3 pool features (2048-d) through torchmetrics, which needs the
  ``torch-fidelity`` package and its weights (downloaded on first use into the torch hub
  cache). Nothing is installed or downloaded for you beyond what torch-fidelity does itself.

Here ``"auto"`` is ``"classifier"`` for 1x28x28 images and ``"random"`` otherwise, by shape
alone; :func:`upgan.metrics.evaluation.evaluate_run` (``upgan evaluate`` / ``compare``) knows
the dataset and takes ``"random"`` for 1x28x28 images that are not digits (Fashion-MNIST, folders).
Every network takes images in [-1, 1], returns (N, d) and has a ``num_features`` attribute.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "FEATURES",
    "FeatureNetworkUnavailable",
    "RandomConvFeatures",
    "feature_network",
    "extract_features",
]

FEATURES = ("auto", "classifier", "random", "inception")


class FeatureNetworkUnavailable(RuntimeError):
    """The requested feature network needs a package or weights that are not installed."""


class RandomConvFeatures(nn.Module):
    """A fixed random conv net: a generic embedding for images of any shape.

    Args:
        in_channels: image channels (>= 1).
        seed: seed of the weight draw. Default 0.

    Shape:
        - Input: :math:`(N, C, H, W)` with H, W >= 1, values in [-1, 1].
        - Output: :math:`(N, 256)`: the mean and standard deviation over space of each of the
          last block's 128 channels.

    Example:
        >>> net = RandomConvFeatures(3)
        >>> net(torch.zeros(2, 3, 32, 32)).shape, net.num_features
        (torch.Size([2, 256]), 256)
    """

    def __init__(self, in_channels: int, seed: int = 0) -> None:
        super().__init__()
        self.num_features = 256
        gen = torch.Generator().manual_seed(seed)
        widths = (in_channels, 32, 64, 128, 128)
        layers = []
        for i, (cin, cout) in enumerate(zip(widths[:-1], widths[1:])):
            conv = nn.Conv2d(cin, cout, 3, stride=1 if i == 0 else 2, padding=1)
            with torch.no_grad():
                # He-normal for LeakyReLU(0.2): std = sqrt(2 / ((1 + 0.2^2) * fan_in)).
                std = (2.0 / (1.04 * cin * 9)) ** 0.5
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) * std)
                conv.bias.zero_()
            layers += [conv, nn.LeakyReLU(0.2)]
        self.body = nn.Sequential(*layers)
        self.eval()
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.body(x).flatten(2)  # (N, 128, H' * W')
        return torch.cat([h.mean(dim=2), h.std(dim=2, unbiased=False)], dim=1)  # (N, 256)


class _InceptionFeatures(nn.Module):
    """InceptionV3 pool features for images in [-1, 1] with 1 or 3 channels."""

    def __init__(self, inception: nn.Module) -> None:
        super().__init__()
        self.inception = inception
        self.num_features = 2048

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)  # grey -> RGB
        # torch-fidelity's InceptionV3 takes uint8 RGB and resizes to 299x299 itself.
        images = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return self.inception(images).reshape(x.shape[0], -1)  # (N, 2048)


def _inception() -> nn.Module:
    import importlib.util

    if importlib.util.find_spec("torch_fidelity") is None:
        raise FeatureNetworkUnavailable(
            "Inception features need the `torch-fidelity` package and its InceptionV3 weights, "
            "and it is not installed. Install it with `pip install torch-fidelity` on a machine "
            "with network access and run once to cache the weights, or use --features classifier|random."
        )
    from torchmetrics.image.fid import NoTrainInceptionV3

    try:
        net = NoTrainInceptionV3(name="inception-v3-compat", features_list=["2048"])
    except (OSError, RuntimeError, ValueError) as err:
        raise FeatureNetworkUnavailable(
            f"The InceptionV3 weights could not be loaded ({err}). They are downloaded by "
            "torch-fidelity on first use and need network access once."
        ) from None
    return _InceptionFeatures(net).eval()


def feature_network(name: str, image_shape: tuple[int, int, int]) -> tuple[nn.Module, str]:
    """The feature network called ``name`` for images of shape ``image_shape``.

    Args:
        name: ``"auto"``, ``"classifier"``, ``"random"`` or ``"inception"`` (see the module
            docstring).
        image_shape: (C, H, W) of the images.

    Returns:
        ``(network, label)``: the network in eval mode and the name it resolved to.

    Raises:
        ValueError: unknown ``name``, or ``"classifier"`` for images that are not 1x28x28.
        FeatureNetworkUnavailable: ``"inception"`` without torch-fidelity or its weights.

    Example:
        >>> feature_network("auto", (1, 28, 28))[1], feature_network("auto", (3, 32, 32))[1]
        ('classifier', 'random')
    """
    if name not in FEATURES:
        raise ValueError(f"The `features` argument must be one of {list(FEATURES)}. Received features={name!r}")
    image_shape = tuple(image_shape)
    if name == "auto":
        name = "classifier" if image_shape == (1, 28, 28) else "random"
    if name == "classifier":
        if image_shape != (1, 28, 28):
            raise ValueError(
                "The `features='classifier'` network is the mnist5k digit classifier and takes "
                f"1x28x28 images only. Received images of shape {image_shape}; use "
                "features='random' or 'inception'."
            )
        from upgan.metrics.classifier import load_classifier

        classifier = load_classifier("mnist5k")
        return _ClassifierFeatures(classifier), name
    if name == "random":
        return RandomConvFeatures(image_shape[0]), name
    return _inception(), name


class _ClassifierFeatures(nn.Module):
    """The classifier's ``features`` as ``forward``, for torchmetrics and extract_features."""

    def __init__(self, classifier: nn.Module) -> None:
        super().__init__()
        self.classifier = classifier
        self.num_features = classifier.num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier.features(x)


@torch.no_grad()
def extract_features(network: nn.Module, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Run ``network`` over ``images`` in batches, in eval mode.

    Args:
        network: a module mapping (B, C, H, W) images in [-1, 1] to (B, d).
        images: float images in [-1, 1], or uint8 images in [0, 255] (scaled to [-1, 1]).
        batch_size: images per forward pass (>= 1). Default 500.

    Returns:
        (N, d) float64 features.

    Shape:
        (N, C, H, W) -> (N, d).

    Raises:
        ValueError: ``images`` is not 4-D or ``batch_size`` < 1.

    Example:
        >>> extract_features(RandomConvFeatures(1), torch.zeros(3, 1, 8, 8)).shape
        torch.Size([3, 256])
    """
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"The `images` argument must be a 4-D tensor (N, C, H, W). Received images of shape {shape}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"The `batch_size` argument must be an integer >= 1. Received batch_size={batch_size!r}")
    network.eval()
    out = []
    for chunk in images.split(batch_size):
        if chunk.dtype == torch.uint8:
            chunk = chunk.float().div(127.5).sub(1)
        out.append(network(chunk.float()).double())
    return torch.cat(out)
