"""A training run in a directory: train() with the observability callbacks, and the files a run leaves.

    <run_dir>/config.yaml          the resolved config
    <run_dir>/identity.yaml        what else the run is: a fingerprint of its data, the caller's settings
    <run_dir>/metrics.jsonl        one flat metrics dict per logged step
    <run_dir>/checkpoints/         step_{step:08d}.pt every log.checkpoint_every steps and at the end
    <run_dir>/plots/               losses.png, wdist.png, grad_norm.png
    <run_dir>/summary.json         final metrics, triage, timings, run id, paths
    <run_dir>/tensorboard/         when log.tensorboard;  <run_dir>/wandb/ when log.wandb

and one row per run in the markdown master experiment log (log.experiment_log).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import time
import warnings
from datetime import date
from pathlib import Path
from typing import Any, Mapping, Optional

import torch
import yaml
from torch.utils.data import TensorDataset

from .. import interrupts
from ..errors import one_line
from ..io import check_directory, locked, write_json_atomic, write_text_atomic
from . import distributed
from .checkpoint import CHECKPOINT_DIR, CheckpointWarning, checkpoint_callback, latest_checkpoint, load_latest_checkpoint
from .config import ConfigError, GANConfig, read_yaml_mapping, validate_config
from .data import dataset_to_tensors
from .console import console_callback
from .metrics import real_pixvar
from .sinks import JsonlSink, TensorBoardSink, WandbSink, read_jsonl
from .guard import guarded_train
from .training import Callback, Data, TrainingDiverged, TrainResult, resolve_device
from .triage import latest_values, triage

CONFIG_FILE, IDENTITY_FILE, METRICS_FILE, SUMMARY_FILE, PLOTS_DIR = "config.yaml", "identity.yaml", "metrics.jsonl", "summary.json", "plots"
# Config keys (prefixes) a resumed run may change: none changes the weights of the steps still to come
# (given the same weights so far), only how long it trains, what it logs, and how it is guarded:
#   train.steps   train longer (or stop sooner, not before its checkpoint)
#   log.*         console, checkpoint spacing, quality spacing, sinks, experiment log (callbacks draw no
#                 training randomness; train.log_every does: a logged step probes the gradient norms)
#   guard.*       time budget, memory limit, divergence retries (an earlier retry's rates are in the checkpoint)
# Everything else (model, loss, optim, the rest of train: seed, batch, device, precision, EMA, log_every,
# loss_var_window) and the run's identity (its data, the caller's settings) must stay as they were.
RESUMABLE = ("train.steps", "log.", "guard.")

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
                 notes: str = "", identity: Optional[Mapping[str, Any]] = None) -> TrainResult:
    """Train into `run_dir` (see the module docstring); the result's history is the whole run's.

    `callbacks` are quality callbacks: they see the metrics every log.quality_every
    logged steps and at the last step (None otherwise), and may return metrics to add.
    `identity` is what else makes the run this run, as plain YAML values: the settings
    that made `data` and a fingerprint of the data they came from (nba_ml.frames.frame_fingerprint);
    by default a fingerprint of `data` itself (data_fingerprint). It is kept in
    identity.yaml. resume=True continues from the newest checkpoint, after check_resume:
    only train.steps, log.* and guard.* may differ from the run's config.yaml, and
    nothing from its identity. Under torchrun every rank trains and only rank 0 writes;
    a resumed distributed run needs `run_dir` readable by every rank. A SIGINT or SIGTERM
    (under nba_ml.interrupts.raised()) stops the run with Interrupted saying at which step.
    """
    wall_started = time.perf_counter()
    run_dir = Path(run_dir)
    check_directory(run_dir)  # a file there is refused, never replaced
    identity = plain(identity if identity is not None else {"data": data_fingerprint(data)})
    world = distributed.join(resolve_device(cfg.train.device).type)
    if not world.is_main:  # the other ranks train in step with rank 0 and write nothing
        saved, error = None, None
        try:
            saved = resume_state(cfg, run_dir, identity) if resume else None
        except Exception as err:  # every rank must learn of a failure before training starts
            error = err
        world.agree(error)
        return guarded_train(cfg, data, resume=saved)  # the guard's checks are collective: every rank runs them
    try:
        saved = resume_state(cfg, run_dir, identity) if resume else None
        resumed_step = saved["counters"]["step"] if saved else 0
        if not resume:
            refuse_existing_run(run_dir)
    except Exception as err:
        world.agree(err)
    world.agree(None)
    truncate_metrics(run_dir / METRICS_FILE, resumed_step)  # drop rows a crashed run logged after its checkpoint
    write_config(run_dir, cfg)
    write_text_atomic(run_dir / IDENTITY_FILE, yaml.safe_dump(identity, sort_keys=True))

    # Quality callbacks first (they add metrics), then the readers, then the checkpoint:
    # it captures the RNG state, so nothing after it may draw random numbers.
    jsonl = JsonlSink(run_dir / METRICS_FILE)
    sinks = [jsonl, *optional_sinks(cfg, run_dir, resumed_step)]
    console = console_callback(cfg.train.steps, verbose and cfg.log.verbose)
    done = {"step": resumed_step}  # the last step done, for an interrupt's message
    chain = (*(every_logged(cb, cfg.log.quality_every) for cb in callbacks), console, *sinks,
             checkpoint_callback(run_dir, cfg.log.checkpoint_every), lambda state, metrics: done.update(step=state.step))
    result, diverged = None, None
    try:
        result = guarded_train(cfg, data, callbacks=chain, resume=saved, run_dir=run_dir,
                               on_rollback=lambda step: rollback(step, console, jsonl))
    except TrainingDiverged as err:
        diverged = err  # still leave a summary and a log row saying so, then raise
    except interrupts.Interrupted as err:
        raise interrupted_run(err, run_dir, done["step"], cfg.train.steps) from None
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

def resume_state(cfg: GANConfig, run_dir: Path, identity: Optional[Mapping[str, Any]] = None) -> Optional[dict[str, Any]]:
    """The newest readable checkpoint's state, after check_resume says the run may continue with `cfg`.

    None (start again from step 0, with a warning) for a run killed before its first checkpoint.
    """
    check_resume(cfg, run_dir, identity)
    found = load_latest_checkpoint(run_dir, cfg)
    if found is None:
        warnings.warn(f"{run_dir} has no complete checkpoint yet: starting it again from step 0", CheckpointWarning, stacklevel=2)
        return None
    saved = found[1]
    if saved["counters"]["step"] > cfg.train.steps:
        raise ConfigError(f"cannot resume {run_dir}: its checkpoint is at step {saved['counters']['step']} "
                          f"but train.steps is {cfg.train.steps}")
    return saved


def check_resume(cfg: GANConfig, run_dir: str | Path, identity: Optional[Mapping[str, Any]] = None,
                 partial: bool = False) -> None:
    """Refuse (ConfigError, one line naming each difference with its old and new value) to continue the run in
    `run_dir` with `cfg` when anything but RESUMABLE differs from its config.yaml, or, when `identity` is
    given, anything differs from its identity.yaml (partial=True: only the keys `identity` has, e.g. the
    settings before the data is read). Reads only, and little: call it before any work."""
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG_FILE).exists():
        problem = f"no checkpoint in {run_dir / CHECKPOINT_DIR}" if latest_checkpoint(run_dir) is None else f"it has no {CONFIG_FILE}"
        raise FileNotFoundError(f"cannot resume {run_dir}: {problem}")
    problems = []
    differences = config_differences(read_run_config(run_dir), cfg)
    if differences:
        problems.append(f"the config differs from its {CONFIG_FILE} in " + ", ".join(differences))
    if identity is not None:
        recorded = read_identity(run_dir)
        if recorded is not None and partial:
            recorded = {key: value for key, value in recorded.items() if key in identity}
        differences = [] if recorded is None else changes(recorded, plain(identity))
        if differences:
            problems.append(f"what it trains on differs from its {IDENTITY_FILE} in " + ", ".join(differences))
    if problems:
        raise ConfigError(f"cannot resume {run_dir}: " + "; ".join(problems) + "; only train.steps, log.* and guard.* may change")


def read_run_config(run_dir: str | Path) -> GANConfig:
    """The run's config.yaml, validated (ConfigError naming the file and each bad field otherwise)."""
    path = Path(run_dir) / CONFIG_FILE
    try:
        return validate_config(read_yaml_mapping(path))
    except ConfigError as err:
        message = one_line(err)
        raise ConfigError(message if str(path) in message else f"{path}: {message}") from None


