"""Training: one critic step, one generator step, and train() that orders them.

train() reads top to bottom: validate, seed, build, then the loop of n_critic
critic steps and one generator step. It never computes a loss itself; the
objectives live in nba_ml.gan.losses and are picked from loss.kind by one dict
lookup here. Everything the loop owns is in a TrainState, which callbacks
receive, so that checkpointing, logging and distributed wrappers can be added
as callbacks or around the step functions without rewriting the loop.
"""
from __future__ import annotations

import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional, Union

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from . import losses, metrics
from .config import GANConfig, validate_config
from .data import check_samples, dataset_to_tensors
from .networks import build_critic, build_generator

# loss.kind -> (critic loss of (real_scores, fake_scores), generator loss of fake_scores).
# wgan-gp adds the weighted penalty to its critic loss in critic_step.
OBJECTIVES = {
    "wgan-gp": (losses.wasserstein_critic_loss, losses.wasserstein_generator_loss),
    "wgan-clip": (losses.wasserstein_critic_loss, losses.wasserstein_generator_loss),
    "gan": (losses.bce_discriminator_loss, losses.bce_generator_loss),
}


# optim.lr_schedule -> learning-rate factor at generator iteration `step` of `total`.
LR_SCHEDULES = {
    "constant": lambda step, total: 1.0,
    "linear": lambda step, total: 1.0 - step / total,
}


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; `step` and the last `metrics` say where."""

    def __init__(self, message: str, step: int, metrics: dict[str, float]):
        super().__init__(message)
        self.step = step
        self.metrics = metrics


@dataclass
class TrainState:
    """Everything the training loop owns; what a checkpoint would save."""

    cfg: GANConfig
    generator: nn.Module
    critic: nn.Module
    opt_generator: torch.optim.Optimizer
    opt_critic: torch.optim.Optimizer
    device: torch.device
    schedulers: list = field(default_factory=list)  # learning-rate schedulers of both optimizers
    step: int = 0  # generator iterations done


@dataclass
class TrainResult:
    generator: nn.Module
    critic: nn.Module
    history: list[dict[str, float]]  # one flat metrics dict per logged step
    metrics: dict[str, float]  # the final step's metrics
    config: GANConfig  # the resolved config (data_shape filled in)


# A callback sees the state and the metrics of each logged step; it may return
# extra metrics (e.g. quality figures) that are merged into that step's dict.
Callback = Callable[[TrainState, dict[str, float]], Optional[dict[str, float]]]
Data = Union[Tensor, Dataset]


def seed_everything(seed: int) -> None:
    """One seed for python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_optimizers(cfg: GANConfig, critic: nn.Module, generator: nn.Module) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """Separate optimizers: RMSprop for weight clipping (Arjovsky et al.), Adam with cfg.betas otherwise."""
    if cfg.loss.kind == "wgan-clip":
        return (torch.optim.RMSprop(critic.parameters(), lr=cfg.optim.lr_critic),
                torch.optim.RMSprop(generator.parameters(), lr=cfg.optim.lr_generator))
    return (torch.optim.Adam(critic.parameters(), lr=cfg.optim.lr_critic, betas=cfg.betas),
            torch.optim.Adam(generator.parameters(), lr=cfg.optim.lr_generator, betas=cfg.betas))


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("train.device='cuda' but no CUDA device is available; use 'cpu' or 'auto'")
    return torch.device(name)


def batches(samples: Tensor, labels: Optional[Tensor], batch_size: int, device: torch.device) -> Iterator[tuple[Tensor, Optional[Tensor]]]:
    """Endless random batches, drawn with replacement as in the WGAN-GP reference code."""
    while True:
        idx = torch.randint(samples.shape[0], (batch_size,))
        yield samples[idx].to(device), (labels[idx].to(device) if labels is not None else None)


def latent(state: TrainState, n: int) -> Tensor:
    return torch.randn(n, state.cfg.model.latent_dim, device=state.device)


def _cat(*parts: Optional[Tensor]) -> Optional[Tensor]:
    return None if parts[0] is None else torch.cat(parts)


