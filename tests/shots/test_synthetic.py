"""Tests for nba_ml.shots.synthetic: calibration of the archetype table and of a seeded league."""

import numpy as np
import pandas as pd
import pytest

from nba_ml.shots.charts import ChartSpec, make_charts
from nba_ml.shots.court import zone_of
from nba_ml.shots.synthetic import (
    ARCHETYPES,
    HALF_COURT_ZONES,
    TARGET_ZONE_SHARES_2022_23,
    ZONE_FG_PCT_2022_23,
    pooled_zone_shares,
    synthetic_league,
)

# 2022-23 shares from PROVENANCE.md, in %; the six half-court zones hold 99.82% of shots.
PROVENANCE_2022_23 = {
    "Restricted Area": 29.92,
    "In The Paint (Non-RA)": 19.54,
    "Mid-Range": 11.86,
    "Left Corner 3": 5.09,
    "Right Corner 3": 4.58,
    "Above the Break 3": 28.83,
}


@pytest.fixture(scope="module")
def league() -> pd.DataFrame:
    return synthetic_league(n_players=300, shots_per_player=400, seed=0)


def test_targets_are_the_provenance_figures():
    assert sum(TARGET_ZONE_SHARES_2022_23.values()) == pytest.approx(1.0)
    for zone, percent in PROVENANCE_2022_23.items():
        assert TARGET_ZONE_SHARES_2022_23[zone] * 100 == pytest.approx(percent / 0.9982, abs=1e-9)


def test_archetype_table_pools_to_the_targets():
    assert sum(share for share, _, _ in ARCHETYPES.values()) == pytest.approx(1.0)
    for _, group, weights in ARCHETYPES.values():
        assert group in ("G", "F", "C")
        assert sum(weights) == pytest.approx(1.0, abs=1e-9)
    pooled = pooled_zone_shares()
    for zone in HALF_COURT_ZONES:
        assert pooled[zone] == pytest.approx(TARGET_ZONE_SHARES_2022_23[zone], abs=0.001)  # 0.1 pp


def test_seeded_league_matches_the_zone_mix(league):
    shares = league["SHOT_ZONE_BASIC"].value_counts(normalize=True)
    assert set(shares.index) == set(HALF_COURT_ZONES)  # no backcourt
    # Only the shots' multinomial noise is left (the players' zone weights are fitted to the target): a share
    # p of 120,000 shots has a standard error of sqrt(p (1 - p) / 120,000), 0.13 pp at p = 0.3. Allow 3 of them.
    for zone, percent in PROVENANCE_2022_23.items():
        p = percent / 100
        assert shares[zone] == pytest.approx(p, abs=3 * np.sqrt(p * (1 - p) / len(league)))


def test_make_rates_match_field_goal_pct_per_zone(league):
    made = league.groupby("SHOT_ZONE_BASIC")["SHOT_MADE_FLAG"].mean()
    for zone, fg_pct in ZONE_FG_PCT_2022_23.items():
        assert made[zone] == pytest.approx(fg_pct, abs=0.02)


def test_every_shot_is_on_the_half_court_and_consistent(league):
    assert league["LOC_X"].between(-250, 250).all()
    assert league["LOC_Y"].between(-52.5, 417.5).all()
    assert (league["LOC_X"] == league["LOC_X"].round()).all()  # whole tenths, as the NBA records them
    assert (league["SHOT_ZONE_BASIC"].to_numpy() == zone_of(league["LOC_X"], league["LOC_Y"])).all()
    distance = np.floor(np.hypot(league["LOC_X"], league["LOC_Y"]) / 10).astype(int)
    assert (league["SHOT_DISTANCE"] == distance).all()


def test_layout(league):
    assert len(league) == 300 * 400
    assert league.groupby("PLAYER_ID").size().eq(400).all()
    assert league["SEASON"].eq("synthetic").all()
    assert league["SHOT_MADE_FLAG"].dtype == np.int8 and league["PLAYER_ID"].dtype == "Int64"
    assert league["LOC_X"].dtype == np.float64
    assert league.groupby("PLAYER_ID")["POSITION_GROUP"].nunique().eq(1).all()
    assert league["GAME_ID"].str.len().eq(10).all()
    # 300 players in table proportions: 24 + 24 C, 48 + 60 F, 72 + 72 G
    players = league.drop_duplicates("PLAYER_ID")
    assert players["POSITION_GROUP"].value_counts().to_dict() == {"G": 144, "F": 108, "C": 48}


def test_same_seed_same_league():
    pd.testing.assert_frame_equal(synthetic_league(20, 50, seed=3), synthetic_league(20, 50, seed=3))
    assert not synthetic_league(20, 50, seed=3).equals(synthetic_league(20, 50, seed=4))


def test_archetypes_differ_where_they_should(league):
    three_share = league.assign(three=league["SHOT_ZONE_BASIC"].str.contains("3")).groupby("ARCHETYPE")["three"].mean()
    assert three_share["rim_running_big"] < 0.15 < 0.40 < three_share["three_and_d_wing"]


def test_league_becomes_charts(league):
    charts = make_charts(league, ChartSpec(grid=32, min_shots=100))
    assert len(charts) == 300
    assert np.bincount(charts.labels.numpy()).tolist() == [144, 108, 48]


@pytest.mark.parametrize(("argument", "value"), [("n_players", 0), ("shots_per_player", -5), ("n_players", 2.5)])
def test_bad_sizes_are_rejected(argument, value):
    with pytest.raises(ValueError, match=f"{argument} must be a positive integer"):
        synthetic_league(**{argument: value})
