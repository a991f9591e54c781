"""How well a given player shoots: the Laplace posterior against exact answers, seasons, the intervals."""
import numpy as np
import pandas as pd
import pytest
import torch
from scipy import optimize, stats

from nba_ml.shots.player.make_model import (TABLE_SHAPE, ZONE_COUNT, MakeConfig, MakeModel, SkillPosterior, laplace,
                                            make_prob_mean, player_makes, skill_posterior, zone_intervals)
from nba_ml.shots.player.records import player_records

GROUPS = ("G", "F", "C")
RIM = (0.0, 10.0)  # a Restricted Area spot (zone 0)
THREE = (0.0, 260.0)  # Above the Break 3 (zone 5)


def flat_model(logit: float = 0.0, cov: np.ndarray | None = None, seasons=("2022-23",), **config) -> MakeModel:
    """A make model whose surface is `logit` everywhere and whose prior mean ignores where a player shoots."""
    surface = torch.full((len(GROUPS) + 1, *TABLE_SHAPE), logit, dtype=torch.float32)
    cov = np.eye(ZONE_COUNT) * 0.04 if cov is None else cov
    return MakeModel(MakeConfig(**config), GROUPS, surface, surface.clone(), torch.from_numpy(cov),
                     torch.zeros(5, ZONE_COUNT, dtype=torch.float64), torch.full((4, 6), 1 / 6, dtype=torch.float64),
                     20.0, torch.full((6,), 0.5, dtype=torch.float64), tuple(seasons))


def record(player, spot, made, missed, season=None, position="G") -> pd.DataFrame:
    n = made + missed
    frame = pd.DataFrame({"PLAYER_ID": player, "POSITION_GROUP": position, "LOC_X": np.full(n, spot[0]),
                          "LOC_Y": np.full(n, spot[1]), "SHOT_MADE_FLAG": [1] * made + [0] * missed})
    return frame.assign(SEASON=season) if season is not None else frame


def exact_mode(made: int, missed: int, logit: float, sd: float) -> float:
    """argmax of sigmoid(logit + u)^made (1 - sigmoid)^missed N(u; 0, sd^2), by a scalar optimiser."""
    def minus_log_post(u):
        p = 1 / (1 + np.exp(-(logit + u)))
        return -(made * np.log(p) + missed * np.log1p(-p) - u * u / (2 * sd * sd))
    return optimize.minimize_scalar(minus_log_post, bounds=(-5, 5), method="bounded", options={"xatol": 1e-12}).x


@pytest.mark.parametrize("made,missed", [(0, 0), (3, 7), (60, 40), (700, 300)])
def test_the_mode_is_the_exact_maximum_and_the_mean_prob_the_integral_under_it(made, missed):
    model = flat_model(logit=-0.25)  # exact in float32, as the surfaces are kept
    him = pd.DataFrame({"PLAYER_ID": [1], "POSITION_GROUP": ["G"]})  # named, for the record of no shots
    posterior = skill_posterior(model, player_records(record(1, RIM, made, missed), GROUPS, players=him))
    assert posterior.mean[0, 0] == pytest.approx(exact_mode(made, missed, -0.25, 0.2), abs=1e-7)
    assert posterior.mean[0, 1:].tolist() == pytest.approx([0.0] * 5)  # no shots elsewhere, no correlation: the prior
    h = 1 / 0.04 + (made + missed) * (p := 1 / (1 + np.exp(0.25 - posterior.mean[0, 0]))) * (1 - p)
    assert posterior.cov[0, 0, 0] == pytest.approx(1 / h, rel=1e-6)  # the curvature at the mode
    z = np.linspace(-10, 10, 400_001)  # E sigmoid(logit + u), u ~ N(mode, 1 / h), by quadrature
    u = posterior.mean[0, 0] + z / np.sqrt(h)
    expected = (np.exp(-z**2 / 2) / (1 + np.exp(0.25 - u))).sum() / np.exp(-z**2 / 2).sum()
    assert make_prob_mean(posterior, np.array([0]), np.array([RIM[0]]), np.array([RIM[1]]))[0] == pytest.approx(expected, abs=1e-9)


