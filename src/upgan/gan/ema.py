"""Exponential moving average of generator weights, used for samples (Karras et al. 2018; Yazici et al. 2019)."""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["make_ema", "update_ema", "ema_decay"]


def make_ema(model: nn.Module) -> nn.Module:
    """A frozen copy of ``model`` in eval mode, to be updated by :func:`update_ema`."""
    ema = copy.deepcopy(model).eval()
    ema.requires_grad_(False)
    return ema


def ema_decay(decay: float, step: int) -> float:
    """The decay used after ``step`` updates: ``min(decay, (1 + step) / (10 + step))``.

    Early on the average would be dominated by the random initial weights; the warm-up
    (as in TensorFlow's ``ExponentialMovingAverage(num_updates=...)``) lets it follow
    the model closely at first.

    >>> ema_decay(0.999, 0), round(ema_decay(0.999, 90), 3), ema_decay(0.999, 10**6)
    (0.1, 0.91, 0.999)
    """
    return min(decay, (1 + step) / (10 + step))


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """``ema = decay * ema + (1 - decay) * model`` for parameters; buffers (BatchNorm statistics) are copied.

    >>> m = nn.Linear(1, 1, bias=False); e = make_ema(m)
    >>> _ = m.weight.data.fill_(1.0); _ = e.weight.data.fill_(0.0)
    >>> update_ema(e, m, 0.75); e.weight.item()
    0.25
    """
    for e, p in zip(ema.parameters(), model.parameters()):
        e.lerp_(p.detach(), 1.0 - decay)
    for e, b in zip(ema.buffers(), model.buffers()):
        e.copy_(b)
