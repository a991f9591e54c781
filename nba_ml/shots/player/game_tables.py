"""A game's shots: the defense, the moment and the kind of shot, as tables the sampler reads.

    game = profiles.game                      # GameTables (nba_ml.shots.player.game_fit builds them)
    draws = game.season_draws(season, ...)    # one posterior draw of every player's zones and every defense

What the tables say (each fitted from the records the profiles were built from; nba_ml.shots.player.game_fit):

- Where (zones). A player's share of each half-court zone is his record's counts shrunk toward his chart's
  share (`zone_strength` pseudo-shots of it: the chart, from the shot-chart model, is the better prior at
  the zone level than his position); a defense multiplies the share of each zone by its ratio of shots
  allowed to shots expected from its opponents (a Gamma posterior, shrunk toward 1 with the strength the
  records' own spread gives: empirical Bayes); the moment multiplies it by the ratio of its bucket
  (nba_ml.shots.moment), and takes its share of backcourt heaves. Within a zone, the location follows his
  chart.
- What kind (ACTION_TYPE). The family of a shot given its cell (zone x whole feet from the hoop) is his
  position's mix there times his own ratio of taken to expected per family (overall and per band: the
  restricted area, the paint, the rest), times the moment's; the string given the family and the zone is
  the league's mix.
- How well. His make logit at a spot (the make model's surface plus his zone offset) plus the family's
  effect there (`family_make`: the logit of the family's rate in the cell minus the cell's), less the
  shift that keeps his make probability at the spot, over his own mix of families, what the make model
  says (`make_shift`); plus the defense's offset in the zone (a Gaussian posterior) and the moment's.

Rows. The per-player tables have one row per profile row: the players, then one prior per position group
and one for the league (players the profiles do not hold). Defenses are rows of `defenses`; a defense the
tables do not hold is the league's (ratio 1, offset 0).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property
from typing import Optional

import numpy as np

from ..actions import FAMILIES
from ..court import ZONES
from ..moment import MOMENTS
from .streams import PlayerStreams, Stream, player_key

HALF_COURT_ZONES = 6
BACKCOURT = ZONES.index("Backcourt")
MAX_FEET = 40  # distance bins of a cell: whole feet 0..39, then 40 and beyond
CELLS = len(ZONES) * (MAX_FEET + 1)  # the kind-of-shot cells: zone x whole feet
BANDS = 3  # restricted area, the paint (non-RA), the rest
ACTION_PRIOR = 2.0  # pseudo-shots of his expected mix in his ratio per family (game_kinds.ACTION_PLAYER_STRENGTH)
ZONE_GROUPS = np.array([0, 1, 1, 2, 2, 2, 2])  # the moment's make offsets: the rim, inside the arc, threes (and heaves)
# defense_record's last axis: in a zone, the shots a defense allowed and those its opponents would have taken
# against the league's (their own shares), the attempts of known outcome, made, and expected made (their make
# probabilities at their spots before the defense's offset)
DEFENSE_RECORD = ("shots", "expected_shots", "attempts", "made", "expected_made")


def action_cell(zone: np.ndarray, distance_ft: np.ndarray) -> np.ndarray:
    """The kind-of-shot cell of each shot: zone x whole feet from the hoop (40 and beyond together)."""
    return (np.asarray(zone, dtype=np.int64) * (MAX_FEET + 1)
            + np.minimum(np.asarray(distance_ft, dtype=np.int64), MAX_FEET))


CELL_ZONE = np.arange(CELLS) // (MAX_FEET + 1)
CELL_BAND = np.minimum(CELL_ZONE, BANDS - 1)


@dataclass(frozen=True)
class GameTables:
    """The game model's tables (module docstring). R profile rows (players, then priors), C charts, D defenses,
    B moment buckets, F families, T ACTION_TYPE strings, G position groups."""

    zone_counts: np.ndarray  # (R, 6) float32 his record's shots per half-court zone
    chart_zone_mass: np.ndarray  # (R, C, 6) float32 each posterior chart's mass per zone
    zone_strength: float  # pseudo-shots of his chart's zone shares
    moment_zone: np.ndarray  # (B, 6) float64 log ratio of the zones' shares in each bucket
    backcourt_share: np.ndarray  # (B,) float64 the share of backcourt shots in each bucket
    moment_make: np.ndarray  # (B, 3) float64 make logit offset per bucket and zone group
    moment_action: np.ndarray  # (B, F) float64 log ratio of each family in each bucket
    action_table: np.ndarray  # (G + 1, CELLS, F) float32 P(family | cell) per position group, last row the league's
    action_tilt: np.ndarray  # (R, F) float32 his log ratio of taken to expected per family (the posterior mean's)
    action_taken: np.ndarray  # (R, F) float32 his record's shots of each family
    action_expected: np.ndarray  # (R, F) float32 ... and what his position's mix at his spots expected
    action_band_tilt: np.ndarray  # (R, BANDS, F) float32 the same per band, on top
    type_table: np.ndarray  # (F, 7, T) float32 P(string | family, zone)
    family_make: np.ndarray  # (CELLS, F) float32 logit of the family's rate in the cell less the cell's
    make_shift: np.ndarray  # (R, CELLS) float32 the shift keeping his mix's make probability the make model's
    placement: np.ndarray  # (G + 1, CELLS) float32 how much more often shots fall in a cell of a zone than charts say
    placement_mean: np.ndarray  # (R, 6) float32 its mean over each row's mean chart in each zone (what it divides by)
    backcourt_make: float  # make logit of a backcourt heave
    backcourt_xy: np.ndarray  # (N, 2) float32 backcourt shot locations of the records (LOC_X, LOC_Y)
    defense_record: np.ndarray  # (D, 6, len(DEFENSE_RECORD)) float64 what each defense allowed and was expected to
    defense_shape: np.ndarray  # (D, 6) float64 Gamma posterior of its zone ratios: shape
    defense_rate: np.ndarray  # (D, 6) float64 ... and rate
    defense_make_mean: np.ndarray  # (D, 6) float64 Gaussian posterior of its make offsets (logits): mean
    defense_make_sd: np.ndarray  # (D, 6) float64 ... and sd
    share_drift: float  # kappa: a season's zone shares ~ Dirichlet(kappa x his) on top of his posterior (inf: none)
    defense_drift: float  # delta: a season's defense ratio x LogNormal(0, delta^2) on top of its posterior
    defense_make_drift: float  # a season's defense make offsets + N(0, drift^2) on top of their posterior
    zone_drift: float  # sigma: a season's league-wide zone shares x LogNormal(0, sigma^2) per zone
    make_level: float  # the league's make logit offset now (the records' recent weeks weighted most)
    level_sd: float  # sd of a simulated season's league make level around it
    defenses: tuple[str, ...]
    action_types: tuple[str, ...]  # () when the records had no ACTION_TYPE
    settings: dict  # what the fit chose (strengths, prior sds) and counted

    def __post_init__(self) -> None:
        R, C = self.chart_zone_mass.shape[:2]
        D, F, T = len(self.defenses), len(FAMILIES), max(len(self.action_types), 1)
        expected = {"zone_counts": (R, 6), "moment_zone": (MOMENTS, 6), "backcourt_share": (MOMENTS,),
                    "moment_make": (MOMENTS, 3), "moment_action": (MOMENTS, F), "action_tilt": (R, F),
                    "action_taken": (R, F), "action_expected": (R, F),
                    "action_band_tilt": (R, BANDS, F), "type_table": (F, len(ZONES), T), "family_make": (CELLS, F),
                    "make_shift": (R, CELLS), "placement_mean": (R, 6), "defense_record": (D, 6, len(DEFENSE_RECORD)), "defense_shape": (D, 6), "defense_rate": (D, 6),
                    "defense_make_mean": (D, 6), "defense_make_sd": (D, 6)}
        bad = [name for name, shape in expected.items() if tuple(getattr(self, name).shape) != shape]
        if self.action_table.shape[1:] != (CELLS, F) or self.backcourt_xy.shape[1:] != (2,):
            bad.append("action_table" if self.action_table.shape[1:] != (CELLS, F) else "backcourt_xy")
        if self.placement.shape != (self.action_table.shape[0], CELLS):
            bad.append("placement")
        if bad:
            raise ValueError(f"game tables: {', '.join(bad)} do not fit {R} rows x {C} charts x {D} defenses")
        object.__setattr__(self, "_defense_row", {name: row for row, name in enumerate(self.defenses)})

    @property
    def has_actions(self) -> bool:
        return bool(self.action_types)

    @cached_property
    def placement_bound(self) -> np.ndarray:
        """(G + 1, 6) the most `placement` is in each zone: the scale of draw's accept coin (made once)."""
        return np.stack([self.placement[:, CELL_ZONE == z].max(axis=1) for z in range(HALF_COURT_ZONES)], axis=1)

    @cached_property
    def type_search(self) -> np.ndarray:
        """type_table's cumulatives, one row per (family, zone), row k shifted by k and laid end to end: the string
        of row k for a uniform u is searchsorted(type_search, k + u) - k x T (made once)."""
        table = np.cumsum(self.type_table.astype(np.float64), axis=2).reshape(-1, self.type_table.shape[2])
        table /= table[:, -1:]
        return (table + np.arange(len(table))[:, None]).ravel()

    def arrays(self) -> dict[str, np.ndarray]:
        """The array fields by name (what profiles.pt keeps of them)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), np.ndarray)}

    def defense_rows(self, names: np.ndarray) -> np.ndarray:
        """Row of each defense name; D (the league's) where the tables hold none of that name."""
        get = self._defense_row.get
        uniques, codes = np.unique(np.asarray(names, dtype=object).astype(str), return_inverse=True)
        return np.array([get(u, len(self.defenses)) for u in uniques], dtype=np.int64)[codes]

    # --- posterior means -----------------------------------------------------------------------------

    def zone_shares(self) -> np.ndarray:
        """(R, 6) each row's posterior mean share of each half-court zone."""
        mass = self.chart_zone_mass.astype(np.float64)
        mass = (mass / np.maximum(mass.sum(axis=2, keepdims=True), 1e-12)).mean(axis=1)
        counts = self.zone_counts.astype(np.float64)
        return (counts + self.zone_strength * mass) / (counts.sum(axis=1, keepdims=True) + self.zone_strength)

    def defense_ratio_mean(self) -> np.ndarray:
        """(D + 1, 6) posterior mean zone ratio of each defense, the league's last (ones)."""
        return np.vstack([self.defense_shape / self.defense_rate, np.ones((1, HALF_COURT_ZONES))])

    def defense_make_mean_rows(self) -> np.ndarray:
        return np.vstack([self.defense_make_mean, np.zeros((1, HALF_COURT_ZONES))])

    def zone_probabilities(self, rows: np.ndarray, defense: np.ndarray, bucket: np.ndarray,
                           shares: Optional[np.ndarray] = None, ratios: Optional[np.ndarray] = None) -> np.ndarray:
        """(n, 7) P(zone) of each situation (profile row, defense row, moment bucket), from `shares` (R, 6) and
        defense `ratios` (D + 1, 6): the posterior means unless a season's draws are given."""
        shares = self.zone_shares() if shares is None else shares
        ratios = self.defense_ratio_mean() if ratios is None else ratios
        half = shares[rows] * ratios[defense] * np.exp(self.moment_zone[bucket])
        half /= half.sum(axis=1, keepdims=True)
        heave = self.backcourt_share[bucket][:, None]
        return np.hstack([half * (1 - heave), heave])

    def family_logits(self, rows: np.ndarray, labels: np.ndarray, cells: np.ndarray, bucket: np.ndarray,
                      tilt: Optional[np.ndarray] = None) -> np.ndarray:
        """(n, F) log P(family) up to a constant per shot: his position's table at the cell (labels: -1, the
        league's), his tilts (`tilt`: (R, F), a season's; the posterior mean's unless given) and the moment's."""
        table = self.action_table[np.where(labels >= 0, labels, self.action_table.shape[0] - 1), cells]
        tilt = self.action_tilt if tilt is None else tilt
        return (np.log(np.maximum(table, 1e-12)) + tilt[rows] + self.action_band_tilt[rows, CELL_BAND[cells]]
                + self.moment_action[bucket])

    def make_adjustment(self, rows: np.ndarray, cells: np.ndarray, family: np.ndarray, zone: np.ndarray,
                        defense: np.ndarray, bucket: np.ndarray, defense_make: Optional[np.ndarray] = None) -> np.ndarray:
        """What the kind of shot, the defense and the moment add to his make logit at a half-court spot
        (`defense_make`: (D + 1, 6) offsets, the posterior means unless a season's draws are given)."""
        defense_make = self.defense_make_mean_rows() if defense_make is None else defense_make
        kind = self.family_make[cells, family] - self.make_shift[rows, cells] if self.has_actions else 0.0
        return (kind + defense_make[defense, np.minimum(zone, HALF_COURT_ZONES - 1)] + self.moment_make[bucket, ZONE_GROUPS[zone]]
                + self.make_level)

    # --- one simulated season --------------------------------------------------------------------------

    def season_draws(self, season: int, root: int, keys: list, chart: int) -> dict[str, np.ndarray]:
        """One posterior draw of every row's zone shares (Dirichlet: his counts + strength x the season's chart
        `chart`) and ratios per family (Gamma), of every defense's zone ratios (Gamma) and make offsets (normal),
        and of the league's drift, each from its own stream of (root, season, its key): the same season, the
        same draws, whoever else is drawn."""
        streams = PlayerStreams(int(root) * 1_000_003 + int(season), Stream.SEASON)  # season < 1,000,003: distinct roots
        mass = self.chart_zone_mass[:, chart].astype(np.float64)
        counts = self.zone_counts.astype(np.float64)
        known = counts.sum(axis=1, keepdims=True) + self.zone_strength
        mean = (counts + self.zone_strength * mass / np.maximum(mass.sum(axis=1, keepdims=True), 1e-12)) / known
        concentration = 1 / (1 / known + 1 / self.share_drift)  # his posterior and a season's drift, both
        alpha = np.maximum(concentration * mean, 1e-3)
        shares = np.empty_like(alpha)
        taken, expected = self.action_taken.astype(np.float64), self.action_expected.astype(np.float64)
        mix = (taken + 1) / (taken.sum(axis=1, keepdims=True) + taken.shape[1])  # his share of each family
        kinds = np.empty_like(taken)
        for row, key in enumerate(keys):
            rng = streams.of(key)
            shares[row] = rng.gamma(alpha[row])
            # his ratio per family (a Gamma posterior), drifting as his mix of zones does
            drift = rng.gamma(self.share_drift * mix[row]) / (self.share_drift * mix[row]) if np.isfinite(self.share_drift) else 1.0
            kinds[row] = np.log(rng.gamma(taken[row] + ACTION_PRIOR) / (expected[row] + ACTION_PRIOR) * np.maximum(drift, 1e-12))
        league = streams.of(player_key(("league",)))
        shares *= np.exp(self.zone_drift * league.standard_normal(6))
        shares /= shares.sum(axis=1, keepdims=True)
        ratios, offsets = np.ones((len(self.defenses) + 1, 6)), np.zeros((len(self.defenses) + 1, 6))
        delta = self.defense_drift
        for row, name in enumerate(self.defenses):
            rng = streams.of(player_key(("defense", name)))
            ratios[row] = rng.gamma(self.defense_shape[row]) / self.defense_rate[row] * np.exp(delta * rng.standard_normal(6) - delta ** 2 / 2)
            offsets[row] = (self.defense_make_mean[row] + np.hypot(self.defense_make_sd[row], self.defense_make_drift)
                            * rng.standard_normal(6))
        level = self.make_level + self.level_sd * league.standard_normal()
        return {"shares": shares, "ratios": ratios, "defense_make": offsets, "level": level, "kinds": kinds}
