"""Profiles of given players: where each one shoots and how well, built once from his record, drawn from fast.

    profiles = model.player_profiles(observed, players=None, seed=0)    # ShotChartModel.player_profiles
    shots = profiles.sample(200, draws=10, seed=1)     # PLAYER_ID, DRAW, LOC_X, LOC_Y, SHOT_ZONE_BASIC,
                                                       # SHOT_DISTANCE, SHOT_VALUE, MAKE_PROB, MADE
    profiles.make_prob([203078], [0.0], [10.0])        # his posterior mean make probability there
    profiles.table()                                   # per player and zone: shot share, FG%, points per shot
    profiles.save("profiles/"); PlayerProfiles.load("profiles/")

    shots = profiles.draw(situations, season=0, seed=1)   # a game's shots: one per situation (PLAYER_ID [, POSITION_GROUP,
                                                          # DEFENSE, PERIOD, SECONDS_LEFT]), ACTION_TYPE and MADE included
    profiles.zone_probabilities(situations); profiles.action_probabilities(shots); profiles.make_probabilities(shots)
    profiles.defenses                                     # per defense and zone: share and FG% allowed vs expected

A profile holds, per player, `charts` posterior draws of his shot chart (nba_ml.shots.player.chart_posterior:
mixture weights over the basis maps, and his own record's part) and the Gaussian posterior of his six zone
offsets of the make model (nba_ml.shots.player.make_model) on the league's make surface of the season the
profiles are for. Loading one needs neither the GAN nor any training code.

The game tables (nba_ml.shots.player.game_tables, fitted by game_fit) say what the defense, the moment and the
kind of shot do; profiles hold one prior row per position group and one for the league after the players'
(`priors`), which answer for players a simulator asks about and the profiles do not hold.

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
from ..charts import cell_size, on_grid
from ..court import BASELINE_Y, SIDELINE_X, ZONES, zone_index
from .make_model import (NO_MAKE_MODEL, TABLE_SHAPE, ZONE_COUNT, SkillPosterior, half_court_zone, make_prob_mean,
                         shot_value, table_index)
from ..actions import FAMILIES
from .defense_table import defense_table
from .game_tables import GameTables, action_cell
from .profiles_file import DEFENSES_FILE, FORMAT_VERSION, TABLE_FILE, TENSORS, read_profiles, write_profiles
from .sampler import ChartSampler, draw_game_shots
from .situations import read_situations
from .streams import PlayerStreams, Stream, player_key, root_entropy

DEFAULT_CHARTS = 100  # posterior chart draws kept per player
ROWS_PER_CHUNK = 1_000_000  # shots drawn at a time by sample_chunks (a player's draws are never split)
MAKE_PROB_BYTES = 32  # per location and draw: the answer, the logits and the offsets gathered (float64)
BYTES_PER_SHOT = 260  # while drawing (an upper bound): the uniforms, the cells, coordinates, zone, probability and the frame
UNIFORMS_PER_SHOT = 6  # record or habit and which, inside the cell (x, y), made, the cell (or its row), its column
SHOT_COLUMNS = ("PLAYER_ID", "DRAW", "LOC_X", "LOC_Y", "SHOT_ZONE_BASIC", "SHOT_DISTANCE", "SHOT_VALUE",
                "MAKE_PROB", "MADE")
ZONE_CATEGORIES = pd.CategoricalDtype(list(ZONES), ordered=False)
GAME_COLUMNS = ("LOC_X", "LOC_Y", "SHOT_ZONE_BASIC", "SHOT_DISTANCE", "SHOT_VALUE", "ACTION_TYPE", "ACTION_FAMILY",
                "MAKE_PROB", "MADE")  # what draw adds to the situations' columns (replacing any of these names)
SEASONS_KEPT = 4  # simulated seasons whose draws are kept (each a few arrays of the profile rows)


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
    priors: tuple = ()  # the position group of each prior row after the players' (None: the league's)
    game: Optional[GameTables] = None  # defenses, moments, kinds of shot (nba_ml.shots.player.game_tables)

    def __post_init__(self) -> None:
        P, C = self.weights.shape[:2]  # P here: every profile row, the priors' included
        checks = {"players": len(self.players) + len(self.priors) == P,
                  "record_share": tuple(self.record_share.shape) == (P, C),
                  "labels": tuple(self.labels.shape) == (P, C),
                  "record_offsets": tuple(self.record_offsets.shape) == (P + 1,),
                  "record_weights": tuple(self.record_weights.shape) == (C, len(self.record_cells)),
                  "maps": self.maps.shape[0] == self.weights.shape[2]}
        if self.has_makes:
            checks |= {"skill_mean": tuple(self.skill_mean.shape) == (P, ZONE_COUNT),
                       "skill_cov": tuple(self.skill_cov.shape) == (P, ZONE_COUNT, ZONE_COUNT),
                       "group": tuple(self.group.shape) == (P,), "surface": tuple(self.surface.shape[1:]) == TABLE_SHAPE,
                       "league_fg": tuple(self.league_fg.shape) == (ZONE_COUNT,)}
        if self.game is not None:
            checks["game"] = self.game.chart_zone_mass.shape[:2] == (P, C)
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"player profiles: {', '.join(bad)} do not fit {P} players x {C} charts")
        ids = self.players["PLAYER_ID"].tolist()
        object.__setattr__(self, "_ids", ids)
        object.__setattr__(self, "_id_index", pd.Index(pd.Series(ids, dtype=object)))  # 7 and '7' apart
        object.__setattr__(self, "_keys", [player_key(player_id) for player_id in ids]  # his streams' key
                           + [player_key(("prior", group)) for group in self.priors])
        object.__setattr__(self, "_seasons", {})

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
        rows = self._id_index.get_indexer(pd.Series(ids, dtype=object))
        unknown = [player_id for player_id, row in zip(ids, rows) if row < 0]
        if unknown:
            raise InputError(f"no profile for player(s) {unknown[:5]}{' ...' if len(unknown) > 5 else ''}; "
                             f"the profiles hold {counted(len(self.players), 'player')} (profiles.player_ids)")
        return np.asarray(rows, dtype=np.int64)

    def sample(self, shots, *, draws: int = 1, seed: Optional[int] = None, chart_ids: bool = False,
               defense: Optional[str] = None) -> pd.DataFrame:
        """Shots for each player (module docstring): `shots` an int (per player and draw) or a mapping
        PLAYER_ID -> shots per draw (only those players). Columns: SHOT_COLUMNS (without MAKE_PROB and MADE
        when there is no make model), rows grouped by player (in the order of `shots`, else the profiles')
        then draw. chart_ids: see sample_chunks. `defense` (a team the game tables hold): his shots against
        it, from `draw` (DRAW d is simulated season d; an ordinary moment), with draw's columns (ACTION_TYPE too)."""
        if defense is not None:
            return self._sample_against(shots, draws, seed, defense)
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

    # --- a game's shots ---------------------------------------------------------------------------------

    def draw(self, situations, *, season: int = 0, seed=None) -> pd.DataFrame:
        """One shot per row of `situations` (nba_ml.shots.player.situations: PLAYER_ID [, POSITION_GROUP,
        DEFENSE, PERIOD, SECONDS_LEFT]; its other columns kept), in its order: LOC_X, LOC_Y, SHOT_ZONE_BASIC,
        SHOT_DISTANCE, SHOT_VALUE, ACTION_TYPE, ACTION_FAMILY (when the records had ACTION_TYPE), MAKE_PROB
        and MADE (with a make model).

        `season` (an integer >= 0) picks one posterior draw of every player's and every defense's profile: one
        simulated season keeps one draw of each, so simulated seasons spread as real ones could; None: every
        profile at its posterior mean (each shot from one of his charts at random), an average season. `seed` (an
        int, None for fresh randomness, or a numpy Generator) the shots; with an int, a player's shots depend
        on his own rows alone, whoever else is in the call."""
        game = self._require_game()
        season = None if season is None else _positive_int(season, "season", zero=True, what="a non-negative integer or None")
        parsed = read_situations(situations, self)
        root = _root(seed)
        draws = self._season(season)
        makes = (self.surface.numpy(), self.group.numpy()) if self.has_makes else None
        columns = draw_game_shots(self._charts, game, parsed, draws, None if season is None else season % self.charts,
                                  root, makes)
        return self._game_frame(parsed.frame, columns)

    def zone_probabilities(self, situations) -> pd.DataFrame:
        """P(SHOT_ZONE_BASIC) of each situation's shot (the seven zones, Backcourt included, as columns; the
        situations' index), at the posterior mean of his profile and the defense's."""
        game = self._require_game()
        parsed = read_situations(situations, self)
        p = game.zone_probabilities(parsed.rows, parsed.defense, parsed.bucket)
        return pd.DataFrame(p, columns=list(ZONES), index=parsed.frame.index)

    def action_probabilities(self, shots) -> pd.DataFrame:
        """P(ACTION_FAMILY) of each shot, given where it is (LOC_X, LOC_Y) and its situation: the families of
        nba_ml.shots.actions as columns."""
        game = self._require_game()
        if not game.has_actions:
            raise InputError("these profiles know no kinds of shot: their records had no ACTION_TYPE column")
        parsed = read_situations(shots, self, shots=True)
        zone, cells = _shot_cells(parsed.x, parsed.y)
        logits = game.family_logits(parsed.rows, parsed.labels, cells, parsed.bucket)
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        return pd.DataFrame(p / p.sum(axis=1, keepdims=True), columns=list(FAMILIES), index=parsed.frame.index)

    def make_probabilities(self, shots) -> pd.Series:
        """His posterior mean make probability of each shot, given where (LOC_X, LOC_Y), its kind (ACTION_FAMILY,
        or ACTION_TYPE) and its situation. Over the kinds he takes there, it averages to make_prob's."""
        game = self._require_game()
        self._require_makes()
        parsed = read_situations(shots, self, shots=True, family=game.has_actions)
        zone, cells = _shot_cells(parsed.x, parsed.y)
        out = np.empty(len(parsed.rows))
        half = zone < ZONE_COUNT
        shift = game.make_adjustment(parsed.rows[half], cells[half], None if parsed.family is None else parsed.family[half],
                                     zone[half], parsed.defense[half], parsed.bucket[half])
        x, y = np.clip(parsed.x[half], -SIDELINE_X, SIDELINE_X), np.clip(parsed.y[half], BASELINE_Y, None)
        out[half] = make_prob_mean(self._skill(), parsed.rows[half], x, y, shift=shift)
        out[~half] = expit(game.backcourt_make)
        return pd.Series(out, index=parsed.frame.index, name="MAKE_PROB")

    def _sample_against(self, shots, draws: int, seed, defense) -> pd.DataFrame:
        game = self._require_game()
        if not isinstance(defense, str) or defense not in game.defenses:
            raise InputError(f"defense must be one of the profiles' defenses {list(game.defenses)[:30]}, got {defense!r}")
        rows, counts = self._shot_counts(shots)
        draws = _positive_int(draws, "draws")
        check_sampling_memory(max(1, int(counts.max(initial=0))), draws)
        situations = pd.DataFrame({"PLAYER_ID": pd.Series(np.repeat([self._ids[r] for r in rows], counts), dtype=object),
                                   "DEFENSE": defense})
        root = _root(seed)
        frames = [self.draw(situations, season=d, seed=root).assign(DRAW=np.int32(d)) for d in range(draws)]
        out = pd.concat(frames, ignore_index=True) if frames else situations
        order = np.lexsort((out["DRAW"].to_numpy(), np.repeat(np.arange(len(rows)), counts)[np.tile(np.arange(len(situations)), draws)]))
        out = out.iloc[order].reset_index(drop=True)
        return out[["PLAYER_ID", "DRAW", *[c for c in out.columns if c not in ("PLAYER_ID", "DRAW")]]]

    @property
    def has_defenses(self) -> bool:
        """Whether the records named defenses (their table, defenses.csv, and the defense card exist)."""
        return self.game is not None and bool(self.game.defenses)

    @property
    def defenses(self) -> pd.DataFrame:
        """Per defense and half-court zone: the share and FG% its opponents shot against it, against what they
        would have shot against the league's, with the model's 90% intervals (nba_ml.shots.player.defense_table);
        what `save` writes to defenses.csv. No rows when the records named no defenses."""
        return defense_table(self._require_game())

    def situation_rows(self, ids: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(profile row, known) of each id: his own row, else the prior of his label (the league's for -1)."""
        rows = self._id_index.get_indexer(pd.Series(ids, dtype=object)).astype(np.int64)
        known = rows >= 0
        prior_row = {group: len(self.players) + k for k, group in enumerate(self.priors)}
        if len(self.priors):
            league = prior_row[None]
            by_label = np.array([prior_row.get(g, league) for g in self.position_groups] + [league], dtype=np.int64)
            rows[~known] = by_label[labels[~known]]  # label -1: the last, the league's
        elif not known.all():
            raise InputError(f"no profile for player(s) {list(dict.fromkeys(ids[~known].tolist()))[:5]}, and these "
                             "profiles have no position priors to answer for them")
        return rows, known

    def labels_of(self, rows: np.ndarray) -> np.ndarray:
        """The position label (-1: unknown) of each profile row."""
        labels = np.concatenate([self.players["LABEL"].to_numpy(np.int64),
                                 [self.position_groups.index(g) if g is not None else -1 for g in self.priors]])
        return labels[rows].astype(np.int64)

    def densities(self, row: int) -> np.ndarray:
        """(C, S, S) float32 attempt densities of one player's posterior charts."""
        return self._charts.densities(row, np.arange(self.charts)).reshape(self.charts, *self.maps.shape[1:])

    # --- saving -------------------------------------------------------------------------------------

    def save(self, directory: str | Path, *, label: Optional[str] = None) -> Path:
        """profiles.json (players, settings), profiles.pt (tensors only), table.csv and, when the records named
        defenses, defenses.csv (`defenses`), swapped in whole. Replaces
        only an empty directory or one holding earlier profiles alone (OutputError naming it otherwise, before
        the table is made): nba_ml.shots.player.profiles_file. `label` names it in messages ('--out')."""
        meta = {"format": FORMAT_VERSION, "position_groups": list(self.position_groups), "blur": self.blur,
                "target_season": self.target_season, "seed": self.seed, "dropped": dict(self.dropped),
                "players": json.loads(self.players.to_json(orient="records", double_precision=15))}
        meta["player_ids"] = [_json_id(player_id) for player_id in self.player_ids]
        meta["priors"] = list(self.priors)
        tensors = {name: getattr(self, name) for name in TENSORS if getattr(self, name) is not None}
        if self.game is not None:
            game = self.game
            meta["game"] = {"zone_strength": game.zone_strength, "backcourt_make": game.backcourt_make,
                            "share_drift": game.share_drift, "defense_drift": game.defense_drift,
                            "defense_make_drift": game.defense_make_drift, "zone_drift": game.zone_drift,
                            "make_level": game.make_level, "level_sd": game.level_sd, "defenses": list(game.defenses),
                            "action_types": list(game.action_types), "settings": game.settings}
            tensors |= {"game." + name: torch.from_numpy(np.ascontiguousarray(array)) for name, array in game.arrays().items()}
        tables = {TABLE_FILE: self.table} | ({DEFENSES_FILE: lambda: self.defenses} if self.has_defenses else {})
        return write_profiles(directory, meta, tensors, tables, label=label)

    @classmethod
    def load(cls, directory: str | Path) -> "PlayerProfiles":
        """Profiles saved by `save`; tensors only are unpickled, and every field is checked (profiles_file): a
        damaged, edited or foreign directory is a ModelFileError naming the file and field."""
        meta, players, saved = read_profiles(directory)
        game = None
        if meta.game is not None:
            arrays = {name.removeprefix("game."): t.numpy() for name, t in saved.items() if name.startswith("game.")}
            game = GameTables(**arrays, **meta.game.model_dump(exclude={"defenses", "action_types"}),
                              defenses=tuple(meta.game.defenses), action_types=tuple(meta.game.action_types))
        return cls(players, tuple(meta.position_groups), saved["maps"], saved["weights"], saved["labels"],
                   saved["record_share"], saved["record_cells"], saved["record_weights"], saved["record_offsets"],
                   float(meta.blur), saved.get("skill_mean"), saved.get("skill_cov"), saved.get("group"),
                   saved.get("surface"), saved.get("league_fg"), meta.target_season, meta.seed, dict(meta.dropped),
                   tuple(meta.priors), game)

    # --- inside -------------------------------------------------------------------------------------

    @property
    def _charts(self) -> ChartSampler:
        cached = self.__dict__.get("_chart_sampler")
        if cached is None:
            cached = ChartSampler(self.maps, self.weights, self.record_share, self.record_cells, self.record_weights,
                                  self.record_offsets, self.blur)
            object.__setattr__(self, "_chart_sampler", cached)
        return cached

    def _require_game(self) -> GameTables:
        if self.game is None:
            raise InputError("these profiles have no game tables (defenses, moments, kinds of shot): build them with "
                             "model.player_profiles(records)")
        return self.game

    def _season(self, season: int) -> dict:
        """One simulated season's draws (GameTables.season_draws, and every row's zone make offsets), made once and
        kept for the last few seasons asked for."""
        cached = self._seasons.get(season)
        if cached is None and season is None:
            game = self.game
            cached = {"shares": game.zone_shares(), "ratios": game.defense_ratio_mean(), "kinds": game.action_tilt,
                      "defense_make": game.defense_make_mean_rows(), "level": game.make_level}
            if self.has_makes:
                cached["offsets"] = self.skill_mean.numpy()
            self._seasons[None] = cached
        if cached is None:
            root = self.seed or 0
            cached = self.game.season_draws(season, root, self._keys, season % self.charts)
            if self.has_makes:
                streams = PlayerStreams(int(root) * 1_000_003 + season, Stream.SEASON_MAKES)
                normal = np.stack([streams.of(key).standard_normal(ZONE_COUNT) for key in self._keys])
                cached["offsets"] = self.skill_mean.numpy() + np.einsum("rj,rij->ri", normal, self._cholesky())
            if len(self._seasons) >= SEASONS_KEPT:
                self._seasons.pop(next(iter(self._seasons)))
            self._seasons[season] = cached
        return cached

    def _game_frame(self, situations: pd.DataFrame, columns: dict) -> pd.DataFrame:
        out = {name: situations[name].to_numpy() for name in situations.columns if name not in GAME_COLUMNS}
        zone = columns.pop("zone")
        out |= {"LOC_X": columns["LOC_X"], "LOC_Y": columns["LOC_Y"],
                "SHOT_ZONE_BASIC": pd.Categorical.from_codes(zone, dtype=ZONE_CATEGORIES),
                "SHOT_DISTANCE": columns["SHOT_DISTANCE"], "SHOT_VALUE": columns["SHOT_VALUE"]}
        if "ACTION_TYPE_CODE" in columns:
            out["ACTION_TYPE"] = pd.Categorical.from_codes(columns["ACTION_TYPE_CODE"], categories=list(self.game.action_types))
            out["ACTION_FAMILY"] = pd.Categorical.from_codes(columns["ACTION_FAMILY_CODE"], categories=list(FAMILIES))
        for name in ("MAKE_PROB", "MADE"):
            if name in columns:
                out[name] = columns[name]
        return pd.DataFrame(out, index=situations.index, copy=False)

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

    def _draw(self, rows: np.ndarray, per_draw: np.ndarray, draws: int, root: int, chart_ids: bool) -> pd.DataFrame:
        """The shots of players `rows` (profile rows), per_draw[i] shots in each of `draws` draws.

        A chart is (1 - v) x (weights @ maps) + v x blur(his record's weighted cells); a shot is drawn from it in
        two stages, exactly, without building the chart: with probability v from the record (one of his cells,
        by its weight times the in-court mass of its blur, then a cell of that blur), else from the GAN's part
        (a habit by its weight, then a cell of that habit's map). Then a uniform position inside the cell."""
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
        cell = self._charts.cells(n, pair, pair_rows, pair_charts, uniforms)
        x, y, distance, zone = self._charts.place(cell, uniforms[1], uniforms[2])
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

def check_sampling_memory(shots_per_draw, draws, *, rows_per_chunk: int = ROWS_PER_CHUNK,
                          names: tuple[str, str] = ("shots", "draws")) -> None:
    """Check the counts of a draw (InputError naming `names`) and refuse (ResourceError), before any work, a
    draw whose chunks (at least one player's draws x shots) would not fit."""
    player_rows = _positive_int(shots_per_draw, names[0]) * _positive_int(draws, names[1])
    check_memory(max(rows_per_chunk, player_rows) * BYTES_PER_SHOT,
                 f"drawing {player_rows:,} shots for one player (draws x shots) needs",
                 "ask for fewer draws or shots per draw, or call sample_chunks for fewer draws at a time")


def _root(seed) -> int:
    """The root of draw's streams: an int seed (root_entropy), or the next number of a numpy Generator."""
    return int(seed.integers(2 ** 63)) if isinstance(seed, np.random.Generator) else root_entropy(seed)


def _shot_cells(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(zone 0-6, kind-of-shot cell) of each shot's location."""
    distance = np.hypot(x, y)
    zone = zone_index(x, y, distance).astype(np.int64)
    return zone, action_cell(zone, (distance * 0.1).astype(np.int64))


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

