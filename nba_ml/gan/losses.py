"""The objectives: pure functions of critic scores, the gradient penalty, and OBJECTIVES,
the one table that says what each loss.kind is made of.

Scores are raw critic outputs of shape (B,) or (B, 1). Every loss is what its
optimizer minimises. References: Arjovsky et al. 2017 (WGAN), Gulrajani et al.
2017 (WGAN-GP, Algorithm 1), Goodfellow et al. 2014 (non-saturating GAN).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

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


def input_gradient_norms(scores: Tensor, inputs: Tensor, grad_scale: float = 1.0) -> Tensor:
    """Per-sample L2 norm of d scores / d inputs, differentiable (create_graph) for the penalty.

    `scores` must come from `inputs` by a per-sample computation (no BatchNorm).
    `grad_scale` > 1 is fp16 loss scaling (PyTorch's AMP gradient-penalty recipe): the
    gradients are taken of the scaled scores and unscaled before the norm, which is
    taken in float32 at least.
    """
    (grads,) = torch.autograd.grad(scores.sum() * grad_scale if grad_scale != 1.0 else scores.sum(), inputs,
                                   create_graph=True)
    grads = grads.to(torch.promote_types(grads.dtype, torch.float32))  # fp16/bf16 -> float32; float64 stays
    if grad_scale != 1.0:
        grads = grads / grad_scale
    squares = grads.reshape(grads.shape[0], -1).square().sum(dim=1)
    return torch.sqrt(squares + NORM_EPS)  # ||grad_x f(x_hat)||_2 over all non-batch dims


def penalty_from_norms(norms: Tensor, center: float = 1.0, one_sided: bool = False) -> Tensor:
    """Mean squared distance of gradient norms from `center` (only above it when one_sided)."""
    excess = norms - center
    if one_sided:
        excess = excess.clamp(min=0)  # max(0, ||g|| - c)
    return excess.square().mean()  # E[(||g|| - c)^2]


def gradient_norms(
    critic: Callable[..., Tensor],
    real: Tensor,
    fake: Tensor,
    *,
    condition: Optional[Tensor] = None,
    alpha: Optional[Tensor] = None,
    grad_scale: float = 1.0,
) -> Tensor:
    """Per-sample L2 norms (B,) of the critic's input gradient at interpolates between real and fake,
    differentiable: what the penalty is made of, and what training logs (grad_norm/mean, grad_norm/std).

    Works for inputs of any shape (B, ...); the norm is per sample over all
    non-batch dims. `condition`, when given, is passed to the critic unchanged
    (the gradient is taken with the condition held fixed). `alpha` (B,) fixes
    the interpolation weights (tests); by default they are drawn U[0, 1].
    `grad_scale`: fp16 loss scaling (see input_gradient_norms); the norms are float32 at least.
    """
    x_hat = interpolate(real.detach(), fake.detach(), alpha)
    scores = critic(x_hat) if condition is None else critic(x_hat, condition)
    return input_gradient_norms(scores, x_hat, grad_scale)


def gradient_penalty(
    critic: Callable[..., Tensor],
    real: Tensor,
    fake: Tensor,
    *,
    center: float = 1.0,
    one_sided: bool = False,
    condition: Optional[Tensor] = None,
    alpha: Optional[Tensor] = None,
    grad_scale: float = 1.0,
) -> Tensor:
    """The unweighted WGAN-GP penalty E[(||grad critic(x_hat)||_2 - center)^2] at interpolates x_hat
    between real and fake: a scalar tensor to weight and add to the critic loss,
    `d_loss + 10 * gradient_penalty(critic, real, fake)` (Gulrajani et al. 2017, lambda = 10).

    `one_sided` penalises only norms above `center`. The other arguments are gradient_norms'.
    """
    norms = gradient_norms(critic, real, fake, condition=condition, alpha=alpha, grad_scale=grad_scale)
    return penalty_from_norms(norms, center, one_sided)


def clip_weights(critic: nn.Module, clip_value: float) -> None:
    """Clamp every critic weight to [-c, c] in place (weight-clipping WGAN)."""
    with torch.no_grad():
        for p in critic.parameters():
            p.clamp_(-clip_value, clip_value)


def _adam(params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    # Not fused=True: 4x faster per optimizer step alone, but no measurable gain per generator
    # iteration here (docs/benchmarks.md), and it would change runs in their last bits.
    return torch.optim.Adam(params, lr=lr, betas=betas)


def _rmsprop(params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    return torch.optim.RMSprop(params, lr=lr)  # no betas: Arjovsky et al. use RMSprop


@dataclass(frozen=True)
class Objective:
    """Everything one loss.kind is made of; training looks it up once and never asks for the name."""

    critic_loss: Callable[[Tensor, Tensor], Tensor]  # (real_scores, fake_scores) -> what the critic minimises
    generator_loss: Callable[[Tensor], Tensor]  # fake_scores -> what the generator minimises
    penalised: bool  # the critic loss adds loss.gp_weight * the gradient penalty (every loss.gp_every steps)
    clip: Optional[Callable[[nn.Module, float], None]]  # applied with loss.clip_value after each critic step
    optimizer: Callable[..., torch.optim.Optimizer]  # (params, lr, betas) -> optimizer, one per network
    betas: tuple[float, float]  # Adam betas when optim.betas is None (unused by RMSprop)
    metrics: tuple[str, ...]  # the metric keys this objective adds to every logged step (docs/metrics.md)


# loss.kind -> Objective. Betas: Gulrajani et al. (2017) for WGAN-GP, Radford et al. (2015)
# for the standard GAN; weight clipping uses RMSprop (Arjovsky et al. 2017).
OBJECTIVES: dict[str, Objective] = {
    "wgan-gp": Objective(wasserstein_critic_loss, wasserstein_generator_loss, penalised=True, clip=None,
                         optimizer=_adam, betas=(0.0, 0.9), metrics=("loss/gp",)),
    "wgan-clip": Objective(wasserstein_critic_loss, wasserstein_generator_loss, penalised=False, clip=clip_weights,
                           optimizer=_rmsprop, betas=(0.0, 0.9), metrics=("stability/clip_pct",)),
    "gan": Objective(bce_discriminator_loss, bce_generator_loss, penalised=False, clip=None,
                     optimizer=_adam, betas=(0.5, 0.999), metrics=()),
}
