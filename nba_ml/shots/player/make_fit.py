"""Fitting the make model (nba_ml.shots.player.make_model) on the training shots.

    makes = fit_make_model(shots, config.makes, min_shots=config.charts.min_shots)

The population: player-seasons with at least `min_shots` half-court shots, a known position group and
0/1 outcomes (the chart model's population: charts.min_shots). Steps:

1. The fine surface: a penalised logistic GAM of location per position group, each group's
   coefficients a shared surface plus a ridge-shrunk deviation (`position_shrinkage`). Its basis:
   cubic B-splines of the distance to the hoop (knots every half foot near the rim, every foot or two
   further out, a knot on the three-point line), the same splines again on three-point shots (the line
   is a step), B-splines of the angle in three distance bands (at the rim, two-point range, threes), and
   one indicator per zone (the restricted-area and paint lines are steps too). Second differences of
   neighbouring spline coefficients are penalised (`smoothness`). Fitted by Newton's method.
2. The players' offsets from that surface and their prior (B, S): EM with Laplace approximations, each
   player-season weighted by its shots (a simulator cares most about the players who shoot most). The
   surface stays the rate of the shots taken at a spot, whoever takes them: a player without a record is
   predicted at the rate of the league's shots there, and the offsets are measured from it (a surface
   refitted with the offsets in its logits, an average shooter's, scored worse: docs/benchmarks.md).
3. The coarse surface: per group, the make rate of coarse_cell_ft cells, shrunk toward the rate of the
   cell's zone x 4 ft distance band with coarse_prior_shots pseudo-shots.
4. The zone shares' Dirichlet strength: method of moments over the population's players.

Both surfaces are tabulated on the half court at whole tenths of a foot (make_model.TABLE_SHAPE), per
group and for the league (the shared surface; the coarse model of all groups pooled).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy.interpolate import BSpline
from scipy.special import expit

from ...errors import InputError
from ...frames import require_columns
from ..charts import on_grid
from ..court import THREE_POINT_ZONES
from .make_model import (TABLE_SHAPE, TABLE_X0, TABLE_Y0, ZONE_COUNT, MakeConfig, MakeModel,
                         clipped_logit, half_court_zone, laplace, share_features)

DISTANCE_KNOTS_FT = np.array([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 10, 12, 14, 16, 18, 20, 21, 22,
                              23, 23.75, 24.5, 25.5, 27, 29, 32, 36, 42, 49.0])
ANGLE_KNOTS = np.linspace(-np.pi / 2, np.pi / 2, 13)
SPLINE_DEGREE = 3
ZONE_RIDGE = 0.1  # ridge on the zone indicators and the angle splines' size (they overlap the distance splines)
FIT_ITERATIONS, FIT_TOLERANCE = 40, 1e-7
EM_ITERATIONS = 40
MIN_PLAYERS = 10  # player-seasons needed to fit a prior over players
COARSE_BAND_FT = 4.0
TABLE_ROWS_PER_CHUNK = 40  # rows of the table designed at a time (the design is ~100 columns)


def fit_make_model(shots: pd.DataFrame, config: MakeConfig, *, min_shots: int,
                   position_groups: tuple[str, ...] = ("G", "F", "C")) -> MakeModel:
    """The make model of `shots` (LOC_X, LOC_Y, SHOT_MADE_FLAG, PLAYER_ID, POSITION_GROUP [, SEASON])."""
    population = _population(shots, min_shots, position_groups)
    x, y, made, group, player = (population[c].to_numpy() for c in ("LOC_X", "LOC_Y", "MADE", "GROUP", "UNIT"))
    zones = half_court_zone(x, y)
    units = int(player.max()) + 1
    weights = np.bincount(player, minlength=units).astype(np.float64)
    weights /= weights.sum()

    design = Design()
    surface = Surface(design, len(position_groups), config).fit(x, y, group, made)
    counts = np.bincount(player * ZONE_COUNT + zones, minlength=units * ZONE_COUNT).reshape(units, -1).astype(np.float64)
    unit_group = np.zeros(units, dtype=np.int64)
    unit_group[player] = group
    shares = np.stack([_shares(zones[group == g]) for g in range(len(position_groups))] + [_shares(zones)])
    features = share_features(counts, shares[unit_group], 0.0)
    coef, cov = _prior(surface.logit(x, y, group), zones, made, player, features, weights)

    return MakeModel(
        config=config, position_groups=tuple(position_groups),
        surface=torch.from_numpy(surface.table()), coarse=torch.from_numpy(_coarse_table(x, y, group, made, config, len(position_groups))),
        skill_cov=torch.from_numpy(cov), chart_coef=torch.from_numpy(coef), position_shares=torch.from_numpy(shares),
        share_prior=_share_prior(counts, unit_group), league_fg=torch.from_numpy(_zone_rates(shots)),
        seasons=tuple(sorted({s for s in population["SEASON"] if s})))


def _population(shots: pd.DataFrame, min_shots: int, position_groups: tuple[str, ...]) -> pd.DataFrame:
    """The usable shots of player-seasons with >= min_shots of them and a known group: LOC_X, LOC_Y, MADE,
    GROUP (index), UNIT (player-season index), SEASON."""
    require_columns(shots, ["LOC_X", "LOC_Y", "SHOT_MADE_FLAG", "PLAYER_ID", "POSITION_GROUP"], "the training shots",
                    needed_for="the make model")
    frame = pd.DataFrame({"LOC_X": pd.to_numeric(shots["LOC_X"], errors="coerce"),
                          "LOC_Y": pd.to_numeric(shots["LOC_Y"], errors="coerce"),
                          "MADE": pd.to_numeric(shots["SHOT_MADE_FLAG"], errors="coerce"),
                          "PLAYER_ID": shots["PLAYER_ID"].to_numpy(), "POSITION_GROUP": shots["POSITION_GROUP"].to_numpy(),
                          "SEASON": shots["SEASON"].astype(object).to_numpy() if "SEASON" in shots else None})
    usable = frame["MADE"].isin([0, 1]) & frame["PLAYER_ID"].notna() & on_grid(frame["LOC_X"].to_numpy(), frame["LOC_Y"].to_numpy())
    frame = frame[usable.to_numpy()].copy()
    frame["SEASON"] = frame["SEASON"].map(lambda v: "" if v is None or pd.isna(v) else str(v))
    keys = ["SEASON", "PLAYER_ID"]
    votes = frame.dropna(subset=["POSITION_GROUP"]).groupby(keys)["POSITION_GROUP"].agg(lambda g: g.value_counts().index[0])
    size = frame.groupby(keys).size()
    kept = size[(size >= min_shots)].index.intersection(votes.index)
    kept = kept[[votes[k] in position_groups for k in kept]]
    if len(kept) < MIN_PLAYERS:
        raise InputError(f"the make model needs at least {MIN_PLAYERS} player-seasons with >= charts.min_shots "
                         f"({min_shots}) shots of known position and 0/1 SHOT_MADE_FLAG; the training shots have "
                         f"{len(kept)}: lower charts.min_shots or give more shots")
    unit = pd.Series(np.arange(len(kept)), index=kept)
    index = pd.MultiIndex.from_frame(frame[keys])
    in_kept = index.isin(kept)
    frame = frame[in_kept].copy()
    frame["UNIT"] = unit.reindex(pd.MultiIndex.from_frame(frame[keys])).to_numpy()
    rank = {g: i for i, g in enumerate(position_groups)}
    frame["GROUP"] = [rank[votes[k]] for k in zip(frame["SEASON"], frame["PLAYER_ID"])]
    frame["MADE"] = frame["MADE"].astype(np.float64)
    return frame.sort_values("UNIT", kind="stable").reset_index(drop=True)


class Design:
    """The location basis of the fine surface (module docstring); `blocks` names its column groups."""

    def __init__(self):
        self.distance_basis = _bspline(DISTANCE_KNOTS_FT)
        self.angle_basis = _bspline(ANGLE_KNOTS)
        d, a = self.distance_basis.c.shape[0], self.angle_basis.c.shape[0]
        self.blocks = [("distance", d), ("three_distance", d), ("angle", 3 * a), ("zone", ZONE_COUNT)]
        self.width = sum(size for _, size in self.blocks)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        feet = np.hypot(x, y) / 10.0
        angle = np.clip(np.arctan2(x, np.maximum(y, 0.0) + 1e-9), ANGLE_KNOTS[0], ANGLE_KNOTS[-1])
        zones = half_court_zone(x, y)
        three = np.isin(zones, THREE_POINT_ZONES).astype(np.float64)
        distance = _evaluate(self.distance_basis, feet, DISTANCE_KNOTS_FT)
        angles = _evaluate(self.angle_basis, angle, ANGLE_KNOTS)
        band = np.stack([feet < 4, (feet >= 4) & (three == 0), three == 1], axis=1).astype(np.float64)
        return np.concatenate([distance, distance * three[:, None], (angles[:, :, None] * band[:, None, :]).reshape(len(x), -1),
                               np.eye(ZONE_COUNT)[zones]], axis=1)

    def penalty(self, smoothness: float) -> np.ndarray:
        """(width, width) penalty: second differences within each spline (per band for the angles), ridge elsewhere."""
        blocks = []
        for name, size in self.blocks:
            if name in ("distance", "three_distance"):
                blocks.append(smoothness * _second_differences(size) + 1e-6 * np.eye(size))
            elif name == "angle":  # columns are angle-major, band-minor: (a, b) is column 3 a + b
                per_band = smoothness * _second_differences(size // 3) + ZONE_RIDGE * np.eye(size // 3)
                block = np.zeros((size, size))
                for band in range(3):
                    block[np.ix_(np.arange(band, size, 3), np.arange(band, size, 3))] = per_band
                blocks.append(block)
            else:
                blocks.append(ZONE_RIDGE * np.eye(size))
        out = np.zeros((self.width, self.width))
        offset = 0
        for block in blocks:
            out[offset:offset + len(block), offset:offset + len(block)] = block
            offset += len(block)
        return out


class Surface:
    """The fine surface: logit = X(x) (beta_shared + beta_group); fitted by penalised Newton (module docstring)."""

    def __init__(self, design: Design, groups: int, config: MakeConfig):
        self.design, self.groups, self.config = design, groups, config
        self.beta = np.zeros((groups + 1, design.width))  # row 0 shared, row 1 + g group g's deviation

    def fit(self, x, y, group, made) -> "Surface":
        X = self.design(x, y)
        width, groups = self.design.width, self.groups
        penalty = np.zeros(((groups + 1) * width,) * 2)
        penalty[:width, :width] = self.design.penalty(self.config.smoothness)
        for g in range(groups):
            block = slice((g + 1) * width, (g + 2) * width)
            penalty[block, block] = self.config.position_shrinkage * np.eye(width)
        rows = [np.flatnonzero(group == g) for g in range(groups)]
        beta = self.beta.ravel().copy()
        for _ in range(FIT_ITERATIONS):
            coef = beta.reshape(groups + 1, width)
            eta = X @ coef[0]
            for g, r in enumerate(rows):
                eta[r] += X[r] @ coef[g + 1]
            p = expit(eta)
            residual, w = made - p, p * (1 - p)
            gradient = np.zeros_like(beta)
            hessian = penalty.copy()
            for g, r in enumerate(rows):
                Xg = X[r]
                hg = (Xg * w[r, None]).T @ Xg
                gg = Xg.T @ residual[r]
                block = slice((g + 1) * width, (g + 2) * width)
                gradient[:width] += gg
                gradient[block] += gg
                hessian[:width, :width] += hg
                hessian[:width, block] += hg
                hessian[block, :width] += hg
                hessian[block, block] += hg
            gradient -= penalty @ beta
            step = np.linalg.solve(hessian, gradient)
            beta += step
            if np.abs(step).max() < FIT_TOLERANCE:
                break
        self.beta = beta.reshape(groups + 1, width)
        return self

    def logit(self, x, y, group) -> np.ndarray:
        """Logits at locations, each on its group's surface (group == self.groups: the shared surface)."""
        X = self.design(x, y)
        out = X @ self.beta[0]
        for g in range(self.groups):
            r = np.flatnonzero(group == g)
            out[r] += X[r] @ self.beta[g + 1]
        return out

    def table(self) -> np.ndarray:
        """(groups + 1, *TABLE_SHAPE) float32 logits: each group's surface, then the shared one."""
        out = np.zeros((self.groups + 1, *TABLE_SHAPE), dtype=np.float32)
        columns = TABLE_X0 + np.arange(TABLE_SHAPE[1], dtype=np.float64)
        for start in range(0, TABLE_SHAPE[0], TABLE_ROWS_PER_CHUNK):
            rows = np.arange(start, min(start + TABLE_ROWS_PER_CHUNK, TABLE_SHAPE[0]))
            yy, xx = np.meshgrid(TABLE_Y0 + rows.astype(np.float64), columns, indexing="ij")
            X = self.design(xx.ravel(), yy.ravel())
            shared = X @ self.beta[0]
            for g in range(self.groups):
                out[g, rows] = (shared + X @ self.beta[g + 1]).reshape(len(rows), -1)
            out[self.groups, rows] = shared.reshape(len(rows), -1)
        return out


