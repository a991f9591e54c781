"""STATUS.md of a Phase 5 recommendation: rendered from one execute() result, written atomically."""
from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from .config import PluginConfig, Recommendation
from .experiment import run_name

# Rows of the results table, in reading order: (metric key without the run prefix, label).
RESULT_ROWS = [
    ("shots/zone_mae_pp", "pooled zone-share error, pp (lower is better)"),
    ("shots/frechet", "Frechet distance of per-chart features (lower is better)"),
    ("shots/precision", "k-NN precision, k=5 (higher is better)"),
    ("shots/recall", "k-NN recall, k=5 (higher is better)"),
    ("shots/G/frechet", "Frechet distance, guards"),
    ("shots/F/frechet", "Frechet distance, forwards"),
    ("shots/C/frechet", "Frechet distance, centres"),
    ("shots/G/recall", "k-NN recall, guards"),
    ("shots/F/recall", "k-NN recall, forwards"),
    ("shots/C/recall", "k-NN recall, centres"),
    ("quality/modes_covered", "modes covered (of quality/modes_total)"),
    ("quality/hq_pct", "high-quality samples, % (within 3 std of a mode)"),
    ("stability/modes_covered_late_min", "fewest modes covered, second half of training"),
    ("quality/pixvar", "PixVar of generated samples"),
    ("final/grad_norm/mean", "critic gradient norm at interpolates, mean (target 1)"),
    ("final/grad_norm/std", "critic gradient norm at interpolates, std"),
    ("final/wdist", "critic score gap E[f(real)] - E[f(fake)]"),
    ("final/loss/critic", "critic loss, last step"),
    ("final/loss/generator", "generator loss, last step"),
    ("final/stability/loss_var", "critic-loss variance, last window"),
    ("final/stability/clip_pct", "critic weights at the clip bound, %"),
    ("time/train_s", "training time, s"),
]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:.4g}"
    return str(value)


def results_table(metrics: dict[str, float], runs: list[str]) -> str:
    """Markdown table: one row per metric, one column per run, then the real-data floor
    (the same metric between two real samples) where there is one; rows no run has are left out."""
    columns = [*runs, "floor"]
    lines = ["| metric | " + " | ".join(runs) + " | real floor |", "|---|" + "---|" * len(columns)]
    for key, label in RESULT_ROWS:
        cells = [metrics.get(f"{run}/{key}") for run in columns]
        if any(c is not None for c in cells[:-1]):
            lines.append(f"| {label} | " + " | ".join("—" if c is None else _fmt(c) for c in cells) + " |")
    return "\n".join(lines)


def triage_lines(reports: dict[str, dict]) -> list[str]:
    """Per run: the verdict, what was seen, and the training guide's next steps."""
    lines = []
    for run, report in reports.items():
        lines.append(f"- **{run}: {report['verdict']}**")
        lines += [f"  - seen: {finding}" for finding in report["findings"]]
        lines += [f"  - try: {suggestion}" for suggestion in report["suggestions"]]
    return lines


# Where the shipped shot-chart config is judged on real players (2022-23, split by players): a pointer, not figures.
REAL_PLAYERS_ROW = ("| on real players | this config, trained on two thirds of the 2022-23 players and judged on the others "
                    "against their floor: docs/benchmarks.md, \"On players it has not seen\" |")


def is_shipped(cfg: PluginConfig) -> bool:
    """Whether `cfg` trains the shipped shot-chart config (nba_ml/configs/shot_charts.yaml, production), whatever the data."""
    shipped = PluginConfig()
    return cfg.data == "shot_charts" and all(getattr(cfg, f) == getattr(shipped, f)
                                             for f in ("mode", "gan", "charts", "shots_per_chart", "basis"))


def render_status(rec: Recommendation, cfg: PluginConfig, result: dict[str, Any], started: datetime) -> str:
    """The whole STATUS.md for one execute() result."""
    if result.get("skipped"):
        status = "⏸️ SKIPPED (enabled: false)"
    elif result["success"]:
        status = "✅ COMPLETE (last run succeeded)"
    else:
        status = "❌ FAILED (last run failed)"
    gan = cfg.gan
    runs = [run_name(k) for k in rec.kinds]
    parts = [
        f"# STATUS: {rec.sub_phase} {rec.title} ({rec.rec_id})",
        "",
        f"**Status:** {status}  ",
        f"**Last run:** {started.strftime('%Y-%m-%d %H:%M UTC')}  ",
        f"**What it shows:** {rec.purpose}",
        "",
        "This file is rewritten by `execute()` on every run (`nba-ml phase5` runs both recommendations).",
        "",
        "## Configuration",
        "",
        "| setting | value |",
        "|---|---|",
        f"| mode | {cfg.mode} |",
        f"| data | {cfg.data_kind.describe(cfg)} |",
        f"| runs compared | {' vs '.join(rec.kinds)} (same data, networks, budget, seed) |",
        f"| model | {gan.model.kind}, hidden {gan.model.hidden_dim} x {gan.model.depth}, latent {gan.model.latent_dim} |",
        f"| loss | gp_weight (lambda) {gan.loss.gp_weight}, n_critic {gan.loss.n_critic}, clip_value {gan.loss.clip_value} |",
        f"| optim | lr critic {gan.optim.lr_critic}, lr generator {gan.optim.lr_generator}, Adam betas {gan.optim.betas or 'per objective: (0.0, 0.9) WGAN-GP, (0.5, 0.999) GAN; RMSprop for clipping'} |",
        f"| train | {gan.train.steps} generator steps, batch {gan.train.batch_size}, seed {gan.train.seed} |",
        *([REAL_PLAYERS_ROW] if is_shipped(cfg) else []),
        "",
    ]
    if result.get("error"):
        parts += ["## Error", "", "```", result["error"], "```", ""]
    if result["metrics"]:
        parts += ["## Results", "", results_table(result["metrics"], runs), ""]
    if result.get("triage"):
        parts += ["## Triage", ""] + triage_lines(result["triage"]) + [""]
    if result["artifacts"]:
        parts += ["## Artifacts", ""] + [f"- {name}: `{path}`" for name, path in result["artifacts"].items()] + [""]
    return "\n".join(parts)

