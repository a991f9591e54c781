"""The objectives: pure functions of critic scores, and the gradient penalty.

Scores are raw critic outputs of shape (B,) or (B, 1). Every loss is what its
optimizer minimises. References: Arjovsky et al. 2017 (WGAN), Gulrajani et al.
2017 (WGAN-GP, Algorithm 1), Goodfellow et al. 2014 (non-saturating GAN).
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

# Added under the square root of the gradient norm so that an exactly-zero
# gradient gives a finite penalty *and* a finite double-backward (d sqrt(s)/ds
# is infinite at s = 0). Its bias on a norm near 1 is below 1e-12.
NORM_EPS = 1e-24


def wasserstein_critic_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """Critic loss of WGAN."""
    return fake_scores.mean() - real_scores.mean()  # E[f(G(z))] - E[f(x)]


def wasserstein_generator_loss(fake_scores: Tensor) -> Tensor:
    """Generator loss of WGAN."""
    return -fake_scores.mean()  # -E[f(G(z))]


def bce_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Standard GAN discriminator loss (binary cross-entropy on logits)."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()  # -E[log D(x)] - E[log(1 - D(G(z)))]


def bce_generator_loss(fake_logits: Tensor) -> Tensor:
    """Non-saturating generator loss of the standard GAN."""
    return F.softplus(-fake_logits).mean()  # -E[log D(G(z))]


def interpolate(real: Tensor, fake: Tensor, alpha: Optional[Tensor] = None) -> Tensor:
    """Points on the lines between real and fake samples, one alpha ~ U[0, 1] per sample."""
    if alpha is None:
        alpha = torch.rand(real.shape[0], device=real.device, dtype=real.dtype)
    alpha = alpha.reshape(-1, *([1] * (real.dim() - 1)))  # broadcast over all non-batch dims
    return (alpha * real + (1 - alpha) * fake).requires_grad_(True)  # x_hat = a x + (1 - a) G(z)


def input_gradient_norms(scores: Tensor, inputs: Tensor) -> Tensor:
    """Per-sample L2 norm of d scores / d inputs, differentiable (create_graph) for the penalty.

    `scores` must come from `inputs` by a per-sample computation (no BatchNorm).
    """
    (grads,) = torch.autograd.grad(scores.sum(), inputs, create_graph=True)
    squares = grads.reshape(grads.shape[0], -1).square().sum(dim=1)
    return torch.sqrt(squares + NORM_EPS)  # ||grad_x f(x_hat)||_2 over all non-batch dims


def penalty_from_norms(norms: Tensor, center: float = 1.0, one_sided: bool = False) -> Tensor:
    """Mean squared distance of gradient norms from `center` (only above it when one_sided)."""
    excess = norms - center
    if one_sided:
        excess = excess.clamp(min=0)  # max(0, ||g|| - c)
    return excess.square().mean()  # E[(||g|| - c)^2]


def gradient_penalty(
    critic: Callable[..., Tensor],
    real: Tensor,
    fake: Tensor,
    *,
    center: float = 1.0,
    one_sided: bool = False,
    condition: Optional[Tensor] = None,
    alpha: Optional[Tensor] = None,
) -> Tensor:
    """Unweighted WGAN-GP penalty E[(||grad critic(x_hat)||_2 - center)^2] at interpolates.

    Works for inputs of any shape (B, ...); the norm is per sample over all
    non-batch dims. `condition`, when given, is passed to the critic unchanged
    (the penalty is taken with the condition held fixed). `alpha` (B,) fixes
    the interpolation weights (tests); by default they are drawn U[0, 1].
    """
    x_hat = interpolate(real.detach(), fake.detach(), alpha)
    scores = critic(x_hat) if condition is None else critic(x_hat, condition)
    return penalty_from_norms(input_gradient_norms(scores, x_hat), center, one_sided)
