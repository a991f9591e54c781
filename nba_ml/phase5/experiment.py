"""Side-by-side comparison of GAN objectives on the same data, networks, budget and seed.

Both Phase 5 plugins are such a comparison: rec_115 trains the weight-clipping
WGAN against WGAN-GP, rec_098 the standard GAN against WGAN-GP. A task says
what the data is and how a trained run is judged: shot charts (the default;
shot metrics against a reference season, next to their real-vs-real floor) or
a 2-D point benchmark (mode coverage). Metrics come back flat, namespaced by
run: `wgan_gp/shots/frechet`, `wgan_gp/quality/modes_covered`.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from types import SimpleNamespace
from pathlib import Path
from typing import Any, Optional

import pandas as pd
import torch
from torch import Tensor

from ..gan import GANConfig, TrainResult, mode_coverage, pixvar, triage
from ..gan.metrics import real_pixvar
from ..gan.guard import guarded_train
from ..gan.triage import triage_metrics
from ..gan.training import build_state, finished, resolve_device
from ..gan.data import PointData, dataset_to_tensors
from ..gan.losses import OBJECTIVES
from ..io import atomic_path, write_json_atomic
from ..plots import plot_points
from ..shots.charts import ShotCharts
from ..shots.basis import ChartBasis
from ..shots.model import ShotModelConfig, evaluate_shot_model, model_from_result, training_data
from ..shots.pictures import plot_position_grid
from ..shots.quality import quality_floor
from .progress import QUIET, Progress


def run_name(kind: str) -> str:
    """'wgan-gp' -> 'wgan_gp': the metric namespace of a run."""
    return kind.replace("-", "_")


@dataclass
class Comparison:
    success: bool
    metrics: dict[str, float]
    artifacts: dict[str, str] = field(default_factory=dict)
    error: Optional[str] = None
    triage: dict[str, dict] = field(default_factory=dict)  # run -> nba_ml.gan.triage report


@dataclass
class PointTask:
    """A 2-D benchmark: mode coverage at every logged step and at the end."""

    data: PointData
    eval_samples: int

    def training_data(self, gan: GANConfig):
        return self.data.samples

    def real_pixvar(self) -> float:
        return pixvar(self.data.samples[: self.eval_samples])

    def floor(self) -> dict[str, float]:
        return {"quality/pixvar": self.real_pixvar()}

    def fingerprint(self) -> tuple:
        """What, besides config and data, decides a trained run: the coverage callback's inputs."""
        modes = None if self.data.modes is None else self.data.modes.numpy().tobytes()
        return ("points", self.eval_samples, modes, self.data.mode_std)

    def callbacks(self, seed: int) -> tuple:
        def coverage(state, logged):
            if self.data.modes is None or logged is None:
                return None
            found = mode_coverage(state.sampler.sample(self.eval_samples, seed=seed), self.data.modes, self.data.mode_std)
            state.generator.train()
            return found
        return (coverage,)

    def evaluate(self, result: TrainResult, seed: int) -> dict[str, float]:
        samples = result.generator.sample(self.eval_samples, seed=seed)
        out = {"quality/pixvar": pixvar(samples)}
        if self.data.modes is not None:
            out.update(mode_coverage(samples, self.data.modes, self.data.mode_std))
            out["stability/modes_covered_late_min"] = late_min(result.history, "quality/modes_covered")
        return out

    def picture(self, results: dict[str, TrainResult], path: Path, seed: int) -> Path:
        samples = {name: r.generator.sample(self.eval_samples, seed=seed) for name, r in results.items()}
        return plot_points(self.data.samples[: self.eval_samples], samples, path, title=self.data.name)


@dataclass
class ShotTask:
    """Shot charts: shots drawn from generated charts judged against a reference season."""

    config: ShotModelConfig  # charts spec and K; its gan section is replaced per run
    charts: ShotCharts  # training charts, rasterised once
    training_shots: pd.DataFrame
    reference: pd.DataFrame  # the real (or synthetic) season the shots are judged against
    basis: Optional[ChartBasis] = None  # fitted once: both runs of a comparison share it
    weights: Optional[Tensor] = None  # the training charts' mixture weights on the basis

    def training_data(self, gan: GANConfig):
        return training_data(self.charts, gan, self.weights)

    def real_pixvar(self) -> float:
        """PixVar of what the generator learns to produce: encoded mixture weights, or the charts."""
        return real_pixvar(self.training_data(self.config.gan))

    def floor(self) -> dict[str, float]:
        """The same metrics between the training shots and the reference: how close two real seasons are."""
        return quality_floor(self.reference, self.training_shots, self.config.shots_per_chart,
                             seed=self.config.gan.train.seed, by="POSITION_GROUP")

    def fingerprint(self) -> tuple:
        return ("shots",)  # no callbacks: config and data decide the run

    def callbacks(self, seed: int) -> tuple:
        return ()

    def model(self, result: TrainResult):
        return model_from_result(self.config, result, self.charts, self.basis)

    def evaluate(self, result: TrainResult, seed: int) -> dict[str, float]:
        return evaluate_shot_model(self.model(result), self.reference, seed=seed)

    def picture(self, results: dict[str, TrainResult], path: Path, seed: int) -> Path:
        rows = {"real": self.charts.charts[:4]}
        for name, result in results.items():
            rows[name] = self.model(result).generate_charts(4, seed=seed)[0]
        return plot_position_grid(rows, path, title="Real and generated shot charts (rows: run)")


