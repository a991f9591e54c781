"""A training run in a directory: train() with the observability callbacks, and the files a run leaves.

    <run_dir>/config.yaml          the resolved config
    <run_dir>/metrics.jsonl        one flat metrics dict per logged step
    <run_dir>/checkpoints/         step_{step:08d}.pt every log.checkpoint_every steps and at the end
    <run_dir>/plots/               losses.png, wdist.png, grad_norm.png
    <run_dir>/summary.json         final metrics, triage, timings, run id, paths
    <run_dir>/tensorboard/         when log.tensorboard;  <run_dir>/wandb/ when log.wandb

and one row per run in the markdown master experiment log (log.experiment_log).
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
import warnings
from datetime import date
from pathlib import Path
from typing import Any, Optional

import yaml

from ..io import atomic_path, locked, write_json_atomic, write_text_atomic
from ..plots import plt  # the headless Agg backend, chosen once in nba_ml.plots
from . import distributed
from .checkpoint import CHECKPOINT_DIR, CheckpointWarning, checkpoint_callback, latest_checkpoint, load_latest_checkpoint
from .config import ConfigError, GANConfig
from .console import console_callback
from .metrics import real_pixvar
from .sinks import JsonlSink, TensorBoardSink, WandbSink, read_jsonl
from .guard import guarded_train
from .training import Callback, Data, TrainingDiverged, TrainResult, resolve_device
from .triage import latest_values, triage

CONFIG_FILE, METRICS_FILE, SUMMARY_FILE, PLOTS_DIR = "config.yaml", "metrics.jsonl", "summary.json", "plots"
RESUMABLE = ("train.steps", "log.", "guard.")  # config keys (prefixes) a resumed run may change: they do not change the weights so far

STABILITY_LABELS = {"stable": "✅ Stable", "unstable": "⚠️ Unstable", "mode_collapse": "❌ Mode collapse", "diverging": "❌ Diverging"}
LOG_COLUMNS = ("Date", "Run", "Loss", "LR (D/G)", "n_critic", "Batch", "Steps", "Seed", "Stability", "D Loss", "G Loss", "Quality", "Notes")

# name -> (title, metric keys drawn as lines, (mean, std) keys drawn as a band, reference level)
PLOTS: dict[str, tuple[str, tuple[str, ...], Optional[tuple[str, str]], Optional[float]]] = {
    "losses.png": ("Losses", ("loss/critic", "loss/generator", "loss/gp"), None, None),
    "wdist.png": ("Wasserstein estimate E[f(x)] - E[f(G(z))]", ("wdist",), None, None),
    "grad_norm.png": ("Critic gradient norm at interpolates (target 1)", ("grad_norm/mean",), ("grad_norm/mean", "grad_norm/std"), 1.0),
}


def run_training(cfg: GANConfig, data: Data, run_dir: str | Path, *, resume: bool = False, verbose: bool = True,
                 callbacks: tuple[Callback, ...] = (), experiment_log: Optional[str | Path] = None,
                 notes: str = "") -> TrainResult:
    """Train into `run_dir` (see the module docstring); the result's history is the whole run's.

    `callbacks` are quality callbacks: they see the metrics every log.quality_every
    logged steps and at the last step (None otherwise), and may return metrics to add.
    resume=True continues from the newest checkpoint; only train.steps (and log.*)
    may differ from the run's config.yaml. Under torchrun every rank trains and only
    rank 0 writes; a resumed distributed run needs `run_dir` readable by every rank.
    """
    wall_started = time.perf_counter()
    run_dir = Path(run_dir)
    world = distributed.join(resolve_device(cfg.train.device).type)
    if not world.is_main:  # the other ranks train in step with rank 0 and write nothing
        saved, error = None, None
        try:
            saved = resume_state(cfg, run_dir) if resume else None
        except Exception as err:  # every rank must learn of a failure before training starts
            error = err
        world.agree(error)
        return guarded_train(cfg, data, resume=saved)  # the guard's checks are collective: every rank runs them
    try:
        saved = resume_state(cfg, run_dir) if resume else None
        resumed_step = saved["counters"]["step"] if saved else 0
        if not resume:
            refuse_existing_run(run_dir)
    except Exception as err:
        world.agree(err)
    world.agree(None)
    truncate_metrics(run_dir / METRICS_FILE, resumed_step)  # drop rows a crashed run logged after its checkpoint
    write_config(run_dir, cfg)

    # Quality callbacks first (they add metrics), then the readers, then the checkpoint:
    # it captures the RNG state, so nothing after it may draw random numbers.
    jsonl = JsonlSink(run_dir / METRICS_FILE)
    sinks = [jsonl, *optional_sinks(cfg, run_dir, resumed_step)]
    console = console_callback(cfg.train.steps, verbose and cfg.log.verbose)
    chain = (*(every_logged(cb, cfg.log.quality_every) for cb in callbacks), console, *sinks,
             checkpoint_callback(run_dir, cfg.log.checkpoint_every))
    result, diverged = None, None
    try:
        result = guarded_train(cfg, data, callbacks=chain, resume=saved, run_dir=run_dir,
                               on_rollback=lambda step: rollback(step, console, jsonl))
    except TrainingDiverged as err:
        diverged = err  # still leave a summary and a log row saying so, then raise
    finally:
        console.close()
        for sink in sinks:
            sink.close()

    if result is not None:
        write_config(run_dir, result.config)  # now with model.data_shape
    history = read_jsonl(run_dir / METRICS_FILE)
    extra = {"train/diverged_at_step": float(diverged.step)} if diverged else {}
    report = triage(history, pixvar_real=real_pixvar(data), extra=extra)
    plots = write_plots(history, run_dir / PLOTS_DIR)
    log_path = experiment_log or cfg.log.experiment_log
    write_summary(run_dir, history, report, result, diverged, resumed_step, time.perf_counter() - wall_started, plots, log_path,
                  world.world_size)
    if log_path:
        append_experiment_log(log_path, experiment_row(cfg, run_dir.name, report, history, notes))
    if diverged is not None:
        raise diverged
    return dataclasses.replace(result, history=history, metrics=history[-1] if history else {})


def rollback(step: int, console, jsonl: JsonlSink) -> None:
    """Before a divergence retry from `step`: drop the metrics.jsonl rows logged after it (the sink reopens on
    its next row). TensorBoard and W&B keep the rows of the abandoned attempt."""
    console.close()
    jsonl.close()
    truncate_metrics(jsonl.path, step)


def every_logged(callback: Callback, every: int) -> Callback:
    """`callback` seeing the metrics on every `every`-th logged step and the last; None on other steps.

    Decided from the step number alone (no counter), so a resumed run evaluates on the same steps.
    """
    def gated(state, metrics):
        train_cfg = state.cfg.train
        due = metrics is not None and ((state.step // train_cfg.log_every) % every == 0 or state.step == train_cfg.steps)
        return callback(state, metrics if due else None)
    return gated


# --- resume -----------------------------------------------------------------

def resume_state(cfg: GANConfig, run_dir: Path) -> Optional[dict[str, Any]]:
    """The newest readable checkpoint's state, after checking the run's config allows continuing with `cfg`.

    None (start again from step 0, with a warning) for a run killed before its first checkpoint.
    """
    if not (run_dir / CONFIG_FILE).exists():
        problem = f"no checkpoint in {run_dir / CHECKPOINT_DIR}" if latest_checkpoint(run_dir) is None else f"it has no {CONFIG_FILE}"
        raise FileNotFoundError(f"cannot resume {run_dir}: {problem}")
    differences = config_differences(yaml.safe_load((run_dir / CONFIG_FILE).read_text(encoding="utf-8")), cfg)
    if differences:
        raise ConfigError(f"cannot resume {run_dir}: the config differs from its {CONFIG_FILE} in "
                          + ", ".join(differences) + "; only train.steps, log.* and guard.* may change")
    found = load_latest_checkpoint(run_dir, cfg)
    if found is None:
        warnings.warn(f"{run_dir} has no complete checkpoint yet: starting it again from step 0", CheckpointWarning, stacklevel=2)
        return None
    saved = found[1]
    if saved["counters"]["step"] > cfg.train.steps:
        raise ConfigError(f"cannot resume {run_dir}: its checkpoint is at step {saved['counters']['step']} "
                          f"but train.steps is {cfg.train.steps}")
    return saved


def config_differences(saved: dict, cfg: GANConfig) -> list[str]:
    """'section.field (saved -> now)' for each setting that differs and would change the training."""
    ours, theirs = _flatten(cfg.model_dump(mode="json")), _flatten(saved)
    out = []
    for key in sorted(ours.keys() | theirs.keys()):
        if key.startswith(RESUMABLE) or ours.get(key) == theirs.get(key):
            continue
        if key == "model.data_shape" and None in (ours.get(key), theirs.get(key)):
            continue  # None = "from the data", which the checkpoint's shapes check
        out.append(f"{key} ({theirs.get(key)!r} -> {ours.get(key)!r})")
    return out


def _flatten(tree: dict, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def refuse_existing_run(run_dir: Path) -> None:
    """A fresh run must not mix its metrics and checkpoints into another run's."""
    if (run_dir / METRICS_FILE).exists() or latest_checkpoint(run_dir) is not None:
        raise FileExistsError(f"{run_dir} already holds a run; pass resume=True (nba-ml train --resume) to continue it, or use a new directory")


