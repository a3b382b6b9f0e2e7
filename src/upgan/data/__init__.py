"""Training images: the bundled MNIST digits and loaders for MNIST, Fashion-MNIST, CIFAR-10 and folders."""

from upgan.data.dataset import DatasetError, ImageDataset, conform
from upgan.data.loaders import DATASETS, load_dataset

__all__ = ["load_dataset", "ImageDataset", "DatasetError", "DATASETS", "conform"]
