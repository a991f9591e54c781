"""Triage of a finished (or stopped) run from its logged metrics: a verdict, what was seen, what to try.

    report = triage(result.history, pixvar_real=pixvar(real_samples))
    report["verdict"]      # "stable" | "unstable" | "mode_collapse" | "diverging"
    report["findings"]     # one sentence per problem seen
    report["suggestions"]  # the guide's "Common fixes" that apply, most useful first

Evidence comes from the history (the flat metric dicts of docs/metrics.md) and
from `extra`, a flat dict of the same kind laid over the latest values (e.g. a
final evaluation on more samples). Keys it understands:
  quality/pixvar, quality/pixvar_real     diversity, against the real data's
  quality/modes_covered, modes_total      mode coverage of a mixture
  quality/share/<zone>                    share of generated samples per zone/mode (0..1),
  quality/share_real/<zone>               and of real samples, when known
  train/diverged_at_step                  training stopped on a NaN/inf loss
  shots/recall, shots/precision           k-NN recall/precision of generated against real charts,
  shots/frechet                           and the Frechet distance of their features: overall and
  shots/<group>/recall ... /frechet       per group (position G/F/C); each judged against
  floor/shots/...                         the same figure between two real samples when known
"""
from __future__ import annotations

import math
from statistics import median
from typing import NamedTuple, Optional

import numpy as np

VERDICTS = ("stable", "unstable", "mode_collapse", "diverging")  # mildest to worst: the worst finding decides
VERDICT_CODES = {verdict: code for code, verdict in enumerate(VERDICTS)}

# Early training is meant to be rough; the verdict is about where the run ended up.
LATE_FRACTION = 1 / 3  # judge trends over the last third of the logged steps...
MIN_TREND_POINTS = 3  # ...but over at least this many, so a fit means something

# Diversity. The guide: PixVar 0.2-0.5 healthy, < 0.1 collapse, for data scaled to about unit range.
PIXVAR_COLLAPSE_ABS = 0.1  # used when the real data's pixvar is unknown
PIXVAR_COLLAPSE_FRACTION = 0.25  # generated variance under a quarter of the real data's: samples crowd a few modes
MODES_COVERED_MIN_FRACTION = 0.5  # fewer than half the mixture's modes reached (Srivastava et al. 2017 count modes)
DOMINANT_SHARE = 0.5  # one zone/mode holding more than half the generated samples...
DOMINANT_OVER_REAL = 2.0  # ...and, when the real share is known, more than twice that share

# Divergence. The generator loss is left out: the critic's output has a free
# offset under WGAN, so loss/generator drifts in healthy runs (the guide's G is -115).
TREND_KEYS = ("wdist", "loss/critic")  # offset-free: a growing magnitude here is real
FINITE_KEYS = ("loss/critic", "loss/generator", "wdist")
DIVERGE_RELATIVE_RISE = 1.0  # magnitude (fitted) doubles over the last third: not stabilising
DIVERGE_FLOOR = 0.1  # magnitudes below this are noise on unit-scale data; keeps the ratio from tripping on tiny values

# Lipschitz constraint. WGAN-GP pulls the critic's gradient norm at interpolates to 1.
GRAD_NORM_TARGET = 1.0
GRAD_NORM_TOLERANCE = 0.5  # |norm - 1| beyond this...
SUSTAINED_FRACTION = 0.75  # ...on at least this share of the late logged steps: the penalty is not holding
CLIP_PCT_PERSISTENT = 50.0  # the guide: > 50% of critic weights at the clip bound, persistently -> raise the bound

# Quality against real charts (nba_ml.shots.quality). Recall: the share of real charts that some
# generated chart comes near (variety); precision: the share of generated charts near a real one.
QUALITY_GROUPS_PREFIX = "shots/"
RECALL_COLLAPSE_FRACTION = 0.5  # recall under half the real-vs-real floor's: most of the real variety is missed
PRECISION_POOR_FRACTION = 0.5  # precision under half the floor's: most generated charts look like no real one
QUALITY_FALLBACK_FLOOR = 1.0  # floor assumed when none is known (two real samples reach about 0.96-0.99)
FRECHET_FLOOR_RATIO = 100.0  # Frechet distance over 100x its floor: far from the real charts (WGAN-GP runs: 1-10x)
GROUP_NAMES = {"G": "guards", "F": "forwards", "C": "centres"}

