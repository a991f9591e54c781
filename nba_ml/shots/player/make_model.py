"""How well a given player shoots: his make probability anywhere on the court, from his makes and misses.

    model.makes                                    # a MakeModel, trained and saved with the shot-chart model
    posterior = skill_posterior(model.makes, records)   # records: nba_ml.shots.player.records.player_records
    make_prob_mean(posterior, rows, x, y)          # his posterior mean make probability at each location

Model. A shot by player i at location x, in zone z(x) (the six half-court SHOT_ZONE_BASIC zones), goes
in with probability

    p = sigmoid(f_g(x) + u_i[z(x)])

f_g is the league's make surface of his position group g (a smooth location model of the rate of the shots
taken there: nba_ml.shots.player.make_fit); u_i his skill, six logit offsets, one per zone, with the
prior u_i ~ N(B (s_i - s_g), S): S is the spread and correlation of skill across zones among the training
population (player-seasons of at least charts.min_shots shots), and the mean moves with where he shoots
(s_i, his zone shares, shrunk toward his position's s_g with a Dirichlet prior: a player who takes many
threes is, on average, a better three-point shooter). B, S and the Dirichlet strength are fitted on the
training players by empirical Bayes (EM with Laplace approximations).

His posterior. His makes and misses are a Bernoulli likelihood; the posterior of u_i is taken by the
Laplace approximation (Newton to the mode, the curvature there), which for six offsets and hundreds of
shots is within Monte Carlo error of the exact posterior (tests/shots/player/test_make_model.py).
No record: the prior, i.e. his position's rates. Posterior draws of u_i are posterior draws of his make
surface.

Seasons. A player's skill moves between seasons: u in season t+1 = m + rho (u in season t - m) + noise
(a stationary AR(1) around his prior mean, rho = config.season_corr per season), so a record five
seasons old counts for rho^5 of itself and his prior fills the rest. A season the model was not trained
on also has a league level of its own, unknown: every zone's logit is off by a shared N(0, season_sd^2)
for all its shots, so a record of that season informs his skill and that season's level together, and
his intervals for it are wider; its surface is the average of the fine surface and a coarse one (cells
of coarse_cell_ft), because the fine detail near the rim does not carry over between seasons (docs/
benchmarks.md, "Points for a given player").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from scipy.special import expit, logit

from ..court import BASELINE_Y, HALF_COURT_Y, SIDELINE_X, THREE_POINT_ZONES, zone_index

ZONE_COUNT = 6  # the half-court zones of court.ZONES (Backcourt is off the half court the model covers)
SHARE_FEATURES = ((0,), (1,), (2,), (3, 4), (5,))  # zones whose shares enter the prior mean (corners summed)
# The surfaces are tables over the half court at whole tenths of a foot (real locations are whole tenths):
# column x = TABLE_X0 + c, row y = TABLE_Y0 + r.
TABLE_X0, TABLE_Y0 = -int(SIDELINE_X), int(np.floor(BASELINE_Y))
TABLE_SHAPE = (int(np.ceil(HALF_COURT_Y)) - TABLE_Y0 + 1, 2 * int(SIDELINE_X) + 1)  # (471, 501)
NEWTON_ITERATIONS, NEWTON_TOLERANCE = 60, 1e-10
HERMITE_NODES = 32  # Gauss-Hermite nodes for the posterior mean make probability (exact to ~1e-9 here)


class MakeConfig(BaseModel):
    """The make model: how its surface is fitted and how seasons are told apart."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fit: bool = Field(True, description="Fit the make model when the charts have makes (channels 'attempts+makes'); false: a model without one.")
    smoothness: float = Field(10.0, gt=0, le=1e6, description="Second-difference penalty of the make surface's splines (larger = smoother).")
    position_shrinkage: float = Field(100.0, gt=0, le=1e6, description="Ridge penalty pulling each position group's surface toward the shared one.")
    season_corr: float = Field(0.93, gt=0, le=1, description="Correlation of a player's skill from one season to the next (a record k seasons old counts for season_corr**k of itself).")
    season_sd: float = Field(0.15, ge=0, le=2, description="Logit sd of a season's league level per zone, for a season the model was not trained on.")
    new_season_fine_weight: float = Field(0.5, ge=0, le=1, description="Weight of the fine surface in a season the model was not trained on (the rest: the coarse cell surface).")
    coarse_cell_ft: float = Field(2.5, gt=0, le=25, description="Cell side, in feet, of the coarse surface.")
    coarse_prior_shots: float = Field(2500.0, gt=0, le=1e7, description="Pseudo-shots pulling a coarse cell's rate toward its zone x 4 ft band.")