def _prior(base, zones, made, player, features, weights):
    """EM for the prior of the offsets (mean features @ coef, covariance cov), the units weighted by
    `weights`; returns (coef (5, 6), cov (6, 6))."""
    units = len(weights)
    coef = np.zeros((features.shape[1], ZONE_COUNT))
    cov = np.eye(ZONE_COUNT) * 0.04
    weighted = features * weights[:, None]
    for _ in range(EM_ITERATIONS):
        mean = features @ coef
        mode, post = laplace(base, zones, made, player, mean, np.repeat(cov[None], units, axis=0))
        coef = np.linalg.solve(features.T @ weighted + 1e-9 * np.eye(features.shape[1]), weighted.T @ mode)
        residual = mode - features @ coef
        cov = (residual * weights[:, None]).T @ residual + np.einsum("p,pij->ij", weights, post)
        cov = (cov + cov.T) / 2
    return coef, cov


def _coarse_table(x, y, group, made, config: MakeConfig, groups: int) -> np.ndarray:
    """(groups + 1, *TABLE_SHAPE) float32 logits of the coarse cell surface (module docstring)."""
    cell = config.coarse_cell_ft * 10.0
    columns, rows = int(np.ceil(2 * 250 / cell)), int(np.ceil(TABLE_SHAPE[0] / cell))
    def cell_of(cx, cy):
        return (np.clip(((cy - TABLE_Y0) // cell).astype(np.int64), 0, rows - 1) * columns
                + np.clip(((cx - TABLE_X0) // cell).astype(np.int64), 0, columns - 1))
    def band_of(cx, cy):
        return half_court_zone(cx, cy) * 8 + np.minimum(np.hypot(cx, cy) // (COARSE_BAND_FT * 10), 7).astype(np.int64)
    yy, xx = np.meshgrid(TABLE_Y0 + np.arange(TABLE_SHAPE[0], dtype=np.float64),
                         TABLE_X0 + np.arange(TABLE_SHAPE[1], dtype=np.float64), indexing="ij")
    table_cells = cell_of(xx.ravel(), yy.ravel())
    shot_cells, shot_bands = cell_of(x, y), band_of(x, y)
    out = np.zeros((groups + 1, *TABLE_SHAPE), dtype=np.float32)
    for g in range(groups + 1):
        m = group == g if g < groups else np.ones(len(x), dtype=bool)
        band_rate = (np.bincount(shot_bands[m], made[m], ZONE_COUNT * 8) + 1) / (np.bincount(shot_bands[m], None, ZONE_COUNT * 8) + 2)
        attempts = np.bincount(shot_cells[m], None, rows * columns)
        makes = np.bincount(shot_cells[m], made[m], rows * columns)
        prior = np.where(attempts > 0, np.bincount(shot_cells[m], band_rate[shot_bands[m]], rows * columns)
                         / np.maximum(attempts, 1), made[m].mean())
        rate = (makes + config.coarse_prior_shots * prior) / (attempts + config.coarse_prior_shots)
        out[g] = clipped_logit(rate[table_cells]).reshape(TABLE_SHAPE)
    return out


def _shares(zones: np.ndarray) -> np.ndarray:
    return np.bincount(zones, minlength=ZONE_COUNT) / max(len(zones), 1)


def _share_prior(counts: np.ndarray, unit_group: np.ndarray) -> float:
    """Dirichlet strength of players' zone shares (method of moments per group and zone, the median), in shots:
    the spread of shares across players, less the multinomial noise of their own shots."""
    estimates = []
    for g in np.unique(unit_group):
        c = counts[unit_group == g]
        if len(c) < 3:
            continue
        n = c.sum(axis=1, keepdims=True)
        s = c / n
        mean = s.mean(axis=0)
        spread = s.var(axis=0) - (s * (1 - s) / n).mean(axis=0)
        ok = (spread > 0) & (mean > 0)
        estimates += list(mean[ok] * (1 - mean[ok]) / spread[ok] - 1)
    return float(np.clip(np.median(estimates), 1.0, 1000.0)) if estimates else 20.0


def _zone_rates(shots: pd.DataFrame) -> np.ndarray:
    """Field-goal share per half-court zone of all the usable training shots."""
    x = pd.to_numeric(shots["LOC_X"], errors="coerce").to_numpy(np.float64)
    y = pd.to_numeric(shots["LOC_Y"], errors="coerce").to_numpy(np.float64)
    made = pd.to_numeric(shots["SHOT_MADE_FLAG"], errors="coerce").to_numpy(np.float64)
    ok = np.isfinite(x) & np.isfinite(y) & on_grid(x, y) & np.isin(made, (0, 1))
    zones = half_court_zone(x[ok], y[ok])
    attempts = np.bincount(zones, minlength=ZONE_COUNT)
    overall = made[ok].mean() if ok.any() else 0.5
    return np.where(attempts > 0, np.bincount(zones, made[ok], ZONE_COUNT) / np.maximum(attempts, 1), overall)


def _bspline(knots: np.ndarray) -> BSpline:
    t = np.concatenate([[knots[0]] * SPLINE_DEGREE, knots, [knots[-1]] * SPLINE_DEGREE])
    return BSpline(t, np.eye(len(t) - SPLINE_DEGREE - 1), SPLINE_DEGREE, extrapolate=False)


def _evaluate(basis: BSpline, values: np.ndarray, knots: np.ndarray) -> np.ndarray:
    clipped = np.clip(values, knots[0], knots[-1] - 1e-9)
    return BSpline.design_matrix(clipped, basis.t, SPLINE_DEGREE).toarray()


def _second_differences(size: int) -> np.ndarray:
    d = np.diff(np.eye(size), 2, axis=0)
    return d.T @ d
