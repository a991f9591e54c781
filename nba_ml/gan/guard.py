"""Guarded training: train() with the failures a long run meets handled at the edge of the loop.

    result = guarded_train(cfg, data, callbacks=chain)

- **Divergence**: a NaN or infinite loss (train() checks it each step) or gradient (checked
  here, each step, before any later callback saves the state) stops the attempt at that step.
  The run goes back to its last good state (the last logged step, or the start) and retries
  with both learning rates times guard.lr_factor, up to guard.divergence_retries times; then
  TrainingDiverged says at which steps, on which metric, and what was tried.
- **Time budget**: past guard.max_seconds the run stops cleanly at the end of a step; with a
  run directory it leaves a final checkpoint there, so `--resume` continues it.
- **Memory**: a config whose estimated training memory exceeds guard.max_memory_gb (default:
  80% of the machine's) is refused before any work, with the estimate.
- **Interrupts**: under nba_ml.interrupts.raised() (the command line), a SIGINT or SIGTERM while
  training stops the run at the end of that step, with a checkpoint in the run directory, raising
  Interrupted with the step (a second signal stops at once; so does one under torchrun).

The loop itself (nba_ml.gan.training) is unchanged: all of this is callbacks and a retry around it.
"""
from __future__ import annotations

import copy
import dataclasses
import os
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable, Optional

import torch
from torch import nn

from .. import interrupts
from ..errors import ResourceError
from ..memory import MEMORY_DEFAULT_FRACTION, machine_memory_limit
from . import distributed
from .checkpoint import save_checkpoint
from .config import GANConfig
from .data import dataset_to_tensors
from .networks import build_critic, build_generator, shapes_only
from .training import Callback, Data, TrainingDiverged, TrainResult, TrainState, finished, raise_if_diverged, train
from torch.utils.data import Dataset

BYTES_PER_FLOAT = 4
# Floats kept per parameter: weights, gradients, two Adam moments, and slack for the EMA copy.
STATE_FLOATS_PER_PARAM = 5
# Activation passes per batch row: the critic sees real + fake (2) and the interpolates, whose
# double backward keeps about 3 passes' worth; the generator runs twice (critic and generator steps).
CRITIC_PASSES, GENERATOR_PASSES = 5, 3


class _BudgetReached(Exception):
    """Raised by the time-budget callback to leave train() at the end of a step."""


def guarded_train(cfg: GANConfig, data: Data, *, callbacks: tuple[Callback, ...] = (),
                  resume: Optional[dict[str, Any]] = None, run_dir: Optional[str | Path] = None,
                  on_rollback: Optional[Callable[[int], None]] = None) -> TrainResult:
    """train() with divergence retries, the time budget and the memory check (see the module docstring).

    `callbacks` run after the finite-gradient check and before the snapshot and budget
    callbacks. `on_rollback(step)` is called before each retry, e.g. to drop logged rows
    past `step`. `run_dir` is where the time budget and an interrupt leave their final checkpoint.
    """
    check_memory(cfg, cfg.model.data_shape or _data_shape(data))
    good = {"state": resume, "step": resume["counters"]["step"] if resume else 0}
    history: list[dict[str, float]] = []
    tried: list[str] = []
    while True:
        budget = time_budget(cfg.guard.max_seconds, run_dir)
        chain = (finite_gradients, *callbacks, recorder(history), snapshot(good), budget, stop_when_interrupted(run_dir))
        # One process: a signal is taken at the end of a step. Under torchrun the ranks cannot agree on that step.
        alone = distributed.current().world_size == 1 and os.environ.get("WORLD_SIZE", "1") == "1"
        steps_whole = interrupts.deferred() if alone else nullcontext()
        try:
            with steps_whole:
                result = dataclasses.replace(train(cfg, data, callbacks=chain, resume=good["state"]), history=history)
            break
        except _BudgetReached as stop:
            result = finished(stop.args[0], history)
            break
        except TrainingDiverged as err:
            if len(tried) >= cfg.guard.divergence_retries:
                raise gave_up(err, tried) from None
            cfg = with_scaled_lr(cfg, cfg.guard.lr_factor)
            tried.append(f"{err} -> rolled back to step {good['step']}, retrying with lr_critic "
                         f"{cfg.optim.lr_critic:.3g}, lr_generator {cfg.optim.lr_generator:.3g}")
            if good["state"] is not None:
                good["state"] = scaled_state_lr(good["state"], cfg.guard.lr_factor)
            del history[sum(1 for m in history if m["step"] <= good["step"]):]
            if on_rollback is not None:
                on_rollback(good["step"])
    result.metrics["guard/retries"] = float(len(tried))
    return result


