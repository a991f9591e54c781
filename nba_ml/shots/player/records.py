"""Players' records: the frames a user gives (shots of given players, a list of players) checked once and
turned into per-player arrays that the location posterior and the make model read.

    records = player_records(observed, position_groups, players=None, target_season=None)
    records.table        # one row per player, every player of `observed` and `players`, in order of first appearance
    records.dropped      # rows not used, per reason (counted, never silent)

Every player of the input is a row of `table`, whatever became of his shots: a player whose shots
were all off the court, had no coordinates or no usable outcome keeps his row with SHOTS 0 (he gets
his position's prior) and a NOTE saying why. Ids keep their type and spelling: strings stay strings,
integers stay integers, integral floats (1630162.0, as CSV readers give for a column with gaps)
become integers, and a number that is no 64-bit integer (203078.5, 2**70) becomes its text; 203078
and '203078' are two players (a warning names such pairs). A player listed under two position groups gets the one most of his rows give
(ties: the first in the model's order G, F, C), with one warning naming him.

Seasons. With a SEASON column each shot knows its season; `target_season` is the season the profiles
are for (default: the newest season in the record). A shot's age is the number of seasons between its
season and the target ('2017-18' -> '2022-23' is 5); seasons that are not spelled YYYY-YY (or YYYY) are
0 seasons apart when equal and 1 otherwise. Without a SEASON column every shot is of the target season.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd

from ...errors import InputError, counted
from ...frames import require_columns
from ..charts import on_grid

# Keys of PlayerRecords.dropped: observed rows not used (each row counted once, under its first reason).
NO_PLAYER_ID = "shots/missing_player_id"
OFF_COURT = "shots/off_grid_or_non_finite"
BAD_MADE_FLAG = "makes/invalid_made_flag"  # the row's location is used, its outcome is not

SEASON_PATTERN = re.compile(r"^\s*(\d{4})(?:-(\d{2}|\d{4}))?\s*$")


@dataclass(frozen=True)
class PlayerRecords:
    """Per-player records. `table`: PLAYER_ID, POSITION_GROUP, LABEL (index into the position groups, -1
    unknown), SHOTS (usable locations), OUTCOMES (usable locations with a 0/1 outcome), NOTE. Shot arrays,
    grouped by player in table order: `player` (row of table), `x`, `y` (tenths of a foot), `made` (1, 0,
    or -1 without a usable outcome), `season` (the shot's SEASON as text; None: the target season), `age`
    (seasons between it and the target season), `source` (the row of `observed` each shot is)."""

    table: pd.DataFrame
    player: np.ndarray
    x: np.ndarray
    y: np.ndarray
    made: np.ndarray
    season: np.ndarray
    age: np.ndarray
    dropped: dict[str, int]
    has_outcomes: bool  # the record had a SHOT_MADE_FLAG column
    target_season: Optional[str]
    source: Optional[np.ndarray] = None

    @property
    def player_ids(self) -> list:
        return self.table["PLAYER_ID"].tolist()


def normalise_ids(ids: pd.Series) -> pd.Series:
    """Player ids with their type kept: 64-bit integers (integral floats too) -> int, strings as given; a number
    that is no 64-bit integer (203078.5, 2**70) -> its text, as written ('203078.5'); '', NaN and infinities ->
    missing."""
    values = ids.astype(object).where(ids.notna(), None)

    def one(value):
        if value is None:
            return None
        if isinstance(value, (bool, np.bool_)):
            return int(value)
        if isinstance(value, (float, np.floating)):
            if not np.isfinite(value):
                return None
            value = int(value) if float(value).is_integer() else value
        if isinstance(value, (int, np.integer)):
            return int(value) if -(2 ** 63) <= int(value) < 2 ** 63 else str(int(value))
        if isinstance(value, (float, np.floating)):
            return str(float(value))
        if isinstance(value, str):
            return value if value.strip() else None
        return value

    return pd.Series(_per_distinct(values, one), index=ids.index, dtype=object)


def _per_distinct(values, function) -> np.ndarray:
    """function(value) for each of `values` (an object array or Series; missing ones as None), computed once per
    distinct value: pd.factorize groups equal values (1, 1.0 and True alike), which every caller maps alike."""
    codes, distinct = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    mapped = np.empty(len(distinct) + 1, dtype=object)
    for k, value in enumerate(distinct):
        mapped[k] = function(value)
    mapped[-1] = function(None)  # code -1: missing
    return mapped[codes]


def season_start(season) -> Optional[int]:
    """2022 for '2022-23' (or '2022'); None for a season not spelled so."""
    match = SEASON_PATTERN.match(str(season)) if season is not None else None
    return int(match.group(1)) if match else None


def season_age(season, target) -> int:
    """Seasons from `season` to `target` (absolute); 0 / 1 for equal / unequal seasons of other spellings."""
    if season is None or target is None or str(season) == str(target):
        return 0
    start, target_start = season_start(season), season_start(target)
    if start is None or target_start is None:
        return 1
    return abs(target_start - start)


def newest_season(seasons) -> Optional[str]:
    """The newest of `seasons` (by start year when spelled YYYY-YY, else the last in sorted order)."""
    distinct = pd.unique(np.asarray(seasons, dtype=object))
    known = sorted({str(s) for s in distinct if s is not None and not (isinstance(s, float) and np.isnan(s))})
    if not known:
        return None
    return max(known, key=lambda s: (season_start(s) if season_start(s) is not None else -1, s))


def _check_groups(frame: pd.DataFrame, name: str, position_groups: tuple[str, ...]) -> pd.Series:
    """POSITION_GROUP as strings or missing ('' counts as missing); InputError for values not in the groups."""
    if "POSITION_GROUP" not in frame:
        return pd.Series(None, index=frame.index, dtype=object)
    groups = frame["POSITION_GROUP"].astype(object).where(frame["POSITION_GROUP"].notna(), None)
    groups = pd.Series(_per_distinct(groups, lambda g: None if g is None or (isinstance(g, str) and not g.strip())
                                     else str(g).strip()), index=frame.index, dtype=object)
    unknown = sorted({g for g in groups.dropna() if g not in position_groups})
    if unknown:
        raise InputError(f"{name}: column POSITION_GROUP has unknown value(s) {unknown[:5]}; expected one of "
                         f"{list(position_groups)} or empty (unknown position: the label-frequency mixture)")
    return groups


def player_records(observed: pd.DataFrame, position_groups: tuple[str, ...], *,
                   players: Optional[pd.DataFrame] = None, target_season: Optional[str] = None) -> PlayerRecords:
    """Check `observed` (PLAYER_ID, LOC_X, LOC_Y [, POSITION_GROUP, SHOT_MADE_FLAG, SEASON]) and `players`
    (PLAYER_ID [, POSITION_GROUP]) and group their usable shots by player (module docstring)."""
    require_columns(observed, ("PLAYER_ID", "LOC_X", "LOC_Y"), "observed")
    if players is not None:
        require_columns(players, ("PLAYER_ID",), "players")
    ids = normalise_ids(observed["PLAYER_ID"]).to_numpy()
    groups = _check_groups(observed, "observed", position_groups).to_numpy()
    x = pd.to_numeric(observed["LOC_X"], errors="coerce").to_numpy(np.float64)
    y = pd.to_numeric(observed["LOC_Y"], errors="coerce").to_numpy(np.float64)
    has_id = np.array([i is not None for i in ids], dtype=bool)
    usable = has_id & np.isfinite(x) & np.isfinite(y) & on_grid(x, y)
    made = _made_flags(observed)
    dropped = {NO_PLAYER_ID: int((~has_id).sum()), OFF_COURT: int((has_id & ~usable).sum()),
               BAD_MADE_FLAG: int((usable & (made < 0)).sum()) if "SHOT_MADE_FLAG" in observed else 0}

    people_ids, people_groups = list(ids[has_id]), list(groups[has_id])
    if players is not None:
        extra = normalise_ids(players["PLAYER_ID"])
        extra_groups = _check_groups(players, "players", position_groups)
        keep = extra.notna().to_numpy()
        people_ids += list(extra.to_numpy()[keep])
        people_groups += list(extra_groups.to_numpy()[keep])
    table = _player_table(people_ids, people_groups, position_groups)

    if target_season is None and "SEASON" in observed:
        target_season = newest_season(observed["SEASON"].to_numpy()[usable])
    row_of = {player_id: row for row, player_id in enumerate(table["PLAYER_ID"])}
    shot_rows = np.array([row_of[i] for i in ids[usable]], dtype=np.int64)
    order = np.argsort(shot_rows, kind="stable")  # grouped by player, each player's shots in record order
    if "SEASON" in observed:
        raw = observed["SEASON"].to_numpy()[usable][order]
        seasons = _per_distinct(raw, lambda s: None if s is None or pd.isna(s) or not str(s).strip() else str(s).strip())
    else:
        seasons = np.full(len(order), None, dtype=object)
    age = _per_distinct(seasons, lambda s: season_age(s, target_season)).astype(np.int64)
    player, made_used = shot_rows[order], made[usable][order]
    table["SHOTS"] = np.bincount(player, minlength=len(table))
    table["OUTCOMES"] = np.bincount(player[made_used >= 0], minlength=len(table))
    table["NOTE"] = _notes(table, ids, has_id, usable, made, "SHOT_MADE_FLAG" in observed)
    return PlayerRecords(table, player, x[usable][order], y[usable][order], made_used.astype(np.int8), seasons,
                         age, dropped, "SHOT_MADE_FLAG" in observed, None if target_season is None else str(target_season),
                         np.flatnonzero(usable)[order])


def _made_flags(observed: pd.DataFrame) -> np.ndarray:
    """1 / 0 per row, -1 where the outcome is missing or not 0/1 (or there is no SHOT_MADE_FLAG column)."""
    if "SHOT_MADE_FLAG" not in observed:
        return np.full(len(observed), -1, dtype=np.int64)
    flag = observed["SHOT_MADE_FLAG"]
    numbers = flag.astype("int64") if flag.dtype == bool else pd.to_numeric(flag, errors="coerce")
    numbers = numbers.to_numpy(np.float64)
    return np.where(numbers == 1, 1, np.where(numbers == 0, 0, -1)).astype(np.int64)


def _player_table(ids: list, groups: list, position_groups: tuple[str, ...]) -> pd.DataFrame:
    """One row per distinct id (first-appearance order) with the group most of his rows give (warned when two)."""
    unique = list(dict.fromkeys(ids))
    spelled: dict[str, list] = {}
    for player_id in unique:
        spelled.setdefault(str(player_id), []).append(player_id)
    alike = [found for found in spelled.values() if len(found) > 1]
    if alike:  # 203078 and '203078' are two players: say so, since one is most likely meant
        shown = ", ".join(" and ".join(repr(i) for i in found) for found in alike[:3])
        warnings.warn(f"{counted(len(alike), 'id')} spelled alike as a number and as text: {shown}"
                      f"{' ...' if len(alike) > 3 else ''}; they are different players (a shot file with one id that is "
                      "no 64-bit integer, such as 'P203078' or 203078.5, reads every id of its column as text)")
    row_of = {player_id: row for row, player_id in enumerate(unique)}
    rank = {group: i for i, group in enumerate(position_groups)}
    label = np.array([rank.get(g, -1) if g is not None else -1 for g in groups], dtype=np.int64)
    rows = np.array([row_of[i] for i in ids], dtype=np.int64)
    known = label >= 0
    counts = np.bincount(rows[known] * len(position_groups) + label[known],
                         minlength=len(unique) * len(position_groups)).reshape(len(unique), len(position_groups))
    chosen = np.where(counts.sum(axis=1) > 0, counts.argmax(axis=1), -1)  # the most rows; ties: the first group
    for row in np.flatnonzero((counts > 0).sum(axis=1) > 1):
        order = sorted(range(len(position_groups)), key=lambda g: (-counts[row, g], g))
        listed = ", ".join(f"{position_groups[g]} ({counted(int(counts[row, g]), 'row')})" for g in order if counts[row, g])
        warnings.warn(f"player {unique[row]!r} is listed under {int((counts[row] > 0).sum())} position groups: "
                      f"{listed}; using {position_groups[chosen[row]]} (the most rows; ties: the order "
                      f"{'/'.join(position_groups)})")
    table = pd.DataFrame({"PLAYER_ID": pd.Series(unique, dtype=object)})
    table["POSITION_GROUP"] = pd.Series([position_groups[c] if c >= 0 else None for c in chosen], dtype=object)
    table["LABEL"] = chosen
    return table


def _notes(table: pd.DataFrame, ids: np.ndarray, has_id: np.ndarray, usable: np.ndarray, made: np.ndarray,
           has_flag: bool) -> list[str]:
    """Why a player's record gives less than it might: '' when all is well."""
    rows = pd.DataFrame({"PLAYER_ID": pd.Series(ids[has_id], dtype=object), "USABLE": usable[has_id]})
    listed = rows.groupby("PLAYER_ID", sort=False)["USABLE"].agg(["size", "sum"])
    notes = []
    for player_id, shots, outcomes in zip(table["PLAYER_ID"], table["SHOTS"], table["OUTCOMES"]):
        rows_listed = int(listed["size"].get(player_id, 0))
        if rows_listed == 0:
            note = "no shots on record: his position's prior"
        elif shots == 0:
            where = "his one shot row is not" if rows_listed == 1 else f"none of his {rows_listed:,} shot rows is"
            note = f"{where} on the half court with coordinates: his position's prior"
        elif has_flag and outcomes < shots:
            note = f"no 0/1 SHOT_MADE_FLAG on {shots - outcomes:,} of his {counted(shots, 'shot')}: locations only"
        else:
            note = ""
        notes.append(note)
    return notes
