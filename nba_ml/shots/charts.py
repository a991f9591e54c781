"""Shot charts: where one player's (or team's) shots come from, as grids a GAN can learn.

`make_charts` rasterises a frame of shots (the `load_shots` layout) into one chart
per unit: a player's season, a block of k of a player's games, or a team's game.
`draw_shots` goes the other way: it draws shot locations from charts (real or
generated), so the simulator can turn a generated chart into shots.

Grid. A chart covers the half court, x in [-250, 250] and y in [-52.5, 417.5]
(tenths of a foot, hoop at (0, 0)), in S x S cells: a cell is 500/S tenths wide
and 470/S tenths tall (S=64: 7.81 x 7.34 tenths, 0.78 x 0.73 ft; S=32: 1.56 x
1.47 ft). Tensors are laid out (N, C, S, S) with row = y (row 0 on the baseline)
and column = x (column 0 on the left sideline, LOC_X = -250). x = 250 and
y = 417.5 belong to the last column / row.

Why S=64 by default: rasterising a season and drawing uniformly inside each
cell moves shots across zone lines, because real shots bunch on one side of a
line (just beyond the arc, just outside the restricted area). On the two
shared seasons, drawing 200 shots per player_season chart, S=32 inflates
Mid-Range by 0.9 to 1.15 percentage points; at S=64 every zone stays within
0.4 pp (`python bench/chart_roundtrip.py`). S=128 would cut that to ~0.1 pp
at 4x the cells per chart.

Encoding (channel 0, attempts). p = the chart's attempt counts / its total, so
charts are scale-free across players of different volume; the GAN sees
e = 2 * sqrt(p) - 1, in [-1, 1]. Why sqrt: it is the variance-stabilising
transform of Poisson counts, so a sparse cell and the busy rim cell carry noise
of the same size instead of the rim spike dominating; and the Euclidean
distance between sqrt-density charts is (sqrt 2 times) the Hellinger distance,
a true metric between shot distributions, which is the geometry the critic
then works in. Since sum(sqrt(p)^2) = 1, decoding is exact: p = ((e + 1) / 2)^2.

Encoding (channel 1, makes; channels='attempts+makes'). The chart's make
probability per cell, shrunk toward the league's: q = (makes + a * league) /
(attempts + a), with a = `make_prior_shots` pseudo-attempts. The league map is
itself the pooled cell rate of every usable shot in the frame (dropped charts
included: more shots behind the prior), shrunk the same
way toward the pooled rate of the cell's zone (zone of the cell centre), so a
cell no one shoots from gets its zone's rate. The GAN sees 2 * q - 1, in [-1, 1].

Labels are the position group index (G=0, F=1, C=2): the most common known
POSITION_GROUP among the chart's shots (for a player this is the player's
group; for 'team_game' it is only the dominant group). Charts with no known
group are dropped and counted; nothing is dropped silently (see
`ShotCharts.dropped`). A team-game holds about 88 shots, so unit='team_game'
needs a min_shots below the default 100.
"""

from dataclasses import dataclass
from typing import Callable, Literal, Sequence

import numpy as np
import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator
from torch import Tensor
from torch.utils.data import TensorDataset

from nba_ml.frames import require_columns
from nba_ml.shots.loader import ShotDataError
from nba_ml.shots.court import BASELINE_Y, HALF_COURT_Y, SIDELINE_X, ZONES, zone_of

ChartUnit = Literal["player_season", "player_games", "team_game"]  # the keys of UNITS
ChartChannels = Literal["attempts", "attempts+makes"]  # the keys of CHANNELS

POSITION_GROUPS = ("G", "F", "C")  # label index -> POSITION_GROUP
COURT_WIDTH = 2 * SIDELINE_X  # 500 tenths
COURT_LENGTH = HALF_COURT_Y - BASELINE_Y  # 470 tenths


@dataclass(frozen=True)
class Channels:
    """Everything one ChartSpec.channels is made of; the code looks it up once and never asks for the name."""

    count: int  # channels per chart
    makes: bool  # channel 1 is the chart's smoothed make probability (needs SHOT_MADE_FLAG)


