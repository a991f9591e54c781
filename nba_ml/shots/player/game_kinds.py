"""The kind of shot in the game tables: each player's ACTION_TYPE family given where he shoots, and what the family
does to his make probability there (nba_ml.shots.player.game_tables; called by game_fit).

    kinds = fit_kinds(observed, records, heave, rows, cells, bucket, labels, R, position_groups, notes)
    family_make = family_make_effects(cells, family, made)          # (CELLS, F) logit effects
    shift = make_shift_of(kinds, labels, base, family_make)         # (R, CELLS) keeping his make probability
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

from ...errors import counted
from ..actions import FAMILIES, family_codes, named_by_a_rule
from ..court import ZONES
from ..moment import MOMENTS
from .game_tables import ACTION_PRIOR, BACKCOURT, BANDS, CELL_BAND, CELL_ZONE, CELLS, MAX_FEET

ACTION_CELL_STRENGTH = 10.0  # a cell's family mix: pseudo-shots of its 3-ft band's mix
ACTION_POSITION_STRENGTH = 50.0  # a position's mix in a cell: pseudo-shots of the league's
BANDS3 = len(ZONES) * 14  # zone x 3-ft bands of the distance (the last open): what a cell is shrunk toward
CELL_BAND3 = CELL_ZONE * 14 + np.minimum((np.arange(CELLS) % (MAX_FEET + 1)) // 3, 13)  # each cell's band
BAND3_ZONE = np.arange(BANDS3) // 14  # each band's zone
ACTION_PLAYER_STRENGTH = ACTION_PRIOR  # his ratio per family: pseudo-shots of the expected
ACTION_BAND_STRENGTH = 20.0  # ... per band, on top
ACTION_MOMENT_STRENGTH = 5.0
FAMILY_MAKE_STRENGTH = 100.0  # a (cell, family) make rate: pseudo-shots of the cell's rate
CELL_MAKE_STRENGTH = 20.0  # a cell's make rate: pseudo-shots of its 3-ft band's


def fit_kinds(observed, records, heave, rows, cells, bucket, labels, R, position_groups, notes) -> dict:
    """The kind-of-shot tables (module docstring of game_tables)."""
    F, G = len(FAMILIES), len(position_groups)
    text = observed["ACTION_TYPE"].astype("string").fillna("").to_numpy()
    action = text[records.source]
    family = family_codes(action).astype(np.int64)
    unnamed = sorted({a for a in set(action) if not named_by_a_rule(a)})
    if unnamed:
        notes.append(f"{counted(len(unnamed), 'ACTION_TYPE string')} no family rule names (e.g. {unnamed[0]!r}): "
                     "kept as jump shots")
    # the league's mix per cell, shrunk toward its 3-ft band's, shrunk toward its zone's
    zone_of_cell = CELL_ZONE
    by_zone = _shrunk_counts(zone_of_cell[cells], family, len(ZONES), np.full(F, 1.0 / F), 1.0)
    by_band = _shrunk_counts(CELL_BAND3[cells], family, BANDS3, by_zone[BAND3_ZONE], ACTION_CELL_STRENGTH)
    league = _shrunk_counts(cells, family, CELLS, by_band[CELL_BAND3], ACTION_CELL_STRENGTH)
    table = np.empty((G + 1, CELLS, F))
    table[G] = league
    shot_labels = labels[rows]
    for g in range(G):
        at = shot_labels == g
        table[g] = _shrunk_counts(cells[at], family[at], CELLS, league, ACTION_POSITION_STRENGTH)
    expected_table = table[np.where(shot_labels >= 0, shot_labels, G), cells]  # (n, F)
    taken = np.zeros((R, F))
    np.add.at(taken, (rows, family), 1)
    expected = np.zeros((R, F))
    np.add.at(expected, rows, expected_table)
    tilt = np.log((taken + ACTION_PLAYER_STRENGTH) / (expected + ACTION_PLAYER_STRENGTH))
    now = expected_table * np.exp(tilt[rows])
    now /= now.sum(axis=1, keepdims=True)
    band = CELL_BAND[cells]
    taken_b, expected_b = np.zeros((R, BANDS, F)), np.zeros((R, BANDS, F))
    np.add.at(taken_b, (rows, band, family), 1)
    np.add.at(expected_b, (rows, band), now)
    band_tilt = np.log((taken_b + ACTION_BAND_STRENGTH) / (expected_b + ACTION_BAND_STRENGTH))
    now = now * np.exp(band_tilt[rows, band])
    now /= now.sum(axis=1, keepdims=True)
    moment = np.zeros((MOMENTS, F))
    for b in range(MOMENTS):
        at = bucket == b
        moment[b] = np.log((np.bincount(family[at], minlength=F) + ACTION_MOMENT_STRENGTH)
                           / (now[at].sum(axis=0) + ACTION_MOMENT_STRENGTH))
    # the strings: per family and zone, the league's mix (backcourt heaves included)
    heave_text = text[heave]
    all_text = np.concatenate([action, heave_text])
    all_family = np.concatenate([family, family_codes(heave_text).astype(np.int64)])
    all_zone = np.concatenate([CELL_ZONE[cells], np.full(len(heave_text), BACKCOURT)])
    types, type_code = np.unique(all_text, return_inverse=True)
    type_family = family_codes(types).astype(np.int64)
    T = len(types)
    unnamed_family = ~np.isin(np.arange(F), type_family)  # a family no string of the records is in: never drawn
    table[..., unnamed_family] = 0.0
    table /= table.sum(axis=2, keepdims=True)
    type_counts = np.zeros((F, len(ZONES), T))
    np.add.at(type_counts, (all_family, all_zone, type_code), 1)
    overall = type_counts.sum(axis=1, keepdims=True) + (type_family[None, None, :] == np.arange(F)[:, None, None])
    overall[unnamed_family] = 1.0  # (never drawn: any mix)
    type_table = type_counts + overall / overall.sum(axis=2, keepdims=True)  # one pseudo-shot of the family's mix
    type_table /= type_table.sum(axis=2, keepdims=True)
    return {"family": family, "table": table.astype(np.float32), "tilt": tilt.astype(np.float32),
            "taken": taken.astype(np.float32), "expected": expected.astype(np.float32),
            "band_tilt": band_tilt.astype(np.float32), "moment": moment, "type_table": type_table.astype(np.float32),
            "types": tuple(str(t) for t in types)}


def _shrunk_counts(keys: np.ndarray, family: np.ndarray, n: int, prior: np.ndarray, strength: float) -> np.ndarray:
    """(n, F) each key's family mix: its counts plus `strength` pseudo-shots of `prior` (one row per key, or one row)."""
    counts = np.zeros((n, len(FAMILIES)))
    np.add.at(counts, (keys, family), 1)
    return (counts + strength * prior) / (counts.sum(axis=1, keepdims=True) + strength)