def late_min(history: list[dict[str, float]], key: str) -> float:
    """Smallest value of `key` over the second half of the logged steps (does quality hold?)."""
    values = [h[key] for h in history[len(history) // 2:] if key in h]
    return min(values) if values else float("nan")


@dataclass
class TrainedRun:
    result: TrainResult
    seconds: float  # its training time
    used: bool = False  # handed to a comparison already (train_once's `reused` from then on)


# Runs trained in this process (or by train_ahead's workers for it), by run_key: both plugins
# train the same WGAN-GP run (same data, config and seed), which the main job trains once.
TRAINED_RUNS: dict[str, TrainedRun] = {}


def run_key(cfg: GANConfig, data: Any, task: Any, seed: int) -> str:
    """A digest of everything that determines a trained run: config, training data, task callbacks."""
    digest = hashlib.sha256(cfg.model_dump_json().encode())
    tensors = (data,) if isinstance(data, Tensor) else dataset_to_tensors(data)
    for tensor in tensors:
        if tensor is not None:
            digest.update(f"{tensor.dtype}{tuple(tensor.shape)}".encode())
            digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    # the objective's functions too: a patched loss (tests) is another run
    digest.update(repr((task.fingerprint(), seed, OBJECTIVES[cfg.loss.kind], torch.__version__)).encode())
    return digest.hexdigest()


def train_once(cfg: GANConfig, task: Any, seed: int, callbacks: tuple = ()) -> tuple[TrainResult, float, bool]:
    """(result, training seconds, reused): the run from TRAINED_RUNS when there (trained ahead, or for an
    earlier comparison: `reused` says which). `callbacks` (a progress bar) only watch: they are not part
    of the run's key."""
    data = task.training_data(cfg)
    key = run_key(cfg, data, task, seed)
    run = TRAINED_RUNS.get(key)
    if run is None:
        started = time.perf_counter()
        result = guarded_train(cfg, data, callbacks=(*task.callbacks(seed), *callbacks))
        run = TRAINED_RUNS[key] = TrainedRun(result, time.perf_counter() - started)
    reused, run.used = run.used, True
    return run.result, run.seconds, reused


def run_configs(gan: GANConfig, kinds: tuple[str, ...]) -> dict[str, GANConfig]:
    """run name -> config: the comparison's GAN config with each loss kind, everything else equal."""
    return {run_name(kind): gan.merged({"loss": {"kind": kind}}) for kind in kinds}


def evaluation_seed(gan: GANConfig) -> int:
    """The seed of a comparison's evaluation draws (distinct from training's); part of a run's key."""
    return gan.train.seed + 1


@dataclass(frozen=True)
class PlannedRun:
    """A run that compare() will ask train_once for: what train_ahead needs to train it earlier."""

    cfg: GANConfig
    task: Any
    seed: int  # evaluation_seed of its comparison
    desc: str  # the progress bar's label


def usable_cpus() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def train_ahead(runs: list[PlannedRun], jobs: int, progress: Progress = QUIET) -> int:
    """Train the distinct CPU runs of `runs` that TRAINED_RUNS lacks, `jobs` at a time in worker processes
    (spawned; the CPU's cores shared out as intra-op threads), longest first, into TRAINED_RUNS; returns
    how many were trained there. Fewer than two such runs or jobs: nothing (compare() trains in process).

    A run trains to the same weights in a worker as in this process (one seed; CPU runs do not depend
    on the thread count, tests/phase5/test_experiment.py). A run whose worker fails is left out:
    compare() then trains it here and meets the failure with its full report.
    """
    todo: dict[str, tuple[PlannedRun, Any]] = {}
    for run in runs:
        data = run.task.training_data(run.cfg)
        key = run_key(run.cfg, data, run.task, run.seed)
        if key not in TRAINED_RUNS and key not in todo and resolve_device(run.cfg.train.device).type == "cpu":
            todo[key] = (run, data)
    jobs = min(jobs, len(todo))
    if jobs < 2:
        return 0
    threads = max(1, usable_cpus() // jobs)
    order = sorted(todo.items(), key=lambda item: -_cost(item[1][0].cfg))  # longest first: the last to end starts first
    progress.stage(f"training {len(order)} runs, {jobs} at a time ({threads} thread{'s' * (threads > 1)} each): "
                   + ", ".join(run.desc for run, _ in todo.values()))
    context = multiprocessing.get_context("spawn")  # not fork: a forked OpenMP runtime can hang
    trained = 0
    with context.Manager() as manager, ProcessPoolExecutor(jobs, mp_context=context) as pool:
        steps = manager.Queue()
        bars = {key: progress.bar(run.cfg.train.steps, run.desc) for key, (run, _) in order}
        futures = {pool.submit(_train_in_worker, run.cfg, data, run.task, run.seed, key, threads, steps): key
                   for key, (run, data) in order}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.5)
            while not steps.empty():
                key, step = steps.get()
                bars[key](SimpleNamespace(step=step), None)
            for future in done:
                run = todo[futures[future]][0]
                try:
                    saved, history, config, seconds = future.result()
                except Exception as err:  # compare() trains it again here and reports the failure
                    progress.stage(f"{run.desc}: its worker failed ({type(err).__name__}: {err}); it trains in this process")
                    continue
                TRAINED_RUNS[futures[future]] = TrainedRun(_result_from(saved, history, config), seconds)
                trained += 1
    return trained


def _cost(cfg: GANConfig) -> float:
    """Relative training time: steps x network passes (a penalised critic step is about twice a plain one)."""
    return cfg.train.steps * (cfg.loss.n_critic * (2 if OBJECTIVES[cfg.loss.kind].penalised else 1) + 1)


def _train_in_worker(cfg: GANConfig, data: Any, task: Any, seed: int, key: str, threads: int, steps) -> tuple:
    """train_ahead's worker: guarded_train as train_once runs it."""
    torch.set_num_threads(threads)

    def report(state, logged):
        if state.step % 25 == 0 or state.step == cfg.train.steps:
            steps.put((key, state.step))

    started = time.perf_counter()
    result = guarded_train(cfg, data, callbacks=(*task.callbacks(seed), report))
    return result.state.state_dict(), result.history, result.config, time.perf_counter() - started


def _result_from(saved: dict, history: list, config: GANConfig) -> TrainResult:
    """A worker's run as a TrainResult of this process (this process's random state untouched: load_state_dict
    leaves it alone)."""
    with torch.random.fork_rng(devices=[]):  # building the networks draws initial weights
        state = build_state(config, torch.device("cpu"))
    state.load_state_dict(saved)
    return finished(state, history)


def compare(gan: GANConfig, kinds: tuple[str, ...], task: Any, out_dir: Path, progress: Progress = QUIET,
            label: str = "") -> Comparison:
    """Train one run per loss kind with everything else equal, evaluate, and save artifacts."""
    progress.stage(f"{label}: real floor: the metrics between two real samples")
    metrics: dict[str, float] = {f"floor/{k}": v for k, v in task.floor().items()}
    results: dict[str, TrainResult] = {}
    reports: dict[str, dict] = {}
    artifacts: dict[str, str] = {}
    seed = evaluation_seed(gan)
    for name, cfg in run_configs(gan, kinds).items():
        kind = cfg.loss.kind
        progress.stage(f"{label}: training {name} ({cfg.train.steps:,} steps)")
        try:
            result, train_s, reused = train_once(cfg, task, seed, (progress.bar(cfg.train.steps, f"{label} {name}"),))
        except Exception as err:  # TrainingDiverged, or any error: keep what was measured so far
            last = getattr(err, "metrics", {})
            metrics.update({f"{name}/final/{k}": v for k, v in last.items()})
            if hasattr(err, "step"):
                reports[name] = triage([last] if last else [], extra={"train/diverged_at_step": float(err.step)})
            return Comparison(False, metrics, artifacts, f"{kind} run failed: {type(err).__name__}: {err}", reports)
        metrics[f"{name}/time/train_s"] = train_s  # of the one training, also when reused
        metrics[f"{name}/time/reused"] = float(reused)  # 1: an earlier comparison of this process had it (TRAINED_RUNS)
        metrics.update({f"{name}/final/{k}": v for k, v in result.metrics.items()})
        progress.stage(f"{label}: evaluating {name}")
        evaluation = task.evaluate(result, seed)
        metrics.update({f"{name}/{k}": v for k, v in evaluation.items()})
        floor = {k: v for k, v in metrics.items() if k.startswith("floor/")}  # what the quality figures are judged against
        reports[name] = triage(result.history, pixvar_real=task.real_pixvar(), extra={**evaluation, **floor})
        metrics.update({f"{name}/{k}": v for k, v in triage_metrics(reports[name]).items()})
        results[name] = result
        history_path = out_dir / f"history_{name}.csv"
        with atomic_path(history_path) as tmp:
            pd.DataFrame(result.history).to_csv(tmp, index=False)
        artifacts[f"history_{name}"] = str(history_path)

    artifacts["samples_plot"] = str(task.picture(results, out_dir / "samples.png", seed))
    artifacts["metrics"] = str(write_json_atomic(out_dir / "metrics.json", metrics))
    return Comparison(True, metrics, artifacts, triage=reports)
