"""What each defense allowed, zone by zone, against what its opponents would have shot: `profiles.defenses`,
DIR/defenses.csv of `nba-ml profile` and the defense card (nba_ml.shots.pictures.plot_defense_card).

    table = defense_table(profiles.game)     # one row per defense and half-court zone

Per defense and zone, from the records the profiles were built from (GameTables.defense_record) and the game
model's posteriors (nba_ml.shots.player.game_fit):

- SHOTS, SHARE: its opponents' shots there, and their share of all its opponents' shots. SHARE_EXPECTED: the
  share those same shooters would have taken against the league's average defense (each shot's shooter's own
  zone shares). SHARE_ALLOWED, SHARE_LO, SHARE_HI: the model's share, posterior mean and central 90% interval
  (the expected shares times the defense's zone ratios, drawn from their Gamma posterior, renormalised;
  SHARE_DRAWS draws, seeded: the table is the same every time).
- FGA, FG: its opponents' attempts of known outcome there and the share made. FG_EXPECTED: what those shooters
  would have made at the same spots against the league's (their make probabilities before the defense's
  offset). FG_ALLOWED, FG_LO, FG_HI: FG_EXPECTED moved by the defense's make offset, at its posterior mean and
  its 5% and 95% points (the offset applied to the logit of FG_EXPECTED). Empty without outcomes or a make model.
- RATIO, RATIO_LO, RATIO_HI and MAKE_OFFSET, MAKE_OFFSET_SD: the posteriors themselves (zone ratio: mean and
  90% interval; make offset in logits: mean and sd).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from scipy.stats import gamma, norm

from ..court import ZONES
from .game_tables import DEFENSE_RECORD, HALF_COURT_ZONES, GameTables

SHARE_DRAWS = 4000  # posterior draws behind SHARE_LO / SHARE_HI (their Monte Carlo error ~0.1 pp)
COLUMNS = ["DEFENSE", "SHOT_ZONE_BASIC", "SHOTS", "SHARE", "SHARE_EXPECTED", "SHARE_ALLOWED", "SHARE_LO", "SHARE_HI",
           "FGA", "FG", "FG_EXPECTED", "FG_ALLOWED", "FG_LO", "FG_HI", "RATIO", "RATIO_LO", "RATIO_HI", "MAKE_OFFSET",
           "MAKE_OFFSET_SD"]


def defense_table(game: GameTables) -> pd.DataFrame:
    """One row per defense and half-court zone (module docstring), defenses in the tables' order."""
    D, Z = len(game.defenses), HALF_COURT_ZONES
    record = {name: game.defense_record[..., k] for k, name in enumerate(DEFENSE_RECORD)}
    shape, rate = game.defense_shape, game.defense_rate
    total = np.maximum(record["shots"].sum(axis=1, keepdims=True), 1e-12)
    expected_share = record["expected_shots"] / np.maximum(record["expected_shots"].sum(axis=1, keepdims=True), 1e-12)
    rng = np.random.default_rng(0)
    weighted = expected_share[:, None, :] * rng.gamma(shape[:, None, :], size=(D, SHARE_DRAWS, Z)) / rate[:, None, :]
    shares = weighted / np.maximum(weighted.sum(axis=2, keepdims=True), 1e-300)
    attempts = record["attempts"]
    with np.errstate(invalid="ignore", divide="ignore"):
        fg, fg_expected = record["made"] / attempts, record["expected_made"] / attempts
        base = logit(fg_expected)
    offset, sd = game.defense_make_mean, game.defense_make_sd
    columns = {
        "DEFENSE": np.repeat(np.array(game.defenses, dtype=object), Z), "SHOT_ZONE_BASIC": np.tile(ZONES[:Z], D),
        "SHOTS": record["shots"].astype(np.int64), "SHARE": record["shots"] / total, "SHARE_EXPECTED": expected_share,
        "SHARE_ALLOWED": shares.mean(axis=1), "SHARE_LO": np.quantile(shares, 0.05, axis=1),
        "SHARE_HI": np.quantile(shares, 0.95, axis=1), "FGA": attempts.astype(np.int64), "FG": fg,
        "FG_EXPECTED": fg_expected, "FG_ALLOWED": expit(base + offset), "FG_LO": expit(base + offset + norm.ppf(0.05) * sd),
        "FG_HI": expit(base + offset + norm.ppf(0.95) * sd), "RATIO": shape / rate, "RATIO_LO": gamma.ppf(0.05, shape) / rate,
        "RATIO_HI": gamma.ppf(0.95, shape) / rate, "MAKE_OFFSET": offset, "MAKE_OFFSET_SD": sd}
    return pd.DataFrame({name: np.ravel(value) for name, value in columns.items()}, columns=COLUMNS)
