"""The situations a simulator asks shots for, checked once where they enter.

    situations = read_situations(frame, profiles, shots=False)   # PLAYER_ID [, POSITION_GROUP, DEFENSE, PERIOD, SECONDS_LEFT]

One row per shot to draw (or to answer): who shoots (PLAYER_ID), his POSITION_GROUP (used for a player the
profiles do not hold: his position's prior, the league's without one), the DEFENSE (the opposing team's
name as the records spell it: TEAM_ABBREVIATION, HTM, VTM), the PERIOD (1-4, 5 and on: overtime) and the
SECONDS_LEFT in it (0-720, 0-300 in overtime). Without a DEFENSE column every defense is the league's; without
PERIOD and SECONDS_LEFT every shot comes before the last 24 seconds of a period. With `shots=True` the rows are
shots already placed: LOC_X, LOC_Y (tenths of a foot) too, and ACTION_FAMILY or ACTION_TYPE when asked.

A player or a defense the profiles do not hold is answered from his position's (the league's) and counted in
one warning; a missing PLAYER_ID, a PERIOD below 1 or a SECONDS_LEFT outside its period is refused in one line
naming the column and the rows.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd

from ...errors import InputError, counted
from ..actions import FAMILIES, family_codes
from ..moment import MOMENTS, bad_moments, moment_bucket, seconds_left
from .records import normalise_ids


@dataclass(frozen=True)
class Situations:
    """The checked situations: per row its PLAYER_ID (as the profiles spell ids), profile row, position label (-1:
    unknown), defense row (D: the league's) and moment bucket; for placed shots, LOC_X, LOC_Y and the family."""

    frame: pd.DataFrame
    ids: np.ndarray
    rows: np.ndarray
    labels: np.ndarray
    defense: np.ndarray
    bucket: np.ndarray
    x: Optional[np.ndarray] = None
    y: Optional[np.ndarray] = None
    family: Optional[np.ndarray] = None


def read_situations(frame, profiles, *, shots: bool = False, family: bool = False) -> Situations:
    """Check `frame` (module docstring) against `profiles` and resolve every row."""
    if isinstance(frame, dict):
        frame = pd.DataFrame({k: v if np.ndim(v) else [v] for k, v in frame.items()})
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"situations must be a pandas DataFrame (or a dict of columns), got {type(frame).__name__}")
    needed = ["PLAYER_ID"] + (["LOC_X", "LOC_Y"] if shots else [])
    missing = [c for c in needed if c not in frame.columns]
    if family and "ACTION_FAMILY" not in frame.columns and "ACTION_TYPE" not in frame.columns:
        missing.append("ACTION_FAMILY (or ACTION_TYPE)")
    if missing:
        raise InputError(f"situations: missing column(s) {missing}; expected PLAYER_ID [, POSITION_GROUP, DEFENSE, "
                         f"PERIOD, SECONDS_LEFT]{', LOC_X, LOC_Y' if shots else ''}")
    n = len(frame)
    ids = normalise_ids(frame["PLAYER_ID"]).to_numpy() if n else np.zeros(0, dtype=object)
    _refuse("PLAYER_ID", pd.isna(pd.Series(ids, dtype=object)).to_numpy(), "a player id")

    bucket = np.full(n, MOMENTS - 1, dtype=np.int64)
    has_period, has_seconds = "PERIOD" in frame, "SECONDS_LEFT" in frame
    if has_period != has_seconds:
        raise InputError(f"situations: {'PERIOD' if has_period else 'SECONDS_LEFT'} without "
                         f"{'SECONDS_LEFT' if has_period else 'PERIOD'}; give both, or neither (an ordinary moment)")
    if has_period:
        period = pd.to_numeric(frame["PERIOD"], errors="coerce").to_numpy(np.float64)
        seconds = seconds_left(frame).to_numpy(np.float64)
        bad = bad_moments(period, seconds)
        _refuse("PERIOD", bad["PERIOD"], "a whole number from 1")
        _refuse("SECONDS_LEFT", bad["SECONDS_LEFT"], "seconds left in the period: 0-720, 0-300 in overtime")
        bucket = moment_bucket(seconds).astype(np.int64)

    groups = profiles.position_groups
    if "POSITION_GROUP" in frame:
        given = _text(frame["POSITION_GROUP"], strip=True)
        wrong = sorted({g for g in given if g and g not in groups})
        if wrong:
            raise InputError(f"situations: POSITION_GROUP {wrong[:5]} is not among the profiles' groups "
                             f"{list(groups)} (or empty: unknown)")
        labels = pd.Index(list(groups)).get_indexer(given).astype(np.int64)  # '' (unknown): -1
    else:
        labels = np.full(n, -1, dtype=np.int64)
    rows, known = profiles.situation_rows(ids, labels)
    labels = np.where(known, profiles.labels_of(rows), labels)

    game = profiles.game
    if "DEFENSE" in frame and game is not None:
        names = _text(frame["DEFENSE"])
        defense = game.defense_rows(names)
        unknown_defense = (defense == len(game.defenses)) & (names != "")  # a missing DEFENSE: unknown, not warned
    else:
        defense = np.full(n, len(game.defenses) if game is not None else 0, dtype=np.int64)
        unknown_defense = np.zeros(n, dtype=bool)
    if "DEFENSE" in frame and game is not None and not game.defenses and n:
        unknown_defense[:] = False  # profiles without defenses: every defense is the league's, said at build
    _warn_unknown(ids[~known], frame["DEFENSE"].to_numpy()[unknown_defense] if unknown_defense.any() else [])

    x = y = fam = None
    if shots:
        x = pd.to_numeric(frame["LOC_X"], errors="coerce").to_numpy(np.float64)
        y = pd.to_numeric(frame["LOC_Y"], errors="coerce").to_numpy(np.float64)
        _refuse("LOC_X", ~np.isfinite(x), "a number (tenths of a foot)")
        _refuse("LOC_Y", ~np.isfinite(y), "a number (tenths of a foot)")
    if family:
        if "ACTION_FAMILY" in frame:
            text = _text(frame["ACTION_FAMILY"])
            index = {name: i for i, name in enumerate(FAMILIES)}
            fam = np.array([index.get(t, -1) for t in text], dtype=np.int64)
            _refuse("ACTION_FAMILY", fam < 0, f"one of {list(FAMILIES)}")
        else:
            fam = family_codes(_text(frame["ACTION_TYPE"])).astype(np.int64)
    return Situations(frame, ids, rows, labels, defense, bucket, x, y, fam)