# charts.channels -> Channels.
CHANNELS: dict[str, Channels] = {
    "attempts": Channels(count=1, makes=False),
    "attempts+makes": Channels(count=2, makes=True),
}

# Keys of ShotCharts.dropped. Shots are counted once: off the grid, without a
# unit key, or inside a dropped chart; each dropped chart under its first reason.
OFF_GRID = "shots/off_grid"
MISSING_UNIT_KEY = "shots/missing_unit_key"
IN_DROPPED_CHARTS = "shots/in_dropped_charts"
PARTIAL_GAME_BLOCK = "charts/partial_game_block"
UNKNOWN_POSITION_GROUP = "charts/unknown_position_group"
BELOW_MIN_SHOTS = "charts/below_min_shots"


class ChartSpec(BaseModel):
    """How shots become charts; validated once, trusted inside."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    grid: int = Field(64, ge=8, le=256, description="Side S of the S x S grid over the half court; a power of two (the conv GAN needs it).")
    unit: ChartUnit = Field("player_season", description="What one chart holds: a player's season, k of a player's games, or one team's game.")
    games_per_chart: int = Field(10, ge=1, le=82, description="k, consecutive games per chart for unit='player_games'; a last block short of k games is dropped.")
    min_shots: int = Field(100, ge=1, description="Charts with fewer shots are dropped (counted in dropped['charts/below_min_shots']).")
    channels: ChartChannels = Field("attempts+makes", description="'attempts': density only; 'attempts+makes': plus smoothed make probability (needs SHOT_MADE_FLAG).")
    make_prior_shots: float = Field(20.0, gt=0, le=10_000, description="Pseudo-attempts at the league rate added to each cell's make rate (shrinkage strength).")
    smoothing: float = Field(0.0, ge=0, le=8, description="Std of a Gaussian blur of each chart's attempt density, in cells (0 = none): a GAN learns smooth densities more easily than speckled counts.")

    @field_validator("grid")
    @classmethod
    def _power_of_two(cls, grid: int) -> int:
        if grid & (grid - 1):
            raise ValueError(f"grid must be a power of two (8, 16, 32, 64, ...), got {grid}")
        return grid

    @property
    def num_channels(self) -> int:
        return CHANNELS[self.channels].count

    @property
    def has_makes(self) -> bool:
        """Whether channel 1 holds the make probability (channels='attempts+makes')."""
        return CHANNELS[self.channels].makes


@dataclass(frozen=True)
class ShotCharts:
    """N charts and what each one is: labels, ids, seasons, shot counts, plus what was dropped."""

    spec: ChartSpec
    charts: Tensor  # (N, C, S, S) float32, encoded as in the module docstring
    labels: Tensor  # (N,) long, index into position_groups
    position_groups: tuple[str, ...]  # label index -> group name: ('G', 'F', 'C')
    units: list[str]  # per chart: 'PLAYER_ID/SEASON', 'PLAYER_ID/SEASON/games01-10' or 'TEAM_ID/GAME_ID'
    seasons: list[str]  # per chart
    shot_counts: Tensor  # (N,) long, shots rasterised into each chart
    dropped: dict[str, int]  # reason -> count, keys as the module constants above
    league_make_prob: Tensor | None  # (S, S) the prior the makes channel is shrunk toward; None for 'attempts'

    def __len__(self) -> int:
        return self.charts.shape[0]

    def dataset(self) -> TensorDataset:
        """Map-style Dataset of (chart, label) items, as `nba_ml.gan.train` takes."""
        return TensorDataset(self.charts, self.labels)


# --- Grid ---------------------------------------------------------------------


def cell_size(grid: int) -> tuple[float, float]:
    """(width, height) of one cell in tenths of a foot."""
    return COURT_WIDTH / grid, COURT_LENGTH / grid


def on_grid(loc_x: np.ndarray, loc_y: np.ndarray) -> np.ndarray:
    """True where a shot lies on the half court the grid covers (edges included)."""
    with np.errstate(invalid="ignore"):  # NaN compares False: off the grid
        return (np.abs(loc_x) <= SIDELINE_X) & (loc_y >= BASELINE_Y) & (loc_y <= HALF_COURT_Y)


def cell_of(loc_x: np.ndarray, loc_y: np.ndarray, grid: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of the cell holding each on-grid shot; the far edges fall in the last cell."""
    width, height = cell_size(grid)
    column = np.clip(np.floor((np.asarray(loc_x) + SIDELINE_X) / width), 0, grid - 1).astype(np.int64)
    row = np.clip(np.floor((np.asarray(loc_y) - BASELINE_Y) / height), 0, grid - 1).astype(np.int64)
    return row, column