@dataclass(frozen=True)
class MakeModel:
    """League make surfaces (logits, per position group and a last row for the league) and the skill prior."""

    config: MakeConfig
    position_groups: tuple[str, ...]
    surface: torch.Tensor  # (groups + 1, *TABLE_SHAPE) float32 logits of the fine surface
    coarse: torch.Tensor  # (groups + 1, *TABLE_SHAPE) float32 logits of the coarse cell surface
    skill_cov: torch.Tensor  # (6, 6) S
    chart_coef: torch.Tensor  # (5, 6) B: prior mean = (shares - position shares) @ B
    position_shares: torch.Tensor  # (groups + 1, 6) zone shares of the training shots
    share_prior: float  # Dirichlet strength of the zone shares, in shots
    league_fg: torch.Tensor  # (6,) field-goal share of the training shots per zone
    seasons: tuple[str, ...]  # the seasons it was trained on

    def __post_init__(self) -> None:
        groups = len(self.position_groups) + 1
        shapes = {"surface": (groups, *TABLE_SHAPE), "coarse": (groups, *TABLE_SHAPE), "skill_cov": (6, 6),
                  "chart_coef": (len(SHARE_FEATURES), 6), "position_shares": (groups, 6), "league_fg": (6,)}
        for name, shape in shapes.items():
            value = getattr(self, name)
            if not isinstance(value, torch.Tensor) or tuple(value.shape) != shape or not torch.isfinite(value).all():
                got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
                raise ValueError(f"make model: {name} must be a finite tensor of shape {shape}, got {got}")
        eigen = torch.linalg.eigvalsh(self.skill_cov.double())
        if not bool((eigen > 0).all()):
            raise ValueError("make model: skill_cov must be a positive definite covariance")
        if not self.share_prior > 0:
            raise ValueError(f"make model: share_prior must be positive, got {self.share_prior}")

    def tensors(self) -> dict:
        """What `save` writes (tensors and plain containers only, readable with weights_only=True)."""
        return {"surface": self.surface, "coarse": self.coarse, "skill_cov": self.skill_cov,
                "chart_coef": self.chart_coef, "position_shares": self.position_shares,
                "share_prior": float(self.share_prior), "league_fg": self.league_fg, "seasons": list(self.seasons)}

    @classmethod
    def from_tensors(cls, saved: dict, config: MakeConfig, position_groups: tuple[str, ...]) -> "MakeModel":
        return cls(config, tuple(position_groups), saved["surface"], saved["coarse"], saved["skill_cov"].double(),
                   saved["chart_coef"].double(), saved["position_shares"].double(), float(saved["share_prior"]),
                   saved["league_fg"].double(), tuple(str(s) for s in saved["seasons"]))

    def known_season(self, season: Optional[str]) -> bool:
        """True for a season the model was trained on (or no season given: the training season)."""
        return season is None or str(season) in self.seasons

    def surface_for(self, season: Optional[str]) -> np.ndarray:
        """(groups + 1, *TABLE_SHAPE) float32 logits of the league surface in `season` (module docstring)."""
        fine = self.surface.numpy()
        weight = self.config.new_season_fine_weight
        if self.known_season(season) or weight == 1:
            return fine
        mixed = weight * expit(fine) + (1 - weight) * expit(self.coarse.numpy())
        return clipped_logit(mixed).astype(np.float32)

    def group_of(self, labels: np.ndarray) -> np.ndarray:
        """Surface row of each position label (-1, unknown: the league's row)."""
        labels = np.asarray(labels)
        return np.where(labels >= 0, labels, len(self.position_groups)).astype(np.int64)


