"""Player profiles on disk: profiles.json (players, settings), profiles.pt (tensors only), table.csv and (with
defenses) defenses.csv, in a directory written whole (nba_ml.io.atomic_directory), and checked at load as a model
file is (the CSVs are for people: load reads neither).

    write_profiles(directory, meta, tensors, tables)  # replaces only an empty or earlier profiles directory
    meta, tensors = read_profiles(directory)          # every field checked; ModelFileError naming file and field

What load checks: the JSON's fields (pydantic, strict: a seed of "abc" or a count of -1 is refused), ids
unique and one per player, groups among the profiles' own; every tensor there, of its dtype and shape,
finite, and in its range (TENSORS): weights and shares in [0, 1], indices within what they index,
offsets that split the record cells, a covariance that is one (symmetric, positive definite).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Annotated, Any, Callable, Literal, Optional, Union

import torch
from pydantic import (BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, ValidationInfo,
                      field_validator, model_validator)

from ...errors import InputError, ModelFileError, OutputError, counted, format_validation_error, one_line
from ...io import SavedDirectory, atomic_directory, check_replaceable_directory, read_tensors, save_tensors
from ..actions import FAMILIES
from ..court import ZONES
from ..moment import MOMENTS
from .game_tables import BANDS, CELLS, DEFENSE_RECORD
from .make_model import TABLE_SHAPE, ZONE_COUNT

FORMAT_VERSION = 3  # 2: priors and the game tables (defenses, moments, kinds of shot); 3: what defenses allowed
META_FILE, TENSORS_FILE, TABLE_FILE, DEFENSES_FILE = "profiles.json", "profiles.pt", "table.csv", "defenses.csv"
PROFILES_DIRECTORY = SavedDirectory("profiles", META_FILE, (TENSORS_FILE, TABLE_FILE, DEFENSES_FILE))
INT64 = (-(2 ** 63), 2 ** 63 - 1)
MAKE_TENSORS = ("skill_mean", "skill_cov", "group", "surface", "league_fg")  # all of them, or none (no make model)


class PlayerRow(BaseModel):
    """A row of the players table as saved (the posterior's diagnostics ride along, unchecked)."""

    model_config = ConfigDict(extra="allow")

    POSITION_GROUP: Optional[StrictStr]
    LABEL: StrictInt = Field(ge=-1)  # his row of position_groups, -1: unknown
    SHOTS: StrictInt = Field(ge=0)
    OUTCOMES: StrictInt = Field(ge=0)
    NOTE: StrictStr

    @model_validator(mode="after")
    def _outcomes_of_shots(self) -> "PlayerRow":
        if self.OUTCOMES > self.SHOTS:
            raise ValueError(f"OUTCOMES ({self.OUTCOMES}) exceeds SHOTS ({self.SHOTS})")
        return self


PlayerId = Union[StrictInt, StrictStr]


class GameMeta(BaseModel):
    """The game tables' settings and names (their arrays are in profiles.pt, as game.<name>)."""

    model_config = ConfigDict(extra="forbid")

    zone_strength: float = Field(ge=0, allow_inf_nan=False)
    backcourt_make: float = Field(allow_inf_nan=False)
    share_drift: float = Field(gt=0)  # inf: none
    defense_drift: float = Field(ge=0, le=5, allow_inf_nan=False)
    defense_make_drift: float = Field(ge=0, le=5, allow_inf_nan=False)
    zone_drift: float = Field(ge=0, le=5, allow_inf_nan=False)
    make_level: float = Field(ge=-5, le=5, allow_inf_nan=False)
    level_sd: float = Field(ge=0, le=5, allow_inf_nan=False)
    defenses: list[StrictStr]
    action_types: list[StrictStr]
    settings: dict[str, Any]

    @field_validator("defenses")
    @classmethod
    def _distinct_defenses(cls, names: list[str]) -> list[str]:
        if len(set(names)) != len(names):
            raise ValueError("must be distinct names")
        return names


class ProfilesMeta(BaseModel):
    """profiles.json."""

    model_config = ConfigDict(extra="forbid")

    format: Literal[3]
    position_groups: list[StrictStr] = Field(min_length=1)
    priors: list[Optional[StrictStr]] = []  # the group of each prior row after the players' (None: the league's)
    game: Optional[GameMeta] = None
    blur: float = Field(ge=0, allow_inf_nan=False)
    target_season: Optional[StrictStr]
    seed: Optional[StrictInt] = Field(ge=0)
    dropped: dict[str, Annotated[StrictInt, Field(ge=0)]]
    players: list[PlayerRow]
    player_ids: list[PlayerId]

    @field_validator("position_groups")
    @classmethod
    def _distinct_groups(cls, groups: list[str]) -> list[str]:
        if len(set(groups)) != len(groups) or not all(g.strip() for g in groups):
            raise ValueError("must be distinct names")
        return groups

    @field_validator("priors")
    @classmethod
    def _prior_groups(cls, priors: list, info: ValidationInfo) -> list:
        groups = info.data.get("position_groups", [])
        if priors and priors != [*groups, None]:
            raise ValueError(f"expected one prior per position group, then the league's: {[*groups, None]}")
        return priors

    @field_validator("players")
    @classmethod
    def _known_groups(cls, players: list[PlayerRow], info: ValidationInfo) -> list[PlayerRow]:
        groups = info.data.get("position_groups", [])
        unknown = sorted({p.POSITION_GROUP for p in players if p.POSITION_GROUP not in (None, *groups)})
        if unknown:
            raise ValueError(f"POSITION_GROUP {unknown} is not among position_groups {groups}")
        if any(p.LABEL != (groups.index(p.POSITION_GROUP) if p.POSITION_GROUP is not None else -1) for p in players):
            raise ValueError("a LABEL is not the row of its POSITION_GROUP in position_groups (-1: none)")
        return players

    @field_validator("player_ids")
    @classmethod
    def _one_id_per_player(cls, ids: list, info: ValidationInfo) -> list:
        players = info.data.get("players")
        if players is not None and len(ids) != len(players):
            raise ValueError(f"{counted(len(ids), 'id')} for {counted(len(players), 'player')}")
        bad = [i for i in ids if (isinstance(i, str) and not i.strip()) or (isinstance(i, int) and not INT64[0] <= i <= INT64[1])]
        if bad:
            raise ValueError(f"must be 64-bit integers or non-empty text, got {bad[:3]}")
        seen, twice = set(), {}
        for player_id in ids:  # 7 and '7' are two players (as everywhere in the package)
            key = (type(player_id), player_id)
            if key in seen:
                twice[key] = player_id
            seen.add(key)
        if twice:
            raise ValueError(f"must be distinct, got {list(twice.values())[:3]} more than once")
        return ids


# --- the tensors: name -> (dtype, shape from the sizes, a check of the values: None when fine, else the problem)

def _between(lo: float, hi: float) -> Callable[[torch.Tensor, dict], Optional[str]]:
    def check(t: torch.Tensor, sizes: dict) -> Optional[str]:
        if t.numel() and (bool((t < lo).any()) or bool((t > hi).any())):
            outside = t[(t < lo) | (t > hi)]
            return f"values outside [{lo:g}, {hi:g}] (e.g. {outside.flatten()[0].item():g})"
        return None
    return check


def _index(limit: Callable[[dict], int]) -> Callable[[torch.Tensor, dict], Optional[str]]:
    def check(t: torch.Tensor, sizes: dict) -> Optional[str]:
        return _between(0, limit(sizes) - 1)(t, sizes)
    return check


def _weights(t: torch.Tensor, sizes: dict) -> Optional[str]:
    if (problem := _between(0, 1)(t, sizes)) is not None:
        return problem
    sums = t.double().sum(dim=-1)
    if t.numel() and bool(((sums - 1).abs() > 1e-3).any()):
        return f"a chart's weights must sum to 1 (one sums to {sums[(sums - 1).abs() > 1e-3][0].item():g})"
    return None


def _maps(t: torch.Tensor, sizes: dict) -> Optional[str]:
    if t.numel() and (bool((t < 0).any()) or bool((t.flatten(1).sum(dim=1) <= 0).any())):
        return "each map must be a density: non-negative, with some mass"
    return None


def _offsets(t: torch.Tensor, sizes: dict) -> Optional[str]:
    if int(t[0]) != 0 or int(t[-1]) != sizes["M"] or bool((t[1:] < t[:-1]).any()):
        return f"must rise from 0 to the {sizes['M']:,} record cells"
    return None


def _covariance(t: torch.Tensor, sizes: dict) -> Optional[str]:
    if not torch.allclose(t, t.transpose(1, 2), rtol=1e-6, atol=1e-12):
        return "a covariance must be symmetric"
    if t.numel() and bool((torch.linalg.cholesky_ex(t).info != 0).any()):
        return "a covariance must be positive definite"
    return None


TENSORS: dict[str, tuple[torch.dtype, Callable[[dict], tuple], Optional[Callable]]] = {
    "maps": (torch.float32, lambda s: (s["K"], s["S"], s["S"]), _maps),
    "weights": (torch.float32, lambda s: (s["P"], s["C"], s["K"]), _weights),
    "labels": (torch.int64, lambda s: (s["P"], s["C"]), _index(lambda s: s["G"])),
    "record_share": (torch.float32, lambda s: (s["P"], s["C"]), _between(0, 1)),
    "record_cells": (torch.int64, lambda s: (s["M"],), _index(lambda s: s["S"] ** 2)),
    "record_weights": (torch.float32, lambda s: (s["C"], s["M"]), _between(0, 1)),
    "record_offsets": (torch.int64, lambda s: (s["P"] + 1,), _offsets),
    "skill_mean": (torch.float64, lambda s: (s["P"], ZONE_COUNT), None),
    "skill_cov": (torch.float64, lambda s: (s["P"], ZONE_COUNT, ZONE_COUNT), _covariance),
    "group": (torch.int64, lambda s: (s["P"],), _index(lambda s: s["G"] + 1)),
    "surface": (torch.float32, lambda s: (s["G"] + 1, *TABLE_SHAPE), None),
    "league_fg": (torch.float64, lambda s: (ZONE_COUNT,), _between(0, 1)),
}

_shares = _between(0, 1)
_positive = _between(1e-12, float("inf"))
_non_negative = _between(0, float("inf"))
# the game tables (GameTables' arrays), saved as game.<name>; R = P (every profile row), D defenses, T strings
GAME_TENSORS: dict[str, tuple[torch.dtype, Callable[[dict], tuple], Optional[Callable]]] = {
    "zone_counts": (torch.float32, lambda s: (s["P"], ZONE_COUNT), _non_negative),
    "chart_zone_mass": (torch.float32, lambda s: (s["P"], s["C"], ZONE_COUNT), _non_negative),
    "moment_zone": (torch.float64, lambda s: (MOMENTS, ZONE_COUNT), None),
    "backcourt_share": (torch.float64, lambda s: (MOMENTS,), _shares),
    "moment_make": (torch.float64, lambda s: (MOMENTS, 3), None),
    "moment_action": (torch.float64, lambda s: (MOMENTS, len(FAMILIES)), None),
    "action_table": (torch.float32, lambda s: (s["G"] + 1, CELLS, len(FAMILIES)), _shares),
    "action_tilt": (torch.float32, lambda s: (s["P"], len(FAMILIES)), None),
    "action_taken": (torch.float32, lambda s: (s["P"], len(FAMILIES)), _non_negative),
    "action_expected": (torch.float32, lambda s: (s["P"], len(FAMILIES)), _non_negative),
    "action_band_tilt": (torch.float32, lambda s: (s["P"], BANDS, len(FAMILIES)), None),
    "type_table": (torch.float32, lambda s: (len(FAMILIES), len(ZONES), max(s["T"], 1)), _shares),
    "family_make": (torch.float32, lambda s: (CELLS, len(FAMILIES)), None),
    "make_shift": (torch.float32, lambda s: (s["P"], CELLS), None),
    "placement": (torch.float32, lambda s: (s["G"] + 1, CELLS), _non_negative),
    "placement_mean": (torch.float32, lambda s: (s["P"], ZONE_COUNT), _positive),
    "backcourt_xy": (torch.float32, lambda s: (s["N"], 2), None),
    "defense_record": (torch.float64, lambda s: (s["D"], ZONE_COUNT, len(DEFENSE_RECORD)), _non_negative),
    "defense_shape": (torch.float64, lambda s: (s["D"], ZONE_COUNT), _positive),
    "defense_rate": (torch.float64, lambda s: (s["D"], ZONE_COUNT), _positive),
    "defense_make_mean": (torch.float64, lambda s: (s["D"], ZONE_COUNT), None),
    "defense_make_sd": (torch.float64, lambda s: (s["D"], ZONE_COUNT), _non_negative),
}


def check_tensors(saved: Any, meta: ProfilesMeta, where: str) -> dict[str, torch.Tensor]:
    """The saved tensors, each of its dtype, shape, finite and in range (TENSORS), or ModelFileError naming
    `where` and the tensor."""
    if not isinstance(saved, dict):
        raise ModelFileError(f"{where}: expected a mapping of names to tensors, got {type(saved).__name__}")
    makes = [name for name in MAKE_TENSORS if name in saved]
    required = [name for name in TENSORS if name not in MAKE_TENSORS] + (list(MAKE_TENSORS) if makes else [])
    missing = [name for name in required if name not in saved]
    if missing:
        raise ModelFileError(f"{where}: missing tensor(s) {missing}" + (" (a make model needs all of "
                             f"{list(MAKE_TENSORS)})" if makes else ""))
    game = {name.removeprefix("game."): t for name, t in saved.items() if isinstance(name, str) and name.startswith("game.")}
    saved = {name: t for name, t in saved.items() if not (isinstance(name, str) and name.startswith("game."))}
    unknown = sorted(str(name) for name in saved if name not in TENSORS)
    if unknown:
        raise ModelFileError(f"{where}: unknown tensor(s) {unknown}; expected {list(TENSORS)}")
    for name in required:
        if not isinstance(saved[name], torch.Tensor):
            raise ModelFileError(f"{where}: {name}: expected a tensor, got {type(saved[name]).__name__}")
    weights, maps, cells = saved["weights"], saved["maps"], saved["record_cells"]
    sizes = {"P": len(meta.players) + len(meta.priors), "G": len(meta.position_groups), "M": cells.shape[0] if cells.dim() == 1 else -1,
             "C": weights.shape[1] if weights.dim() == 3 else -1, "K": maps.shape[0] if maps.dim() == 3 else -1,
             "S": maps.shape[-1] if maps.dim() == 3 else -1}
    empty = [name for name, size in (("weights (charts)", sizes["C"]), ("maps", sizes["K"]), ("maps (grid)", sizes["S"]))
             if size < 1]
    if empty:
        raise ModelFileError(f"{where}: {empty[0]}: expected a tensor with at least one {empty[0].split()[-1].strip('()')}")
    counts = f"{len(meta.players)} players{f' and {len(meta.priors)} priors' if meta.priors else ''} in {META_FILE}"
    _check_each({name: saved[name] for name in required}, {name: TENSORS[name] for name in required}, sizes, where, "",
                f" ({counts}),")
    checked = {name: saved[name] for name in required}
    if meta.game is None:
        if game:
            raise ModelFileError(f"{where}: game tensors without the game settings in {META_FILE}")
        return checked
    xy = game.get("backcourt_xy")
    sizes |= {"D": len(meta.game.defenses), "T": len(meta.game.action_types),
              "N": xy.shape[0] if isinstance(xy, torch.Tensor) and xy.dim() == 2 else -1}
    _check_each(game, GAME_TENSORS, sizes, where, "game.", ",")
    return checked | {"game." + name: game[name] for name in GAME_TENSORS}


def _check_each(saved: dict, table: dict, sizes: dict, where: str, prefix: str, sizes_said: str) -> None:
    """Each tensor of `table` (name -> dtype, shape of the sizes, check) there, of its dtype and shape, finite and
    in range; ModelFileError naming `where` and prefix + name otherwise (`sizes_said` after the shape expected)."""
    missing = [prefix + name for name in table if name not in saved]
    unknown = sorted(prefix + str(name) for name in saved if name not in table)
    if missing or unknown:
        raise ModelFileError(f"{where}: " + (f"missing tensor(s) {missing}" if missing else f"unknown tensor(s) {unknown}"))
    for name, (dtype, shape, check) in table.items():
        tensor = saved[name]
        if not isinstance(tensor, torch.Tensor):
            raise ModelFileError(f"{where}: {prefix}{name}: expected a tensor, got {type(tensor).__name__}")
        expected = shape(sizes)
        if tensor.dtype != dtype or tuple(tensor.shape) != expected:
            raise ModelFileError(f"{where}: {prefix}{name}: expected {str(dtype).removeprefix('torch.')} of shape {expected}"
                                 f"{sizes_said} got {str(tensor.dtype).removeprefix('torch.')} of shape {tuple(tensor.shape)}")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ModelFileError(f"{where}: {prefix}{name}: holds NaN or infinite values")
        problem = check(tensor, sizes) if check is not None else None
        if problem is not None:
            raise ModelFileError(f"{where}: {prefix}{name}: {problem}")


def read_profiles(directory: str | Path) -> tuple[ProfilesMeta, Any, dict[str, torch.Tensor]]:
    """profiles.json (checked, and its players as a DataFrame, ids as saved) and profiles.pt of `directory`,
    checked (module docstring); tensors only are unpickled."""
    import pandas as pd

    directory = _directory(directory, "directory")
    meta_path, tensors_path = directory / META_FILE, directory / TENSORS_FILE
    try:
        raw = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ModelFileError(f"{meta_path}: not a saved profiles file ({err})") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT_VERSION:
        found = raw.get("format") if isinstance(raw, dict) else type(raw).__name__
        raise ModelFileError(f"{meta_path}: not player profiles of format {FORMAT_VERSION} (format: {found!r}); "
                             "build them again with nba-ml profile")
    try:
        meta = ProfilesMeta.model_validate(raw)
    except ValidationError as err:
        raise ModelFileError(f"{meta_path}: " + one_line(ValueError(format_validation_error(err, what="profiles file")))) from None
    players = pd.DataFrame(raw["players"])
    players["PLAYER_ID"] = pd.Series(meta.player_ids, dtype=object)
    tensors = check_tensors(read_tensors(tensors_path, ModelFileError), meta, str(tensors_path))
    grid = tensors["maps"].shape[-1]
    if meta.blur > grid:  # a blur wider than the court is no blur, and its kernel would not fit in memory
        raise ModelFileError(f"{meta_path}: blur: expected at most the grid's {grid} cells (the std of the record's "
                             f"Gaussian blur, in cells), got {meta.blur}")
    return meta, players, tensors


def write_profiles(directory: str | Path, meta: dict, tensors: dict[str, torch.Tensor],
                   tables: dict[str, Callable[[], Any]], *, label: Optional[str] = None) -> Path:
    """The files, written whole into `directory` (an empty or earlier profiles directory; OutputError otherwise,
    and for a disk without room for the tensors, before anything is written or a table is made): `tables` maps
    each CSV's name (TABLE_FILE, DEFENSES_FILE) to what makes it."""
    directory = _directory(directory, label or "directory", output=True)
    target = check_replaceable_directory(directory, PROFILES_DIRECTORY, label)
    needed = sum(t.numel() * t.element_size() for t in tensors.values())
    check_room(target, needed, f"{label + ' ' if label else ''}{directory}")
    with atomic_directory(directory, PROFILES_DIRECTORY, label) as tmp:
        save_tensors(tensors, tmp / TENSORS_FILE)
        (tmp / META_FILE).write_text(json.dumps(meta, allow_nan=True), encoding="utf-8")
        for name, table in tables.items():
            table().to_csv(tmp / name, index=False)
    return directory


def check_room(target: Path, needed: int, name: str) -> None:
    """OutputError when the file system that would hold `target` has fewer than `needed` bytes free."""
    folder = target
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # the write itself says what is wrong
    if free < needed:
        raise OutputError(f"cannot write {name}: it needs at least {needed / 1e6:.3g} MB and {folder} has "
                          f"{free / 1e6:.3g} MB free")


def least_bytes(model, observed, charts: int) -> int:
    """The least that profiles of `observed`'s players with `charts` charts take on disk, known before they are
    built: the basis maps, the make surface, and each chart's weights, label and record share (the record's
    cells and the table come on top)."""
    players = observed["PLAYER_ID"].nunique() if "PLAYER_ID" in observed else 0
    habits = model.basis.size if model.basis is not None else 0
    maps = 4 * model.basis.maps.numel() if model.basis is not None else 0
    surface = 4 * (len(model.position_groups) + 1) * TABLE_SHAPE[0] * TABLE_SHAPE[1] if model.makes is not None else 0
    return maps + surface + int(players) * int(charts) * (4 * habits + 12)


def _directory(value: Any, name: str, *, output: bool = False) -> Path:
    if not isinstance(value, (str, os.PathLike)):
        raise InputError(f"{name} must be a path (str or pathlib.Path), got {type(value).__name__}")
    if not os.fspath(value):
        raise (OutputError if output else InputError)(f"{name} is empty; expected the profiles' directory")
    return Path(value)
