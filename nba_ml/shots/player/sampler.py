"""Drawing cells from players' posterior charts: the one sampler of the profiles (players' shots, and through
them the defenses' and the moment's tilts, which accept or redraw a location: nba_ml.shots.player.profiles).

    sampler = ChartSampler(maps, weights, record_share, record_cells, record_weights, record_offsets, blur)
    cells = sampler.cells(n, pair, pair_rows, pair_charts, uniforms)    # one cell per shot, exactly
    sampler.densities(row, charts)                                       # (charts, S*S) a player's charts

A chart is (1 - v) x (weights @ maps) + v x blur(his record's weighted cells); a shot is drawn from it in two
stages, exactly, without building the chart: with probability v from the record (one of his cells, by its
weight times the in-court mass of its blur, then a cell of that blur), else from the GAN's part (a habit by
its weight, then a cell of that habit's map). Walker's alias tables and Chen and Asau's guide tables make
each stage O(1) a shot.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..charts import blur_density, cell_size
from ..court import BASELINE_Y, SIDELINE_X, zone_index
from .game_tables import BACKCOURT, HALF_COURT_ZONES, action_cell
from .make_model import TABLE_SHAPE, ZONE_COUNT, shot_value, table_index
from .streams import PlayerStreams, Stream, player_key


@dataclass(frozen=True)
class ChartSampler:
    """The players' posterior charts as PlayerProfiles holds them (its fields of the same names)."""

    maps: torch.Tensor  # (K, S, S)
    weights: torch.Tensor  # (P, C, K)
    record_share: torch.Tensor  # (P, C)
    record_cells: torch.Tensor  # (M,)
    record_weights: torch.Tensor  # (C, M)
    record_offsets: torch.Tensor  # (P + 1,)
    blur: float

    def densities(self, row: int, charts: np.ndarray) -> np.ndarray:
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

    def masses(self, fractions: np.ndarray, *, mean: bool = False) -> np.ndarray:
        """(P, C, A) float64 each chart's mass in each of A areas, exactly as `cells` draws it, `fractions` (S*S, A)
        the share of each grid cell in each area (zone_fractions): the habits' part through each map's masses,
        the record's through each record cell's truncated blur. mean: (P, A), the mean over the charts."""
        tables, grid = self.tables(), self.maps.shape[-1]
        maps = self.maps.flatten(1).double().numpy()
        per_map = (maps / maps.sum(axis=1, keepdims=True)) @ fractions  # (K, A)
        weights = self.weights.double().numpy()
        weights = weights / weights.sum(axis=2, keepdims=True)
        share = self.record_share.double().numpy()
        kernel = tables["blur_matrix"]  # (S, S): [r, r'] the truncated blur from row r to r'
        areas = fractions.reshape(grid, grid, -1)
        spread = np.einsum("ab,bcz,dc->adz", kernel, areas, kernel).reshape(grid * grid, -1)  # a record cell's blur
        offsets, cells = self.record_offsets.numpy(), self.record_cells.numpy()
        record_weights = self.record_weights.double().numpy()
        if mean:  # the mean chart: the mean of each part, weighted by its share
            out = ((1 - share)[..., None] * weights).mean(axis=1) @ per_map
        else:
            out = (weights @ per_map) * (1 - share[..., None])
        for row in range(len(offsets) - 1):
            span = slice(offsets[row], offsets[row + 1])
            if span.stop > span.start:
                w = record_weights[:, span] * tables["mass"][cells[span]]
                record = share[row][:, None] * (record_weights[:, span] @ spread[cells[span]]) / np.maximum(
                    w.sum(axis=1, keepdims=True), 1e-300)
                out[row] += record.mean(axis=0) if mean else record
        return out

    def place(self, cell: np.ndarray, u_x: np.ndarray, u_y: np.ndarray):
        """(LOC_X, LOC_Y, distance from the hoop, zone 0-5) of a uniform position inside each cell."""
        grid = self.maps.shape[-1]
        width, height = cell_size(grid)
        x = -SIDELINE_X + (cell % grid + u_x) * width  # inside the court: cells tile it exactly
        y = BASELINE_Y + (cell // grid + u_y) * height
        distance = np.sqrt(x * x + y * y)
        zone = self.tables()["cell_zone"][cell]  # the zone of a cell no zone line crosses; -1 where one does
        crossed = np.flatnonzero(zone < 0)
        zone[crossed] = np.minimum(zone_index(x[crossed], y[crossed], distance[crossed]), ZONE_COUNT - 1)
        return x, y, distance, zone

    def cells_of_pairs(self, key: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One cell per shot of pair key[i] = profile row x charts + chart, the keys sorted (`cells`: the shots
        grouped by pair)."""
        starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
        counts = np.diff(np.append(starts, len(key)))
        pair = np.repeat(np.arange(len(starts)), counts)
        return self.cells(counts, pair, *np.divmod(key[starts], self.weights.shape[1]), u)

    def cells(self, n: np.ndarray, pair: np.ndarray, pair_rows: np.ndarray, pair_charts: np.ndarray,
               u: np.ndarray) -> np.ndarray:
        """The cell of each shot (its pair's chart) from two of its uniforms (see PlayerProfiles._draw; shots are grouped by
        pair, n[b] of pair b). u[0] picks the record (below the chart's share v) or the GAN's part, and then,
        rescaled to [0, 1), which record cell or which habit; u[4] the cell of a habit's map (its alias
        table: index and fraction) or the row of a record cell's blur and u[5] its column (alias draws)."""
        sampler = self.tables()
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
            weights = self.record_weights.numpy().astype(np.float64) * self.tables()["mass"][self.record_cells.numpy()]
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

    def tables(self) -> dict:
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
        blur_matrix = np.zeros((grid, grid))
        for r in range(grid):
            inside = (position[r] >= 0) & (position[r] < grid)
            blur_matrix[r, position[r][inside]] = kernel[inside]
        tables = {"alias_prob": np.concatenate(alias_prob).astype(np.float32), "alias": np.concatenate(alias).astype(np.int32),
                  "blur_matrix": blur_matrix,
                  "radius": radius,
                  "offset_prob": np.stack(offset_prob), "offset_alias": np.stack(offset_alias),
                  "mass": along[row] * along[column], "cell_zone": cell_zone}
        object.__setattr__(self, "_sampler_tables", tables)
        return tables


def area_fractions(grid: int, area_of, areas: int, points: int = 8) -> np.ndarray:
    """(S*S, areas) the share of each cell of an S x S grid in each area, `area_of(x, y, distance)` the area of
    a location (points x points positions a cell): the half-court zones (make_model.half_court_zone), or zone x
    whole feet."""
    width, height = cell_size(grid)
    inside = (np.arange(points) + 0.5) / points
    row, column = np.divmod(np.arange(grid * grid), grid)
    x = -SIDELINE_X + (column[:, None, None] + inside[None, :, None]) * width
    y = BASELINE_Y + (row[:, None, None] + inside[None, None, :]) * height
    x, y = (a.ravel() for a in np.broadcast_arrays(x, y))
    area = area_of(x, y, np.hypot(x, y))
    cell = np.repeat(np.arange(grid * grid), points * points)
    return np.bincount(cell * areas + area, minlength=grid * grid * areas).reshape(grid * grid, areas) / points ** 2


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



# --- a game's shots: one per situation -------------------------------------------------------------------

FIXED_UNIFORMS = 8  # backcourt or not, which heave, the heave's jitter (x, y), the family, the string, made, the chart
ROUND_UNIFORMS = 6  # a location (ChartSampler.cells: 0, 4, 5; inside the cell: 1, 2) and its accept coin (3)
ROUNDS_AHEAD = 3  # location rounds drawn with the rest; a row rejected in all of them draws further rounds,
LATE_PROPOSALS = 16  # ... LATE_PROPOSALS at a time (his first accepted one is kept: still exact)
MAX_ROUNDS = 10_000


def player_uniforms(ids: np.ndarray, root: int, stream, per_row: int, salt: int = 0) -> np.ndarray:
    """(per_row, n) float32 uniforms, each PLAYER_ID's rows from his own stream (seeded by root, his key and
    `salt`), in the order of his rows: a player's numbers never depend on the other rows."""
    out = np.empty((per_row, len(ids)), dtype=np.float32)
    codes, uniques = pd.factorize(pd.Series(ids, dtype=object))
    order = np.argsort(codes, kind="stable")  # each player's rows together, in his order
    counts = np.bincount(codes, minlength=len(uniques))
    streams = PlayerStreams(int(root) * 1_000_003 + salt, stream)
    blocks = [streams.of(player_key(player_id)).random(per_row * int(k), dtype=np.float32).reshape(per_row, -1)
              for player_id, k in zip(uniques, counts)]
    out[:, order] = np.concatenate(blocks, axis=1) if blocks else out[:, :0]
    return out


def draw_game_shots(charts: ChartSampler, game, situations, season: dict, chart: int | None, root: int, makes) -> dict:
    """One shot per situation (nba_ml.shots.player.situations.Situations) from one simulated season (`season`:
    GameTables.season_draws of the profiles' rows, and `offsets`, (R, 6) zone make offsets, when `makes` is the
    (surface, group) of a make model), every player's chart `chart` of his posterior charts (None: each shot
    its own chart, at random). Returns the columns LOC_X ... MADE as arrays.

    Where: a backcourt heave with the moment's share (one of the records' heaves, moved inside a square foot);
    else a location from the player's chart of this season, kept with probability W[zone] x placement[cell] /
    the most it can be, W = the season's zone share / the chart's x the defense's ratio x the moment's, and
    placement his group's correction of the chart's distances within the zone (else another location:
    rejection sampling, exact); so the zones follow GameTables.zone_probabilities and, within a zone, his
    chart with its distances as his group's shots have them."""
    rows, n = situations.rows, len(situations.rows)
    u = player_uniforms(situations.ids, root, Stream.DRAW, FIXED_UNIFORMS + ROUND_UNIFORMS * ROUNDS_AHEAD)
    heave = u[0] < game.backcourt_share[situations.bucket]
    x, y = np.empty(n), np.empty(n)
    distance, zone = np.empty(n), np.empty(n, dtype=np.int64)
    pick = np.minimum((u[1, heave] * len(game.backcourt_xy)).astype(np.int64), len(game.backcourt_xy) - 1)
    x[heave] = np.clip(game.backcourt_xy[pick, 0] + (u[2, heave] - 0.5) * 10, -SIDELINE_X, SIDELINE_X)
    y[heave] = game.backcourt_xy[pick, 1] + (u[3, heave] - 0.5) * 10
    distance[heave] = np.hypot(x[heave], y[heave])
    zone[heave] = BACKCOURT

    count = game.chart_zone_mass.shape[1]
    chart_of = np.full(n, chart, dtype=np.int64) if chart is not None else np.minimum((u[7] * count).astype(np.int64), count - 1)
    key = rows * count + chart_of
    by_pair = np.argsort(key, kind="stable")
    half = by_pair[~heave[by_pair]]  # the half-court situations, grouped by (row, chart): every subset stays grouped
    mass = game.chart_zone_mass[rows[half], chart_of[half]].astype(np.float64)
    mass /= np.maximum(mass.sum(axis=1, keepdims=True), 1e-12)
    weight = (season["shares"][rows[half]] / np.maximum(mass * game.placement_mean[rows[half]], 1e-9)
              * season["ratios"][situations.defense[half]]
              * np.exp(game.moment_zone[situations.bucket[half]]))
    group = np.where(situations.labels >= 0, situations.labels, game.placement.shape[0] - 1)[half]
    bound = (weight * game.placement_bound[group]).max(axis=1)  # the most a location's weight can be: the accept coin's scale
    pending, round_ = np.arange(len(half)), 0  # positions in `half`
    while len(pending):  # the first rounds from the numbers drawn above, then batches of proposals per row
        if round_ < ROUNDS_AHEAD:
            proposals = 1
            block = u[FIXED_UNIFORMS + ROUND_UNIFORMS * round_:FIXED_UNIFORMS + ROUND_UNIFORMS * (round_ + 1), half[pending]]
        elif round_ < MAX_ROUNDS:
            proposals = LATE_PROPOSALS
            block = player_uniforms(situations.ids[half[pending]], root, Stream.DRAW, ROUND_UNIFORMS * proposals, salt=round_)
            block = block.reshape(ROUND_UNIFORMS, proposals, -1).transpose(0, 2, 1).reshape(ROUND_UNIFORMS, -1)
        else:
            raise RuntimeError("draw: a location was rejected 10,000 times in a row (a zone with no mass in the chart)")
        at = np.repeat(pending, proposals)  # a row's proposals side by side, in his order
        cell = charts.cells_of_pairs(key[half[at]], block)
        px, py, pdistance, pzone = charts.place(cell, block[1], block[2])
        placed = game.placement[group[at], action_cell(pzone, (pdistance * 0.1).astype(np.int64))]
        keep = (block[3] * bound[at] < weight[at, pzone] * placed).reshape(len(pending), proposals)
        accepted = keep.any(axis=1)
        first = np.flatnonzero(accepted) * proposals + keep[accepted].argmax(axis=1)  # his first accepted proposal
        done = half[pending[accepted]]
        x[done], y[done], distance[done], zone[done] = px[first], py[first], pdistance[first], pzone[first]
        pending, round_ = pending[~accepted], round_ + proposals

    feet = (distance * 0.1).astype(np.int64)
    cells = action_cell(zone, feet)
    columns = {"LOC_X": x, "LOC_Y": y, "SHOT_DISTANCE": feet.astype(np.int16), "zone": zone,
               "SHOT_VALUE": shot_value(np.minimum(zone, HALF_COURT_ZONES - 1))}  # a heave: as a three
    family = None
    if game.has_actions:
        logits = game.family_logits(rows, situations.labels, cells, situations.bucket, season.get("kinds"))
        probability = np.exp(logits - logits.max(axis=1, keepdims=True))
        cumulative = np.cumsum(probability, axis=1)
        family = np.minimum((cumulative < (u[4] * cumulative[:, -1])[:, None]).sum(axis=1), logits.shape[1] - 1)
        types = game.type_table.shape[2]
        key = family * game.type_table.shape[1] + zone
        which = np.searchsorted(game.type_search, key + np.minimum(u[5].astype(np.float64), 1 - 1e-9), side="right") - key * types
        columns["ACTION_TYPE_CODE"] = np.minimum(which, types - 1)
        columns["ACTION_FAMILY_CODE"] = family
    if makes is not None:
        surface, group = makes
        logit = np.empty(n)
        on_half = zone < HALF_COURT_ZONES
        row, column = table_index(x[on_half], y[on_half])
        flat = (group[rows[on_half]] * TABLE_SHAPE[0] + row) * TABLE_SHAPE[1] + column
        logit[on_half] = (surface.reshape(-1)[flat] + season["offsets"][rows[on_half], zone[on_half]]
                          + game.make_adjustment(rows[on_half], cells[on_half], family[on_half] if family is not None else None,
                                                 zone[on_half], situations.defense[on_half], situations.bucket[on_half],
                                                 season["defense_make"]))
        logit[~on_half] = game.backcourt_make
        logit += season["level"] - game.make_level  # make_adjustment holds the level's mean; the season's draw instead
        probability = 1.0 / (1.0 + np.exp(-logit))
        columns["MAKE_PROB"] = probability
        columns["MADE"] = (u[6] < probability).astype(np.int8)
    return columns