def truncate_metrics(path: Path, step: int) -> None:
    """Keep only the rows up to `step` (atomic rewrite); nothing to do for a fresh run."""
    if path.exists():
        rows = [row for row in read_jsonl(path) if row["step"] <= step]
        write_text_atomic(path, "".join(JsonlSink.encode(row) for row in rows))


# --- the files of a run -------------------------------------------------------

def write_config(run_dir: Path, cfg: GANConfig) -> Path:
    return write_text_atomic(run_dir / CONFIG_FILE, yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))


def optional_sinks(cfg: GANConfig, run_dir: Path, resumed_step: int) -> list:
    """The sinks log.tensorboard and log.wandb ask for, beside metrics.jsonl."""
    sinks: list = []
    if cfg.log.tensorboard:
        sinks.append(TensorBoardSink(run_dir / "tensorboard", purge_step=resumed_step + 1 if resumed_step else None))
    if cfg.log.wandb:
        sinks.append(WandbSink(cfg.log.wandb_project, run_dir.name, cfg.model_dump(mode="json"), dir=run_dir))
    return sinks


def write_summary(run_dir: Path, history: list[dict], report: dict, result: Optional[TrainResult],
                  diverged: Optional[TrainingDiverged], resumed_step: int, wall_s: float, plots: list[Path],
                  experiment_log: Optional[str | Path], world_size: int = 1) -> dict:
    """summary.json: what a reader of the run wants first (paths relative to run_dir)."""
    summary = {
        "run_id": run_dir.name,
        "status": "diverged" if diverged else ("stopped" if result and result.state.step < result.config.train.steps else "completed"),
        "error": str(diverged) if diverged else None,
        "step": int(history[-1]["step"]) if history else resumed_step,
        "resumed_from_step": resumed_step or None,
        "world_size": world_size,  # processes that trained the run together (torchrun)
        "final_metrics": latest_values(history, {}),
        "triage": report,
        # train() counts training time across resumes; a diverged run has only its last logged figure.
        "timings": {"train_s": result.state.elapsed_s if result else latest_values(history, {}).get("time/elapsed_s", 0.0),
                    "wall_s": wall_s},
        "paths": {
            "run_dir": str(run_dir), "config": CONFIG_FILE, "metrics": METRICS_FILE,
            "checkpoints": sorted(str(p.relative_to(run_dir)) for p in (run_dir / CHECKPOINT_DIR).glob("step_*.pt")),
            "plots": [str(p.relative_to(run_dir)) for p in plots],
            "experiment_log": str(experiment_log) if experiment_log else None,
        },
    }
    write_json_atomic(run_dir / SUMMARY_FILE, summary)
    return summary


