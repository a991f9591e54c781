"""Profiles of given players: where each one shoots and how well, built once from his record, drawn from fast.

    profiles = model.player_profiles(observed, players=None, seed=0)    # ShotChartModel.player_profiles
    shots = profiles.sample(200, draws=10, seed=1)     # PLAYER_ID, DRAW, LOC_X, LOC_Y, SHOT_ZONE_BASIC,
                                                       # SHOT_DISTANCE, SHOT_VALUE, MAKE_PROB, MADE
    profiles.make_prob([203078], [0.0], [10.0])        # his posterior mean make probability there
    profiles.table()                                   # per player and zone: shot share, FG%, points per shot
    profiles.save("profiles/"); PlayerProfiles.load("profiles/")

A profile holds, per player, `charts` posterior draws of his shot chart (nba_ml.shots.player.chart_posterior:
mixture weights over the basis maps, and his own record's part) and the Gaussian posterior of his six zone
offsets of the make model (nba_ml.shots.player.make_model) on the league's make surface of the season the
profiles are for. Loading one needs neither the GAN nor any training code.

Draws. A DRAW of a player is one posterior draw of his chart and one of his make surface together, so the
draws of one player spread as much as his seasons could; within a draw, shots are independent given both.
Every random number of a player comes from his own stream, seeded by (seed, his id): the same seed gives
him the same draws whoever else is in the call, in whatever order.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd
import torch
from scipy.special import expit

from ...errors import InputError, counted
from ...memory import check_memory
from ..charts import blur_density, cell_size, on_grid
from ..court import BASELINE_Y, SIDELINE_X, ZONES, zone_index
from .make_model import (NO_MAKE_MODEL, TABLE_SHAPE, ZONE_COUNT, SkillPosterior, half_court_zone, make_prob_mean,
                         shot_value, table_index)
from .profiles_file import FORMAT_VERSION, TENSORS, read_profiles, write_profiles
from .streams import PlayerStreams, Stream, player_key, root_entropy

DEFAULT_CHARTS = 100  # posterior chart draws kept per player
ROWS_PER_CHUNK = 1_000_000  # shots drawn at a time by sample_chunks (a player's draws are never split)
MAKE_PROB_BYTES = 32  # per location and draw: the answer, the logits and the offsets gathered (float64)
BYTES_PER_SHOT = 260  # while drawing (an upper bound): the uniforms, the cells, coordinates, zone, probability and the frame
UNIFORMS_PER_SHOT = 6  # record or habit and which, inside the cell (x, y), made, the cell (or its row), its column
SHOT_COLUMNS = ("PLAYER_ID", "DRAW", "LOC_X", "LOC_Y", "SHOT_ZONE_BASIC", "SHOT_DISTANCE", "SHOT_VALUE",
                "MAKE_PROB", "MADE")
ZONE_CATEGORIES = pd.CategoricalDtype(list(ZONES), ordered=False)


@dataclass(frozen=True)
class PlayerProfiles:
    """Profiles of P players (module docstring). `players`: one row per player (PLAYER_ID, POSITION_GROUP,
    SHOTS, OUTCOMES, NOTE and the posteriors' diagnostics)."""

    players: pd.DataFrame
    position_groups: tuple[str, ...]
    maps: torch.Tensor  # (K, S, S) the basis maps, each a density
    weights: torch.Tensor  # (P, C, K) mixture weights of his posterior charts (rows sum to 1)
    labels: torch.Tensor  # (P, C) the position label of each chart (his group, or drawn when unknown)
    record_share: torch.Tensor  # (P, C) the share of each chart that is his own record
    record_cells: torch.Tensor  # (M,) flat cells of the players' records, player after player
    record_weights: torch.Tensor  # (C, M) each chart's weights on those cells (a player's sum to 1)
    record_offsets: torch.Tensor  # (P + 1,) where each player's cells start in record_cells
    blur: float  # std of the record's Gaussian blur, in cells
    skill_mean: Optional[torch.Tensor]  # (P, 6) posterior mean of his zone offsets (logits); None: no make model
    skill_cov: Optional[torch.Tensor]  # (P, 6, 6) their posterior covariance
    group: Optional[torch.Tensor]  # (P,) his row of the make surface (a position group, or the league's)
    surface: Optional[torch.Tensor]  # (groups + 1, *TABLE_SHAPE) float32 logits of the league's make surface
    league_fg: Optional[torch.Tensor]  # (6,) the training shots' FG% per zone
    target_season: Optional[str]
    seed: Optional[int]  # the seed the profiles were built with (their table's draws use it too)
    dropped: dict  # rows of the record not used, per reason

    def __post_init__(self) -> None:
        P, C = self.weights.shape[:2]
        checks = {"players": len(self.players) == P, "record_share": tuple(self.record_share.shape) == (P, C),
                  "labels": tuple(self.labels.shape) == (P, C),
                  "record_offsets": tuple(self.record_offsets.shape) == (P + 1,),
                  "record_weights": tuple(self.record_weights.shape) == (C, len(self.record_cells)),
                  "maps": self.maps.shape[0] == self.weights.shape[2]}
        if self.has_makes:
            checks |= {"skill_mean": tuple(self.skill_mean.shape) == (P, ZONE_COUNT),
                       "skill_cov": tuple(self.skill_cov.shape) == (P, ZONE_COUNT, ZONE_COUNT),
                       "group": tuple(self.group.shape) == (P,), "surface": tuple(self.surface.shape[1:]) == TABLE_SHAPE,
                       "league_fg": tuple(self.league_fg.shape) == (ZONE_COUNT,)}
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"player profiles: {', '.join(bad)} do not fit {P} players x {C} charts")
        ids = self.players["PLAYER_ID"].tolist()
        object.__setattr__(self, "_ids", ids)
        object.__setattr__(self, "_row", {player_id: row for row, player_id in enumerate(ids)})
        object.__setattr__(self, "_keys", [player_key(player_id) for player_id in ids])  # his streams' key

    # --- what a simulator calls ---------------------------------------------------------------------

    @property
    def player_ids(self) -> list:
        return list(self._ids)

    @property
    def has_makes(self) -> bool:
        """Whether the profiles know how well each player shoots (the model had a make model)."""
        return self.skill_mean is not None

    def _require_makes(self) -> None:
        if not self.has_makes:
            raise InputError(f"these profiles have no make model: the shot-chart model {NO_MAKE_MODEL}")

    @property
    def charts(self) -> int:
        return self.weights.shape[1]

    def rows_of(self, player_ids: Sequence) -> np.ndarray:
        """Profile rows of `player_ids`; InputError naming the ids it has no profile of."""
        ids = _as_id_list(player_ids)
        rows = [self._row.get(player_id, -1) for player_id in ids]
        unknown = [player_id for player_id, row in zip(ids, rows) if row < 0]
        if unknown:
            raise InputError(f"no profile for player(s) {unknown[:5]}{' ...' if len(unknown) > 5 else ''}; "
                             f"the profiles hold {counted(len(self.players), 'player')} (profiles.player_ids)")
        return np.asarray(rows, dtype=np.int64)

    def sample(self, shots, *, draws: int = 1, seed: Optional[int] = None, chart_ids: bool = False) -> pd.DataFrame:
        """Shots for each player (module docstring): `shots` an int (per player and draw) or a mapping
        PLAYER_ID -> shots per draw (only those players). Columns: SHOT_COLUMNS (without MAKE_PROB and MADE
        when there is no make model), rows grouped by player (in the order of `shots`, else the profiles')
        then draw. chart_ids: see sample_chunks."""
        chunks = list(self.sample_chunks(shots, draws=draws, seed=seed, chart_ids=chart_ids))
        if len(chunks) == 1:  # no copy
            return chunks[0]
        return pd.concat(chunks, ignore_index=True) if chunks else _empty_shots()

    def sample_chunks(self, shots, *, draws: int = 1, seed: Optional[int] = None, rows_per_chunk: int = ROWS_PER_CHUNK,
                      chart_ids: bool = False):
        """`sample`, as frames of at most about rows_per_chunk rows (a player's draws are never split), for
        writing tens of millions of shots in constant memory. chart_ids: add CHART_ID '<PLAYER_ID>:<chart>'
        (categorical) and POSITION_GROUP (the chart's label is not kept; his group)."""
        rows, counts = self._shot_counts(shots)  # the arguments are checked here, before the first chunk is asked for
        rows_per_chunk = _positive_int(rows_per_chunk, "rows_per_chunk")
        check_sampling_memory(max(1, int(counts.max(initial=0))), draws, rows_per_chunk=rows_per_chunk)
        draws, root = int(draws), root_entropy(seed)

        def chunks():
            start, size = 0, 0
            for end, count in enumerate(counts, start=1):
                size += int(count) * draws
                if size >= rows_per_chunk or end == len(rows):
                    yield self._draw(rows[start:end], counts[start:end], draws, root, bool(chart_ids))
                    start, size = end, 0

        return chunks()

    def make_prob(self, player_ids, loc_x, loc_y, *, draws: int = 0, seed: Optional[int] = None) -> np.ndarray:
        """His posterior mean make probability at each location (n,), or (draws, n) posterior draws of it
        (each draw one draw of his make surface, from his own stream)."""
        self._require_makes()
        rows = self.rows_of(player_ids)
        x, y = _locations(loc_x, loc_y, len(rows))
        draws = _positive_int(draws, "draws", zero=True, what="0 (the posterior mean) or a positive integer")
        check_memory(MAKE_PROB_BYTES * max(draws, 1) * len(rows),
                     f"{draws:,} draws of the make probability at {counted(len(rows), 'location')} need",
                     "ask for fewer draws or locations at a time")
        root = root_entropy(seed)
        on_court = on_grid(x, y)
        if not on_court.all():
            off = int((~on_court).sum())
            warnings.warn(f"{counted(off, 'location')} of {len(rows):,} {'is' if off == 1 else 'are'} off the half court "
                          "(past a sideline, behind the baseline or beyond the half-court line): not answered, NaN")
        out = np.full((draws, len(rows)) if draws else len(rows), np.nan)
        rows, x, y, answered = rows[on_court], x[on_court], y[on_court], np.flatnonzero(on_court)
        posterior = self._skill()
        if draws == 0:
            out[answered] = make_prob_mean(posterior, rows, x, y)
            return out
        zones, base = half_court_zone(x, y), posterior.base_logit(rows, x, y)
        streams = PlayerStreams(root, Stream.MAKES)
        for row in np.unique(rows):
            at = rows == row
            offsets = self._offsets(int(row), draws, streams.of(self._keys[row]))
            out[:, answered[at]] = expit(base[at][None, :] + offsets[:, zones[at]])
        return out

    def table(self, *, level: float = 0.9, players: Optional[Sequence] = None) -> pd.DataFrame:
        """Per player and zone (and 'All'): SHARE of his shots, FG%, points per shot (PPS), each with the central
        `level` interval over his posterior (where he shoots and how well, together), and the league's FG%.
        `players`: only these (each player's rows are the same whoever else is asked for)."""
        if isinstance(level, (bool, np.bool_)) or not isinstance(level, (int, float, np.number)) or not 0 < level < 1:
            raise InputError(f"level must be a number in (0, 1), got {level!r}")
        rows = range(len(self.players)) if players is None else self.rows_of(players)
        grid = self.maps.shape[-1]
        cx, cy = _cell_centres(grid)
        cell_zone = half_court_zone(cx, cy)
        value = shot_value(np.arange(ZONE_COUNT)).astype(np.float64)
        tail = (1 - level) / 2 * 100
        records = []
        streams = PlayerStreams(root_entropy(self.seed), Stream.TABLE)
        for row in rows:
            row, player_id = int(row), self._ids[row]
            density = self.densities(row).reshape(self.charts, -1).astype(np.float64)  # (C, cells)
            if self.has_makes:
                offsets = self._offsets(row, self.charts, streams.of(self._keys[row]))  # (C, 6)
                base = self.surface[int(self.group[row])].numpy()[table_index(cx, cy)].astype(np.float64)
                prob = expit(base[None, :] + offsets[:, cell_zone])  # (C, cells)
            else:
                prob = np.full_like(density, np.nan)
            share = np.stack([density[:, cell_zone == z].sum(axis=1) for z in range(ZONE_COUNT)], axis=1)  # (C, 6)
            makes = np.stack([(density * prob)[:, cell_zone == z].sum(axis=1) for z in range(ZONE_COUNT)], axis=1)
            fg = makes / np.maximum(share, 1e-300)
            parts = {"SHARE": share, "FG": fg, "PPS": fg * value}
            whole = {"SHARE": np.ones(self.charts), "FG": makes.sum(axis=1), "PPS": (makes * value).sum(axis=1)}
            league = self.league_fg.numpy() if self.has_makes else np.full(ZONE_COUNT, np.nan)
            league_all = float((league * share.mean(axis=0)).sum())
            for zone in range(ZONE_COUNT + 1):
                entry = {"PLAYER_ID": player_id, "POSITION_GROUP": self.players["POSITION_GROUP"].iloc[row],
                         "SHOT_ZONE_BASIC": ZONES[zone] if zone < ZONE_COUNT else "All"}
                for name in ("SHARE", "FG", "PPS"):
                    values = parts[name][:, zone] if zone < ZONE_COUNT else whole[name]
                    lo, hi = np.percentile(values, [tail, 100 - tail])
                    entry |= {name: float(values.mean()), f"{name}_LO": float(lo), f"{name}_HI": float(hi)}
                entry["LEAGUE_FG"] = float(league[zone]) if zone < ZONE_COUNT else league_all
                records.append(entry)
        return pd.DataFrame(records)

    def densities(self, row: int) -> np.ndarray:
        """(C, S, S) float32 attempt densities of one player's posterior charts."""
        return self._densities(row, np.arange(self.charts)).reshape(self.charts, *self.maps.shape[1:])

    # --- saving -------------------------------------------------------------------------------------

    def save(self, directory: str | Path, *, label: Optional[str] = None) -> Path:
        """profiles.json (players, settings), profiles.pt (tensors only) and table.csv, swapped in whole. Replaces
        only an empty directory or one holding earlier profiles alone (OutputError naming it otherwise, before
        the table is made): nba_ml.shots.player.profiles_file. `label` names it in messages ('--out')."""
        meta = {"format": FORMAT_VERSION, "position_groups": list(self.position_groups), "blur": self.blur,
                "target_season": self.target_season, "seed": self.seed, "dropped": dict(self.dropped),
                "players": json.loads(self.players.to_json(orient="records", double_precision=15))}
        meta["player_ids"] = [_json_id(player_id) for player_id in self.player_ids]
        tensors = {name: getattr(self, name) for name in TENSORS if getattr(self, name) is not None}
        return write_profiles(directory, meta, tensors, self.table, label=label)

    @classmethod
    def load(cls, directory: str | Path) -> "PlayerProfiles":
        """Profiles saved by `save`; tensors only are unpickled, and every field is checked (profiles_file): a
        damaged, edited or foreign directory is a ModelFileError naming the file and field."""
        meta, players, saved = read_profiles(directory)
        return cls(players, tuple(meta.position_groups), saved["maps"], saved["weights"], saved["labels"],
                   saved["record_share"], saved["record_cells"], saved["record_weights"], saved["record_offsets"],
                   float(meta.blur), saved.get("skill_mean"), saved.get("skill_cov"), saved.get("group"),
                   saved.get("surface"), saved.get("league_fg"), meta.target_season, meta.seed, dict(meta.dropped))

    # --- inside -------------------------------------------------------------------------------------

    def _skill(self) -> SkillPosterior:
        return SkillPosterior(self.skill_mean.numpy(), self.skill_cov.numpy(), self.group.numpy(), self.surface.numpy(),
                              self.target_season)

    def _cholesky(self) -> np.ndarray:
        """(P, 6, 6) Cholesky factors of the players' offset covariances (made once)."""
        cached = self.__dict__.get("_cholesky_factors")
        if cached is None:
            cached = np.linalg.cholesky(self.skill_cov.numpy())
            object.__setattr__(self, "_cholesky_factors", cached)
        return cached

    def _offsets(self, row: int, draws: int, rng: np.random.Generator) -> np.ndarray:
        """(draws, 6) posterior draws of one player's zone offsets."""
        return self.skill_mean.numpy()[row] + np.einsum("dj,ij->di", rng.standard_normal((draws, ZONE_COUNT)), self._cholesky()[row])

    def _shot_counts(self, shots) -> tuple[np.ndarray, np.ndarray]:
        """(profile rows, shots per draw) from an int or a mapping PLAYER_ID -> int."""
        if isinstance(shots, Mapping):
            rows = self.rows_of(list(shots.keys()))
            counts = np.array([_positive_int(v, f"shots[{k!r}]", zero=True) for k, v in shots.items()], dtype=np.int64)
            return rows, counts
        count = _positive_int(shots, "shots")
        return np.arange(len(self.players)), np.full(len(self.players), count, dtype=np.int64)

    def _densities(self, row: int, charts: np.ndarray) -> np.ndarray:
        """(len(charts), S*S) float32 densities of one player's charts `charts` (computed per player, so that a
        player's numbers never depend on who else is drawn with him)."""
        maps = self.maps.flatten(1)
        charts = torch.as_tensor(charts, dtype=torch.long)
        gan = self.weights[row, charts] @ maps  # (D, cells)
        gan = gan / gan.sum(dim=1, keepdim=True)
        share = self.record_share[row, charts]
        span = slice(int(self.record_offsets[row]), int(self.record_offsets[row + 1]))
        if span.stop > span.start and bool((share > 0).any()):
            grid = self.maps.shape[-1]
            record = torch.zeros(len(charts), maps.shape[1])
            record.index_add_(1, self.record_cells[span], self.record_weights[charts, span])
            record = blur_density(record.reshape(-1, grid, grid), self.blur).flatten(1)
            gan = (1 - share[:, None]) * gan + share[:, None] * record
        return gan.numpy()

    def _draw(self, rows: np.ndarray, per_draw: np.ndarray, draws: int, root: int, chart_ids: bool) -> pd.DataFrame:
        """The shots of players `rows` (profile rows), per_draw[i] shots in each of `draws` draws.

        A chart is (1 - v) x (weights @ maps) + v x blur(his record's weighted cells); a shot is drawn from it in
        two stages, exactly, without building the chart: with probability v from the record (one of his cells,
        by its weight times the in-court mass of its blur, then a cell of that blur), else from the GAN's part
        (a habit by its weight, then a cell of that habit's map). Then a uniform position inside the cell."""
        grid = self.maps.shape[-1]
        width, height = cell_size(grid)
        n = np.repeat(per_draw, draws)  # shots per pair (player, draw): pair b = i * draws + d
        total = int(n.sum())
        chart = np.empty((len(rows), draws), dtype=np.int64)  # which chart and which make surface each pair uses
        normal = np.empty((len(rows), draws, ZONE_COUNT)) if self.has_makes else None
        # float32 (24 bits: ample for a cell, a position inside it and a coin), one row per use (contiguous reads)
        uniforms = np.empty((UNIFORMS_PER_SHOT, total), dtype=np.float32)
        streams, start = PlayerStreams(root, Stream.SAMPLE), 0
        distinct = 1 < draws <= self.charts  # then distinct charts, else independent ones
        for i, row in enumerate(rows):  # every number of a player from his own stream, in a fixed order
            rng = streams.of(self._keys[row])
            mine = int(per_draw[i]) * draws
            pick = rng.random(self.charts if distinct else draws)
            uniforms[:, start:start + mine] = rng.random(UNIFORMS_PER_SHOT * mine, dtype=np.float32).reshape(-1, mine)
            chart[i] = np.argsort(pick)[:draws] if distinct else (pick * self.charts).astype(np.int64)
            if normal is not None:
                normal[i] = rng.standard_normal((draws, ZONE_COUNT))
            start += mine
        pair = np.repeat(np.arange(len(n)), n)
        pair_rows, pair_charts = np.repeat(rows, draws), chart.ravel()
        cell = self._cells(n, pair, pair_rows, pair_charts, uniforms)
        x = -SIDELINE_X + (cell % grid + uniforms[1]) * width  # inside the court: cells tile it exactly
        y = BASELINE_Y + (cell // grid + uniforms[2]) * height
        distance = np.sqrt(x * x + y * y)
        zone = self._sampler()["cell_zone"][cell]  # the zone of a cell no zone line crosses; -1 where one does
        crossed = np.flatnonzero(zone < 0)
        zone[crossed] = np.minimum(zone_index(x[crossed], y[crossed], distance[crossed]), ZONE_COUNT - 1)
        columns = {
            "PLAYER_ID": self._id_column(rows, per_draw * draws),
            "DRAW": (pair % draws).astype(np.int32),
            "LOC_X": x, "LOC_Y": y,
            "SHOT_ZONE_BASIC": pd.Categorical.from_codes(zone, dtype=ZONE_CATEGORIES),
            "SHOT_DISTANCE": (distance * 0.1).astype(np.int16),  # whole feet (distance >= 0: truncation is floor)
            "SHOT_VALUE": shot_value(zone),
        }
        if self.has_makes:  # his offsets in each draw: mean + L z, all pairs at once
            offsets = self.skill_mean.numpy()[rows][:, None, :] + np.einsum("rdj,rij->rdi", normal, self._cholesky()[rows])
            row, column = table_index(x, y)
            flat = (np.repeat(self.group.numpy()[pair_rows], n) * TABLE_SHAPE[0] + row) * TABLE_SHAPE[1] + column
            logit = self.surface.numpy().ravel()[flat] + offsets.reshape(-1)[pair * ZONE_COUNT + zone]
            make_prob = 1.0 / (1.0 + np.exp(-logit.astype(np.float64)))  # not expit: 25% faster on every shot here
            columns["MAKE_PROB"] = make_prob
            columns["MADE"] = (uniforms[3] < make_prob).view(np.int8)
        frame = pd.DataFrame(columns, copy=False)
        if chart_ids:  # the form of sample_player_shots: '<PLAYER_ID>:<chart>' and the chart's position label
            codes, names = pd.factorize(np.array([f"{self._ids[r]}:{c}" for r, c in zip(pair_rows, pair_charts)], dtype=object))
            frame.insert(1, "CHART_ID", pd.Categorical.from_codes(np.repeat(codes, n), categories=names))
            groups = pd.CategoricalDtype(list(self.position_groups))
            frame["POSITION_GROUP"] = pd.Categorical.from_codes(np.repeat(self.labels.numpy()[pair_rows, pair_charts], n), dtype=groups)
        return frame

    def _id_column(self, rows: np.ndarray, repeats: np.ndarray):
        """PLAYER_ID of the shots: int64 when every id of the profiles is an integer, else a categorical of the ids
        as text over all the profiles' players, so that every chunk of a long draw has the same type."""
        if all(isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)) for i in self._ids):
            return np.repeat(np.asarray([self._ids[r] for r in rows], dtype=np.int64), repeats)
        dtype = self.__dict__.get("_id_dtype")
        if dtype is None:
            dtype = pd.CategoricalDtype(pd.Index([str(i) for i in self._ids], dtype=object).unique())
            object.__setattr__(self, "_id_dtype", dtype)
        codes = dtype.categories.get_indexer([str(self._ids[r]) for r in rows])
        return pd.Categorical.from_codes(np.repeat(codes, repeats), dtype=dtype)

    def _cells(self, n: np.ndarray, pair: np.ndarray, pair_rows: np.ndarray, pair_charts: np.ndarray,
               u: np.ndarray) -> np.ndarray:
        """The cell of each shot (its pair's chart) from two of its uniforms (see _draw; shots are grouped by
        pair, n[b] of pair b). u[0] picks the record (below the chart's share v) or the GAN's part, and then,
        rescaled to [0, 1), which record cell or which habit; u[4] the cell of a habit's map (its alias
        table: index and fraction) or the row of a record cell's blur and u[5] its column (alias draws)."""
        sampler = self._sampler()
        cells = self.maps.shape[-1] ** 2
        share = self.record_share.numpy()[pair_rows, pair_charts].astype(np.float64)
        weights = np.cumsum(self.weights.numpy()[pair_rows, pair_charts], axis=1, dtype=np.float64)
        weights = (weights / weights[:, -1:]).reshape(1, -1)  # the pairs' habit cumulatives side by side, one row
        v = np.repeat(share, n)
        from_record = u[0] < v
        which = np.empty(len(pair), dtype=np.int64)  # a habit (GAN part) or a record cell, per shot
        gan = np.flatnonzero(~from_record)
        rescaled = (u[0, gan] - v[gan]) / (1 - v[gan])  # uniform again, given the GAN part
        habits = self.weights.shape[2]
        offsets = np.arange(len(share) + 1) * habits
        start = pair[gan] * habits
        which[gan] = _guided_search(weights, _guide_tables(weights, offsets), np.zeros(len(gan), dtype=np.int64),
                                    start, start + habits, rescaled) - start
        record = np.flatnonzero(from_record)
        if len(record):  # his cell by weight x in-court blur mass: his segment's guide table, then a step or two
            cumulative, guide = self._record_cumulative(), self._record_guide()
            offsets = self.record_offsets.numpy()
            rows_of, charts_of = pair_rows[pair[record]], pair_charts[pair[record]]
            lo, hi = offsets[rows_of], offsets[rows_of + 1]
            found = _guided_search(cumulative, guide, charts_of, lo, hi, u[0, record] / v[record])
            which[record] = self.record_cells.numpy()[found]
        cell = np.empty(len(pair), dtype=np.int64)
        cell[gan] = _alias_draw(sampler["alias_prob"], sampler["alias"], which[gan] * cells, cells, u[4, gan])
        if len(record):  # the blur is separable: a row offset, then a column offset, each by its alias table
            grid, span = self.maps.shape[-1], sampler["offset_alias"].shape[1]
            prob, alias = sampler["offset_prob"].ravel(), sampler["offset_alias"].ravel()
            home_row, home_column = np.divmod(which[record], grid)
            row = home_row + _alias_draw(prob, alias, home_row * span, span, u[4, record])
            column = home_column + _alias_draw(prob, alias, home_column * span, span, u[5, record])
            cell[record] = (row - sampler["radius"]) * grid + column - sampler["radius"]
        return cell

    def _record_cumulative(self) -> np.ndarray:
        """(C, M) per player's segment of the record cells, the cumulative of weight x in-court blur mass, rising
        to 1 at the end of each segment (made once)."""
        cached = self.__dict__.get("_record_cdf")
        if cached is None:
            weights = self.record_weights.numpy().astype(np.float64) * self._sampler()["mass"][self.record_cells.numpy()]
            cached = np.zeros_like(weights)
            offsets = self.record_offsets.numpy()
            for start, stop in zip(offsets[:-1], offsets[1:]):
                if stop > start:
                    segment = np.cumsum(weights[:, start:stop], axis=1)
                    cached[:, start:stop] = segment / np.maximum(segment[:, -1:], 1e-300)
            object.__setattr__(self, "_record_cdf", cached)
        return cached

    def _record_guide(self) -> np.ndarray:
        """(C, M) guide tables of _record_cumulative's segments (`_guide_tables`), made once."""
        cached = self.__dict__.get("_record_guide_table")
        if cached is None:
            cached = _guide_tables(self._record_cumulative(), self.record_offsets.numpy())
            object.__setattr__(self, "_record_guide_table", cached)
        return cached

    def _sampler(self) -> dict:
        """Tables for drawing cells, made once: each habit map's alias table, the alias tables of the blur's row
        and column offsets (truncated at the court's edge), each cell's in-court blur mass, and its zone."""
        cached = self.__dict__.get("_sampler_tables")
        if cached is not None:
            return cached
        maps = self.maps.flatten(1).double().numpy()
        alias_prob, alias = zip(*(_alias_table(m / m.sum()) for m in maps))
        grid = self.maps.shape[-1]
        radius = max(1, int(3 * self.blur + 0.5)) if self.blur > 0 else 0  # as blur_density
        offsets = np.arange(-radius, radius + 1)
        kernel = np.exp(-0.5 * (offsets / self.blur) ** 2) if self.blur > 0 else np.ones(1)
        kernel = kernel / kernel.sum()
        position = np.arange(grid)[:, None] + offsets[None, :]  # (grid, 2r + 1): where a row (or column) spreads to
        kept = kernel[None, :] * ((position >= 0) & (position < grid))  # truncated at the court's edge
        along = kept.sum(axis=1)  # in-court mass along one axis, per row (or column)
        row, column = np.divmod(np.arange(grid * grid), grid)
        offset_prob, offset_alias = zip(*(_alias_table(k / k.sum()) for k in kept))
        width, height = cell_size(grid)
        x0, y0 = -SIDELINE_X + column * width, BASELINE_Y + row * height
        cell_zone = _uniform_zone(x0, x0 + width, y0, y0 + height)
        tables = {"alias_prob": np.concatenate(alias_prob).astype(np.float32), "alias": np.concatenate(alias).astype(np.int32),
                  "radius": radius,
                  "offset_prob": np.stack(offset_prob), "offset_alias": np.stack(offset_alias),
                  "mass": along[row] * along[column], "cell_zone": cell_zone}
        object.__setattr__(self, "_sampler_tables", tables)
        return tables


