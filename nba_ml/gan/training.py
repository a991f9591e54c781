"""Training: one critic step, one generator step, and train() that orders them.

train() reads top to bottom: check, seed, build, then the loop of n_critic
critic steps and one generator step. It never computes a loss itself: what a
loss.kind is made of (losses, penalty or clipping, optimizer) is one entry of
nba_ml.gan.losses.OBJECTIVES, looked up once into the TrainState. Everything the
loop owns is in a TrainState, which callbacks receive and which `state_dict()`
turns into a checkpoint, so that logging, checkpointing and distributed wrappers
are added as callbacks or around the step functions without rewriting the loop.
"""
from __future__ import annotations

import math
import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, Union

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import Dataset

from . import distributed, losses, metrics
from .config import ConfigError, GANConfig, validate_config
from .data import check_samples, dataset_to_tensors
from .distributed import World
from .losses import Objective
from .networks import build_critic, build_generator

# train.precision -> autocast dtype (None: plain float32). fp16 also scales the losses (GradScaler).
PRECISIONS: dict[str, Optional[torch.dtype]] = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}

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


def raise_if_diverged(state: "TrainState", metrics: dict[str, float]) -> None:
    """TrainingDiverged naming the first step whose losses were not finite, if any (reads the losses back)."""
    diverged = state.settle()
    if diverged is not None:
        step, critic_loss, generator_loss = diverged
        raise TrainingDiverged(f"training diverged at step {step}: loss/critic={critic_loss}, "
                               f"loss/generator={generator_loss}", step, metrics)


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
    pending: list = field(default_factory=list)  # (critic, generator) loss tensors of steps not yet read back
    diverged: Optional[tuple[int, float, float]] = None  # (step, critic loss, generator loss) of the first non-finite step
    elapsed_s: float = 0.0  # training seconds before the current train() call (resumed runs)
    started: Optional[float] = None  # perf_counter() when the current train() call began
    objective: Optional[Objective] = None  # what cfg.loss.kind is made of; looked up once, at construction
    world: World = World()  # rank and world size (nba_ml.gan.distributed); one process by default
    # The modules that the steps' gradient-carrying forward passes go through: DistributedDataParallel
    # wrappers of critic and generator in a distributed run (they average the gradients), else the same modules.
    train_critic: Optional[nn.Module] = None
    train_generator: Optional[nn.Module] = None
    scalers: tuple = ()  # (critic, generator) torch.amp.GradScaler; enabled for train.precision fp16 only

    def __post_init__(self) -> None:
        if self.objective is None:
            self.objective = losses.OBJECTIVES[self.cfg.loss.kind]
        self.train_critic = self.train_critic or self.critic
        self.train_generator = self.train_generator or self.generator
        if not self.scalers:
            fp16 = self.cfg.train.precision == "fp16"
            self.scalers = tuple(torch.amp.GradScaler(self.device.type, enabled=fp16) for _ in range(2))

    def autocast(self):
        """The forward passes' precision context (a no-op for fp32)."""
        dtype = PRECISIONS[self.cfg.train.precision]
        return torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None)

    def elapsed(self) -> float:
        """Training seconds so far, across resumes."""
        return self.elapsed_s + (time.perf_counter() - self.started if self.started is not None else 0.0)

    def settle(self) -> Optional[tuple[int, float, float]]:
        """Read back the losses of the steps since the last call (one host sync for all of them):
        they join the loss window, and the first non-finite step is kept in `diverged`."""
        if self.pending:
            values = self.world.mean(torch.stack([torch.stack(pair) for pair in self.pending]).float()).tolist()
            first = self.step - len(values) + 1
            for offset, (critic_loss, generator_loss) in enumerate(values):
                self.loss_window.append(critic_loss)
                if self.diverged is None and not (np.isfinite(critic_loss) and np.isfinite(generator_loss)):
                    self.diverged = (first + offset, critic_loss, generator_loss)
            self.pending.clear()
        return self.diverged

    @property
    def sampler(self) -> nn.Module:
        """The generator to sample and evaluate with: the EMA copy when on."""
        return self.ema.module if self.ema is not None else self.generator

    def state_dict(self) -> dict[str, Any]:
        """Tensors and plain containers only (loadable with torch.load(weights_only=True))."""
        self.settle()
        return {
            "generator": self.generator.state_dict(),
            "critic": self.critic.state_dict(),
            "opt_generator": self.opt_generator.state_dict(),
            "opt_critic": self.opt_critic.state_dict(),
            "schedulers": [s.state_dict() for s in self.schedulers],
            "scalers": [s.state_dict() for s in self.scalers],
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "counters": {"step": self.step, "critic_steps": self.critic_steps, "elapsed_s": self.elapsed()},
            "loss_window": list(self.loss_window),
            "rng": {"torch": torch.get_rng_state(), "numpy": _numpy_rng_to_plain(), "python": _python_rng_to_plain(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
        }

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        """Restore a state_dict() into this (freshly built, same-shaped) state. The random state saved with
        it is the process's, not the state's: restore_rng(saved["rng"]) puts it back (train() does)."""
        self.generator.load_state_dict(saved["generator"])
        self.critic.load_state_dict(saved["critic"])
        self.opt_generator.load_state_dict(saved["opt_generator"])
        self.opt_critic.load_state_dict(saved["opt_critic"])
        for scheduler, s in zip(self.schedulers, saved["schedulers"]):
            scheduler.load_state_dict(s)
        for scaler, s in zip(self.scalers, saved.get("scalers", [])):
            if s:  # {} from a run without loss scaling
                scaler.load_state_dict(s)
        if self.ema is not None and saved["ema"] is not None:
            self.ema.load_state_dict(saved["ema"])
        self.step, self.critic_steps = saved["counters"]["step"], saved["counters"]["critic_steps"]
        self.elapsed_s = saved["counters"]["elapsed_s"]
        self.loss_window.extend(saved["loss_window"])


def restore_rng(rng: dict[str, Any]) -> None:
    """Set python's, numpy's and torch's random state to a state_dict()'s "rng": a resumed run draws what the
    uninterrupted run would have drawn."""
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
    """Separate optimizers of the objective's family (Adam with cfg.betas, or RMSprop for weight clipping)."""
    make = losses.OBJECTIVES[cfg.loss.kind].optimizer
    return (make(critic.parameters(), cfg.optim.lr_critic, cfg.betas),
            make(generator.parameters(), cfg.optim.lr_generator, cfg.betas))


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device='cuda' but no CUDA device is available; use 'cpu' or 'auto'")
    return torch.device(name)


def build_state(cfg: GANConfig, device: torch.device, world: World = World()) -> TrainState:
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
                      loss_window=deque(maxlen=cfg.train.loss_var_window), world=world)


def wrap_distributed(state: TrainState) -> None:
    """DistributedDataParallel around critic and generator, each separately, for a multi-process run.

    The penalty's input gradients (autograd.grad, create_graph) are taken through the
    unwrapped critic: they are per rank and never reach DDP's hooks, while the critic
    loss's backward carries the penalty's parameter gradients into the same hooks, once.
    Every parameter gets a gradient from the Wasserstein/BCE term of the wrapped pass, so
    no parameter is left unused (a penalty alone gives a last-layer bias none).
    """
    if state.world.world_size == 1:
        return
    ids = [state.device.index] if state.device.type == "cuda" else None
    state.train_critic = DistributedDataParallel(state.critic, device_ids=ids)
    state.train_generator = DistributedDataParallel(state.generator, device_ids=ids)


def batches(samples: Tensor, labels: Optional[Tensor], batch_size: int, device: torch.device,
            world: World = World()) -> Iterator[tuple[Tensor, Optional[Tensor]]]:
    """Endless random batches, drawn with replacement as in the WGAN-GP reference code; in a
    distributed run each rank gets its own rows of the combined batch of `batch_size`."""
    while True:
        idx = world.local_rows(torch.randint(samples.shape[0], (batch_size,)))
        yield samples[idx].to(device), (labels[idx].to(device) if labels is not None else None)


def latent(state: TrainState, n: int) -> Tensor:
    """Noise for `n` local rows: each rank's own slice of the combined batch's noise."""
    world = state.world
    return world.local_rows(torch.randn(n * world.world_size, state.cfg.model.latent_dim, device=state.device))


def local_alpha(state: TrainState, n: int) -> Tensor:
    """Interpolation weights for `n` local rows, drawn like latent()."""
    world = state.world
    return world.local_rows(torch.rand(n * world.world_size, device=state.device))


def amp(state: TrainState, module: nn.Module) -> Callable[..., Tensor]:
    """`module` run under the state's autocast, its output in float32 (losses and norms stay float32)."""
    def run(*args):
        with state.autocast():
            return module(*args).float()
    return run


def _cat(*parts: Optional[Tensor]) -> Optional[Tensor]:
    return None if parts[0] is None else torch.cat(parts)


def critic_step(state: TrainState, real: Tensor, labels: Optional[Tensor]) -> dict[str, Tensor]:
    """One critic update. Returns detached tensors (no host sync here)."""
    cfg, objective = state.cfg.loss, state.objective
    batch = real.shape[0]
    scaler = state.scalers[0]
    state.generator.train()  # a callback may have sampled in eval mode; BatchNorm must see batch stats
    with torch.no_grad(), state.autocast():  # the generator's graph is not needed for the critic's update
        fake = state.generator(latent(state, batch), labels).float()
    penalise = objective.penalised and cfg.gp_weight > 0 and state.critic_steps % cfg.gp_every == 0
    state.critic_steps += 1

    # Real and fake in one pass (valid: the critic is per-sample). The interpolates get
    # a pass of their own: folding them in too was measured slower, since the
    # double backward of the penalty would then run through all 3B rows.
    real_scores, fake_scores = amp(state, state.train_critic)(torch.cat([real, fake]), _cat(labels, labels)).split(batch)
    loss = objective.critic_loss(real_scores, fake_scores)
    if penalise:
        # the public norms and penalty, through the unwrapped critic (see wrap_distributed), fp16 gradients unscaled
        # on the first `rows` of the batch (loss.gp_batch; all of them by default): the rows are drawn at random
        rows = math.ceil(cfg.gp_batch * batch)
        norms = losses.gradient_norms(amp(state, state.critic), real[:rows], fake[:rows],
                                      condition=None if labels is None else labels[:rows], alpha=local_alpha(state, rows),
                                      grad_scale=scaler.get_scale() if scaler.is_enabled() else 1.0)
        gp = losses.penalty_from_norms(norms, cfg.gp_center, cfg.one_sided)
        # lazy regularisation: a penalty every k-th step, weighted by k (Karras et al. 2020)
        loss = loss + cfg.gp_weight * cfg.gp_every * gp

    state.opt_critic.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(state.opt_critic)
    scaler.update()
    if objective.clip is not None:
        objective.clip(state.critic, cfg.clip_value)

    stats = {"loss/critic": loss, "critic/real": real_scores.mean(), "critic/fake": fake_scores.mean()}
    if penalise:
        stats.update({"loss/gp": gp, "grad_norm/mean": norms.mean(), "grad_norm/std": norms.std()})
    return {k: v.detach() for k, v in stats.items()}


def generator_step(state: TrainState, labels: Optional[Tensor], batch: int) -> dict[str, Tensor]:
    """One generator update against the current critic (critic weights frozen: no gradient for them)."""
    scaler = state.scalers[1]
    state.generator.train()
    state.critic.requires_grad_(False)
    with state.autocast():
        fake = state.train_generator(latent(state, batch), labels)
        loss = state.objective.generator_loss(state.critic(fake, labels).float())
    state.opt_generator.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(state.opt_generator)
    scaler.update()
    state.critic.requires_grad_(True)
    if state.ema is not None:
        state.ema.update_parameters(state.generator)
    return {"loss/generator": loss.detach()}


def probe_grad_norms(state: TrainState, real: Tensor, labels: Optional[Tensor]) -> dict[str, float]:
    """Critic gradient norm at interpolates (and the penalty it implies) for logged steps that did
    not compute it: clipping and standard GAN runs, and unpenalised steps under gp_every > 1."""
    with torch.no_grad(), state.autocast():
        fake = state.generator(latent(state, real.shape[0]), labels).float()
    cfg = state.cfg.loss
    norms = losses.gradient_norms(amp(state, state.critic), real, fake, condition=labels,
                                  alpha=local_alpha(state, real.shape[0]))
    probe = {"grad_norm/mean": norms.mean().item(), "grad_norm/std": norms.std().item()}
    if state.objective.penalised:
        probe["loss/gp"] = losses.penalty_from_norms(norms, cfg.gp_center, cfg.one_sided).item()
    return probe


def step_metrics(state: TrainState, stats: dict[str, Tensor], labels: Optional[Tensor]) -> dict[str, float]:
    """The flat metrics dict of a logged step (docs/metrics.md defines each key)."""
    m = {"step": float(state.step), **{k: v.item() for k, v in stats.items()}}
    with torch.no_grad(), state.autocast():
        m["quality/pixvar"] = metrics.pixvar(state.sampler(latent(state, state.cfg.train.batch_size // state.world.world_size), labels).float())
    m["wdist"] = m["critic/real"] - m["critic/fake"]  # E[f(x)] - E[f(G(z))]
    m.update(metrics.weight_stats(state.critic, "critic"))
    m.update(metrics.weight_stats(state.generator, "generator"))
    m["stability/dg_ratio"] = metrics.dg_ratio(m["loss/critic"], m["loss/generator"])
    m["stability/loss_var"] = metrics.loss_variance(state.loss_window)
    if state.objective.clip is not None:
        m["stability/clip_pct"] = metrics.clip_pct(state.critic, state.cfg.loss.clip_value)
    m["lr/critic"] = state.opt_critic.param_groups[0]["lr"]
    m["lr/generator"] = state.opt_generator.param_groups[0]["lr"]
    m["time/elapsed_s"] = state.elapsed()
    return m


def _prepare(cfg: GANConfig, data: Data) -> tuple[GANConfig, Tensor, Optional[Tensor]]:
    """The config with data_shape filled in, plus the checked samples (and labels)."""
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
    if not isinstance(cfg, GANConfig):  # the one entry that takes a dict (docs/configuration.md); inward, GANConfigs
        cfg = validate_config(cfg)
    # Check everything before any work: data, device, precision, world size.
    cfg, samples, labels = _prepare(cfg, data)
    device = resolve_device(cfg.train.device)
    if device.type != "cuda" and cfg.train.precision != "fp32":
        raise ConfigError(f"train.precision={cfg.train.precision!r} needs CUDA, but training runs on {device.type}")
    world = distributed.join(device.type)  # torchrun's process group, or a single process
    if device.type == "cuda" and world.world_size > 1:
        device = torch.device("cuda", world.local_rank)
    if cfg.train.batch_size % world.world_size:
        raise ConfigError(f"train.batch_size={cfg.train.batch_size} does not divide among {world.world_size} "
                          "processes; choose a multiple of the world size")
    if device.type == "cpu":
        torch.set_flush_denormal(cfg.train.flush_denormal)  # process-wide: the last train() call decides

    # Build the networks, optimizers and EMA from one seed, or restore them.
    seed_everything(cfg.train.seed)
    state = build_state(cfg, device, world)
    if resume is not None:
        state.load_state_dict(resume)
        restore_rng(resume["rng"])
    wrap_distributed(state)
    local_batch = cfg.train.batch_size // world.world_size
    data_iter = batches(samples, labels, cfg.train.batch_size, device, world)

    history: list[dict[str, float]] = []
    state.started = time.perf_counter()
    while state.step < cfg.train.steps:
        # n_critic critic updates, then one generator update (Gulrajani et al., Algorithm 1).
        for _ in range(cfg.loss.n_critic):
            real, real_labels = next(data_iter)
            critic_stats = critic_step(state, real, real_labels)
        generator_stats = generator_step(state, real_labels, local_batch)
        for scheduler in state.schedulers:
            scheduler.step()
        state.step += 1

        # Divergence check: the losses are read back (one host sync) only on logged steps,
        # before a checkpoint and at the end, so that a GPU is not stalled every iteration.
        state.pending.append((critic_stats["loss/critic"], generator_stats["loss/generator"]))
        logged = state.step % cfg.train.log_every == 0 or state.step == cfg.train.steps
        if logged or state.step % cfg.log.checkpoint_every == 0:
            raise_if_diverged(state, history[-1] if history else {})

        # Full metrics every log_every steps and at the end; callbacks run every step.
        m = None
        if logged:
            stats = {**critic_stats, **generator_stats}
            stats = dict(zip(stats, world.mean(torch.stack([v.float() for v in stats.values()]))))  # over ranks
            m = step_metrics(state, stats, real_labels)
            if "grad_norm/mean" not in m:
                m.update(probe_grad_norms(state, real, real_labels))
            history.append(m)
        for callback in callbacks:
            extra = callback(state, m)
            if extra and m is not None:
                m.update(extra)

    return finished(state, history)


def finished(state: TrainState, history: list[dict[str, float]]) -> TrainResult:
    """The TrainResult of a state whose training call has ended (its clock stopped): the last logged
    step's metrics, the sampling generator and the state itself."""
    state.elapsed_s, state.started = state.elapsed(), None
    return TrainResult(state.sampler, state.critic, history, history[-1] if history else {}, state.cfg, state)
