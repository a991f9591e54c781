"""Side-by-side comparison of GAN objectives on the same data, networks, budget and seed.

Both Phase 5 plugins are such a comparison: rec_115 trains the weight-clipping
WGAN against WGAN-GP, rec_098 the standard GAN against WGAN-GP. A task says
what the data is and how a trained run is judged: shot charts (the default;
shot metrics against a reference season, next to their real-vs-real floor) or
a 2-D point benchmark (mode coverage). Metrics come back flat, namespaced by
run: `wgan_gp/shots/frechet`, `wgan_gp/quality/modes_covered`.

A Run is named by the validated configs that decide it (the config its task was built from, and its
GAN config); a TrainedRuns holds the runs trained so far by Run, so that a run two comparisons share
is trained once (compare -> train_once), in this process or ahead of time in worker processes
(train_ahead).
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from types import SimpleNamespace
from pathlib import Path
from typing import Any, Hashable, Optional

import pandas as pd
import torch
from torch import Tensor

from ..gan import GANConfig, TrainResult, mode_coverage, pixvar, triage
from ..gan.metrics import real_pixvar
from ..gan.guard import guarded_train
from ..gan.triage import triage_metrics
from ..gan.training import build_state, finished
from ..gan.data import PointData
from ..gan.losses import OBJECTIVES
from ..io import atomic_path, write_json_atomic
from ..plots import plot_points
from ..shots.charts import ShotCharts
from ..shots.basis import ChartBasis
from ..shots.model import ShotModelConfig
from ..shots.quality import evaluate_shot_model
from ..shots.training import model_from_result, training_data
from ..shots.pictures import plot_models_against_real
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

    def callbacks(self, seed: int) -> tuple:
        return ()

    def model(self, result: TrainResult):
        return model_from_result(self.config, result, self.charts, self.basis)

    def evaluate(self, result: TrainResult, seed: int) -> dict[str, float]:
        return evaluate_shot_model(self.model(result), self.reference, seed=seed)

    def picture(self, results: dict[str, TrainResult], path: Path, seed: int) -> Path:
        """Real training charts beside each run's charts of the same position groups, K shots drawn from every one
        (real and generated alike: nba_ml.shots.pictures), K the shots per chart the metrics judge."""
        models = {name: self.model(result) for name, result in results.items()}
        return plot_models_against_real(models, self.charts, path, shots_per_chart=self.config.shots_per_chart, seed=seed,
                                        title=f"Real and generated shot charts, {self.config.shots_per_chart} shots "
                                              "drawn from each (rows: run; columns: position group)")


def late_min(history: list[dict[str, float]], key: str) -> float:
    """Smallest value of `key` over the second half of the logged steps (does quality hold?)."""
    values = [h[key] for h in history[len(history) // 2:] if key in h]
    return min(values) if values else float("nan")


@dataclass(frozen=True)
class Run:
    """One training run, named by the validated configs that decide it: its key in a TrainedRuns."""

    data: Hashable  # the validated config its task (data, callbacks, judging) is built from: a plugin's
    cfg: GANConfig  # its GAN config: the comparison's, with its loss.kind


@dataclass
class TrainedRun:
    result: TrainResult
    seconds: float  # its training time
    used: bool = False  # handed to a comparison already (train_once's `reused` from then on)


# The runs trained so far, by Run. The main job (nba_ml.phase5.runner) gives both plugins one: a run
# both compare against (the WGAN-GP run: same data, config and seed) is trained once.
TrainedRuns = dict[Run, TrainedRun]


def comparison_runs(data: Hashable, gan: GANConfig, kinds: tuple[str, ...]) -> dict[str, Run]:
    """run name -> Run: the comparison's GAN config with each loss kind, everything else equal."""
    return {run_name(kind): Run(data, gan.merged({"loss": {"kind": kind}})) for kind in kinds}


def evaluation_seed(gan: GANConfig) -> int:
    """The seed of a comparison's evaluation draws (distinct from training's)."""
    return gan.train.seed + 1


def train_once(run: Run, task: Any, trained: TrainedRuns, callbacks: tuple = ()) -> tuple[TrainResult, float, bool]:
    """(result, training seconds, reused): the run from `trained` when there (trained ahead, or for an
    earlier comparison: `reused` says which), else trained now and kept there. `callbacks` (a progress
    bar) only watch: they do not change the run."""
    found = trained.get(run)
    if found is None:
        started = time.perf_counter()
        result = guarded_train(run.cfg, task.training_data(run.cfg),
                               callbacks=(*task.callbacks(evaluation_seed(run.cfg)), *callbacks))
        found = trained[run] = TrainedRun(result, time.perf_counter() - started)
    reused, found.used = found.used, True
    return found.result, found.seconds, reused


