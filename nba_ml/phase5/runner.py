"""The Phase 5 runner for the GAN recommendations: run each plugin, summarise, keep the index current."""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ..gan.training import resolve_device
from ..io import locked, write_text_atomic
from .experiment import Run, TrainedRuns, run_name, train_ahead
from .plugin import REPO_ROOT, Phase5Plugin
from .progress import Progress

# rec_id -> "module:class" of its plugin (top-level modules, installed with the package).
PLUGINS = {
    "rec_115": "implement_rec_115:ImplementImplementGradientPenaltyForWassersteinGanWgangp",
    "rec_098": "implement_rec_098:ImplementImplementWassersteinGanWithGradientPenaltyWgangpForImprovedGanTrainingStability",
}
INDEX_PATH = REPO_ROOT / "docs" / "phases" / "phase_5" / "PHASE_5_INDEX.md"
# The runner rewrites only what lies between these markers of PHASE_5_INDEX.md.
BEGIN, END = "<!-- status:begin -->", "<!-- status:end -->"


def load_plugin(rec_id: str):
    module_name, class_name = PLUGINS[rec_id].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def run_all(config: Optional[dict[str, Any]] = None, only: Optional[list[str]] = None,
            artifacts_root: Optional[str] = None, jobs: int = 1) -> dict[str, dict[str, Any]]:
    """The main job: setup() and execute() each plugin with the same config dict, training each run of
    plan() once. A bad config fails before any training.

    With artifacts_root, each plugin writes its artifacts to artifacts_root/<rec_id>. With jobs > 1,
    the distinct CPU runs are first trained `jobs` at a time in worker processes, to the same weights,
    and execute() finds them trained.
    """
    plugins: dict[str, Phase5Plugin] = {}
    for rec_id in only or list(PLUGINS):
        rec_config = dict(config or {})
        if artifacts_root:
            rec_config["output_dir"] = f"{artifacts_root}/{rec_id}"
        plugins[rec_id] = load_plugin(rec_id)(rec_config)
    for plugin in plugins.values():
        plugin.setup()
    trained: TrainedRuns = {}  # every plugin takes its runs from here and adds the ones it trains
    ahead = [planned for planned in plan(plugins, jobs) if planned.in_worker]
    if ahead:
        progress = Progress(any(plugin.config.progress for plugin in plugins.values()))
        try:
            train_ahead(with_tasks(ahead, plugins, progress), jobs, trained, progress)
        finally:  # an interrupt too: its heartbeat thread must not write after the last line
            progress.close()
    for plugin in plugins.values():
        plugin.trained = trained
    return {rec_id: plugin.execute() for rec_id, plugin in plugins.items()}


@dataclass
class PlannedRun:
    """One distinct training run of the main job."""

    run: Run  # its validated configs: the key it is trained under, once
    users: list[tuple[str, str]] = field(default_factory=list)  # (rec_id, run name) of each comparison of it
    in_worker: bool = False  # trained ahead in a worker process; else in this process, by its first comparison


def plan(plugins: dict[str, Phase5Plugin], jobs: int) -> list[PlannedRun]:
    """Which runs the main job trains (each plugin's, one per loss kind), which the plugins share (equal
    configs: the WGAN-GP run both compare against) and where each is trained: with jobs > 1 and two or more
    distinct CPU runs, ahead in worker processes; otherwise in this process, when a comparison first needs it."""
    planned: dict[Run, PlannedRun] = {}
    for rec_id, plugin in plugins.items():
        for name, run in plugin.runs().items():
            planned.setdefault(run, PlannedRun(run)).users.append((rec_id, name))
    if jobs > 1:
        on_cpu = [p for p in planned.values() if resolve_device(p.run.cfg.train.device).type == "cpu"]
        for p in on_cpu if len(on_cpu) > 1 else ():  # one run alone gains nothing from a worker
            p.in_worker = True
    return list(planned.values())


