"""The shipped digit classifier and digit_quality."""

from pathlib import Path

import numpy as np
import pytest
import torch

from upgan.metrics.classifier import (
    DigitClassifier,
    digit_quality,
    digit_quality_draws,
    load_classifier,
    stratified_split,
)

# Tiny tensors: one torch thread avoids OpenMP waits on the shared 2-core machines.
pytestmark = pytest.mark.usefixtures("single_thread")

DATA = Path(__file__).resolve().parents[2] / "src" / "upgan" / "data" / "mnist5k.npz"


@pytest.fixture(scope="module")
def mnist5k():
    data = np.load(DATA)
    images = torch.from_numpy(data["images"]).float().div(127.5).sub(1).unsqueeze(1)
    return images, data["labels"].astype(np.int64)


@pytest.fixture(scope="module")
def net():
    return load_classifier("mnist5k")


def test_heldout_accuracy_at_least_97_percent(mnist5k, net):
    images, labels = mnist5k
    train_idx, held_idx = stratified_split(labels, n_heldout=500, seed=0)
    assert len(held_idx) == 500 and len(train_idx) == 4500
    assert np.bincount(labels[held_idx]).tolist() == [50] * 10
    with torch.no_grad():
        pred = net(images[held_idx]).argmax(1).numpy()
    accuracy = (pred == labels[held_idx]).mean()
    assert accuracy >= 0.97, accuracy


def test_loaded_in_eval_mode_without_grad(net):
    assert not net.training
    assert all(not p.requires_grad for p in net.parameters())
    assert net.num_features == 128
    x = torch.rand(3, 1, 28, 28) * 2 - 1
    assert net(x).shape == (3, 10)
    assert net.features(x).shape == (3, 128)
    # eval mode: dropout off, so forward is deterministic and equals head(relu(features))
    torch.testing.assert_close(net(x), net.head(torch.relu(net.features(x))))
    # features are taken before the ReLU: they stay informative for non-digits
    grey = torch.zeros(2, 1, 28, 28)
    assert (net.features(grey) < 0).any() and not torch.equal(net.features(grey), net.features(grey + 0.1))


def test_stratified_split_partitions_and_is_reproducible():
    labels = np.repeat(np.arange(4), [10, 20, 30, 40])
    train, held = stratified_split(labels, n_heldout=20, seed=3)
    assert np.bincount(labels[held]).tolist() == [2, 4, 6, 8]
    assert sorted(np.concatenate([train, held]).tolist()) == list(range(100))
    train2, held2 = stratified_split(labels, n_heldout=20, seed=3)
    assert np.array_equal(held, held2) and np.array_equal(train, train2)
    assert not np.array_equal(held, stratified_split(labels, n_heldout=20, seed=4)[1])


@pytest.mark.parametrize("n_heldout", [0, 100])
def test_stratified_split_rejects_bad_size(n_heldout):
    with pytest.raises(ValueError, match=rf"`n_heldout` .* \[1, 99\]\. Received n_heldout={n_heldout}"):
        stratified_split(np.zeros(100, dtype=int), n_heldout=n_heldout)


def test_load_classifier_missing_weights(monkeypatch, tmp_path):
    from upgan.metrics import classifier

    monkeypatch.setitem(classifier.CLASSIFIERS, "mnist5k", tmp_path / "gone.safetensors")
    with pytest.raises(FileNotFoundError, match=r"weights of classifier 'mnist5k' are missing: expected .*gone\.safetensors"):
        load_classifier("mnist5k")


def test_load_classifier_unknown_name():
    with pytest.raises(ValueError, match=r"`name` argument must be one of \['mnist5k'\]\. Received name='cifar'"):
        load_classifier("cifar")


class _FixedLogits(torch.nn.Module):
    """A stand-in classifier: image i (filled with the value i) gets the preset logits[i]."""

    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, x):
        return self.logits[x[:, 0, 0, 0].long()]


def _indexed(n):
    return torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 28, 28)


def _reference_quality(logits, threshold):
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    confident = probs.max(1) > threshold
    pred = probs.argmax(1)[confident]
    fractions = [float((pred == c).sum()) / max(confident.sum(), 1) for c in range(10)]
    return confident.mean(), fractions


@pytest.mark.parametrize("seed", range(4))
def test_digit_quality_matches_numpy_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    logits = rng.normal(0, 4, size=(n, 10))
    q = digit_quality(
        _indexed(n), classifier=_FixedLogits(torch.from_numpy(logits)), batch_size=7
    )
    conf, fractions = _reference_quality(logits, 0.9)
    assert q["n"] == n
    assert q["confident_fraction"] == pytest.approx(conf)
    assert q["class_fractions"] == pytest.approx(fractions)
    assert q["n_classes_present"] == sum(f >= 0.03 for f in fractions)
    assert q["max_class_fraction"] == pytest.approx(max(fractions))