def cell_centres(grid: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of every cell centre, each (S, S) indexed [row, column]."""
    width, height = cell_size(grid)
    x = -SIDELINE_X + (np.arange(grid) + 0.5) * width
    y = BASELINE_Y + (np.arange(grid) + 0.5) * height
    centre_x, centre_y = np.meshgrid(x, y)  # meshgrid's 'xy' indexing gives [row=y, column=x]
    return centre_x, centre_y


# --- Encoding -----------------------------------------------------------------


def encode_density(density: Tensor) -> Tensor:
    """Attempt density (..., S, S), summing to 1 per chart, -> GAN channel in [-1, 1]."""
    return 2.0 * density.clamp(min=0).sqrt() - 1.0  # sqrt: Poisson variance-stabilising, Hellinger geometry


def decode_density(charts: Tensor) -> Tensor:
    """Charts (N, C, S, S), real or generated, -> attempt probabilities (N, S, S) summing to 1 each.

    Any generator output is accepted: values are clipped to [-1, 1] (NaN counts
    as -1, i.e. no mass), so a cell weighs ((e + 1) / 2)^2; a chart with no mass
    left (all -1 or below) becomes uniform over the grid rather than NaN.
    """
    _check_charts(charts, "charts")
    encoded = charts[:, 0] if charts.is_floating_point() else charts[:, 0].float()
    mass = ((torch.nan_to_num(encoded, nan=-1.0).clamp(-1.0, 1.0) + 1.0) / 2.0).square()
    total = mass.sum(dim=(1, 2), keepdim=True)
    density = mass / total.clamp(min=torch.finfo(mass.dtype).tiny)
    density[total.flatten() == 0] = 1.0 / (charts.shape[2] * charts.shape[3])
    return density


def decode_weights(encoded: Tensor) -> Tensor:
    """A basis model's generator output (N, K), encoded as 2 * sqrt(w) - 1 (encode_density) -> mixture weights
    ((e + 1) / 2)^2, rows not divided by their sums."""
    return ((encoded + 1) / 2).square()


def encode_make_prob(make_prob: Tensor) -> Tensor:
    """Make probability (..., S, S) in [0, 1] -> GAN channel in [-1, 1]."""
    return 2.0 * make_prob - 1.0


def decode_make_prob(charts: Tensor) -> Tensor:
    """Charts (N, 2, S, S), real or generated, -> make probability (N, S, S) clamped to [0, 1] (NaN -> 0.5)."""
    _check_charts(charts, "charts")
    if charts.shape[1] < 2:
        raise ValueError(f"charts has {charts.shape[1]} channel(s); the make probability is channel 1 (channels='attempts+makes')")
    return ((torch.nan_to_num(charts[:, 1], nan=0.0) + 1.0) / 2.0).clamp(0.0, 1.0)


def _check_charts(charts: Tensor, name: str) -> None:
    if not isinstance(charts, Tensor) or charts.dim() != 4 or charts.shape[2] != charts.shape[3] or charts.shape[1] < 1:
        shape = tuple(charts.shape) if isinstance(charts, Tensor) else type(charts).__name__
        raise ValueError(f"{name} must be a tensor of shape (N, C, S, S) with C >= 1, got {shape}")


# --- Shots -> charts ----------------------------------------------------------


def make_charts(shots: pd.DataFrame, spec: ChartSpec = ChartSpec()) -> ShotCharts:
    """Rasterise a frame of shots (the `load_shots` layout) into encoded charts, one per unit.

    Needs LOC_X, LOC_Y, POSITION_GROUP, the unit's key columns (SEASON and
    PLAYER_ID; GAME_ID for 'player_games'; TEAM_ID and GAME_ID for 'team_game')
    and SHOT_MADE_FLAG (0/1) for channels='attempts+makes'. 'player_games' orders
    a player's games by GAME_DATE when present, else GAME_ID.

    Charts come out sorted by their unit key. Shots off the half court or with
    a missing key, and charts that are a partial game block, have no known
    position group or fewer than `spec.min_shots` shots, are dropped and counted
    in `dropped`; len(shots) == shot_counts.sum() + dropped['shots/...'] summed.
    """
    unit = UNITS[spec.unit]
    _check_shot_columns(shots, spec, unit)
    x, y = shots["LOC_X"].to_numpy(np.float64), shots["LOC_Y"].to_numpy(np.float64)
    keys = unit.keys(shots, shots[list(unit.key_columns)].reset_index(drop=True), spec)  # a missing value: no key
    has_key = keys.notna().all(axis=1).to_numpy()
    usable = on_grid(x, y)
    dropped = {OFF_GRID: int((~usable).sum()), MISSING_UNIT_KEY: int((usable & ~has_key).sum())}
    usable &= has_key

    keys = keys[usable]
    grouped = keys.groupby(list(keys.columns), sort=True)
    unit_of_shot = grouped.ngroup().to_numpy()
    unit_table = grouped.size().rename("SHOTS").reset_index()
    row, column = cell_of(x[usable], y[usable], spec.grid)
    cell = row * spec.grid + column
    group_votes = _position_group_votes(shots["POSITION_GROUP"].to_numpy()[usable], unit_of_shot, len(unit_table))

    keep_unit, unit_drops = _filter_units(unit_table, group_votes, spec)
    dropped |= unit_drops
    dropped[IN_DROPPED_CHARTS] = int(unit_table["SHOTS"].to_numpy()[~keep_unit].sum())
    dropped = {reason: dropped.get(reason, 0) for reason in _DROP_ORDER}

    made = shots["SHOT_MADE_FLAG"].to_numpy()[usable].astype(bool) if spec.has_makes else None
    charts, league_make_prob = _encoded_charts(unit_of_shot, cell, made, keep_unit, spec)
    kept_table = unit_table[keep_unit].reset_index(drop=True)
    return ShotCharts(
        spec=spec,
        charts=charts,
        labels=torch.as_tensor(group_votes[keep_unit].argmax(axis=1), dtype=torch.long),
        position_groups=POSITION_GROUPS,
        units=unit.ids(kept_table, spec),
        seasons=kept_table["SEASON"].astype(str).tolist(),
        shot_counts=torch.tensor(kept_table["SHOTS"].to_numpy(), dtype=torch.long),
        dropped=dropped,
        league_make_prob=league_make_prob,
    )


def _encoded_charts(
    unit_of_shot: np.ndarray, cell: np.ndarray, made: np.ndarray | None, keep_unit: np.ndarray, spec: ChartSpec
) -> tuple[Tensor, Tensor | None]:
    """(N, C, S, S) encoded charts of the kept units, and the league make map (None without makes)."""
    kept_index = np.cumsum(keep_unit) - 1  # unit -> chart index, valid where keep_unit
    shot_kept = keep_unit[unit_of_shot]
    chart_of_shot = kept_index[unit_of_shot[shot_kept]]
    n_charts = int(keep_unit.sum())
    attempts = _cell_counts(chart_of_shot, cell[shot_kept], n_charts, spec.grid)
    density = attempts / attempts.sum(dim=(1, 2), keepdim=True).clamp(min=1)
    channels = [encode_density(blur_density(density, spec.smoothing))]
    if made is None:
        return torch.stack(channels, dim=1), None
    league_make_prob = _league_make_prob(cell, made, spec)
    makes = _cell_counts(chart_of_shot[made[shot_kept]], cell[shot_kept & made], n_charts, spec.grid)
    channels.append(encode_make_prob(_shrunk_rate(makes, attempts, league_make_prob, spec.make_prior_shots)))
    return torch.stack(channels, dim=1), league_make_prob


def blur_density(density: Tensor, sigma: float) -> Tensor:
    """Densities (N, S, S) blurred by a Gaussian of std `sigma` cells, renormalised to sum to 1
    (the mass a blur pushes off the court edge is given back to what stays on it)."""
    if sigma == 0:
        return density
    radius = max(1, int(3 * sigma + 0.5))
    offsets = torch.arange(-radius, radius + 1, dtype=density.dtype)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    blurred = density.unsqueeze(1)
    blurred = torch.nn.functional.conv2d(blurred, kernel.reshape(1, 1, 1, -1), padding=(0, radius))  # along x
    blurred = torch.nn.functional.conv2d(blurred, kernel.reshape(1, 1, -1, 1), padding=(radius, 0))  # along y
    blurred = blurred.squeeze(1)
    return blurred / blurred.sum(dim=(1, 2), keepdim=True).clamp(min=torch.finfo(density.dtype).tiny)


_DROP_ORDER = (OFF_GRID, MISSING_UNIT_KEY, IN_DROPPED_CHARTS, PARTIAL_GAME_BLOCK, UNKNOWN_POSITION_GROUP, BELOW_MIN_SHOTS)


def _check_shot_columns(shots: pd.DataFrame, spec: ChartSpec, unit: "Unit") -> None:
    """InputError naming every column the spec needs and the frame lacks; ShotDataError for a bad made flag."""
    needed = ["LOC_X", "LOC_Y", "POSITION_GROUP", *unit.key_columns]
    if spec.has_makes:
        needed.append("SHOT_MADE_FLAG")
    require_columns(shots, needed, "shots", needed_for=f"unit={spec.unit!r}, channels={spec.channels!r}")
    if spec.has_makes and not shots["SHOT_MADE_FLAG"].isin([0, 1]).all():
        raise ShotDataError("shots['SHOT_MADE_FLAG'] must be 0 or 1 on every row (load_shots drops other values)")


def _game_block_keys(shots: pd.DataFrame, keys: pd.DataFrame, spec: ChartSpec) -> pd.DataFrame:
    """SEASON, PLAYER_ID, BLOCK (game block number, instead of GAME_ID) and BLOCK_GAMES of each shot."""
    order = "GAME_DATE" if "GAME_DATE" in shots.columns else "GAME_ID"
    games = keys.assign(ORDER=shots[order].to_numpy()).dropna(subset=list(keys.columns))
    games = games.drop_duplicates(["SEASON", "PLAYER_ID", "GAME_ID"]).sort_values(["SEASON", "PLAYER_ID", "ORDER", "GAME_ID"])
    games["BLOCK"] = games.groupby(["SEASON", "PLAYER_ID"]).cumcount() // spec.games_per_chart
    games["BLOCK_GAMES"] = games.groupby(["SEASON", "PLAYER_ID", "BLOCK"])["GAME_ID"].transform("size")
    merged = keys.merge(games.drop(columns="ORDER"), on=["SEASON", "PLAYER_ID", "GAME_ID"], how="left")
    return merged[["SEASON", "PLAYER_ID", "BLOCK", "BLOCK_GAMES"]]


def _position_group_votes(groups: np.ndarray, unit_of_shot: np.ndarray, n_units: int) -> np.ndarray:
    """(n_units, 3) count of shots per known position group; unknown values do not vote."""
    index = pd.Series(groups).map({group: i for i, group in enumerate(POSITION_GROUPS)}).to_numpy()
    known = ~pd.isna(index)
    flat = unit_of_shot[known] * len(POSITION_GROUPS) + index[known].astype(np.int64)
    return np.bincount(flat, minlength=n_units * len(POSITION_GROUPS)).reshape(n_units, len(POSITION_GROUPS))


def _filter_units(units: pd.DataFrame, group_votes: np.ndarray, spec: ChartSpec) -> tuple[np.ndarray, dict[str, int]]:
    """Which units become charts, and how many were dropped per reason (first reason only)."""
    no_row = np.zeros(len(units), bool)
    reasons = {
        PARTIAL_GAME_BLOCK: (units["BLOCK_GAMES"] < spec.games_per_chart).to_numpy() if "BLOCK_GAMES" in units else no_row,
        UNKNOWN_POSITION_GROUP: group_votes.sum(axis=1) == 0,
        BELOW_MIN_SHOTS: (units["SHOTS"] < spec.min_shots).to_numpy(),
    }
    dropped_already = no_row.copy()
    counts = {}
    for reason, mask in reasons.items():
        counts[reason] = int((mask & ~dropped_already).sum())
        dropped_already |= mask
    return ~dropped_already, counts


def _cell_counts(chart_of_shot: np.ndarray, cell: np.ndarray, n_charts: int, grid: int) -> Tensor:
    """(n_charts, S, S) float32 count of shots per cell (exact below 2**24)."""
    cells = grid * grid
    counts = np.bincount(chart_of_shot * cells + cell, minlength=n_charts * cells)
    return torch.as_tensor(counts.reshape(n_charts, grid, grid), dtype=torch.float32)


def _league_make_prob(cell: np.ndarray, made: np.ndarray, spec: ChartSpec) -> Tensor:
    """(S, S) league make rate per cell, shrunk toward the rate of the zone of the cell's centre."""
    cells = spec.grid * spec.grid
    attempts = np.bincount(cell, minlength=cells).astype(np.float64)
    makes = np.bincount(cell[made], minlength=cells).astype(np.float64)
    centre_zone = zone_of(*cell_centres(spec.grid)).ravel()
    overall = makes.sum() / max(attempts.sum(), 1.0)
    zone_rate = np.full(cells, overall)
    for zone in ZONES:
        in_zone = centre_zone == zone
        if attempts[in_zone].sum() > 0:  # a zone no one shot from keeps the overall rate
            zone_rate[in_zone] = makes[in_zone].sum() / attempts[in_zone].sum()
    rate = (makes + spec.make_prior_shots * zone_rate) / (attempts + spec.make_prior_shots)
    return torch.as_tensor(rate.reshape(spec.grid, spec.grid), dtype=torch.float32)