def read_identity(run_dir: str | Path) -> Optional[dict[str, Any]]:
    """The run's identity.yaml (a mapping), or None, with a warning, for a run started before runs kept one."""
    path = Path(run_dir) / IDENTITY_FILE
    if not path.exists():
        warnings.warn(f"{run_dir} has no {IDENTITY_FILE} (a run started by an older nba_ml): its data and "
                      "settings cannot be checked; they are recorded now", CheckpointWarning, stacklevel=3)
        return None
    return read_yaml_mapping(path)


def config_differences(saved: GANConfig, cfg: GANConfig) -> list[str]:
    """'section.field (saved -> now)' for each setting that differs and would change the training."""
    out = []
    for key, (theirs, ours) in _changed(_flatten(saved.model_dump(mode="json")), _flatten(cfg.model_dump(mode="json"))):
        if key.startswith(RESUMABLE):
            continue
        if key == "model.data_shape" and None in (ours, theirs):
            continue  # None = "from the data", which the checkpoint's shapes check
        out.append(f"{key} ({theirs!r} -> {ours!r})")
    return out


def changes(recorded: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """'key.path (recorded -> now)' for each value of two identities that differs (a missing one is None)."""
    return [f"{key} ({theirs!r} -> {ours!r})" for key, (theirs, ours) in _changed(_flatten(dict(recorded)), _flatten(dict(now)))]


def _changed(theirs: dict[str, Any], ours: dict[str, Any]) -> list[tuple[str, tuple[Any, Any]]]:
    return [(key, (theirs.get(key), ours.get(key))) for key in sorted(theirs.keys() | ours.keys(), key=str)
            if theirs.get(key) != ours.get(key)]


def plain(identity: Mapping[str, Any]) -> dict[str, Any]:
    """`identity` as plain YAML values (tuples as lists), as it reads back from identity.yaml."""
    return json.loads(json.dumps(dict(identity), default=str))


def data_fingerprint(data: Data) -> dict[str, Any]:
    """{'rows', 'shape', 'sha256'} of the training tensors (samples, and labels when given): one pass over their bytes."""
    if isinstance(data, torch.Tensor):
        tensors = [data]
    elif isinstance(data, TensorDataset):
        tensors = list(data.tensors)
    else:
        tensors = [t for t in dataset_to_tensors(data) if t is not None]
    digest = hashlib.sha256()
    for tensor in tensors:
        array = tensor.detach().cpu().contiguous().numpy()
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.data)
    return {"rows": int(tensors[0].shape[0]), "shape": list(tensors[0].shape[1:]), "sha256": digest.hexdigest()[:16]}


def _flatten(tree: dict, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def interrupted_run(err: interrupts.Interrupted, run_dir: Path, step: int, steps: int) -> interrupts.Interrupted:
    """The Interrupted a run ends with: at which step, and what a resume starts from."""
    signal = interrupts.signal_name(err.signum)
    if err.step is not None:  # stopped at the end of a step, with a checkpoint of it
        return interrupts.Interrupted(err.signum, f"interrupted by {signal} at step {err.step:,} of {steps:,}, with a checkpoint", err.step)
    newest = latest_checkpoint(run_dir)
    kept = f"its newest checkpoint is of step {int(newest.stem.split('_')[1]):,}" if newest else "before its first checkpoint"
    return interrupts.Interrupted(err.signum, f"interrupted by {signal} at step {step:,} of {steps:,}; {kept}", step)


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
    from ..plots import plt, save_figure  # here, not at import: matplotlib costs every command half a second

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
    try:
        save_figure(fig, path)
    finally:
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
