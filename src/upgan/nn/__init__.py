"""``torch.nn.Module`` wrappers of :mod:`upgan.functional`."""

from upgan.nn.upsample import Upsample2d

__all__ = [
    "Upsample2d",
]