def with_tasks(planned: list[PlannedRun], plugins: dict[str, Phase5Plugin], progress: Progress) -> list[tuple[Run, Any, str]]:
    """(run, task, label) of each planned run, its task built by its first user; a plugin whose data cannot
    be built is left out: its execute() meets the failure again and reports it."""
    out, failed = [], set()
    for p in planned:
        rec_id, name = p.users[0]
        if rec_id in failed:
            continue
        try:
            task = plugins[rec_id].task(progress)
        except Exception as err:  # bad data and the like
            progress.stage(f"{rec_id}: its runs are not trained ahead ({type(err).__name__}: {err})")
            failed.add(rec_id)
            continue
        out.append((p.run, task, f"{rec_id} {name}"))
    return out


# The figures a summary line shows, where the run has them: (metric key, label, format).
HEADLINE = [
    ("shots/zone_mae_pp", "zone-err", ".2f"), ("shots/frechet", "frechet", ".4f"),
    ("shots/precision", "precision", ".3f"), ("shots/recall", "recall", ".3f"),
    ("quality/modes_covered", "modes", ".0f"), ("quality/hq_pct", "hq%", ".1f"),
    ("final/grad_norm/mean", "grad-norm", ".3f"), ("time/train_s", "train-s", ".0f"),
]


def summary_lines(results: dict[str, dict[str, Any]]) -> list[str]:
    """One block per recommendation: status, then the headline figures of each run."""
    lines = []
    for rec_id, result in results.items():
        rec = load_plugin(rec_id).recommendation
        verdict = "skipped" if result.get("skipped") else ("ok" if result["success"] else "FAILED")
        lines.append(f"{rec_id} ({rec.sub_phase}) {rec.title}: {verdict}")
        if result.get("error"):
            lines.append(f"    error: {result['error']}")
        for name in (*map(run_name, rec.kinds), "floor"):
            m = {k[len(name) + 1:]: v for k, v in result["metrics"].items() if k.startswith(name + "/")}
            cells = [f"{label} {m[key]:{fmt}}" for key, label, fmt in HEADLINE if key in m]
            if cells:
                lines.append(f"    {'real floor' if name == 'floor' else name:<10} " + "  ".join(cells))
        lines.append(f"    status: {result['artifacts'].get('status', '-')}")
    return lines


def update_index(results: dict[str, dict[str, Any]], index_path: Optional[Path] = None) -> None:
    """Rewrite the rows of these results in the status table of PHASE_5_INDEX.md (between its markers),
    under the file's lock: a runner that ran other recommendations at the same time keeps its rows.

    A result counts only if its STATUS.md is the one the index links to (a run with its own
    status_path, a test's for instance, leaves the index alone)."""
    path = index_path or INDEX_PATH
    results = {rec_id: result for rec_id, result in results.items()
               if Path(result["artifacts"].get("status", "")) == path.parent / load_plugin(rec_id).recommendation.folder / "STATUS.md"}
    if not results or not path.exists():
        return
    with locked(path):
        text = path.read_text(encoding="utf-8")
        match = re.search(re.escape(BEGIN) + "(.*?)" + re.escape(END), text, flags=re.S)
        if match is None:
            return
        current = {row.split("|")[2].split(":")[0].strip(): row for row in match.group(1).splitlines()
                   if row.startswith("| ") and ":" in row.split("|")[2]}
        rows = ["| sub-phase | recommendation | status | STATUS.md |", "|---|---|---|---|"]
        for rec_id in PLUGINS:
            rows.append(index_row(rec_id, results[rec_id]) if rec_id in results else current.get(rec_id, index_row(rec_id, None)))
        block = f"{BEGIN}\n" + "\n".join(rows) + f"\n{END}"
        write_text_atomic(path, text[:match.start()] + block + text[match.end():])


def index_row(rec_id: str, result: Optional[dict[str, Any]]) -> str:
    rec = load_plugin(rec_id).recommendation
    status = "not run" if result is None else ("skipped" if result.get("skipped") else ("✅ complete" if result["success"] else "❌ failed"))
    return f"| {rec.sub_phase} | {rec_id}: {rec.title} | {status} | [STATUS.md]({rec.folder}/STATUS.md) |"