def _uniform_zone(x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray) -> np.ndarray:
    """The half-court zone (0-5) of each cell [x0, x1] x [y0, y1] that no zone line crosses (court.zone_of's
    lines: the restricted-area and three-point circles, the paint's sides and top, the corners' lines), else -1."""
    from ..court import (CORNER_THREE_X, CORNER_ZONE_MAX_Y, PAINT_HALF_WIDTH, PAINT_ZONE_MAX_Y,
                         RESTRICTED_AREA_RADIUS, THREE_POINT_ARC_RADIUS)

    nearest_x = np.where((x0 <= 0) & (x1 >= 0), 0.0, np.minimum(np.abs(x0), np.abs(x1)))
    nearest_y = np.where((y0 <= 0) & (y1 >= 0), 0.0, np.minimum(np.abs(y0), np.abs(y1)))
    near = np.hypot(nearest_x, nearest_y)
    far = np.hypot(np.maximum(np.abs(x0), np.abs(x1)), np.maximum(np.abs(y0), np.abs(y1)))
    crossed = np.zeros(len(x0), dtype=bool)
    for radius in (RESTRICTED_AREA_RADIUS, THREE_POINT_ARC_RADIUS):
        crossed |= (near <= radius) & (far >= radius)
    for line in (-CORNER_THREE_X, -PAINT_HALF_WIDTH, PAINT_HALF_WIDTH, CORNER_THREE_X):  # corners lie far from x = 0
        crossed |= (x0 <= line) & (x1 >= line)
    for line in (CORNER_ZONE_MAX_Y, PAINT_ZONE_MAX_Y):
        crossed |= (y0 <= line) & (y1 >= line)
    zone = np.minimum(zone_index((x0 + x1) / 2, (y0 + y1) / 2), ZONE_COUNT - 1).astype(np.int8)
    return np.where(crossed, -1, zone).astype(np.int8)