def critic_step(state: TrainState, real: Tensor, labels: Optional[Tensor]) -> dict[str, Tensor]:
    """One critic update. Returns detached tensors (no host sync here)."""
    cfg, critic = state.cfg, state.critic
    batch = real.shape[0]
    with torch.no_grad():
        fake = state.generator(latent(state, batch), labels)
    critic_loss_fn, _ = OBJECTIVES[cfg.loss.kind]

    if cfg.loss.kind == "wgan-gp":
        # One critic pass over real, fake and interpolates together: fewer, larger
        # kernels than three passes; valid because the critic is per-sample.
        x_hat = losses.interpolate(real, fake)
        scores = critic(torch.cat([real, fake, x_hat]), _cat(labels, labels, labels))
        real_scores, fake_scores, hat_scores = scores.split(batch)
        norms = losses.input_gradient_norms(hat_scores, x_hat)
        gp = losses.penalty_from_norms(norms, cfg.loss.gp_center, cfg.loss.one_sided)
        loss = critic_loss_fn(real_scores, fake_scores) + cfg.loss.gp_weight * gp
    else:
        real_scores, fake_scores = critic(torch.cat([real, fake]), _cat(labels, labels)).split(batch)
        loss = critic_loss_fn(real_scores, fake_scores)

    state.opt_critic.zero_grad(set_to_none=True)
    loss.backward()
    state.opt_critic.step()
    if cfg.loss.kind == "wgan-clip":
        with torch.no_grad():
            for p in critic.parameters():
                p.clamp_(-cfg.loss.clip_value, cfg.loss.clip_value)

    stats = {"loss/critic": loss, "critic/real": real_scores.mean(), "critic/fake": fake_scores.mean()}
    if cfg.loss.kind == "wgan-gp":
        stats.update({"loss/gp": gp, "grad_norm/mean": norms.mean(), "grad_norm/std": norms.std()})
    return {k: v.detach() for k, v in stats.items()}


def generator_step(state: TrainState, labels: Optional[Tensor], batch: int) -> dict[str, Tensor]:
    """One generator update against the current critic (critic weights frozen for speed)."""
    _, generator_loss_fn = OBJECTIVES[state.cfg.loss.kind]
    state.generator.train()
    state.critic.requires_grad_(False)
    fake = state.generator(latent(state, batch), labels)
    loss = generator_loss_fn(state.critic(fake, labels))
    state.opt_generator.zero_grad(set_to_none=True)
    loss.backward()
    state.opt_generator.step()
    state.critic.requires_grad_(True)
    return {"loss/generator": loss.detach()}


def probe_grad_norms(state: TrainState, real: Tensor, labels: Optional[Tensor]) -> dict[str, float]:
    """Critic gradient norm at interpolates, for objectives that do not compute it (clip, gan)."""
    with torch.no_grad():
        fake = state.generator(latent(state, real.shape[0]), labels)
    x_hat = losses.interpolate(real, fake)
    norms = losses.input_gradient_norms(state.critic(x_hat, labels), x_hat).detach()
    return {"grad_norm/mean": norms.mean().item(), "grad_norm/std": norms.std().item()}


def step_metrics(state: TrainState, stats: dict[str, Tensor], labels: Optional[Tensor], loss_window: deque, started: float) -> dict[str, float]:
    """The flat metrics dict of a logged step (docs/metrics.md defines each key)."""
    m = {"step": float(state.step), **{k: v.item() for k, v in stats.items()}}
    with torch.no_grad():
        m["quality/pixvar"] = metrics.pixvar(state.generator(latent(state, state.cfg.train.batch_size), labels))
    m["wdist"] = m["critic/real"] - m["critic/fake"]  # E[f(x)] - E[f(G(z))]
    m.update(metrics.weight_stats(state.critic, "critic"))
    m.update(metrics.weight_stats(state.generator, "generator"))
    m["stability/dg_ratio"] = metrics.dg_ratio(m["loss/critic"], m["loss/generator"])
    m["stability/loss_var"] = metrics.loss_variance(loss_window)
    if state.cfg.loss.kind == "wgan-clip":
        m["stability/clip_pct"] = metrics.clip_pct(state.critic, state.cfg.loss.clip_value)
    m["time/elapsed_s"] = time.perf_counter() - started
    return m