def gave_up(err: TrainingDiverged, tried: list[str]) -> TrainingDiverged:
    """The final error: the last divergence, and each retry that came before it."""
    if not tried:
        return err
    message = f"{err} (after {len(tried)} retries: " + "; ".join(f"{i + 1}) {t}" for i, t in enumerate(tried)) + ")"
    return TrainingDiverged(message, err.step, err.metrics)


# --- callbacks ----------------------------------------------------------------

def finite_gradients(state: TrainState, metrics: Optional[dict[str, float]]) -> None:
    """Stop at the step whose losses, or last critic or generator update's gradients, were NaN/inf."""
    raise_if_diverged(state, metrics or {})  # a NaN loss is named before the gradients it made
    for name, net in (("critic", state.critic), ("generator", state.generator)):
        grads = [p.grad for p in net.parameters() if p.grad is not None]
        if grads and not torch.isfinite(torch.nn.utils.get_total_norm(grads)).item():
            raise TrainingDiverged(f"training diverged at step {state.step}: the {name}'s gradient norm "
                                   f"(grad_norm/{name}) is not finite", state.step, metrics or {})
    return None


def recorder(history: list[dict[str, float]]) -> Callback:
    """Keeps each logged step's metrics dict (the same object train() keeps and callbacks extend)."""
    def record(state, metrics):
        if metrics is not None:
            history.append(metrics)
    return record


def snapshot(good: dict[str, Any]) -> Callback:
    """Keeps a copy of the state at each logged step: the last good state a retry starts from.

    Last in the chain but for the budget: it captures the RNG state, so a retry replays
    exactly from there (as a checkpoint would)."""
    def keep(state, metrics):
        if metrics is not None:
            good["state"], good["step"] = copy.deepcopy(state.state_dict()), state.step
    return keep


def time_budget(max_seconds: Optional[float], run_dir: Optional[str | Path]) -> Callback:
    """Stops train() at the end of the first step past max_seconds (of this call), leaving a checkpoint."""
    started = time.perf_counter()

    def check(state, metrics):
        if max_seconds is not None and time.perf_counter() - started > max_seconds and state.step < state.cfg.train.steps:
            if run_dir is not None:
                save_checkpoint(state, run_dir)
            raise _BudgetReached(state)
    return check


def stop_when_interrupted(run_dir: Optional[str | Path]) -> Callback:
    """At the end of the step in which a SIGINT or SIGTERM came (nba_ml.interrupts.deferred): a checkpoint
    (with a run directory), then Interrupted naming the step. Last in the chain, like the time budget."""
    def check(state, metrics):
        signum = interrupts.take_pending()
        if signum is not None:
            if run_dir is not None:
                save_checkpoint(state, run_dir)
            raise interrupts.Interrupted(signum, step=state.step)
    return check


# --- learning rates -------------------------------------------------------------

def with_scaled_lr(cfg: GANConfig, factor: float) -> GANConfig:
    optim = cfg.optim
    return cfg.merged({"optim": {"lr_critic": optim.lr_critic * factor, "lr_generator": optim.lr_generator * factor}})


