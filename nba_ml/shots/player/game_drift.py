"""How far a simulated season drifts from its records, measured between the records' two halves by date, and
the league's make level now (nba_ml.shots.player.game_fit scales and floors them: DRIFT_HORIZON, DRIFT_FLOORS).

    days = game_days(observed)                 # GAME_DATE in days, or None
    kappa = share_drift(rows, zone, days, R)   # players' zone shares; defense_drift, zone_drift, make_level alike
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from ..loader import parse_game_dates

LEVEL_HALF_LIFE = 14.0


def game_days(observed: pd.DataFrame):
    """Each row's GAME_DATE in days (float; NaN where it does not parse), or None without the column."""
    if "GAME_DATE" not in observed:
        return None
    parsed, _ = parse_game_dates(observed["GAME_DATE"])
    days = (parsed - pd.Timestamp("2000-01-01")).dt.days.to_numpy(np.float64)
    return days if np.isfinite(days).sum() >= 2 else None


def halves(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the shots before and from the median date (NaN dates in neither)."""
    cut = np.nanmedian(days)
    with np.errstate(invalid="ignore"):
        return days < cut, days >= cut


def share_drift(rows: np.ndarray, zone: np.ndarray, days: np.ndarray, R: int) -> float:
    """kappa: how far a player's zone shares move from one half of the records to the other beyond the luck of
    his shots (the shares of a half ~ Dirichlet(kappa x his shares)), by moments over players with 50 shots in
    each half: E (p2 - p1)^2 / p(1 - p) = 1/n1 + 1/n2 + 2/(kappa + 1). inf: no movement seen."""
    early, late = halves(days)
    c1, c2 = np.zeros((R, 6)), np.zeros((R, 6))
    np.add.at(c1, (rows[early], zone[early]), 1)
    np.add.at(c2, (rows[late], zone[late]), 1)
    n1, n2 = c1.sum(axis=1), c2.sum(axis=1)
    keep = (n1 >= 50) & (n2 >= 50)
    if keep.sum() < 10:
        return np.inf
    c1, c2, n1, n2 = c1[keep], c2[keep], n1[keep, None], n2[keep, None]
    p = (c1 + c2) / (n1 + n2)
    seen = ((c2 / n2 - c1 / n1) ** 2 / np.maximum(p * (1 - p), 1e-4)).mean()
    excess = seen - (1 / n1 + 1 / n2).mean()
    return 2 / excess - 1 if excess > 0 else np.inf


def zone_drift(zone: np.ndarray, expected: np.ndarray, days: np.ndarray) -> float:
    """sigma: the sd of the league's log zone ratio (shares taken over shares its shooters would take) between
    the halves of the records beyond the luck of the counts, one figure for the six zones."""
    early, late = halves(days)
    ratios, luck = [], []
    for half in (early, late):
        taken = np.bincount(zone[half], minlength=6).astype(np.float64)
        ratios.append(np.log((taken + 0.5) / (expected[half].sum(axis=0) + 0.5)))
        luck.append(1 / (taken + 0.5))
    excess = float(((ratios[1] - ratios[0]) ** 2 - luck[0] - luck[1]).mean())
    return float(np.sqrt(excess / 2)) if excess > 0 else 0.0


def defense_drift(defense: np.ndarray, zone: np.ndarray, expected: np.ndarray, days: np.ndarray, D: int) -> float:
    """delta: the sd of a defense's log zone ratio between the halves of the records beyond the luck of the
    counts: Var(log r2 - log r1) = 1/a1 + 1/a2 + 2 delta^2 (Poisson counts a, r = a / expected)."""
    early, late = halves(days)
    known = defense < D
    ratios, luck = [], []
    for half in (early & known, late & known):
        allowed, wanted = np.zeros((D, 6)), np.zeros((D, 6))
        np.add.at(allowed, (defense[half], zone[half]), 1)
        np.add.at(wanted, defense[half], expected[half])
        ratios.append(np.log((allowed + 0.5) / (wanted + 0.5)))
        luck.append(1 / (allowed + 0.5))
    difference = ratios[1] - ratios[0]
    difference -= difference.mean(axis=0)  # a shift of every defense alike is the league's, not theirs
    excess = (difference ** 2 - luck[0] - luck[1]).mean()
    return float(np.sqrt(excess / 2)) if excess > 0 else 0.0


def make_level(logits: np.ndarray, made: np.ndarray, days: np.ndarray) -> tuple[float, float]:
    """(level, sd): the league's make logit offset now, the records' recent weeks weighted most (a half-life of
    LEVEL_HALF_LIFE days before their last date), and the sd of that level between the records' 2-week blocks
    beyond their luck (a simulated season's level is drawn around `level` with it)."""
    ok = np.isfinite(days)
    logits, made, days = logits[ok], made[ok], days[ok]
    weight = 0.5 ** ((days.max() - days) / LEVEL_HALF_LIFE)
    level = 0.0
    for _ in range(20):
        p = expit(logits + level)
        level += float((weight * (made - p)).sum() / max((weight * p * (1 - p)).sum(), 1e-9))
    block = ((days - days.min()) // 14).astype(np.int64)
    estimates, variances = [], []
    for b in np.unique(block):
        at = block == b
        if at.sum() < 2000:
            continue
        p = expit(logits[at])
        information = float((p * (1 - p)).sum())
        estimates.append(float((made[at] - p).sum()) / information)
        variances.append(1 / information)
    if len(estimates) < 3:
        return level, 0.0
    excess = float(np.var(estimates, ddof=1) - np.mean(variances))
    return level, float(np.sqrt(excess)) if excess > 0 else 0.0