def usable_cpus() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def train_ahead(runs: list[tuple[Run, Any, str]], jobs: int, trained: TrainedRuns, progress: Progress = QUIET) -> int:
    """Train `runs` ((run, task, progress label) each) `jobs` at a time in worker processes (spawned; the
    CPU's cores shared out as intra-op threads), longest first, into `trained`; returns how many were
    trained. Fewer than two runs or jobs: nothing (the comparisons train them in process).

    A run trains to the same weights in a worker as in this process (one seed; CPU runs do not depend
    on the thread count, tests/phase5/test_experiment.py). A run whose worker fails is left out: its
    comparison then trains it here and meets the failure with its full report.
    """
    jobs = min(jobs, len(runs))
    if jobs < 2:
        return 0
    threads = max(1, usable_cpus() // jobs)
    order = sorted(runs, key=lambda item: -_cost(item[0].cfg))  # longest first: the last to end starts first
    progress.stage(f"training {len(runs)} runs, {jobs} at a time ({threads} thread{'s' * (threads > 1)} each): "
                   + ", ".join(label for _, _, label in runs))
    context = multiprocessing.get_context("spawn")  # not fork: a forked OpenMP runtime can hang
    count = 0
    # Ctrl-C reaches the whole process group: the workers leave it to this process, which stops them.
    with context.Manager() as manager, ProcessPoolExecutor(jobs, mp_context=context, initializer=_ignore_sigint) as pool:
        try:
            steps = manager.Queue()
            bars = [progress.bar(run.cfg.train.steps, label) for run, _, label in order]
            futures = {pool.submit(_train_in_worker, run.cfg, task, i, threads, steps): i for i, (run, task, _) in enumerate(order)}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.5)
                while not steps.empty():
                    i, step = steps.get()
                    bars[i](SimpleNamespace(step=step), None)
                for future in done:
                    run, _, label = order[futures[future]]
                    try:
                        saved, history, config, seconds = future.result()
                    except Exception as err:  # its comparison trains it again here and reports the failure
                        progress.stage(f"{label}: its worker failed ({type(err).__name__}: {err}); it trains in this process")
                        continue
                    trained[run] = TrainedRun(_result_from(saved, history, config), seconds)
                    count += 1
        except BaseException:  # an interrupt (or a failure here): stop the workers now, not after their runs
            _stop_workers(pool)
            raise
    return count


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the worker processes now and cancel what has not started (ProcessPoolExecutor.terminate_workers from
    Python 3.14; before it, its processes by hand), so that leaving the pool does not wait for their runs."""
    if hasattr(pool, "terminate_workers"):
        pool.terminate_workers()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())  # shutdown() lets go of them
    for process in processes:
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=5)


def _cost(cfg: GANConfig) -> float:
    """Relative training time: steps x network passes (a penalised critic step is about twice a plain one)."""
    return cfg.train.steps * (cfg.loss.n_critic * (2 if OBJECTIVES[cfg.loss.kind].penalised else 1) + 1)


def _train_in_worker(cfg: GANConfig, task: Any, index: int, threads: int, steps) -> tuple:
    """train_ahead's worker: guarded_train as train_once runs it; its steps go to the `steps` queue."""
    torch.set_num_threads(threads)

    def report(state, logged):
        if state.step % 25 == 0 or state.step == cfg.train.steps:
            steps.put((index, state.step))

    started = time.perf_counter()
    result = guarded_train(cfg, task.training_data(cfg), callbacks=(*task.callbacks(evaluation_seed(cfg)), report))
    return result.state.state_dict(), result.history, result.config, time.perf_counter() - started


def _result_from(saved: dict, history: list, config: GANConfig) -> TrainResult:
    """A worker's run as a TrainResult of this process (this process's random state untouched: load_state_dict
    leaves it alone)."""
    with torch.random.fork_rng(devices=[]):  # building the networks draws initial weights
        state = build_state(config, torch.device("cpu"))
    state.load_state_dict(saved)
    return finished(state, history)


def compare(runs: dict[str, Run], task: Any, out_dir: Path, trained: TrainedRuns, progress: Progress = QUIET,
            label: str = "") -> Comparison:
    """Train (or take from `trained`) each of `runs`, which differ in loss.kind only, evaluate, and save artifacts."""
    progress.stage(f"{label}: real floor: the metrics between two real samples")
    metrics: dict[str, float] = {f"floor/{k}": v for k, v in task.floor().items()}
    results: dict[str, TrainResult] = {}
    reports: dict[str, dict] = {}
    artifacts: dict[str, str] = {}
    seed = evaluation_seed(next(iter(runs.values())).cfg)  # one seed: the runs differ in loss.kind only
    for name, run in runs.items():
        cfg = run.cfg
        progress.stage(f"{label}: training {name} ({cfg.train.steps:,} steps)")
        try:
            result, train_s, reused = train_once(run, task, trained, (progress.bar(cfg.train.steps, f"{label} {name}"),))
        except Exception as err:  # TrainingDiverged, or any error: keep what was measured so far
            last = getattr(err, "metrics", {})
            metrics.update({f"{name}/final/{k}": v for k, v in last.items()})
            if hasattr(err, "step"):
                reports[name] = triage([last] if last else [], extra={"train/diverged_at_step": float(err.step)})
            return Comparison(False, metrics, artifacts, f"{cfg.loss.kind} run failed: {type(err).__name__}: {err}", reports)
        metrics[f"{name}/time/train_s"] = train_s  # of the one training, also when reused
        metrics[f"{name}/time/reused"] = float(reused)  # 1: an earlier comparison had it (the main job's TrainedRuns)
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