def _guide_tables(cumulative: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """(C, M) int32 guide tables (Chen and Asau 1974) of the rows of `cumulative`, each a run of segments
    [offsets[s], offsets[s + 1]) rising to 1: entry lo + k of segment [lo, hi) is the first index of the
    segment whose cumulative is above k / (hi - lo)."""
    lengths = np.diff(offsets)
    segment = np.repeat(np.arange(len(lengths)), lengths)
    edges = segment + (np.arange(offsets[-1]) - offsets[:-1][segment]) / np.maximum(lengths, 1)[segment]
    guide = np.empty(cumulative.shape, dtype=np.int32)
    for row, values in enumerate(cumulative):  # the segments side by side, shifted apart by their index
        guide[row] = np.minimum(np.searchsorted(values + segment, edges, side="right"), offsets[1:][segment] - 1)
    return guide


def _guided_search(cumulative: np.ndarray, guide: np.ndarray, charts: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                   u: np.ndarray) -> np.ndarray:
    """For each query i: the first index j of the segment [lo[i], hi[i]) of row charts[i] of `cumulative` (each
    segment rising to 1) with cumulative > u[i] (u in [0, 1]; 1 gives the last), by the segments' guide tables:
    the bucket's first index, one step, and bisection for the few left (a bucket of many tiny weights)."""
    found = guide[charts, lo + np.minimum((u * (hi - lo)).astype(np.int64), hi - lo - 1)].astype(np.int64)
    behind = np.flatnonzero(cumulative[charts, found] <= u)
    found[behind] = np.minimum(found[behind] + 1, hi[behind] - 1)  # u rounded up to 1 takes the last index
    behind = behind[(found[behind] < hi[behind] - 1) & (cumulative[charts[behind], found[behind]] <= u[behind])]
    low, high = found[behind] + 1, hi[behind] - 1  # the answer lies in [low, high]; high's cumulative is 1
    while len(behind) and (low < high).any():
        middle = (low + high) // 2
        right = cumulative[charts[behind], middle] <= u[behind]
        low, high = np.where(right, middle + 1, low), np.where(right, high, middle)
    found[behind] = low
    return found


def _alias_draw(prob: np.ndarray, alias: np.ndarray, base: np.ndarray, n: int, u: np.ndarray) -> np.ndarray:
    """Draws (0..n-1) from the alias tables prob[base:base + n], alias[...] (flat, one table per base), one
    uniform each: its integer part after scaling by n is the column, its fraction the keep-or-alias coin."""
    scaled = u * n
    index = np.minimum(scaled.astype(np.int64), n - 1)
    flat = base + index
    return np.where(scaled - index < prob[flat], index, alias[flat])


def _alias_table(probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias table (Vose's construction) of a distribution over n outcomes: draw i uniform in 0..n-1,
    keep it with probability prob[i], else take alias[i]; exactly the distribution, in O(1) a draw."""
    n = len(probabilities)
    scaled = probabilities * n
    prob, alias = np.ones(n), np.arange(n)
    small, large = [i for i in range(n) if scaled[i] < 1], [i for i in range(n) if scaled[i] >= 1]
    while small and large:
        low, high = small.pop(), large.pop()
        prob[low], alias[low] = scaled[low], high
        scaled[high] -= 1 - scaled[low]
        (small if scaled[high] < 1 else large).append(high)
    return prob, alias


def check_sampling_memory(shots_per_draw, draws, *, rows_per_chunk: int = ROWS_PER_CHUNK,
                          names: tuple[str, str] = ("shots", "draws")) -> None:
    """Check the counts of a draw (InputError naming `names`) and refuse (ResourceError), before any work, a
    draw whose chunks (at least one player's draws x shots) would not fit."""
    player_rows = _positive_int(shots_per_draw, names[0]) * _positive_int(draws, names[1])
    check_memory(max(rows_per_chunk, player_rows) * BYTES_PER_SHOT,
                 f"drawing {player_rows:,} shots for one player (draws x shots) needs",
                 "ask for fewer draws or shots per draw, or call sample_chunks for fewer draws at a time")


def check_profile_memory(model, records, charts: int, particles: int) -> None:
    """Refuse (ResourceError), before the posterior runs, profiles whose building would not fit: the particles
    of every player (latents, weights, the generator's layers), each record's likelihood terms, the profiles
    and the sampling tables their first draw makes (a float64 cumulative and an int32 guide per record cell)."""
    players, n = len(records.table), max(int(particles), int(charts))
    gan = model.config.gan.model
    per_particle = gan.latent_dim + 4 * model.basis.size + 3 * gan.hidden_dim
    cells = records.table["SHOTS"].clip(upper=model.basis.grid ** 2).to_numpy()
    likelihood = 3 * n * (2 ** np.ceil(np.log2(np.maximum(cells, 16)))).sum()  # bucketed record cells, 3 tensors
    stored = players * charts * (model.basis.size + 3) + 4 * charts * cells.sum()  # in 4-byte units
    check_memory(4 * (players * n * per_particle + likelihood + stored),
                 f"profiles of {counted(players, 'player')} with {counted(charts, 'chart')} each ({n:,} particles) need",
                 "ask for fewer charts, or build the profiles of fewer players at a time", at_once=False)


def build_profiles(model, records, chart_posterior, skill: Optional[SkillPosterior], seed: Optional[int]) -> PlayerProfiles:
    """PlayerProfiles from a PlayerPosterior (where) and a SkillPosterior (how well) of the same records."""
    P, C, K = chart_posterior.weights.shape
    lengths = [len(cells) for cells in chart_posterior.record_cells]  # his distinct record cells, in order
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    record_weights = torch.cat([w.float() for w in chart_posterior.record_weights], dim=1) if P else torch.zeros(C, 0)
    players = records.table.copy()
    diagnostics = chart_posterior.diagnostics.drop(columns=["PLAYER_ID", "POSITION_GROUP", "SHOTS", "NOTE"], errors="ignore")
    for column in diagnostics:
        players[column] = diagnostics[column].to_numpy()
    if skill is not None:  # how sure the make surface is: the mean posterior sd of his zone offsets (logits)
        players["makes_sd"] = np.sqrt(np.diagonal(skill.cov, axis1=1, axis2=2)).mean(axis=1)
    weights = chart_posterior.weights.float()
    tensor = (lambda a: None if skill is None else torch.from_numpy(getattr(skill, a)))
    return PlayerProfiles(players.reset_index(drop=True), tuple(model.position_groups), model.basis.maps.float(),
                          weights / weights.sum(dim=2, keepdim=True), chart_posterior.labels.to(torch.int64),
                          chart_posterior.record_share.float(),
                          torch.cat(list(chart_posterior.record_cells)) if P else torch.zeros(0, dtype=torch.long),
                          record_weights, torch.from_numpy(offsets), float(chart_posterior.blur),
                          tensor("mean"), tensor("cov"), tensor("group"), tensor("surface"),
                          None if skill is None else model.makes.league_fg.double(), records.target_season, seed,
                          dict(records.dropped))


def _positive_int(value, name: str, *, zero: bool = False, what: str = "") -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < (0 if zero else 1):
        raise InputError(f"{name} must be {what or ('a non-negative' if zero else 'a positive') + ' integer'}, got {value!r}")
    return int(value)


def _as_id_list(player_ids) -> list:
    from .records import normalise_ids

    if isinstance(player_ids, (str, bytes)) or not hasattr(player_ids, "__len__"):
        player_ids = [player_ids]
    return normalise_ids(pd.Series(list(player_ids), dtype=object)).tolist()


def _locations(loc_x, loc_y, n: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        x, y = np.asarray(loc_x, dtype=np.float64).ravel(), np.asarray(loc_y, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise InputError(f"loc_x and loc_y must be numbers (tenths of a foot), got {_shown(loc_x)} and "
                         f"{_shown(loc_y)}") from None
    if len(x) != n or len(y) != n:
        raise InputError(f"player_ids, loc_x and loc_y must have the same length, got {n}, {len(x)}, {len(y)}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InputError("loc_x and loc_y must be finite numbers (tenths of a foot)")
    return x, y


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _cell_centres(grid: int) -> tuple[np.ndarray, np.ndarray]:
    width, height = cell_size(grid)
    column, row = np.meshgrid(np.arange(grid), np.arange(grid))
    return (-SIDELINE_X + (column.ravel() + 0.5) * width, BASELINE_Y + (row.ravel() + 0.5) * height)


def _json_id(player_id):
    return player_id.item() if isinstance(player_id, np.generic) else player_id


def _empty_shots() -> pd.DataFrame:
    return pd.DataFrame({column: [] for column in SHOT_COLUMNS})

