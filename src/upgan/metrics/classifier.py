"""A small MNIST digit classifier: the offline feature network for FID/KID and digit quality.

Its weights ship in the package (``weights/mnist5k_classifier.safetensors``) and are made by
``scripts/train_classifier.py`` from the bundled ``mnist5k`` digits; ``weights/README.md``
records the held-out accuracy and the command.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from upgan.functional._checks import check_finite

__all__ = [
    "DigitClassifier",
    "load_classifier",
    "digit_quality",
    "digit_quality_draws",
    "stratified_split",
    "CLASSIFIERS",
]

WEIGHTS_DIR = Path(__file__).parent / "weights"

# name -> weights file; every entry classifies 1x28x28 images in [-1, 1] into 10 classes.
CLASSIFIERS = {"mnist5k": WEIGHTS_DIR / "mnist5k_classifier.safetensors"}


class DigitClassifier(nn.Module):
    """A three-block CNN for 1x28x28 digits with a 128-d penultimate embedding.

    Blocks of 3x3 conv (padding 1) + ReLU + 2x2 max-pool take 28 -> 14 -> 7 -> 3; a dense
    layer gives the embedding, ReLU and a second dense layer the logits.

    Args:
        num_classes: number of output classes. Default 10.
        num_features: size of the embedding returned by :meth:`features`. Default 128.

    Shape:
        - Input: :math:`(N, 1, 28, 28)`, values in [-1, 1].
        - Output of ``forward``: :math:`(N, \\text{num_classes})` logits.
        - Output of ``features``: :math:`(N, \\text{num_features})`.

    Example:
        >>> net = DigitClassifier()
        >>> net(torch.zeros(2, 1, 28, 28)).shape, net.features(torch.zeros(2, 1, 28, 28)).shape
        (torch.Size([2, 10]), torch.Size([2, 128]))
    """

    def __init__(self, num_classes: int = 10, num_features: int = 128) -> None:
        super().__init__()
        self.num_classes = num_classes
        # torchmetrics' FID/KID read this instead of probing the network with a dummy input.
        self.num_features = num_features
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 28 -> 14
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 14 -> 7
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 7 -> 3
            nn.Flatten(),  # (N, 64*3*3)
            nn.Linear(64 * 3 * 3, num_features),
        )
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(num_features, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate embedding before its ReLU, shape (N, num_features).

        Taken before the ReLU so that it varies for every input: after it, images far from
        any digit (flat grey, noise) all map to the zero vector, and FID could not tell
        two such sets apart.
        """
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(torch.relu(self.body(x))))


def load_classifier(name: str = "mnist5k") -> DigitClassifier:
    """Load a shipped classifier in eval mode with gradients off.

    Args:
        name: which weights to load. Default ``"mnist5k"``; allowed: the keys of
            :data:`CLASSIFIERS`.

    Returns:
        A :class:`DigitClassifier` in eval mode whose parameters do not require grad.

    Raises:
        ValueError: if ``name`` is unknown.
        FileNotFoundError: if the weights file is missing from the installation.

    Example:
        >>> net = load_classifier("mnist5k")
        >>> net.training, net.num_features
        (False, 128)
    """
    if name not in CLASSIFIERS:
        raise ValueError(
            f"The `name` argument must be one of {sorted(CLASSIFIERS)}. Received name={name!r}"
        )
    path = CLASSIFIERS[name]
    if not path.is_file():
        raise FileNotFoundError(
            f"The weights of classifier {name!r} are missing: expected {path}. "
            "Reinstall upgan or run scripts/train_classifier.py."
        )
    from safetensors.torch import load_file

    net = DigitClassifier()
    net.load_state_dict(load_file(str(path)))
    net.eval()
    net.requires_grad_(False)
    return net