def cell_logit_of(cells: np.ndarray, made: np.ndarray) -> np.ndarray:
    """(CELLS,) the logit of each cell's make rate, shrunk toward its 3-ft band's, shrunk toward its zone's."""
    y = made.astype(np.float64)
    zone_rate = (np.bincount(CELL_ZONE[cells], y, len(ZONES)) + 1) / (np.bincount(CELL_ZONE[cells], None, len(ZONES)) + 2)
    n3, y3 = np.bincount(CELL_BAND3[cells], None, BANDS3), np.bincount(CELL_BAND3[cells], y, BANDS3)
    rate3 = (y3 + CELL_MAKE_STRENGTH * zone_rate[BAND3_ZONE]) / (n3 + CELL_MAKE_STRENGTH)
    n, made_n = np.bincount(cells, None, CELLS), np.bincount(cells, y, CELLS)
    rate = (made_n + CELL_MAKE_STRENGTH * rate3[CELL_BAND3]) / (n + CELL_MAKE_STRENGTH)
    return logit(np.clip(rate, 1e-4, 1 - 1e-4))


def family_make_effects(cells: np.ndarray, family: np.ndarray, made: np.ndarray) -> np.ndarray:
    """(CELLS, F) the logit of each (cell, family) make rate, shrunk toward the cell's, less the cell's."""
    cell_logit = cell_logit_of(cells, made)
    F = len(FAMILIES)
    key = cells * F + family
    n, y = np.bincount(key, None, CELLS * F), np.bincount(key, made.astype(np.float64), CELLS * F)
    rate = (y + FAMILY_MAKE_STRENGTH * np.repeat(expit(cell_logit), F)) / (n + FAMILY_MAKE_STRENGTH)
    return (logit(np.clip(rate, 1e-4, 1 - 1e-4)).reshape(CELLS, F) - cell_logit[:, None]).astype(np.float32)


def make_shift_of(kinds: dict, labels: np.ndarray, base: np.ndarray, family_make: np.ndarray) -> np.ndarray:
    """(R, CELLS) the shift c solving sum_f P(f | his cell) sigmoid(base + A_f - c) = sigmoid(base) (Newton)."""
    G = kinds["table"].shape[0] - 1
    table = kinds["table"][np.where(labels >= 0, labels, G)].astype(np.float64)  # (R, CELLS, F)
    p = table * np.exp(kinds["tilt"][:, None, :] + kinds["band_tilt"][:, CELL_BAND, :])
    p /= p.sum(axis=2, keepdims=True)
    target = expit(base)
    shift = np.zeros_like(base)
    for _ in range(8):
        q = expit(base[..., None] + family_make[None].astype(np.float64) - shift[..., None])
        value = (p * q).sum(axis=2) - target
        slope = (p * q * (1 - q)).sum(axis=2)
        shift += value / np.maximum(slope, 1e-12)
    return shift