def _prepare(cfg: GANConfig, data: Data) -> tuple[GANConfig, Tensor, Optional[Tensor]]:
    """Validated config with data_shape filled in, plus the checked samples (and labels)."""
    samples, labels = dataset_to_tensors(data) if isinstance(data, Dataset) else (data, None)
    check_samples(samples, cfg.model.kind)
    shape = tuple(samples.shape[1:])
    if cfg.model.data_shape is not None and cfg.model.data_shape != shape:
        raise ValueError(f"data samples have shape {shape} but model.data_shape is {cfg.model.data_shape}")
    if cfg.model.num_classes and labels is None:
        raise ValueError(f"model.num_classes={cfg.model.num_classes} needs labelled data: a Dataset of (x, label) items")
    if labels is not None and cfg.model.num_classes:
        if int(labels.min()) < 0 or int(labels.max()) >= cfg.model.num_classes:
            raise ValueError(f"labels must lie in [0, {cfg.model.num_classes}), got [{int(labels.min())}, {int(labels.max())}]")
    if not cfg.model.num_classes:
        labels = None  # an unconditional model ignores labels
    return cfg.with_data_shape(shape), samples.float(), labels


def train(cfg: GANConfig | dict, data: Data, *, callbacks: tuple[Callback, ...] = ()) -> TrainResult:
    """Train a GAN on `data` ((N, ...) float tensor, or a Dataset of x or (x, label) items)."""
    # Validate everything before any work: config, data, device.
    cfg, samples, labels = _prepare(validate_config(cfg), data)
    device = resolve_device(cfg.train.device)
    if cfg.train.flush_denormal and device.type == "cpu":
        torch.set_flush_denormal(True)

    # Build the networks and their separate optimizers from one seed.
    seed_everything(cfg.train.seed)
    generator, critic = build_generator(cfg).to(device), build_critic(cfg).to(device)
    opt_critic, opt_generator = make_optimizers(cfg, critic, generator)
    schedule = LR_SCHEDULES[cfg.optim.lr_schedule]
    schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, lambda s: schedule(s, cfg.train.steps))
                  for opt in (opt_critic, opt_generator)]
    state = TrainState(cfg, generator, critic, opt_generator, opt_critic, device, schedulers)
    data_iter = batches(samples, labels, cfg.train.batch_size, device)

    history: list[dict[str, float]] = []
    loss_window: deque = deque(maxlen=cfg.train.loss_var_window)
    started = time.perf_counter()
    for state.step in range(1, cfg.train.steps + 1):
        # n_critic critic updates, then one generator update (Gulrajani et al., Algorithm 1).
        for _ in range(cfg.loss.n_critic):
            real, real_labels = next(data_iter)
            critic_stats = critic_step(state, real, real_labels)
        generator_stats = generator_step(state, real_labels, cfg.train.batch_size)
        for scheduler in state.schedulers:
            scheduler.step()

        # Divergence check: one host sync per iteration, needed for the loss window anyway.
        critic_loss, generator_loss = critic_stats["loss/critic"].item(), generator_stats["loss/generator"].item()
        loss_window.append(critic_loss)
        if not (np.isfinite(critic_loss) and np.isfinite(generator_loss)):
            last = history[-1] if history else {}
            raise TrainingDiverged(
                f"training diverged at step {state.step}: loss/critic={critic_loss}, loss/generator={generator_loss}",
                state.step, last)

        # Log: full metrics every log_every steps and at the end; callbacks may add to them.
        if state.step % cfg.train.log_every == 0 or state.step == cfg.train.steps:
            m = step_metrics(state, {**critic_stats, **generator_stats}, real_labels, loss_window, started)
            if cfg.loss.kind != "wgan-gp":
                m.update(probe_grad_norms(state, real, real_labels))
            for callback in callbacks:
                m.update(callback(state, m) or {})
            history.append(m)

    return TrainResult(generator, critic, history, history[-1], cfg)
