"""Side-by-side comparison of GAN objectives on the same data, networks, budget and seed.

Both Phase 5 plugins are such a comparison: rec_115 trains the weight-clipping
WGAN against WGAN-GP, rec_098 the standard GAN against WGAN-GP. This module
trains each run, evaluates it on fresh samples and returns flat metrics whose
keys are namespaced by run: `wgan_gp/quality/modes_covered`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pandas as pd
from torch import Tensor

from ..gan import GANConfig, TrainResult, mode_coverage, pixvar, train
from ..gan.config import deep_merge, validate_config
from ..gan.data import PointData
from ..io import atomic_path, write_json_atomic
from ..plots import plot_points


def run_name(kind: str) -> str:
    """'wgan-gp' -> 'wgan_gp': the metric namespace of a run."""
    return kind.replace("-", "_")


@dataclass
class Comparison:
    success: bool
    metrics: dict[str, float]
    artifacts: dict[str, str] = field(default_factory=dict)
    error: Optional[str] = None


def evaluate(result: TrainResult, data: PointData, n_samples: int, seed: int) -> dict[str, float]:
    """Quality of a trained generator on n_samples fresh samples (seeded)."""
    samples = result.generator.sample(n_samples, seed=seed)
    out = {"quality/pixvar": pixvar(samples), "quality/pixvar_real": pixvar(data.samples[:n_samples])}
    if data.modes is not None:
        out.update(mode_coverage(samples, data.modes, data.mode_std))
    return out


def coverage_callback(data: PointData, n_samples: int, seed: int):
    """Mode coverage at every logged step, so that history shows whether coverage holds."""
    def callback(state, logged):
        if data.modes is None or logged is None:
            return None
        coverage = mode_coverage(state.sampler.sample(n_samples, seed=seed), data.modes, data.mode_std)
        state.generator.train()
        return coverage
    return callback


def late_min(history: list[dict[str, float]], key: str) -> float:
    """Smallest value of `key` over the second half of the logged steps (does quality hold?)."""
    values = [h[key] for h in history[len(history) // 2:] if key in h]
    return min(values) if values else float("nan")


def compare(gan: GANConfig, kinds: tuple[str, ...], data: PointData, out_dir: Path, eval_samples: int) -> Comparison:
    """Train one run per loss kind with everything else equal, evaluate, and save artifacts."""
    metrics: dict[str, float] = {}
    samples: dict[str, Tensor] = {}
    artifacts: dict[str, str] = {}
    for kind in kinds:
        name = run_name(kind)
        cfg = validate_config(deep_merge(gan.model_dump(), {"loss": {"kind": kind}}))
        started = time.perf_counter()
        try:
            result = train(cfg, data.samples, callbacks=(coverage_callback(data, eval_samples, cfg.train.seed + 1),))
        except RuntimeError as err:  # TrainingDiverged, or an error inside torch
            metrics.update({f"{name}/final/{k}": v for k, v in getattr(err, "metrics", {}).items()})
            return Comparison(False, metrics, artifacts, f"{kind} run failed: {type(err).__name__}: {err}")
        metrics[f"{name}/time/train_s"] = time.perf_counter() - started
        metrics.update({f"{name}/final/{k}": v for k, v in result.metrics.items()})
        metrics.update({f"{name}/{k}": v for k, v in evaluate(result, data, eval_samples, cfg.train.seed + 1).items()})
        if data.modes is not None:
            metrics[f"{name}/stability/modes_covered_late_min"] = late_min(result.history, "quality/modes_covered")
        samples[name] = result.generator.sample(eval_samples, seed=cfg.train.seed + 1)
        history_path = out_dir / f"history_{name}.csv"
        with atomic_path(history_path) as tmp:
            pd.DataFrame(result.history).to_csv(tmp, index=False)
        artifacts[f"history_{name}"] = str(history_path)

    artifacts["samples_plot"] = str(plot_points(data.samples[:eval_samples], samples, out_dir / "samples.png", title=data.name))
    artifacts["metrics"] = str(write_json_atomic(out_dir / "metrics.json", metrics))
    return Comparison(True, metrics, artifacts)