def scaled_state_lr(saved: dict[str, Any], factor: float) -> dict[str, Any]:
    """A copy of a TrainState.state_dict() whose optimizers and schedulers run at `factor` times the rate.

    A scheduler's rate is base_lrs times its factor; the last rate it reports is recomputed at its next
    step, before anything reads it, so only base_lrs is scaled."""
    saved = copy.deepcopy(saved)
    for key in ("opt_critic", "opt_generator"):
        for group in saved[key]["param_groups"]:
            for name in ("lr", "initial_lr"):
                if name in group:
                    group[name] *= factor
    for scheduler in saved["schedulers"]:
        scheduler["base_lrs"] = [lr * factor for lr in scheduler["base_lrs"]]
    return saved


# --- memory ---------------------------------------------------------------------

def estimate_memory_bytes(cfg: GANConfig, data_shape: tuple[int, ...]) -> tuple[int, int]:
    """(estimated bytes to train, parameters of both networks), from shapes only (meta tensors, no memory)."""
    cfg = cfg.with_data_shape(data_shape)
    with shapes_only():
        generator, critic = build_generator(cfg), build_critic(cfg)
        labels = torch.zeros(1, dtype=torch.long) if cfg.model.num_classes else None
        generator_floats = _activation_floats(generator, torch.zeros(1, cfg.model.latent_dim), labels)
        critic_floats = _activation_floats(critic, torch.zeros(1, *data_shape), labels)
    params = sum(p.numel() for net in (generator, critic) for p in net.parameters())
    batch = cfg.train.batch_size
    floats = (STATE_FLOATS_PER_PARAM * params
              + batch * (CRITIC_PASSES * critic_floats + GENERATOR_PASSES * generator_floats))
    return floats * BYTES_PER_FLOAT, params


def _activation_floats(net: nn.Module, x: torch.Tensor, labels: Optional[torch.Tensor]) -> int:
    """Floats of every module output for one sample (what autograd keeps for the backward pass)."""
    total = [0]
    hooks = [m.register_forward_hook(lambda m, i, out: total.__setitem__(0, total[0] + out.numel()))
             for m in net.modules() if not list(m.children())]
    try:
        net(x, labels)
    finally:
        for hook in hooks:
            hook.remove()
    return total[0]


def memory_limit_bytes(cfg: GANConfig) -> Optional[tuple[float, str]]:
    """(bytes allowed, where the figure comes from), or None when the machine's memory is unknown."""
    if cfg.guard.max_memory_gb is not None:
        return cfg.guard.max_memory_gb * 1e9, "guard.max_memory_gb"
    if cfg.train.device in ("cuda", "auto") and torch.cuda.is_available():
        total = torch.cuda.mem_get_info()[1]
        return MEMORY_DEFAULT_FRACTION * total, f"{MEMORY_DEFAULT_FRACTION:.0%} of the GPU's {total / 1e9:.1f} GB"
    return machine_memory_limit()


def check_memory(cfg: GANConfig, shape: Optional[tuple[int, ...]]) -> None:
    """Refuse (ResourceError) a config whose training on samples of `shape` would not fit, before any work."""
    limit = memory_limit_bytes(cfg)
    if limit is None or shape is None:
        return
    needed, params = estimate_memory_bytes(cfg, shape)
    if needed > limit[0]:
        raise ResourceError(
            f"this config needs about {needed / 1e9:.3g} GB to train ({params:,} parameters in generator "
            f"and critic, batch {cfg.train.batch_size:,}), more than the {limit[0] / 1e9:.3g} GB allowed ({limit[1]}); "
            "lower model.hidden_dim, model.depth or train.batch_size, or raise guard.max_memory_gb")


def _data_shape(data: Data) -> Optional[tuple[int, ...]]:
    if isinstance(data, torch.Tensor):
        return tuple(data.shape[1:]) if data.dim() > 1 else None
    if isinstance(data, Dataset):
        return tuple(dataset_to_tensors(data)[0].shape[1:])
    return None
