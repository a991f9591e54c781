"""Profiles of given players: what a simulator builds once and draws from."""
import numpy as np
import pandas as pd
import pytest

from nba_ml.errors import InputError
from nba_ml.shots.court import zone_of
from nba_ml.shots.player.profiles import SHOT_COLUMNS, PlayerProfiles
from nba_ml.shots.synthetic import synthetic_league
from nba_ml.shots.training import train_shot_model
from tests.shots.player.conftest import TINY



@pytest.fixture(scope="module")
def observed():
    league = synthetic_league(6, 80, seed=7)
    league["PLAYER_ID"] = league["PLAYER_ID"].map({i: f"P{i}" for i in range(1, 7)})
    return league


@pytest.fixture(scope="module")
def profiles(model, observed):
    return model.player_profiles(observed, seed=3, charts=20)


def test_sample_gives_every_column_from_the_location_alone_and_outcomes_that_follow_the_probabilities(profiles):
    shots = profiles.sample(400, draws=5, seed=0)
    assert tuple(shots.columns) == SHOT_COLUMNS and len(shots) == 6 * 5 * 400
    assert shots.groupby("PLAYER_ID", observed=True)["DRAW"].nunique().tolist() == [5] * 6
    assert (shots["SHOT_ZONE_BASIC"].astype(str) == zone_of(shots["LOC_X"], shots["LOC_Y"])).all()
    three = shots["SHOT_ZONE_BASIC"].astype(str).str.contains("3")
    assert (shots["SHOT_VALUE"] == np.where(three, 3, 2)).all()
    assert (shots["SHOT_DISTANCE"] == np.floor(np.hypot(shots["LOC_X"], shots["LOC_Y"]) / 10)).all()
    assert shots["MADE"].mean() == pytest.approx(shots["MAKE_PROB"].mean(), abs=0.015)  # 12,000 Bernoulli draws


def test_a_players_draws_do_not_depend_on_who_else_is_asked_for_or_in_what_order(profiles):
    everyone = profiles.sample(50, draws=3, seed=11)
    some = profiles.sample({"P4": 50, "P2": 50}, draws=3, seed=11)
    assert some["PLAYER_ID"].unique().tolist() == ["P4", "P2"]
    for player in ("P2", "P4"):
        pd.testing.assert_frame_equal(everyone[everyone["PLAYER_ID"] == player].reset_index(drop=True),
                                      some[some["PLAYER_ID"] == player].reset_index(drop=True), check_categorical=False)
    assert not everyone.equals(profiles.sample(50, draws=3, seed=12))


def test_a_players_profile_does_not_depend_on_who_else_is_in_the_record(model, observed):
    together = model.player_profiles(observed, seed=3, charts=20)
    alone = model.player_profiles(observed[observed["PLAYER_ID"] == "P5"], seed=3, charts=20)
    row = together.player_ids.index("P5")
    assert np.array_equal(together.weights[row].numpy(), alone.weights[0].numpy())
    assert np.array_equal(together.skill_mean[row].numpy(), alone.skill_mean[0].numpy())
    pd.testing.assert_frame_equal(together.sample({"P5": 30}, seed=1), alone.sample({"P5": 30}, seed=1),
                                  check_categorical=False)


def test_make_prob_is_his_posterior_mean_and_its_draws_spread_around_it(profiles, observed):
    x, y = np.array([0.0, 0.0]), np.array([10.0, 260.0])
    mean = profiles.make_prob(["P1", "P1"], x, y)
    draws = profiles.make_prob(["P1", "P1"], x, y, draws=4000, seed=0)
    assert draws.shape == (4000, 2) and np.allclose(draws.mean(axis=0), mean, atol=0.005)
    assert draws.std(axis=0).min() > 0.01  # a record of 80 shots leaves him uncertain
    assert mean[0] > mean[1]  # at the rim rather than from three


def test_his_record_moves_his_make_probability_his_way(model):
    rim = pd.DataFrame({"PLAYER_ID": np.repeat(["hot", "cold"], 200), "POSITION_GROUP": "C", "LOC_X": 0.0,
                        "LOC_Y": 10.0, "SHOT_MADE_FLAG": np.r_[np.ones(170), np.zeros(30), np.ones(70), np.zeros(130)]})
    profiles = model.player_profiles(rim, seed=0, charts=5,
                                     players=pd.DataFrame({"PLAYER_ID": ["rookie"], "POSITION_GROUP": ["C"]}))
    hot, cold, rookie = profiles.make_prob(["hot", "cold", "rookie"], [0.0] * 3, [10.0] * 3)
    assert hot > rookie > cold and profiles.players["NOTE"].tolist()[-1] == "no shots on record: his position's prior"


def test_table_gives_each_zone_share_fg_and_points_with_intervals_and_the_league_beside(profiles):
    table = profiles.table()
    assert len(table) == 6 * 7 and set(table["SHOT_ZONE_BASIC"]) >= {"Restricted Area", "All"}
    zones = table[table["SHOT_ZONE_BASIC"] != "All"]
    assert zones.groupby("PLAYER_ID")["SHARE"].sum().tolist() == pytest.approx([1.0] * 6, abs=1e-6)
    for name in ("SHARE", "FG", "PPS"):
        assert (table[f"{name}_LO"] <= table[name] + 1e-12).all() and (table[name] <= table[f"{name}_HI"] + 1e-12).all()
    everyone = table[table["SHOT_ZONE_BASIC"] == "All"]
    assert everyone["LEAGUE_FG"].between(0.3, 0.6).all() and (everyone["SHARE"] == 1).all()
    some = profiles.player_ids[::-2][:2]  # a player's rows are the same when only some players are asked for
    subset = profiles.table(players=some)
    expected = table.set_index("PLAYER_ID").loc[some].reset_index()
    pd.testing.assert_frame_equal(subset, expected[subset.columns])