def write_plots(history: list[dict], plots_dir: Path) -> list[Path]:
    """The PLOTS of the run's history; a plot whose keys were never logged is skipped."""
    return [plot_history(history, plots_dir / name, *spec) for name, spec in PLOTS.items()
            if any(k in row for row in history for k in spec[1])]


def plot_history(history: list[dict], path: Path, title: str, keys: tuple[str, ...],
                 band: Optional[tuple[str, str]], reference: Optional[float]) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4))
    for key in keys:
        rows = [row for row in history if key in row]
        if rows:
            ax.plot([row["step"] for row in rows], [row[key] for row in rows], label=key)
    if band:
        rows = [row for row in history if band[0] in row and band[1] in row]
        mean, std = [row[band[0]] for row in rows], [row[band[1]] for row in rows]
        ax.fill_between([row["step"] for row in rows], [m - s for m, s in zip(mean, std)],
                        [m + s for m, s in zip(mean, std)], alpha=0.25, label="± std")
    if reference is not None:
        ax.axhline(reference, color="gray", linestyle="--", linewidth=1)
    ax.set(title=title, xlabel="generator step")
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path


# --- master experiment log ---------------------------------------------------------

def experiment_row(cfg: GANConfig, run_id: str, report: dict, history: list[dict], notes: str) -> list[str]:
    """One row of the guide's master experiment log, as cell texts."""
    final = latest_values(history, {})
    quality = ", ".join(f"{k.removeprefix('quality/')} {_number(v)}" for k, v in final.items() if k.startswith("quality/"))
    return [date.today().isoformat(), run_id, cfg.loss.kind, f"{cfg.optim.lr_critic:g}/{cfg.optim.lr_generator:g}",
            str(cfg.loss.n_critic), str(cfg.train.batch_size), str(cfg.train.steps), str(cfg.train.seed),
            STABILITY_LABELS[report["verdict"]], _number(final.get("loss/critic")), _number(final.get("loss/generator")),
            quality, notes]


def _number(value: Optional[float]) -> str:
    return "" if value is None else f"{value:.4g}" if math.isfinite(value) else str(value)


def append_experiment_log(path: str | Path, row: list[str]) -> None:
    """Append `row` to the markdown table at `path`, with the header if the file is new.

    An append, not an atomic rewrite: runs in parallel share the file. The
    cross-platform lock (nba_ml.io.locked) keeps their rows whole, and the header is decided under it.
    """
    path = Path(path)
    with locked(path), open(path, "a", encoding="utf-8") as f:
        text = _table_line(row)
        if os.fstat(f.fileno()).st_size == 0:
            text = _table_line(LOG_COLUMNS) + _table_line(["---"] * len(LOG_COLUMNS)) + text
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def _table_line(cells) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |\n"