LOWER_LR = "lower the learning rates (optim.lr_critic, optim.lr_generator), e.g. halve them"
MORE_CRITIC = "increase loss.n_critic so the critic keeps up with the generator"
OTHER_SEED = "try another train.seed: some initialisations collapse where others do not"
SMALLER_BATCH = "reduce train.batch_size (or scale the learning rate down with it)"
# The guide's "Common fixes" for each problem, most useful first.
FIXES = {
    "diverging": (LOWER_LR, MORE_CRITIC, OTHER_SEED),
    "mode_collapse": (SMALLER_BATCH, LOWER_LR, MORE_CRITIC, OTHER_SEED),
    "unstable": (MORE_CRITIC, LOWER_LR, OTHER_SEED),
}


class Finding(NamedTuple):
    verdict: str  # the problem it points to (a key of FIXES)
    text: str
    fixes: tuple[str, ...] = ()  # fixes particular to this finding, before the verdict's


def triage(history: list[dict], *, pixvar_real: Optional[float] = None, extra: Optional[dict] = None) -> dict:
    """Verdict, findings and suggestions for a run's logged metrics (see the module docstring)."""
    extra = extra or {}
    latest = latest_values(history, extra)
    pixvar_real = pixvar_real if pixvar_real is not None else latest.get("quality/pixvar_real")
    found = (divergence(history, latest) + diversity(history, latest, extra, pixvar_real) + dominance(latest)
             + lipschitz(history) + shot_quality(latest))
    verdict = max((f.verdict for f in found), key=VERDICT_CODES.__getitem__, default="stable")
    suggestions: list[str] = []
    for f in sorted(found, key=lambda f: -VERDICT_CODES[f.verdict]):
        suggestions += [s for s in (*f.fixes, *FIXES[f.verdict]) if s not in suggestions]
    return {"verdict": verdict, "findings": [f.text for f in found], "suggestions": suggestions}


def triage_metrics(report: dict) -> dict[str, float]:
    """The report as flat metrics (0 stable, 1 unstable, 2 mode_collapse, 3 diverging)."""
    return {"triage/verdict_code": float(VERDICT_CODES[report["verdict"]]), "triage/findings": float(len(report["findings"]))}


def latest_values(history: list[dict], extra: dict) -> dict:
    """Each key's last logged value (quality keys are sparse), with `extra` laid over them."""
    latest: dict = {}
    for row in history:
        latest.update(row)
    return {**latest, **extra}


def late_values(history: list[dict], key: str) -> list[float]:
    """Values of `key` over the last third of the logged steps (at least MIN_TREND_POINTS rows)."""
    n = max(MIN_TREND_POINTS, math.ceil(len(history) * LATE_FRACTION))
    return [row[key] for row in history[-n:] if row.get(key) is not None]  # None: a strict-JSON NaN


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def fitted_rise(values: list[float]) -> tuple[float, float]:
    """Start and end of the least-squares line through values (x = 0, 1, ...)."""
    slope, intercept = np.polyfit(np.arange(len(values)), values, 1)
    return float(intercept), float(intercept + slope * (len(values) - 1))


def divergence(history: list[dict], latest: dict) -> list[Finding]:
    found = []
    if "train/diverged_at_step" in latest:
        found.append(Finding("diverging", f"training stopped at step {int(latest['train/diverged_at_step'])}: a loss became NaN or infinite"))
    bad = next(((row, k) for row in history for k in FINITE_KEYS if k in row and not _finite(row[k])), None)
    if bad:
        row, key = bad
        found.append(Finding("diverging", f"{key} is {row[key]} at step {int(row.get('step', -1))}"))
    for key in TREND_KEYS:
        values = [abs(v) for v in late_values(history, key)]
        if len(values) < MIN_TREND_POINTS or not all(map(_finite, values)):
            continue
        start, end = fitted_rise(values)
        if end - start > DIVERGE_RELATIVE_RISE * max(abs(start), DIVERGE_FLOOR):
            found.append(Finding("diverging", f"|{key}| grows over the last third of training: {start:.4g} -> {end:.4g} (fitted)"))
    return found


def diversity(history: list[dict], latest: dict, extra: dict, pixvar_real: Optional[float]) -> list[Finding]:
    found = []
    # A final evaluation in `extra` (more samples) outranks the per-step estimates; else their late median.
    late = late_values(history, "quality/pixvar")
    pixvar = extra.get("quality/pixvar", median(late) if late else None)
    if pixvar is not None:
        if pixvar_real is not None and pixvar < PIXVAR_COLLAPSE_FRACTION * pixvar_real:
            found.append(Finding("mode_collapse", f"sample diversity collapsed: pixvar {pixvar:.4g} is under "
                                                  f"{PIXVAR_COLLAPSE_FRACTION:.0%} of the real data's {pixvar_real:.4g}"))
        elif pixvar_real is None and pixvar < PIXVAR_COLLAPSE_ABS:
            found.append(Finding("mode_collapse", f"sample diversity collapsed: pixvar {pixvar:.4g} < {PIXVAR_COLLAPSE_ABS}"))
    covered, total = latest.get("quality/modes_covered"), latest.get("quality/modes_total")
    if covered is not None and total and covered < MODES_COVERED_MIN_FRACTION * total:
        found.append(Finding("mode_collapse", f"only {int(covered)} of {int(total)} modes covered"))
    return found