def _shrunk_rate(makes: Tensor, attempts: Tensor, prior: Tensor, prior_shots: float) -> Tensor:
    """(makes + a * prior) / (attempts + a): the prior rules cells with few attempts."""
    return (makes + prior_shots * prior) / (attempts + prior_shots)


def _player_season_ids(units: pd.DataFrame, spec: ChartSpec) -> list[str]:
    return [f"{player}/{season}" for player, season in zip(units["PLAYER_ID"], units["SEASON"])]


def _game_block_ids(units: pd.DataFrame, spec: ChartSpec) -> list[str]:
    k = spec.games_per_chart
    return [f"{unit}/games{int(block) * k + 1:02d}-{int(block) * k + k:02d}"
            for unit, block in zip(_player_season_ids(units, spec), units["BLOCK"])]


def _team_game_ids(units: pd.DataFrame, spec: ChartSpec) -> list[str]:
    return [f"{team}/{game}" for team, game in zip(units["TEAM_ID"], units["GAME_ID"])]


@dataclass(frozen=True)
class Unit:
    """Everything one ChartSpec.unit is made of; make_charts looks it up once and never asks for the name."""

    key_columns: tuple[str, ...]  # the columns that identify a chart's unit (the shots must have them)
    keys: Callable[[pd.DataFrame, pd.DataFrame, ChartSpec], pd.DataFrame]  # (shots, their key_columns, spec) -> each shot's key
    ids: Callable[[pd.DataFrame, ChartSpec], list[str]]  # the kept units' keys -> a readable id per chart


