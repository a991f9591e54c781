"""Training: one critic step, one generator step, and train() that orders them.

train() reads top to bottom: validate, seed, build, then the loop of n_critic
critic steps and one generator step. It never computes a loss itself; the
objectives live in nba_ml.gan.losses and are picked from loss.kind by one dict
lookup here. Everything the loop owns is in a TrainState, which callbacks
receive and which `state_dict()` turns into a checkpoint, so that logging,
checkpointing and distributed wrappers are added as callbacks or around the
step functions without rewriting the loop.
"""
from __future__ import annotations

import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, Union

import numpy as np
import torch
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
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

# optim.lr_schedule -> learning-rate factor after generator iteration `step` of `total`.
LR_SCHEDULES = {
    "constant": lambda step, total: 1.0,
    "linear": lambda step, total: 1.0 - step / total,
}


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; `step` and the last logged `metrics` say where."""

    def __init__(self, message: str, step: int, metrics: dict[str, float]):
        super().__init__(message)
        self.step = step
        self.metrics = metrics


@dataclass
class TrainState:
    """Everything the training loop owns; `state_dict()` is what a checkpoint saves."""

    cfg: GANConfig
    generator: nn.Module
    critic: nn.Module
    opt_generator: torch.optim.Optimizer
    opt_critic: torch.optim.Optimizer
    device: torch.device
    schedulers: list = field(default_factory=list)  # learning-rate schedulers of both optimizers
    ema: Optional[AveragedModel] = None  # EMA of the generator weights (train.ema_decay)
    step: int = 0  # generator iterations done
    critic_steps: int = 0  # critic iterations done (lazy regularisation counts these)
    loss_window: deque = field(default_factory=deque)  # recent critic losses, for stability/loss_var
    elapsed_s: float = 0.0  # training seconds before the current train() call (resumed runs)
    started: Optional[float] = None  # perf_counter() when the current train() call began

    def elapsed(self) -> float:
        """Training seconds so far, across resumes."""
        return self.elapsed_s + (time.perf_counter() - self.started if self.started is not None else 0.0)

    @property
    def sampler(self) -> nn.Module:
        """The generator to sample and evaluate with: the EMA copy when on."""
        return self.ema.module if self.ema is not None else self.generator

    def state_dict(self) -> dict[str, Any]:
        """Tensors and plain containers only (loadable with torch.load(weights_only=True))."""
        return {
            "generator": self.generator.state_dict(),
            "critic": self.critic.state_dict(),
            "opt_generator": self.opt_generator.state_dict(),
            "opt_critic": self.opt_critic.state_dict(),
            "schedulers": [s.state_dict() for s in self.schedulers],
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "counters": {"step": self.step, "critic_steps": self.critic_steps, "elapsed_s": self.elapsed()},
            "loss_window": list(self.loss_window),
            "rng": {"torch": torch.get_rng_state(), "numpy": _numpy_rng_to_plain(), "python": _python_rng_to_plain(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
        }

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        """Restore a state_dict() into this (freshly built, same-shaped) state."""
        self.generator.load_state_dict(saved["generator"])
        self.critic.load_state_dict(saved["critic"])
        self.opt_generator.load_state_dict(saved["opt_generator"])
        self.opt_critic.load_state_dict(saved["opt_critic"])
        for scheduler, s in zip(self.schedulers, saved["schedulers"]):
            scheduler.load_state_dict(s)
        if self.ema is not None and saved["ema"] is not None:
            self.ema.load_state_dict(saved["ema"])
        self.step, self.critic_steps = saved["counters"]["step"], saved["counters"]["critic_steps"]
        self.elapsed_s = saved["counters"]["elapsed_s"]
        self.loss_window.extend(saved["loss_window"])
        rng = saved["rng"]
        torch.set_rng_state(rng["torch"])
        np.random.set_state(tuple(rng["numpy"]))
        random.setstate((rng["python"][0], tuple(rng["python"][1]), rng["python"][2]))
        if rng["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])


def _numpy_rng_to_plain() -> list:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss]


def _python_rng_to_plain() -> list:
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]


@dataclass
class TrainResult:
    generator: nn.Module  # the sampling generator: the EMA copy when train.ema_decay is set
    critic: nn.Module
    history: list[dict[str, float]]  # one flat metrics dict per logged step
    metrics: dict[str, float]  # the final step's metrics
    config: GANConfig  # the resolved config (data_shape filled in)
    state: TrainState  # everything, for checkpoints and further training


# Called after every generator iteration with the state and, on logged steps,
# the metrics dict (None otherwise). It may return extra metrics (e.g. quality
# figures) that are merged into that step's dict.
Callback = Callable[[TrainState, Optional[dict[str, float]]], Optional[dict[str, float]]]
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


def build_state(cfg: GANConfig, device: torch.device) -> TrainState:
    """Networks, separate optimizers, schedulers and EMA for a resolved config (seed first)."""
    generator, critic = build_generator(cfg).to(device), build_critic(cfg).to(device)
    opt_critic, opt_generator = make_optimizers(cfg, critic, generator)
    schedule = LR_SCHEDULES[cfg.optim.lr_schedule]
    schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, lambda s: schedule(s, cfg.train.steps))
                  for opt in (opt_critic, opt_generator)]
    ema = None
    if cfg.train.ema_decay is not None:
        ema = AveragedModel(generator, multi_avg_fn=get_ema_multi_avg_fn(cfg.train.ema_decay), use_buffers=True)
    return TrainState(cfg, generator, critic, opt_generator, opt_critic, device, schedulers, ema,
                      loss_window=deque(maxlen=cfg.train.loss_var_window))


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
    state.generator.train()  # a callback may have sampled in eval mode; BatchNorm must see batch stats
    with torch.no_grad():
        fake = state.generator(latent(state, batch), labels)
    critic_loss_fn, _ = OBJECTIVES[cfg.loss.kind]
    penalise = cfg.loss.kind == "wgan-gp" and state.critic_steps % cfg.loss.gp_every == 0
    state.critic_steps += 1

    # Real and fake in one pass (valid: the critic is per-sample). The interpolates get
    # a pass of their own: folding them in too was measured slower, since the
    # double backward of the penalty would then run through all 3B rows.
    real_scores, fake_scores = critic(torch.cat([real, fake]), _cat(labels, labels)).split(batch)
    loss = critic_loss_fn(real_scores, fake_scores)
    if penalise:
        x_hat = losses.interpolate(real, fake)
        norms = losses.input_gradient_norms(critic(x_hat, labels), x_hat)
        gp = losses.penalty_from_norms(norms, cfg.loss.gp_center, cfg.loss.one_sided)
        # lazy regularisation: a penalty every k-th step, weighted by k (Karras et al. 2020)
        loss = loss + cfg.loss.gp_weight * cfg.loss.gp_every * gp

    state.opt_critic.zero_grad(set_to_none=True)
    loss.backward()
    state.opt_critic.step()
    if cfg.loss.kind == "wgan-clip":
        with torch.no_grad():
            for p in critic.parameters():
                p.clamp_(-cfg.loss.clip_value, cfg.loss.clip_value)

    stats = {"loss/critic": loss, "critic/real": real_scores.mean(), "critic/fake": fake_scores.mean()}
    if penalise:
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
    if state.ema is not None:
        state.ema.update_parameters(state.generator)
    return {"loss/generator": loss.detach()}


def probe_grad_norms(state: TrainState, real: Tensor, labels: Optional[Tensor]) -> dict[str, float]:
    """Critic gradient norm at interpolates (and the penalty it implies) for logged steps that did
    not compute it: clipping and standard GAN runs, and unpenalised steps under gp_every > 1."""
    with torch.no_grad():
        fake = state.generator(latent(state, real.shape[0]), labels)
    x_hat = losses.interpolate(real, fake)
    norms = losses.input_gradient_norms(state.critic(x_hat, labels), x_hat).detach()
    probe = {"grad_norm/mean": norms.mean().item(), "grad_norm/std": norms.std().item()}
    if state.cfg.loss.kind == "wgan-gp":
        probe["loss/gp"] = losses.penalty_from_norms(norms, state.cfg.loss.gp_center, state.cfg.loss.one_sided).item()
    return probe


def step_metrics(state: TrainState, stats: dict[str, Tensor], labels: Optional[Tensor]) -> dict[str, float]:
    """The flat metrics dict of a logged step (docs/metrics.md defines each key)."""
    m = {"step": float(state.step), **{k: v.item() for k, v in stats.items()}}
    with torch.no_grad():
        m["quality/pixvar"] = metrics.pixvar(state.sampler(latent(state, state.cfg.train.batch_size), labels))
    m["wdist"] = m["critic/real"] - m["critic/fake"]  # E[f(x)] - E[f(G(z))]
    m.update(metrics.weight_stats(state.critic, "critic"))
    m.update(metrics.weight_stats(state.generator, "generator"))
    m["stability/dg_ratio"] = metrics.dg_ratio(m["loss/critic"], m["loss/generator"])
    m["stability/loss_var"] = metrics.loss_variance(state.loss_window)
    if state.cfg.loss.kind == "wgan-clip":
        m["stability/clip_pct"] = metrics.clip_pct(state.critic, state.cfg.loss.clip_value)
    m["lr/critic"] = state.opt_critic.param_groups[0]["lr"]
    m["lr/generator"] = state.opt_generator.param_groups[0]["lr"]
    m["time/elapsed_s"] = state.elapsed()
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


def train(cfg: GANConfig | dict, data: Data, *, callbacks: tuple[Callback, ...] = (),
          resume: Optional[dict[str, Any]] = None) -> TrainResult:
    """Train a GAN on `data` ((N, ...) float tensor, or a Dataset of x or (x, label) items).

    `resume` is a TrainState.state_dict() (e.g. from a checkpoint) of a run with
    the same config: training continues from its step, and on CPU ends with
    exactly the weights of an uninterrupted run. Callbacks run in order after
    each iteration; one that saves checkpoints captures the RNG state, so those
    after it must not draw random numbers.
    """
    # Validate everything before any work: config, data, device.
    cfg, samples, labels = _prepare(validate_config(cfg), data)
    device = resolve_device(cfg.train.device)
    if device.type == "cpu":
        torch.set_flush_denormal(cfg.train.flush_denormal)  # process-wide: the last train() call decides

    # Build the networks, optimizers and EMA from one seed, or restore them.
    seed_everything(cfg.train.seed)
    state = build_state(cfg, device)
    if resume is not None:
        state.load_state_dict(resume)
    data_iter = batches(samples, labels, cfg.train.batch_size, device)

    history: list[dict[str, float]] = []
    state.started = time.perf_counter()
    while state.step < cfg.train.steps:
        # n_critic critic updates, then one generator update (Gulrajani et al., Algorithm 1).
        for _ in range(cfg.loss.n_critic):
            real, real_labels = next(data_iter)
            critic_stats = critic_step(state, real, real_labels)
        generator_stats = generator_step(state, real_labels, cfg.train.batch_size)
        for scheduler in state.schedulers:
            scheduler.step()
        state.step += 1

        # Divergence check: one host sync per iteration, needed for the loss window anyway.
        critic_loss, generator_loss = critic_stats["loss/critic"].item(), generator_stats["loss/generator"].item()
        state.loss_window.append(critic_loss)
        if not (np.isfinite(critic_loss) and np.isfinite(generator_loss)):
            raise TrainingDiverged(
                f"training diverged at step {state.step}: loss/critic={critic_loss}, loss/generator={generator_loss}",
                state.step, history[-1] if history else {})

        # Full metrics every log_every steps and at the end; callbacks run every step.
        m = None
        if state.step % cfg.train.log_every == 0 or state.step == cfg.train.steps:
            m = step_metrics(state, {**critic_stats, **generator_stats}, real_labels)
            if "grad_norm/mean" not in m:
                m.update(probe_grad_norms(state, real, real_labels))
            history.append(m)
        for callback in callbacks:
            extra = callback(state, m)
            if extra and m is not None:
                m.update(extra)

    state.elapsed_s, state.started = state.elapsed(), None
    return TrainResult(state.sampler, state.critic, history, history[-1] if history else {}, cfg, state)