def dominance(latest: dict) -> list[Finding]:
    """One zone/mode taking most of the samples (keys quality/share/<zone>, optionally share_real)."""
    shares = {k.removeprefix("quality/share/"): v for k, v in latest.items() if k.startswith("quality/share/")}
    found = []
    for zone, share in shares.items():
        real = latest.get(f"quality/share_real/{zone}")
        if share > DOMINANT_SHARE and (real is None or share > DOMINANT_OVER_REAL * real):
            than_real = f" (real data: {real:.0%})" if real is not None else ""
            found.append(Finding("mode_collapse", f"zone '{zone}' dominates: {share:.0%} of generated samples{than_real}"))
    return found


def lipschitz(history: list[dict]) -> list[Finding]:
    found = []
    if any("loss/gp" in row for row in history):  # the 1-Lipschitz target holds under WGAN-GP only
        norms = late_values(history, "grad_norm/mean")
        off = [g for g in norms if abs(g - GRAD_NORM_TARGET) > GRAD_NORM_TOLERANCE]
        if norms and len(off) >= SUSTAINED_FRACTION * len(norms):
            found.append(Finding("unstable", f"critic gradient norm stays far from {GRAD_NORM_TARGET:g} (median {median(norms):.3g} "
                                             f"over the last third): the gradient penalty is not holding the critic 1-Lipschitz"))
    clip = late_values(history, "stability/clip_pct")
    if clip and sum(c > CLIP_PCT_PERSISTENT for c in clip) >= SUSTAINED_FRACTION * len(clip):
        found.append(Finding("unstable", f"{median(clip):.0f}% of critic weights sit at the clip bound late in training",
                             ("raise loss.clip_value (the guide: > 50% clipped persistently)",)))
    return found


def shot_quality(latest: dict) -> list[Finding]:
    """Recall, precision and Frechet distance of generated charts, overall and per group, against their floors.

    A group whose recall falls under half its floor's (or whose Frechet distance is over
    FRECHET_FLOOR_RATIO times its floor's) collapsed: the run misses most of that group's charts.
    """
    found = []
    for scope in ["", *sorted(_quality_groups(latest))]:
        prefix = f"{QUALITY_GROUPS_PREFIX}{scope}/" if scope else QUALITY_GROUPS_PREFIX
        who = f"{GROUP_NAMES.get(scope, 'group')} ({scope})" if scope else "overall"
        recall, recall_floor = _with_floor(latest, prefix + "recall")
        frechet, frechet_floor = _with_floor(latest, prefix + "frechet")
        problems = []
        if recall is not None and recall < RECALL_COLLAPSE_FRACTION * (recall_floor or QUALITY_FALLBACK_FLOOR):
            problems.append(f"recall {recall:.3g}{_floor_text(recall_floor)}")
        if frechet is not None and frechet_floor and frechet > FRECHET_FLOOR_RATIO * frechet_floor:
            problems.append(f"Frechet distance {frechet:.4g}, {frechet / frechet_floor:,.0f} times its real floor {frechet_floor:.3g}")
        if problems:
            what = "the generated charts miss most real charts" if not scope else "collapsed: the generated charts miss most of its real charts"
            found.append(Finding("mode_collapse", f"{who} {what}: " + "; ".join(problems)))
        precision, precision_floor = _with_floor(latest, prefix + "precision")
        if precision is not None and precision < PRECISION_POOR_FRACTION * (precision_floor or QUALITY_FALLBACK_FLOOR):
            found.append(Finding("unstable", f"{who} precision {precision:.3g}{_floor_text(precision_floor)}: "
                                             "most generated charts lie far from every real chart"))
    return found


def _quality_groups(latest: dict) -> set[str]:
    """Groups with per-group quality figures: the <g> of shots/<g>/recall."""
    return {k.split("/")[1] for k in latest if k.startswith(QUALITY_GROUPS_PREFIX) and k.count("/") == 2
            and k.endswith(("/recall", "/precision", "/frechet"))}


def _with_floor(latest: dict, key: str) -> tuple[Optional[float], Optional[float]]:
    """(value, its floor/ value), each None when absent or not finite (an empty group is NaN)."""
    value, floor = latest.get(key), latest.get(f"floor/{key}")
    return (value if _finite(value) else None), (floor if _finite(floor) and floor > 0 else None)


def _floor_text(floor: Optional[float]) -> str:
    return f" (real floor {floor:.3g})" if floor is not None else ""
