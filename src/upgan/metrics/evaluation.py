"""All scores of a generated image set against real data, each beside a real-vs-real baseline.

The real images are shuffled (seeded) and split into two disjoint halves A and B of ``n``
images each, ``n`` being the number of generated images. Every score is computed twice:
generated vs A, and B vs A (the *baseline*: what a perfect generator would score with the
same ``n``, feature network and seed, since FID and KID are biased at small ``n``).

Scores (one feature network for all feature-space scores, see
:mod:`upgan.metrics.features`): ``fid``, ``kid`` (mean over subsets) and ``kid_std``,
``precision``/``recall`` (k=3), ``density``/``coverage`` (k=5), and from the pixels
``checkerboard`` (period 2) and ``spectral_distance``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from upgan.metrics.features import extract_features, feature_network
from upgan.metrics.fid import fid, kid
from upgan.metrics.prdc import density_coverage, precision_recall
from upgan.metrics.spectrum import checkerboard_score, spectral_distance

__all__ = [
    "SCORES",
    "evaluate_images",
    "evaluate_run",
    "sample_images",
    "reference_split",
    "format_table",
    "RunEvaluation",
]

K_PR, K_DC = 3, 5
# Datasets of handwritten digits: the shipped digit classifier's features and its bar apply to them.
DIGIT_DATASETS = ("mnist5k", "mnist")
KID_SUBSET_SIZE = 1000  # torchmetrics' default; lowered to n when n is smaller

# name -> (label, which direction is better)
SCORES = {
    "fid": ("FID", "lower"),
    "kid": ("KID", "lower"),
    "precision": ("precision (k=3)", "higher"),
    "recall": ("recall (k=3)", "higher"),
    "density": ("density (k=5)", "~1"),
    "coverage": ("coverage (k=5)", "higher"),
    "checkerboard": ("checkerboard (x2)", "~1"),
    "spectral_distance": ("spectral distance", "lower"),
}


def _to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] or float [-1, 1] images as float32 in [-1, 1]."""
    if images.dtype == torch.uint8:
        return images.float().div(127.5).sub(1)
    return images.float()


def _kid_subsets(n: int) -> tuple[int, int]:
    """(subset_size, subsets) for KID on n samples: 100 subsets of 1000, or one of all n.

    A subset of all n samples is the whole set in another order, so every draw gives the
    same value: one is enough, and its standard deviation is 0.
    """
    return (KID_SUBSET_SIZE, 100) if n > KID_SUBSET_SIZE else (n, 1)


