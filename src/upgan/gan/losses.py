"""GAN losses on raw discriminator outputs (logits / scores)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = ["discriminator_loss", "generator_loss", "gradient_penalty", "d_output"]


def discriminator_loss(loss: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The discriminator's loss for one batch.

    - ``bce``: -log sigmoid(D(x)) - log(1 - sigmoid(D(G(z)))) (Goodfellow et al. 2014).
    - ``hinge``: relu(1 - D(x)) + relu(1 + D(G(z))) (Lim & Ye 2017; Miyato et al. 2018).
    - ``wgan-gp``: D(G(z)) - D(x); the gradient penalty is added by the caller
      (Gulrajani et al. 2017).

    Args:
        loss: ``"bce"``, ``"hinge"`` or ``"wgan-gp"``.
        real, fake: discriminator outputs on real and generated images.

    Shape:
        real (N,), fake (M,) -> scalar (means over each batch, summed).

    >>> r, f = torch.tensor([2.0, 0.5]), torch.tensor([-1.0, 0.0])  # hinge: (0 + 0.5)/2 + (0 + 1)/2
    >>> [round(discriminator_loss(n, r, f).item(), 4) for n in ("bce", "hinge", "wgan-gp")]
    [0.8037, 0.75, -1.75]
    """
    if loss == "bce":
        return F.softplus(-real).mean() + F.softplus(fake).mean()
    if loss == "hinge":
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    return fake.mean() - real.mean()


def generator_loss(loss: str, fake: torch.Tensor) -> torch.Tensor:
    """The generator's loss: non-saturating -log sigmoid(D(G(z))) for ``bce``, -D(G(z)) otherwise.

    Shape:
        fake (N,) -> scalar.

    >>> [round(generator_loss(n, torch.tensor([0.0, 2.0])).item(), 4) for n in ("bce", "hinge")]
    [0.41, -1.0]
    """
    if loss == "bce":
        return F.softplus(-fake).mean()
    return -fake.mean()


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], interpolates: torch.Tensor) -> torch.Tensor:
    """WGAN-GP penalty E[(||grad_x D(x)||_2 - 1)^2] at points between real and fake images.

    ``interpolates`` must require grad; the penalty keeps the graph so it can be backpropagated.

    Shape:
        interpolates (N, C, H, W) -> scalar.

    >>> x = torch.ones(2, 1, 2, 2, requires_grad=True)
    >>> gradient_penalty(lambda t: 3 * t.flatten(1).sum(1), x).item()  # ||grad|| = 3 * 2 = 6
    25.0
    """
    scores = critic(interpolates)
    (grad,) = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


def d_output(loss: str, logits: torch.Tensor) -> float:
    """Mean discriminator output for logging: a probability for ``bce``, the raw score otherwise.

    >>> d_output("bce", torch.zeros(4)), d_output("hinge", torch.ones(4))
    (0.5, 1.0)
    """
    values = torch.sigmoid(logits) if loss == "bce" else logits
    return values.float().mean().item()