def _text(values: pd.Series, *, strip: bool = False) -> np.ndarray:
    """Each value as text (object array), '' where missing; each distinct value converted once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = np.array([str(u).strip() if strip else str(u) for u in uniques] + [""], dtype=object)
    return text[codes]  # code -1 (missing) takes the last: ''


def _refuse(column: str, bad: np.ndarray, expected: str) -> None:
    if bad.any():
        where = np.flatnonzero(bad)
        shown = ", ".join(str(i) for i in where[:5]) + (" ..." if len(where) > 5 else "")
        raise InputError(f"situations: {column}: expected {expected}; {counted(len(where), 'row')} without "
                         f"(positions {shown})")


def _warn_unknown(players: np.ndarray, defenses) -> None:
    parts = []
    if len(players):
        distinct = list(dict.fromkeys(players.tolist()))
        parts.append(f"{counted(len(players), 'situation')} of {counted(len(distinct), 'player')} the profiles do not "
                     f"hold (e.g. {distinct[0]!r}): his position's profile, the league's without a POSITION_GROUP")
    if len(defenses):
        distinct = list(dict.fromkeys(str(d) for d in defenses))
        parts.append(f"{counted(len(defenses), 'situation')} against {counted(len(distinct), 'defense')} the profiles "
                     f"do not hold (e.g. {distinct[0]!r}): the league's defense")
    if parts:
        warnings.warn("; ".join(parts), stacklevel=4)