def test_digit_quality_pass_and_fail_cases():
    # 100 samples: 70 confident, 7 per class -> passes.
    logits = torch.zeros(100, 10)
    for i in range(70):
        logits[i, i % 10] = 20.0
    q = digit_quality(_indexed(100), classifier=_FixedLogits(logits))
    assert q["confident_fraction"] == pytest.approx(0.7)
    assert q["class_fractions"] == pytest.approx([0.1] * 10)
    assert q["n_classes_present"] == 10 and q["passes"]
    # Same but every confident sample is a 3: mode collapse fails the bar.
    logits[:70] = 0.0
    logits[:70, 3] = 20.0
    q = digit_quality(_indexed(100), classifier=_FixedLogits(logits))
    assert q["class_fractions"][3] == 1.0 and q["n_classes_present"] == 1 and not q["passes"]
    # Nothing confident: fractions are all zero and it fails.
    q = digit_quality(_indexed(100), classifier=_FixedLogits(torch.zeros(100, 10)))
    assert q["confident_fraction"] == 0.0 and q["class_fractions"] == [0.0] * 10
    assert not q["passes"]


def test_digit_quality_draws_counts_each_draw():
    # Three draws of 100 (+ 40 left over): balanced (passes), one class only (fails), 55% confident (fails).
    logits = torch.zeros(340, 10)
    for i in range(70):
        logits[i, i % 10] = 20.0
    logits[100:170, 3] = 20.0
    for i in range(200, 255):
        logits[i, i % 10] = 20.0
    logits[300:, 0] = 20.0  # the leftover: not scored
    d = digit_quality_draws(_indexed(340), classifier=_FixedLogits(logits))
    assert d == {"draws": 3, "draw_size": 100, "passed": 1, "confident_min": 0.55, "confident_max": 0.7}
    per_draw = [digit_quality(_indexed(340)[i : i + 100], classifier=_FixedLogits(logits)) for i in (0, 100, 200)]
    assert [q["passes"] for q in per_draw] == [True, False, False]
    d = digit_quality_draws(_indexed(340), draw_size=170, classifier=_FixedLogits(logits))
    assert (d["draws"], d["draw_size"]) == (2, 170)


def test_digit_quality_draws_errors():
    with pytest.raises(ValueError, match=r"The `draw_size` argument must be a positive integer\. Received draw_size=0"):
        digit_quality_draws(_indexed(10), draw_size=0)
    with pytest.raises(ValueError, match=r"shape \(N, 1, 28, 28\) with N >= 100 .* Received images of shape \(99, 1, 28, 28\)"):
        digit_quality_draws(_indexed(99))
    with pytest.raises(ValueError, match=r"Received images of shape list"):
        digit_quality_draws([0.0] * 100)


def test_digit_quality_real_digits_pass(mnist5k, net):
    images, labels = mnist5k
    _, held_idx = stratified_split(labels, n_heldout=500, seed=0)
    q = digit_quality(images[held_idx], classifier=net)
    assert q["confident_fraction"] > 0.9
    assert q["passes"]
    # Pure noise is not a digit.
    noise = torch.rand(200, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    assert digit_quality(noise, classifier=net)["confident_fraction"] < 0.6


def test_bold_and_thin_digits_are_still_recognised(mnist5k, net):
    images, labels = mnist5k
    _, held_idx = stratified_split(labels, n_heldout=500, seed=0)
    x = images[held_idx]
    bold = torch.nn.functional.max_pool2d(x, 3, stride=1, padding=1)  # strokes ~2 px thicker
    thin = -torch.nn.functional.max_pool2d(torch.nn.functional.pad(-x, (0, 1, 0, 1), value=1.0), 2, stride=1)
    for variant in (bold, thin):
        q = digit_quality(variant, classifier=net)
        assert q["confident_fraction"] > 0.8 and q["passes"], q


@pytest.mark.parametrize(
    "images, pattern",
    [
        (torch.zeros(2, 3, 28, 28), r"shape \(N, 1, 28, 28\).*Received images of shape \(2, 3, 28, 28\)"),
        (torch.zeros(0, 1, 28, 28), r"Received images of shape \(0, 1, 28, 28\)"),
        (np.zeros((2, 1, 28, 28)), r"Received images of shape ndarray"),
        (torch.full((2, 1, 28, 28), float("nan")), r"The `images` must be finite\. Received 1568 NaN or infinite"),
    ],
)
def test_digit_quality_rejects_bad_images(images, pattern):
    with pytest.raises(ValueError, match=pattern):
        digit_quality(images)


@pytest.mark.parametrize("threshold", [-0.1, 1.0])
def test_digit_quality_rejects_bad_threshold(threshold):
    with pytest.raises(ValueError, match=rf"`threshold` argument must be in \[0, 1\)\. Received threshold={threshold}"):
        digit_quality(torch.zeros(1, 1, 28, 28), threshold=threshold)


def test_untrained_network_shapes():
    net = DigitClassifier(num_classes=3, num_features=8)
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 3)
    assert net.features(torch.zeros(2, 1, 28, 28)).shape == (2, 8)