@dataclass(frozen=True)
class SkillPosterior:
    """Per player (rows of a PlayerRecords table): Gaussian posterior of his six zone offsets in the target
    season (mean (P, 6), cov (P, 6, 6), the new season's level included), the surface row of his group, and
    the target season's surface (groups + 1, *TABLE_SHAPE) logits."""

    mean: np.ndarray
    cov: np.ndarray
    group: np.ndarray
    surface: np.ndarray
    target_season: Optional[str]

    def base_logit(self, rows: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The league surface of each row's group at (x, y), float64."""
        return self.surface[self.group[rows], *table_index(x, y)].astype(np.float64)


def table_index(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of the surface tables at the whole tenth nearest each location (clipped to the court)."""
    column = np.clip(np.rint(np.asarray(x, dtype=np.float64) - TABLE_X0), 0, TABLE_SHAPE[1] - 1).astype(np.int64)
    row = np.clip(np.rint(np.asarray(y, dtype=np.float64) - TABLE_Y0), 0, TABLE_SHAPE[0] - 1).astype(np.int64)
    return row, column


def half_court_zone(x: np.ndarray, y: np.ndarray, distance: np.ndarray | None = None) -> np.ndarray:
    """Zone index 0-5 of each half-court location (the backcourt's few tenths fold into Above the Break 3);
    `distance` from the hoop when the caller has it."""
    return np.minimum(zone_index(x, y, distance), ZONE_COUNT - 1).astype(np.int64)


_ZONE_VALUES = np.where(np.isin(np.arange(ZONE_COUNT), THREE_POINT_ZONES), 3, 2).astype(np.int8)


def shot_value(zones: np.ndarray) -> np.ndarray:
    """2 or 3 per half-court zone index (0-5), int8: a lookup, fast enough for the sampler's every shot."""
    return _ZONE_VALUES[zones]


def share_features(counts: np.ndarray, position_shares: np.ndarray, share_prior: float) -> np.ndarray:
    """(P, 5) his zone shares, shrunk toward his position's, minus his position's: counts (P, 6) of his shots
    per zone, position_shares (P, 6)."""
    shrunk = (counts + share_prior * position_shares) / (counts.sum(axis=1, keepdims=True) + share_prior)
    return np.stack([(shrunk - position_shares)[:, list(zones)].sum(axis=1) for zones in SHARE_FEATURES], axis=1)


def laplace(base: np.ndarray, zone: np.ndarray, made: np.ndarray, player: np.ndarray, prior_mean: np.ndarray,
            prior_cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Laplace approximation of the posterior of each player's offsets u (P, 6), prior N(prior_mean (P, 6),
    prior_cov (P, 6, 6)), from shots with base logits `base`, zones, outcomes and player rows: (mode, cov).

    Newton's method on the log posterior, which is concave: each player's iterations use his shots only, so
    his result does not depend on which other players are in the call."""
    players = len(prior_mean)
    precision = np.linalg.inv(prior_cov)
    u = prior_mean.copy()
    flat = player * ZONE_COUNT + zone
    moving = np.ones(players, dtype=bool)  # a player stops when his own step is below the tolerance
    for _ in range(NEWTON_ITERATIONS):
        p = expit(base + u[player, zone])
        gradient = np.bincount(flat, made - p, players * ZONE_COUNT).reshape(players, ZONE_COUNT)
        curvature = np.bincount(flat, p * (1 - p), players * ZONE_COUNT).reshape(players, ZONE_COUNT)
        gradient -= np.einsum("pij,pj->pi", precision, u - prior_mean)
        hessian = precision + curvature[:, :, None] * np.eye(ZONE_COUNT)
        step = np.linalg.solve(hessian, gradient[..., None])[..., 0]
        step *= np.minimum(1.0, 2.0 / np.maximum(np.abs(step).max(axis=1, keepdims=True), 1e-300))  # at most 2 logits
        u[moving] += step[moving]
        moving &= np.abs(step).max(axis=1, initial=0.0) >= NEWTON_TOLERANCE
        if not moving.any():
            break
    p = expit(base + u[player, zone])
    curvature = np.bincount(flat, p * (1 - p), players * ZONE_COUNT).reshape(players, ZONE_COUNT)
    return u, np.linalg.inv(precision + curvature[:, :, None] * np.eye(ZONE_COUNT))


def skill_posterior(model: MakeModel, records) -> SkillPosterior:
    """The posterior of every player's offsets in the target season from his record (module docstring).

    `records`: a PlayerRecords (nba_ml.shots.player.records); shots without a usable outcome still count
    for his zone shares (the prior mean), not for the likelihood."""
    table = records.table
    players = len(table)
    group = model.group_of(table["LABEL"].to_numpy())
    shares = model.position_shares.numpy()[group]
    zones = half_court_zone(records.x, records.y)
    counts = np.bincount(records.player * ZONE_COUNT + zones, minlength=players * ZONE_COUNT).reshape(players, ZONE_COUNT)
    # einsum, not matmul: a row's sums in a fixed order, whatever the number of rows (BLAS blocks by it)
    prior_mean = np.einsum("pk,kz->pz", share_features(counts.astype(np.float64), shares, model.share_prior),
                           model.chart_coef.numpy())
    cov0 = model.skill_cov.numpy()
    mean, cov = prior_mean.copy(), np.repeat(cov0[None], players, axis=0)
    config, target = model.config, records.target_season
    has_outcome = records.made >= 0
    in_target = has_outcome & np.array([season is None or season == target for season in records.season], dtype=bool)
    # his earlier (or other) seasons, oldest first: a Kalman filter over his seasons
    at_age = np.zeros(players, dtype=np.int64)
    others = sorted({(int(a), s) for a, s in zip(records.age[has_outcome & ~in_target], records.season[has_outcome & ~in_target])},
                    key=lambda item: (-item[0], item[1]))
    seen = np.zeros(players, dtype=bool)
    for age, season in others:
        shots = has_outcome & ~in_target & (records.season == season)
        who = np.unique(records.player[shots])
        start_age = np.where(seen[who], at_age[who], age)
        mean[who], cov[who] = _carry(mean[who], cov[who], prior_mean[who], cov0, start_age - age, config.season_corr)
        at_age[who], seen[who] = age, True
        known = model.known_season(season)
        mean[who], cov[who] = _observe(mean[who], cov[who], 0.0 if known else config.season_sd,
                                       _base(model.surface_for(season), group, records, shots), zones[shots],
                                       records.made[shots], np.searchsorted(who, records.player[shots]))
    mean, cov = _carry(mean, cov, prior_mean, cov0, at_age, config.season_corr)
    known_target = model.known_season(target)
    if not known_target:  # the target season's own level: unknown, shared by all his shots in it
        cov = cov + config.season_sd**2 * np.eye(ZONE_COUNT)
    target_surface = model.surface_for(target)
    if in_target.any():  # his record of the target season informs his offsets and its level together
        who = np.unique(records.player[in_target])
        mean[who], cov[who] = laplace(_base(target_surface, group, records, in_target), zones[in_target],
                                      records.made[in_target].astype(np.float64),
                                      np.searchsorted(who, records.player[in_target]), mean[who], cov[who])
    return SkillPosterior(mean, cov, group, target_surface, target)


def _base(surface: np.ndarray, group: np.ndarray, records, shots: np.ndarray) -> np.ndarray:
    """Base logits of the record's `shots` (a mask) on `surface`, each on his group's row."""
    return surface[group[records.player[shots]], *table_index(records.x[shots], records.y[shots])].astype(np.float64)


def _carry(mean, cov, prior_mean, prior_cov, seasons, corr):
    """Move the offsets' posterior forward by `seasons` (P,) seasons of the AR(1) around the prior mean."""
    r = corr ** np.asarray(seasons, dtype=np.float64)
    return (prior_mean + r[:, None] * (mean - prior_mean),
            r[:, None, None] ** 2 * cov + (1 - r[:, None, None] ** 2) * prior_cov)


def _observe(mean, cov, level_sd, base, zones, made, player):
    """Condition N(mean, cov) of the offsets v on shots whose logit is base + v + (season level ~ N(0, level_sd^2))."""
    eye = np.eye(ZONE_COUNT)
    mode, post = laplace(base, zones, made.astype(np.float64), player, mean, cov + level_sd**2 * eye)
    if level_sd == 0:
        return mode, post
    gain = cov @ np.linalg.inv(cov + level_sd**2 * eye)  # v given w = v + level: Gaussian conditioning
    return (mean + np.einsum("pij,pj->pi", gain, mode - mean),
            cov - gain @ cov + gain @ post @ np.swapaxes(gain, 1, 2))


def make_prob_mean(posterior: SkillPosterior, rows: np.ndarray, x: np.ndarray, y: np.ndarray,
                   shift: np.ndarray | float = 0.0) -> np.ndarray:
    """His posterior mean make probability at each location: E sigmoid(f(x) + u[z(x)] + shift), a one-dimensional
    Gaussian integral per location (Gauss-Hermite); `shift`: what else moves the logit there (known)."""
    zones = half_court_zone(x, y)
    centre = posterior.base_logit(rows, x, y) + posterior.mean[rows, zones] + shift
    sd = np.sqrt(posterior.cov[rows, zones, zones])
    nodes, weights = np.polynomial.hermite_e.hermegauss(HERMITE_NODES)
    return np.einsum("nk,k->n", expit(centre[:, None] + sd[:, None] * nodes[None, :]), weights) / weights.sum()


NO_MAKE_MODEL = ("it was trained without makes (charts.channels 'attempts' or makes.fit false); retrain it "
                 "with channels 'attempts+makes' on shots with SHOT_MADE_FLAG")


def clipped_logit(p):
    """logit(p), p clipped to [1e-7, 1 - 1e-7] (a rate of 0 or 1 stays finite)."""
    return logit(np.clip(p, 1e-7, 1 - 1e-7))


def zone_intervals(posterior: SkillPosterior, rows: np.ndarray, x: np.ndarray, y: np.ndarray,
                   rng_of, *, level: float = 0.9, draws: int = 1000) -> list[dict]:
    """Per (player, zone) of the given locations: the central `level` predictive interval of the FG% he will
    shoot on them: his skill's uncertainty (draws of his zone offset) and the luck of that many attempts
    (a Bernoulli outcome per location and draw), both. `rng_of(row)`: his numpy Generator (asked once per
    player, in turn).
    Returns dicts with ROW, ZONE, ATTEMPTS, MAKE_PROB (the posterior mean FG%), FG_LO, FG_HI."""
    zones = half_court_zone(x, y)
    mean = make_prob_mean(posterior, rows, x, y)
    base = posterior.base_logit(rows, x, y)
    tail = (1 - level) / 2 * 100
    out = []
    for row in np.unique(rows):
        rng = rng_of(int(row))
        mine = rows == row
        for zone in np.unique(zones[mine]):
            at = np.flatnonzero(mine & (zones == zone))
            offset = posterior.mean[row, zone] + np.sqrt(posterior.cov[row, zone, zone]) * rng.standard_normal(draws)
            p = expit(base[at][None, :] + offset[:, None])  # (draws, attempts)
            fg = (rng.random(p.shape) < p).mean(axis=1)
            lo, hi = np.percentile(fg, [tail, 100 - tail])
            out.append({"ROW": int(row), "ZONE": int(zone), "ATTEMPTS": len(at), "MAKE_PROB": float(mean[at].mean()),
                        "FG_LO": float(lo), "FG_HI": float(hi)})
    return out


def player_makes(model: Optional[MakeModel], observed, queries, position_groups: tuple[str, ...], *,
                 season: Optional[str] = None, seed: Optional[int] = None, with_zones: bool = True,
                 where: str = "the model"):
    """Make probabilities at queries (PLAYER_ID, LOC_X, LOC_Y [, QUERY_ID, SHOT_VALUE, POSITION_GROUP]) for
    their players from their records in `observed` (nba-ml makes): (pred: QUERY_ID, PLAYER_ID [, SHOT_VALUE],
    MAKE_PROB; zones: PLAYER_ID, SHOT_ZONE_BASIC, ATTEMPTS, MAKE_PROB, FG_LO, FG_HI, NOTE, or None; a summary line).

    A player of the queries with no record gets his position's rates (the league's when his position is
    unknown). Queries without a player id, or off the half court (past a sideline, behind the baseline, beyond
    the half-court line, or without coordinates), are not answered and counted. Every player the queries name
    is in the zones (a player none of whose queries is usable: one row without a zone, and a NOTE why).
    `seed` makes the zones' interval draws reproducible (per player, as everywhere: streams.root_entropy); None
    draws them from fresh randomness (the probabilities themselves are means and take no seed)."""
    import pandas as pd

    from ...errors import InputError, counted
    from ...frames import require_columns
    from ..charts import on_grid
    from ..court import ZONES
    from .records import normalise_ids, player_records
    from .streams import PlayerStreams, Stream, player_key, root_entropy

    if model is None:
        raise InputError(f"{where}: this model has no make model: {NO_MAKE_MODEL}")
    require_columns(queries, ("PLAYER_ID", "LOC_X", "LOC_Y"), "queries")
    if len(observed) and "SHOT_MADE_FLAG" not in observed:
        raise InputError("observed: the make model needs each shot's outcome, a SHOT_MADE_FLAG column of 0/1; "
                         f"columns found: {list(observed.columns)}")
    ids = normalise_ids(queries["PLAYER_ID"])
    x = pd.to_numeric(queries["LOC_X"], errors="coerce").to_numpy(np.float64)
    y = pd.to_numeric(queries["LOC_Y"], errors="coerce").to_numpy(np.float64)
    has_id = ids.notna().to_numpy()
    on_court = np.isfinite(x) & np.isfinite(y) & on_grid(x, y)
    usable = has_id & on_court
    asked = queries.loc[has_id, ["PLAYER_ID"] + (["POSITION_GROUP"] if "POSITION_GROUP" in queries else [])]
    records = player_records(observed, position_groups, players=asked, target_season=season)
    posterior = skill_posterior(model, records)
    row_of = {player_id: row for row, player_id in enumerate(records.player_ids)}
    rows = np.array([row_of[i] for i in ids[usable]], dtype=np.int64)
    qx, qy = x[usable], y[usable]
    query_id = queries["QUERY_ID"].to_numpy()[usable] if "QUERY_ID" in queries else np.flatnonzero(usable)
    pred = pd.DataFrame({"QUERY_ID": query_id, "PLAYER_ID": pd.Series(list(ids[usable]), dtype=object)})
    if "SHOT_VALUE" in queries:
        pred["SHOT_VALUE"] = queries["SHOT_VALUE"].to_numpy()[usable]
    pred["MAKE_PROB"] = make_prob_mean(posterior, rows, qx, qy)
    zones = None
    if with_zones:
        streams = PlayerStreams(root_entropy(seed), Stream.ZONES)
        intervals = zone_intervals(posterior, rows, qx, qy, lambda row: streams.of(player_key(records.player_ids[row])))
        named, answered = pd.Series(list(ids[has_id]), dtype=object), set(rows.tolist())
        off = named[~on_court[has_id]].value_counts(sort=False)  # his queries not on the half court
        for player_id in dict.fromkeys(named):
            if row_of[player_id] not in answered:  # none of his queries is usable: a row without a zone, and why
                n = int(off.get(player_id, 0))
                where = "his one query is not" if n == 1 else f"none of his {n:,} queries is"
                intervals.append({"ROW": row_of[player_id], "ZONE": -1, "ATTEMPTS": 0, "MAKE_PROB": np.nan,
                                  "FG_LO": np.nan, "FG_HI": np.nan,
                                  "NOTE": f"{where} on the half court with coordinates: no zones"})
        zones = pd.DataFrame([{"NOTE": "", **entry} for entry in intervals],
                             columns=["ROW", "ZONE", "ATTEMPTS", "MAKE_PROB", "FG_LO", "FG_HI", "NOTE"])
        zones = zones.sort_values("ROW", kind="stable").reset_index(drop=True)
        zones.insert(0, "PLAYER_ID", pd.Series([records.player_ids[r] for r in zones["ROW"]], dtype=object))
        zones.insert(1, "SHOT_ZONE_BASIC", [ZONES[z] if z >= 0 else None for z in zones["ZONE"]])
        zones = zones.drop(columns=["ROW", "ZONE"])
    not_used = {"queries/missing_player_id": int((~has_id).sum()), "queries/off_court": int((has_id & ~on_court).sum())}
    named_rows, answered_rows = np.unique([row_of[i] for i in ids[has_id]]).astype(np.int64), np.unique(rows)
    outcomes = records.table["OUTCOMES"].to_numpy()[named_rows]
    unanswered = len(named_rows) - len(answered_rows)
    dropped = {k: v for k, v in records.dropped.items() if v}
    dropped_queries = {k: v for k, v in not_used.items() if v}
    summary = (f"{counted(len(named_rows), 'player')} asked for, {int((outcomes > 0).sum()):,} of them with a record "
               f"({counted(int(outcomes.sum()), 'shot')} with an outcome)"
               + (f", {unanswered:,} of them with no query on the half court (not answered)" if unanswered else "")
               + f"; record rows not used: {dropped or 'none'}; queries not used: {dropped_queries or 'none'}; "
               f"season {records.target_season or 'of the model'}")
    return pred, zones, summary