# charts.unit -> Unit. Ids read e.g. '201939/2022-23', '201939/2022-23/games11-20', '1610612744/0022200001'.
UNITS: dict[str, Unit] = {
    "player_season": Unit(("SEASON", "PLAYER_ID"), keys=lambda shots, keys, spec: keys, ids=_player_season_ids),
    "player_games": Unit(("SEASON", "PLAYER_ID", "GAME_ID"), keys=_game_block_keys, ids=_game_block_ids),  # GAME_ID folded into a block number
    "team_game": Unit(("SEASON", "TEAM_ID", "GAME_ID"), keys=lambda shots, keys, spec: keys, ids=_team_game_ids),
}


# --- Charts -> shots ----------------------------------------------------------


def draw_shots(
    charts: Tensor,
    shots_per_chart: int,
    *,
    seed: int | None = None,
    chart_ids: Sequence | None = None,
) -> pd.DataFrame:
    """Draw `shots_per_chart` shots from each chart (N, C, S, S), real or generated.

    A shot's cell is drawn from the decoded attempt density, then its position
    uniformly inside the cell. Columns: CHART_ID (chart_ids[i], default i),
    LOC_X, LOC_Y (float tenths of a foot; LOC_X clamped to +-250 as the NBA
    does), SHOT_ZONE_BASIC (court.zone_of), SHOT_DISTANCE (whole feet,
    floor(sqrt(x^2 + y^2) / 10)), and MAKE_PROB (the cell's decoded make
    probability) when the charts have a makes channel. Rows are grouped by chart.
    The same seed gives the same frame.
    """
    _check_charts(charts, "charts")
    if not isinstance(shots_per_chart, (int, np.integer)) or shots_per_chart < 1:
        raise ValueError(f"shots_per_chart must be a positive integer, got {shots_per_chart!r}")
    n_charts, grid = charts.shape[0], charts.shape[-1]
    if chart_ids is not None and len(chart_ids) != n_charts:
        raise ValueError(f"chart_ids has {len(chart_ids)} ids for {n_charts} charts")
    if seed is None:  # fresh entropy without touching torch's global generator
        seed = int(np.random.SeedSequence().entropy % 2**63)
    generator = torch.Generator().manual_seed(seed)
    charts = charts.detach().cpu()

    density = decode_density(charts).reshape(n_charts, grid * grid)
    cell = torch.multinomial(density, shots_per_chart, replacement=True, generator=generator) if n_charts else torch.zeros(0, shots_per_chart, dtype=torch.long)
    row, column = cell // grid, cell % grid
    inside = torch.rand((n_charts, shots_per_chart, 2), generator=generator, dtype=torch.float64)
    width, height = cell_size(grid)
    loc_x = np.clip((-SIDELINE_X + (column + inside[..., 0]) * width).numpy().ravel(), -SIDELINE_X, SIDELINE_X)
    loc_y = (BASELINE_Y + (row + inside[..., 1]) * height).numpy().ravel()

    ids = np.arange(n_charts) if chart_ids is None else np.asarray(chart_ids)
    frame = pd.DataFrame({
        "CHART_ID": np.repeat(ids, shots_per_chart),
        "LOC_X": loc_x,
        "LOC_Y": loc_y,
        "SHOT_ZONE_BASIC": pd.Series(zone_of(loc_x, loc_y), dtype="str"),
        "SHOT_DISTANCE": np.floor(np.hypot(loc_x, loc_y) / 10).astype(np.int64),
    })
    if charts.shape[1] >= 2:
        make_prob = decode_make_prob(charts).reshape(n_charts, grid * grid)
        frame["MAKE_PROB"] = torch.gather(make_prob, 1, cell).double().numpy().ravel()
    return frame
