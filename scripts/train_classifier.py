"""Train the digit classifier shipped as ``src/upgan/metrics/weights/mnist5k_classifier.safetensors``.

    .venv/bin/python scripts/train_classifier.py [--epochs 16] [--seed 0]

Data: the bundled ``mnist5k`` digits, split 4,500 train / 500 held out, stratified by class
(``upgan.metrics.classifier.stratified_split`` with seed 0, which the tests recompute).
Augmentation: thicker or thinner strokes (grey-level dilation / erosion) and a small random
affine per image (rotation up to 10 degrees, scale 0.9-1.1, shift up to 2 pixels), so that
off-centre, bold or thin generated digits are still recognised. Outlier exposure (Hendrycks et al. 2019, arXiv:1812.04606): each batch also
holds a quarter as many non-digits (uniform noise, smoothed noise, constant images, digits
with their pixels shuffled) trained towards the uniform distribution, so that noise from an
untrained or collapsed generator is not called a digit with confidence. CPU only, deterministic for a given seed and thread count. The held-out accuracy
is printed and should be copied into ``weights/README.md``.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from upgan.metrics.classifier import CLASSIFIERS, DigitClassifier, stratified_split

DATA = Path(__file__).resolve().parents[1] / "src" / "upgan" / "data" / "mnist5k.npz"


def random_affine(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Rotate / scale / shift each image of (N, 1, 28, 28) by a small random amount."""
    n = x.shape[0]
    angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(10)
    scale = 0.9 + torch.rand(n, generator=gen) * 0.2
    shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * (2 / 14)  # 2 px in [-1, 1] coordinates
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )  # (N, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # Background is -1: shift to [0, 2] so zero padding means background, then back.
    return F.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1


def stroke_width(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Thicken or thin the strokes of some images of (N, 1, 28, 28): grey-level dilation or
    erosion (max-pooling of x or -x with stride 1). Half stay as they are; a quarter are
    dilated (2x2 or 3x3), a fifth eroded (2x2)."""
    kind = torch.randint(0, 20, (x.shape[0], 1, 1, 1), generator=gen)
    dilate2 = F.max_pool2d(F.pad(x, (0, 1, 0, 1), value=-1.0), 2, stride=1)
    dilate3 = F.max_pool2d(x, 3, stride=1, padding=1)
    erode2 = -F.max_pool2d(F.pad(-x, (0, 1, 0, 1), value=1.0), 2, stride=1)
    out = torch.where(kind < 10, x, dilate2)
    out = torch.where((kind >= 13) & (kind < 16), dilate3, out)
    return torch.where(kind >= 16, erode2, out)


def non_digits(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Images in [-1, 1] that are not digits, as many as ``x`` (N, 1, 28, 28) holds."""
    n = x.shape[0]
    kind = torch.randint(0, 4, (n, 1, 1, 1), generator=gen)
    noise = torch.rand(x.shape, generator=gen) * 2 - 1
    coarse = torch.rand(n, 1, 7, 7, generator=gen) * 2 - 1
    smooth = F.interpolate(coarse, size=(28, 28), mode="bilinear", align_corners=False)
    constant = (torch.rand(n, 1, 1, 1, generator=gen) * 2 - 1).expand_as(x)
    flat = x.flatten(1)  # (N, 784)
    shuffled = flat[:, torch.randperm(flat.shape[1], generator=gen)].view_as(x)
    return torch.where(
        kind == 0, noise, torch.where(kind == 1, smooth, torch.where(kind == 2, constant, shuffled))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=CLASSIFIERS["mnist5k"])
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    data = np.load(DATA)
    images = torch.from_numpy(data["images"]).float().div(127.5).sub(1).unsqueeze(1)  # (N, 1, 28, 28)
    labels = torch.from_numpy(data["labels"].astype(np.int64))
    train_idx, held_idx = stratified_split(data["labels"], n_heldout=500, seed=0)
    x_train, y_train = images[train_idx], labels[train_idx]
    x_held, y_held = images[held_idx], labels[held_idx]

    net = DigitClassifier()
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    steps = args.epochs * math.ceil(len(x_train) / args.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps)
    gen = torch.Generator().manual_seed(args.seed)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(len(x_train), generator=gen)
        total = 0.0
        for batch in order.split(args.batch_size):
            x = random_affine(stroke_width(x_train[batch], gen), gen)
            outliers = non_digits(x[: len(batch) // 4], gen)
            logits = net(torch.cat([x, outliers]))
            # Digits: cross-entropy to the label; outliers: cross-entropy to the uniform
            # distribution, i.e. the mean negative log-probability over the 10 classes.
            loss = F.cross_entropy(logits[: len(batch)], y_train[batch])
            loss = loss - 0.5 * F.log_softmax(logits[len(batch) :], dim=1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(batch)
        net.eval()
        with torch.no_grad():
            acc = (net(x_held).argmax(1) == y_held).float().mean().item()
        print(f"epoch {epoch + 1:2d}  loss {total / len(x_train):.4f}  held-out acc {acc:.4f}")
    seconds = time.perf_counter() - start

    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(args.out))
    n_params = sum(p.numel() for p in net.parameters())
    print(
        f"wrote {args.out} ({args.out.stat().st_size:,} bytes, {n_params:,} parameters); "
        f"held-out accuracy {acc:.4f} on {len(x_held)} images; {seconds:.0f} s on "
        f"{torch.get_num_threads()} threads"
    )


if __name__ == "__main__":
    main()