def stratified_split(
    labels: np.ndarray, n_heldout: int = 500, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into train / held-out sets with the same class balance.

    Each class gives ``round(n_heldout * class_count / len(labels))`` held-out samples,
    drawn with ``numpy.random.default_rng(seed)``.

    Args:
        labels: integer labels, shape (N,).
        n_heldout: total number of held-out samples. Default 500.
        seed: seed of the draw. Default 0.

    Returns:
        ``(train_idx, heldout_idx)``, sorted int64 index arrays that partition ``range(N)``.

    Raises:
        ValueError: if ``n_heldout`` is not in [1, N - 1].

    Example:
        >>> train, held = stratified_split(np.array([0, 0, 0, 0, 1, 1, 1, 1]), n_heldout=4)
        >>> len(train), len(held), np.bincount(np.array([0, 0, 0, 0, 1, 1, 1, 1])[held]).tolist()
        (4, 4, [2, 2])
    """
    labels = np.asarray(labels)
    if not 1 <= n_heldout < len(labels):
        raise ValueError(
            f"The `n_heldout` argument must be an integer in [1, {len(labels) - 1}]. "
            f"Received n_heldout={n_heldout}"
        )
    rng = np.random.default_rng(seed)
    held = []
    for cls in np.unique(labels):
        idx = np.flatnonzero(labels == cls)
        take = int(round(n_heldout * len(idx) / len(labels)))
        held.append(rng.choice(idx, size=take, replace=False))
    heldout = np.sort(np.concatenate(held)).astype(np.int64)
    train = np.setdiff1d(np.arange(len(labels)), heldout).astype(np.int64)
    return train, heldout


def _check_digit_images(images: object, minimum: int = 1) -> None:
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or tuple(images.shape[1:]) != (
        1,
        28,
        28,
    ) or images.shape[0] < minimum:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(
            f"The `images` argument must be a tensor of shape (N, 1, 28, 28) with N >= {minimum} "
            f"and values in [-1, 1]. Received images of shape {shape}"
        )
    # A NaN image would otherwise count as a sample the classifier is unsure of.
    check_finite(images, "The `images`")


@torch.no_grad()
def digit_quality(
    images: torch.Tensor,
    threshold: float = 0.9,
    *,
    classifier: nn.Module | None = None,
    batch_size: int = 500,
) -> dict:
    """How many generated images the digit classifier recognises, and how evenly by class.

    The bar of the training issue: at least 60% of samples called a digit with confidence
    above ``threshold``, every class at least 3% of those, none above 20%.

    Args:
        images: generated digits in [-1, 1], shape (N, 1, 28, 28).
        threshold: a sample is *confident* when its maximum softmax probability is strictly
            greater than this. Default 0.9; must be in [0, 1).
        classifier: the network to use. Default ``load_classifier("mnist5k")``.
        batch_size: images per forward pass. Default 500.

    Returns:
        A dict with

        - ``confident_fraction``: confident samples / all N samples;
        - ``class_fractions``: list of 10 floats, the share of the *confident* samples
          predicted as each class (all zeros when none is confident);
        - ``n_classes_present``: classes whose share is at least 0.03;
        - ``max_class_fraction``: the largest share;
        - ``passes``: ``confident_fraction >= 0.6`` and all ten shares in [0.03, 0.20];
        - ``n``: N.

    Raises:
        ValueError: if ``images`` is not (N, 1, 28, 28) with N >= 1, or ``threshold`` is out
            of range.

    Example:
        >>> q = digit_quality(torch.full((4, 1, 28, 28), -1.0))
        >>> sorted(q), len(q["class_fractions"])
        (['class_fractions', 'confident_fraction', 'max_class_fraction', 'n', 'n_classes_present', 'passes'], 10)
    """
    _check_digit_images(images)
    if not 0.0 <= threshold < 1.0:
        raise ValueError(
            f"The `threshold` argument must be in [0, 1). Received threshold={threshold}"
        )
    net = classifier if classifier is not None else load_classifier("mnist5k")
    probs = torch.cat(
        [
            torch.softmax(net(chunk.float()), dim=1)
            for chunk in images.split(batch_size)
        ]
    )
    conf, pred = probs.max(dim=1)
    confident = conf > threshold
    n_conf = int(confident.sum())
    counts = torch.bincount(pred[confident], minlength=10).double()
    fractions = (counts / n_conf).tolist() if n_conf else [0.0] * 10
    confident_fraction = n_conf / images.shape[0]
    max_fraction = max(fractions)
    return {
        "n": int(images.shape[0]),
        "confident_fraction": confident_fraction,
        "class_fractions": fractions,
        "n_classes_present": sum(f >= 0.03 for f in fractions),
        "max_class_fraction": max_fraction,
        "passes": bool(
            confident_fraction >= 0.6 and min(fractions) >= 0.03 and max_fraction <= 0.20
        ),
    }


@torch.no_grad()
def digit_quality_draws(
    images: torch.Tensor,
    draw_size: int = 100,
    threshold: float = 0.9,
    *,
    classifier: nn.Module | None = None,
) -> dict:
    """How often :func:`digit_quality`'s bar is met by separate draws of ``draw_size`` images.

    The bar is stated for 100 samples, where the class shares are noisy (about 70 confident
    samples over ten classes): one draw passing or failing says little. This splits the N
    images into ``N // draw_size`` consecutive draws (the rest is left out) and scores each.

    Args:
        images: generated digits in [-1, 1], shape (N, 1, 28, 28) with N >= ``draw_size``.
        draw_size: images per draw. Default 100.
        threshold, classifier: as in :func:`digit_quality`.

    Returns:
        A dict with ``draws`` (how many), ``draw_size``, ``passed`` (how many met the bar) and
        ``confident_min`` / ``confident_max`` (the range of the draws' confident fractions).

    Raises:
        ValueError: ``draw_size`` is not a positive integer, or ``images`` is not
            (N, 1, 28, 28) with N >= ``draw_size``.

    >>> d = digit_quality_draws(torch.full((250, 1, 28, 28), -1.0))
    >>> d["draws"], d["draw_size"], d["passed"]
    (2, 100, 0)
    """
    if isinstance(draw_size, bool) or not isinstance(draw_size, int) or draw_size < 1:
        raise ValueError(f"The `draw_size` argument must be a positive integer. Received draw_size={draw_size!r}")
    _check_digit_images(images, minimum=draw_size)
    n = images.shape[0]
    net = classifier if classifier is not None else load_classifier("mnist5k")
    scores = [
        digit_quality(images[i : i + draw_size], threshold, classifier=net)
        for i in range(0, n - draw_size + 1, draw_size)
    ]
    confident = [q["confident_fraction"] for q in scores]
    return {
        "draws": len(scores),
        "draw_size": draw_size,
        "passed": sum(q["passes"] for q in scores),
        "confident_min": min(confident),
        "confident_max": max(confident),
    }