def reference_split(real: torch.Tensor, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Halves A (the reference every score compares against) and B (the baseline's stand-in
    for a generator) of a seeded shuffle of ``real``, n images each, float in [-1, 1].

    Example:
        >>> a, b = reference_split(torch.zeros(10, 1, 2, 2, dtype=torch.uint8), 4)
        >>> a.shape, float(a[0, 0, 0, 0])
        (torch.Size([4, 1, 2, 2]), -1.0)
    """
    order = torch.randperm(real.shape[0], generator=torch.Generator().manual_seed(seed))
    return _to_float(real[order[:n]]), _to_float(real[order[n : 2 * n]])


def _scores(feat_ref, feat_other, img_ref, img_other, seed) -> dict:
    precision, recall = precision_recall(feat_ref, feat_other, k=K_PR)
    density, coverage = density_coverage(feat_ref, feat_other, k=K_DC)
    subset_size, subsets = _kid_subsets(len(feat_ref))
    kid_mean, kid_std = kid(feat_ref, feat_other, subset_size=subset_size, subsets=subsets, seed=seed)
    return {
        "fid": fid(feat_ref, feat_other),
        "kid": kid_mean,
        "kid_std": kid_std,
        "precision": precision,
        "recall": recall,
        "density": density,
        "coverage": coverage,
        "checkerboard": checkerboard_score(img_other, img_ref, period=2),
        "spectral_distance": spectral_distance(img_other, img_ref),
    }


def evaluate_images(
    fake: torch.Tensor,
    real: torch.Tensor,
    *,
    features: str = "auto",
    batch_size: int = 500,
    seed: int = 0,
    baseline: bool = True,
) -> dict:
    """Score generated images against real ones, with the real-vs-real baseline.

    Args:
        fake: n generated images (n, C, H, W) in [-1, 1].
        real: at least 2n real images (N, C, H, W), uint8 [0, 255] or float [-1, 1].
        features: feature network, ``"auto"`` (default), ``"classifier"``, ``"random"`` or
            ``"inception"`` (see :func:`upgan.metrics.features.feature_network`).
        batch_size: images per forward pass of the feature network. Default 500.
        seed: seed of the real-data shuffle and the KID subsets. Default 0.
        baseline: also score real half B against A. Default True; a caller scoring several
            generators with the same n, features and seed needs it once.

    Returns:
        ``{"n", "features", "image_shape", "kid_subset_size", "kid_subsets", "generated":
        {...}, "baseline": {...}}`` where both inner dicts hold the :data:`SCORES` plus
        ``kid_std`` (``"baseline"`` only with ``baseline=True``). KID averages 100 random
        subsets of 1000 when n > 1000, else uses one subset of all n.

    Shape:
        fake (n, C, H, W), real (N, C, H, W) with N >= 2n and n > 5.

    Raises:
        ValueError: mismatched image shapes, an odd height or width, n <= 5 (precision/recall need more than k=3
            samples, density/coverage more than k=5), N < 2n, or an unknown ``features``.
        FeatureNetworkUnavailable: ``features="inception"`` without torch-fidelity.

    Example:
        >>> real = torch.randint(0, 256, (40, 1, 8, 8), dtype=torch.uint8)
        >>> fake = torch.rand(20, 1, 8, 8) * 2 - 1
        >>> r = evaluate_images(fake, real, features="random")
        >>> r["n"], r["features"], r["kid_subset_size"], sorted(r["generated"]) == sorted(r["baseline"])
        (20, 'random', 20, True)
    """
    for name, x in (("fake", fake), ("real", real)):
        if not isinstance(x, torch.Tensor) or x.dim() != 4:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"The `{name}` argument must be a 4-D tensor of images (N, C, H, W). Received shape {shape}")
    if fake.shape[1:] != real.shape[1:]:
        raise ValueError(
            "The generated and real images must have the same shape (C, H, W). "
            f"Received generated {tuple(fake.shape[1:])} and real {tuple(real.shape[1:])}"
        )
    if fake.shape[2] % 2 or fake.shape[3] % 2:
        raise ValueError(
            "The images must have an even height and width: the checkerboard score measures the "
            f"period-2 pattern of a x2 upsampling. Received images of shape {tuple(fake.shape[1:])}"
        )
    n = fake.shape[0]
    if n <= K_DC:
        raise ValueError(
            f"Too few generated images: n={n}. Precision/recall need more than k={K_PR} and "
            f"density/coverage more than k={K_DC} samples; use n >= {K_DC + 1} (hundreds for stable scores)."
        )
    if real.shape[0] < 2 * n:
        raise ValueError(
            f"The baseline needs two disjoint halves of n={n} real images, i.e. {2 * n}; "
            f"the dataset has {real.shape[0]}. Use n <= {real.shape[0] // 2}."
        )
    net, label = feature_network(features, tuple(fake.shape[1:]))
    ref, other = reference_split(real, n, seed)
    fake = _to_float(fake)
    f_ref, f_fake = extract_features(net, ref, batch_size), extract_features(net, fake, batch_size)
    subset_size, subsets = _kid_subsets(n)
    result = {
        "n": n,
        "features": label,
        "image_shape": list(fake.shape[1:]),
        "kid_subset_size": subset_size,
        "kid_subsets": subsets,
        "generated": _scores(f_ref, f_fake, ref, fake, seed),
    }
    if baseline:
        result["baseline"] = _scores(f_ref, extract_features(net, other, batch_size), ref, other, seed)
    return result


@torch.no_grad()
def sample_images(generator: torch.nn.Module, n: int, seed: int = 0, batch_size: int = 500) -> torch.Tensor:
    """Draw ``n`` images from a generator with ``latent_dim``, from seeded standard normal z.

    Args:
        generator: a module with a ``latent_dim`` attribute mapping (B, latent_dim) to images.
        n: number of images (>= 1).
        seed: noise seed. Default 0.
        batch_size: images per forward pass. Default 500.

    Returns:
        (n, C, H, W) float images, on the CPU.

    Raises:
        RuntimeError: from the generator, if ``latent_dim`` does not fit it.

    Example:
        >>> from upgan.gan import Generator
        >>> sample_images(Generator(latent_dim=8, width=4).eval(), 3).shape
        torch.Size([3, 1, 28, 28])
    """
    z = torch.randn(n, generator.latent_dim, generator=torch.Generator().manual_seed(seed))
    device = next(generator.parameters()).device
    return torch.cat([generator(chunk.to(device)).float().cpu() for chunk in z.split(batch_size)])


@dataclass
class RunEvaluation:
    """What :func:`evaluate_run` measured: the scores, the images they came from, the
    generator and the run's training config."""

    metrics: dict
    fake: torch.Tensor
    real: torch.Tensor
    generator: torch.nn.Module
    config: dict


def evaluate_run(
    run_dir: str | Path,
    *,
    n: int = 5000,
    features: str = "auto",
    batch_size: int = 500,
    seed: int = 0,
    baseline: bool = True,
) -> RunEvaluation:
    """Evaluate the generator of a training run against the data it was trained on.

    ``n`` is capped at half the dataset (the baseline needs two disjoint halves); the
    metrics say so under ``"n_requested"``. ``features="auto"`` means the shipped digit
    classifier for the digit datasets (:data:`DIGIT_DATASETS`) and the random features for
    any other (Fashion-MNIST's clothes too, though they are 1x28x28). For the digit datasets
    the classifier's
    :func:`~upgan.metrics.classifier.digit_quality` is added under ``"digit_quality"``, and
    the same bar on separate draws of 100 (:func:`~upgan.metrics.classifier.digit_quality_draws`)
    under ``"digit_quality_draws"`` when ``n >= 100``.

    Args:
        run_dir: a folder written by ``upgan train``.
        n: generated images (>= 6). Default 5000.
        features, batch_size, seed, baseline: as in :func:`evaluate_images`.

    Returns:
        A :class:`RunEvaluation`.

    Raises:
        upgan.gan.CheckpointError: no readable generator in ``run_dir``.
        upgan.data.DatasetError: the run's dataset cannot be loaded.
        ValueError: as :func:`evaluate_images`, or a dataset of fewer than 12 images.
    """
    from upgan.data import load_dataset
    from upgan.gan import load_generator

    generator, config = load_generator(run_dir)
    channels, size, _ = generator.image_shape
    data = load_dataset(
        config.get("dataset", "mnist5k"),
        image_size=size,
        channels=channels,
        data_dir=config.get("data_dir", "data"),
        download=False,
    )
    n_used = min(n, len(data.images) // 2)
    if n_used <= K_DC < n:  # capped below what the scores need: the dataset is the cause, not n
        raise ValueError(
            f"The dataset {data.name} has {len(data.images)} images: too few to evaluate. The baseline needs two "
            f"disjoint halves of n real images and the scores need n >= {K_DC + 1}, i.e. at least "
            f"{2 * (K_DC + 1)} images (hundreds for stable scores)."
        )
    digits = data.name in DIGIT_DATASETS and tuple(generator.image_shape) == (1, 28, 28)
    if features == "auto" and not digits:  # the shipped classifier knows digits, not clothes or folders
        features = "random"
    fake = sample_images(generator, n_used, seed=seed, batch_size=batch_size)
    metrics = evaluate_images(
        fake, data.images, features=features, batch_size=batch_size, seed=seed, baseline=baseline
    )
    metrics = {"run_dir": str(run_dir), "dataset": data.name, "n_requested": n, **metrics}
    if digits:
        from upgan.metrics.classifier import digit_quality, digit_quality_draws, load_classifier

        net = load_classifier("mnist5k")
        metrics["digit_quality"] = digit_quality(fake.clamp(-1, 1), classifier=net)
        if len(fake) >= 100:
            metrics["digit_quality_draws"] = digit_quality_draws(fake.clamp(-1, 1), classifier=net)
    return RunEvaluation(metrics=metrics, fake=fake, real=data.images, generator=generator, config=config)


def _fmt(value: float) -> str:
    if value != value or abs(value) == float("inf"):
        return str(value)
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"


def format_table(metrics: dict) -> str:
    """The scores of :func:`evaluate_images` as a text table, baseline beside each.

    Args:
        metrics: a dict with ``"generated"`` and, unless :func:`evaluate_images` ran with
            ``baseline=False``, ``"baseline"``, each holding the :data:`SCORES`.

    Returns:
        One line per score: label, generated value, real-vs-real value, which way is better.

    Example:
        >>> row = dict.fromkeys(SCORES, 0.5) | {"kid_std": 0.1}
        >>> print(format_table({"n": 10, "features": "random", "generated": row, "baseline": row}).splitlines()[2])
        FID                 0.5        0.5           lower
    """
    lines = [
        f"{'metric':<18}  {'generated':<9}  {'real vs real':<12}  better",
        f"{'-' * 18}  {'-' * 9}  {'-' * 12}  ------",
    ]
    for key, (label, better) in SCORES.items():
        gen = metrics["generated"][key]
        base = _fmt(metrics["baseline"][key]) if "baseline" in metrics else "-"
        lines.append(f"{label:<18}  {_fmt(gen):<9}  {base:<12}  {better}")
    return "\n".join(lines)