def test_a_correlated_prior_carries_a_record_in_one_zone_to_the_others():
    cov = np.full((ZONE_COUNT, ZONE_COUNT), 0.02) + np.eye(ZONE_COUNT) * 0.02  # correlation 0.5 between zones
    posterior = skill_posterior(flat_model(cov=cov), player_records(record(1, RIM, 80, 20), GROUPS))
    rim, others = posterior.mean[0, 0], posterior.mean[0, 1:]
    assert rim > 0.3 and np.allclose(others, others[0]) and 0 < others[0] < rim
    # Gaussian conditioning on the rim offset alone gives the others: cov[1:, 0] / cov[0, 0] times it
    assert others[0] == pytest.approx(rim * 0.5, rel=1e-6)


def test_the_laplace_step_of_one_player_does_not_depend_on_the_others_in_the_call():
    rng = np.random.default_rng(0)
    shots = 300
    base, zone, made = rng.normal(-0.2, 0.5, shots), rng.integers(0, 6, shots), rng.integers(0, 2, shots).astype(float)
    player = np.repeat([0, 1, 2], 100)
    mean, cov = np.zeros((3, 6)), np.repeat(np.eye(6)[None] * 0.05, 3, axis=0)
    together = laplace(base, zone, made, player, mean, cov)
    alone = laplace(base[100:200], zone[100:200], made[100:200], np.zeros(100, int), mean[1:2], cov[1:2])
    assert np.array_equal(together[0][1], alone[0][0]) and np.array_equal(together[1][1], alone[1][0])


def test_an_old_record_counts_for_season_corr_to_its_age_and_the_prior_fills_the_rest():
    model = flat_model(season_corr=0.9, seasons=("2017-18", "2022-23"))
    now = skill_posterior(model, player_records(record(1, RIM, 150, 50, "2022-23"), GROUPS))
    old = skill_posterior(model, player_records(record(1, RIM, 150, 50, "2017-18"), GROUPS, target_season="2022-23"))
    r = 0.9**5
    assert old.mean[0, 0] == pytest.approx(r * now.mean[0, 0], rel=1e-9)
    assert old.cov[0, 0, 0] == pytest.approx(r**2 * now.cov[0, 0, 0] + (1 - r**2) * 0.04, rel=1e-9)


def test_a_season_the_model_was_not_trained_on_is_wider_and_a_record_of_it_moves_him_more():
    model = flat_model(season_sd=0.15, seasons=("2017-18",))
    him = pd.DataFrame({"PLAYER_ID": [1], "POSITION_GROUP": ["G"]})
    known = skill_posterior(model, player_records(record(1, RIM, 0, 0), GROUPS, players=him, target_season="2017-18"))
    new = skill_posterior(model, player_records(record(1, RIM, 0, 0), GROUPS, players=him, target_season="2022-23"))
    assert new.cov[0, 0, 0] == pytest.approx(known.cov[0, 0, 0] + 0.15**2)
    moved_known = skill_posterior(model, player_records(record(1, RIM, 70, 30, "2017-18"), GROUPS)).mean[0, 0]
    moved_new = skill_posterior(model, player_records(record(1, RIM, 70, 30, "2022-23"), GROUPS)).mean[0, 0]
    assert moved_new == pytest.approx(exact_mode(70, 30, 0.0, np.sqrt(0.04 + 0.15**2)), abs=1e-7) and moved_new > moved_known


def test_shots_without_an_outcome_inform_the_prior_mean_only():
    shots = record(1, RIM, 5, 5)
    shots["SHOT_MADE_FLAG"] = np.nan
    model = flat_model()
    posterior = skill_posterior(model, player_records(shots, GROUPS))
    assert posterior.mean.tolist() == [[0.0] * 6] and np.allclose(posterior.cov[0], 0.04 * np.eye(6))


def test_zone_intervals_are_binomial_quantiles_when_his_skill_is_known():
    posterior = SkillPosterior(np.zeros((1, 6)), np.eye(6)[None] * 1e-12, np.zeros(1, int),
                               np.zeros((4, *TABLE_SHAPE), np.float32), None)
    rows, x, y = np.zeros(200, int), np.full(200, THREE[0]), np.full(200, THREE[1])
    (interval,) = zone_intervals(posterior, rows, x, y, lambda row: np.random.default_rng(0), draws=20_000)
    assert interval["ATTEMPTS"] == 200 and interval["MAKE_PROB"] == pytest.approx(0.5)
    assert interval["FG_LO"] == pytest.approx(stats.binom.ppf(0.05, 200, 0.5) / 200, abs=0.006)
    assert interval["FG_HI"] == pytest.approx(stats.binom.ppf(0.95, 200, 0.5) / 200, abs=0.006)