def test_saved_profiles_load_to_the_same_draws(profiles, tmp_path):
    profiles.save(tmp_path / "p")
    loaded = PlayerProfiles.load(tmp_path / "p")
    pd.testing.assert_frame_equal(loaded.sample(20, draws=2, seed=4), profiles.sample(20, draws=2, seed=4))
    assert (tmp_path / "p" / "table.csv").exists() and loaded.player_ids == profiles.player_ids


def test_bad_arguments_are_refused_in_one_line(profiles, tmp_path):
    with pytest.raises(ValueError, match=r"no profile for player\(s\) \['nobody'\]"):
        profiles.sample({"nobody": 3})
    with pytest.raises(ValueError, match="draws must be a positive integer, got 0"):
        profiles.sample(3, draws=0)
    with pytest.raises(ValueError, match="shots must be a positive integer, got True"):
        profiles.sample(True)
    with pytest.raises(ValueError, match="not a saved profiles file"):
        PlayerProfiles.load(tmp_path / "missing")


def test_a_model_without_makes_gives_locations_and_says_why_it_has_no_probabilities(observed):
    attempts_only, _, _ = train_shot_model({**TINY, "charts": {**TINY["charts"], "channels": "attempts"}},
                                           synthetic_league(30, 120, seed=0))
    with pytest.warns(UserWarning, match=r"this model has no make model, so .* without MAKE_PROB or MADE: it was "
                                         r"trained without makes .*; retrain it with channels 'attempts\+makes'"):
        profiles = attempts_only.player_profiles(observed, seed=0, charts=4)
    assert "MAKE_PROB" not in profiles.sample(5) and not profiles.has_makes
    with pytest.raises(ValueError, match="trained without makes"):
        profiles.make_prob(["P1"], [0.0], [10.0])


def test_the_two_stage_draw_is_exactly_the_charts_density(profiles):
    """Shots are drawn habit-or-record first, then a cell, never building the chart: their cells must follow
    the chart's density, record part (blurred) included."""
    row = 0
    assert profiles.record_share[row].min() > 0  # his record is part of every chart
    fields = {name: getattr(profiles, name) for name in PlayerProfiles.__dataclass_fields__}
    one_chart = PlayerProfiles(**{**fields, "weights": profiles.weights[:, :1], "labels": profiles.labels[:, :1],
                                  "record_share": profiles.record_share[:, :1], "record_weights": profiles.record_weights[:1],
                                  "game": None})
    shots = one_chart.sample({profiles.player_ids[row]: 400_000}, seed=0)
    grid = profiles.maps.shape[-1]
    column = np.clip(((shots["LOC_X"] + 250) // (500 / grid)).astype(int), 0, grid - 1)
    line = np.clip(((shots["LOC_Y"] + 52.5) // (470 / grid)).astype(int), 0, grid - 1)
    drawn = np.bincount(line * grid + column, minlength=grid * grid) / len(shots)
    expected = one_chart.densities(row)[0].ravel()
    assert 0.5 * np.abs(drawn - expected).sum() < 0.01  # total variation; its sampling noise here is ~0.004


def test_a_draw_that_would_not_fit_is_refused_before_any_posterior_runs(model, observed, monkeypatch):
    from nba_ml import memory
    from nba_ml.errors import ResourceError

    monkeypatch.setattr(memory, "machine_memory_limit", lambda: (50e6, "a test limit"))
    monkeypatch.setattr(type(model), "player_profiles", lambda *a, **k: pytest.fail("the posterior ran"))
    with pytest.raises(ResourceError, match=r"drawing 2,000,000 shots for one player .* the 0.05 GB allowed \(a test limit\)"):
        model.sample_player_shots(observed, 1000, 2000)
    with pytest.raises(InputError, match="n_charts must be a positive integer, got 0"):
        model.sample_player_shots(observed, 0, 10)
    with pytest.raises(InputError, match="shots_per_chart must be a positive integer, got 2.5"):
        model.sample_player_shots(observed, 3, 2.5)


def test_the_guided_search_of_record_cells_is_the_inverse_cdf_exactly():
    """A record cell is found by its segment's guide table, a step, and bisection: the same index as a binary
    search, also for segments of very uneven weights (a Dirichlet of small power: buckets of many tiny ones)."""
    from nba_ml.shots.player.sampler import _guide_tables, _guided_search

    rng = np.random.default_rng(0)
    lengths = np.array([1, 2, 7, 300, 1000, 3])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    cumulative = np.zeros((3, offsets[-1]))
    for row in range(3):
        for lo, hi in zip(offsets[:-1], offsets[1:]):
            weights = rng.dirichlet(np.full(hi - lo, 0.02 if row else 1.0))
            cumulative[row, lo:hi] = np.cumsum(weights) / np.cumsum(weights)[-1]
    segment, charts = rng.integers(0, len(lengths), 50_000), rng.integers(0, 3, 50_000)
    u = np.concatenate([rng.random(49_990), [0.0, 1 - 2 ** -24, 0.5, 0.999999, 1e-12, 0.25, 0.75, 0.1, 0.9, 1.0]])
    lo, hi = offsets[segment], offsets[segment + 1]
    found = _guided_search(cumulative, _guide_tables(cumulative, offsets), charts, lo, hi, u)
    expected = [lo_ + min(np.searchsorted(cumulative[c, lo_:hi_], q, side="right"), hi_ - lo_ - 1)
                for c, lo_, hi_, q in zip(charts, lo, hi, u)]
    assert np.array_equal(found, expected)
