"""upgan: upsampling layers for GAN generators.

Subpackages (imported on first use, so ``import upgan`` stays light):

- :mod:`upgan.shapes`      output-size arithmetic for conv / transposed conv (Keras and PyTorch rules)
- :mod:`upgan.functional`  pure tensor functions: upsample, conv_transpose2d, resize_conv2d, ...
- :mod:`upgan.nn`          thin ``torch.nn.Module`` wrappers of those functions
- :mod:`upgan.keras`       a Keras-style ``Sequential`` API over the same layers
- :mod:`upgan.gan`         generators, discriminators and the training loop
- :mod:`upgan.metrics`     FID/KID, precision/recall, spectral and checkerboard scores
- :mod:`upgan.data`        bundled MNIST subset and dataset loaders
"""

import importlib

__version__ = "0.1.0"

__all__ = ["shapes", "functional", "nn", "keras", "gan", "metrics", "data", "__version__"]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"upgan.{name}")
    raise AttributeError(f"module 'upgan' has no attribute {name!r}")