def test_player_makes_answers_every_query_and_counts_what_it_cannot():
    model = flat_model(logit=0.0)
    queries = pd.DataFrame({"QUERY_ID": [10, 11, 12, 13, 14, 15, 16], "PLAYER_ID": [1, 2, None, 1, 3, 3, 1],
                            "POSITION_GROUP": ["G", "C", "G", "G", "F", "F", "G"],
                            "LOC_X": [0.0, 0.0, 0.0, 900.0, 0.0, 0.0, 0.0], "LOC_Y": [10.0] * 4 + [880.0, 1e6, -100.0]})
    observed = pd.concat([record(1, RIM, 90, 10), record(7, RIM, 3, 2)])  # player 7 is not asked for
    pred, zones, summary = player_makes(model, observed, queries, GROUPS, seed=0)
    assert pred["QUERY_ID"].tolist() == [10, 11] and pred["PLAYER_ID"].tolist() == [1, 2]
    assert summary.startswith("3 players asked for, 1 of them with a record (100 shots with an outcome), 1 of them "
                              "with no query on the half court (not answered); record rows not used: none; ")
    assert pred["MAKE_PROB"].iloc[0] > 0.6 > pred["MAKE_PROB"].iloc[1] > 0.45  # his record; no record: the prior
    assert zones.columns.tolist() == ["PLAYER_ID", "SHOT_ZONE_BASIC", "ATTEMPTS", "MAKE_PROB", "FG_LO", "FG_HI", "NOTE"]
    assert zones["PLAYER_ID"].tolist() == [1, 2, 3] and zones["NOTE"].tolist()[:2] == ["", ""]
    last = zones.iloc[2]  # past the half-court line (880, 1e6): counted off court like behind the baseline
    assert pd.isna(last["SHOT_ZONE_BASIC"]) and last["ATTEMPTS"] == 0 and pd.isna(last["MAKE_PROB"])
    assert last["NOTE"] == "none of his 2 queries is on the half court with coordinates: no zones"
    assert "'queries/missing_player_id': 1" in summary and "'queries/off_court': 4" in summary


def test_player_makes_without_a_seed_draws_fresh_randomness_as_every_seed_none_does(monkeypatch):
    from nba_ml.shots.player import streams

    roots = []
    monkeypatch.setattr(streams, "root_entropy", lambda seed: roots.append(seed) or 0)
    queries = pd.DataFrame({"PLAYER_ID": [1], "LOC_X": [0.0], "LOC_Y": [10.0]})
    for seed in (None, 5):
        player_makes(flat_model(), record(1, RIM, 3, 1), queries, GROUPS, seed=seed)
    assert roots == [None, 5]  # None: streams.root_entropy's fresh entropy, not a fixed seed


def test_a_model_without_makes_and_a_record_without_outcomes_say_what_is_needed():
    queries = pd.DataFrame({"PLAYER_ID": [1], "LOC_X": [0.0], "LOC_Y": [10.0]})
    with pytest.raises(ValueError, match="no make model: .* retrain it with channels 'attempts\\+makes'"):
        player_makes(None, queries.iloc[:0], queries, GROUPS)
    with pytest.raises(ValueError, match="needs each shot's outcome, a SHOT_MADE_FLAG column"):
        player_makes(flat_model(), record(1, RIM, 1, 1).drop(columns="SHOT_MADE_FLAG"), queries, GROUPS)


def test_the_model_checks_what_it_is_built_from():
    good = flat_model()
    with pytest.raises(ValueError, match="skill_cov must be a positive definite covariance"):
        MakeModel(good.config, GROUPS, good.surface, good.coarse, -good.skill_cov, good.chart_coef,
                  good.position_shares, 20.0, good.league_fg, ())
    with pytest.raises(ValueError, match=r"surface must be a finite tensor of shape"):
        MakeModel(good.config, GROUPS, good.surface[:2], good.coarse, good.skill_cov, good.chart_coef,
                  good.position_shares, 20.0, good.league_fg, ())
