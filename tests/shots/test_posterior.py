"""A given player's posterior chart: the sampler against an exact answer, the table it returns, bad input."""
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from nba_ml.shots.basis import ChartBasis
from nba_ml.shots.model import ShotChartModel, train_shot_model, validate_shot_config
from nba_ml.shots.posterior import NO_PLAYER_ID, OFF_COURT, likelihood_power, log_likelihoods, player_posterior
from nba_ml.shots.synthetic import synthetic_league

GRID = 8


class OneHabitShareGenerator(nn.Module):
    """z -> weights (w, 1 - w) over two maps with w = sigmoid(2 z_0): a prior whose posterior is a 1-D integral."""

    latent_dim = 2

    def forward(self, z, condition=None):
        share = torch.sigmoid(2 * z[:, :1])
        return 2 * torch.cat([share, 1 - share], dim=1).sqrt() - 1  # the density encoding of a basis model


def left_right_model() -> ShotChartModel:
    """Map 0: uniform over the left half of the court; map 1: over the right half."""
    maps = torch.zeros(2, GRID, GRID)
    maps[0, :, : GRID // 2] = 1 / (GRID * GRID // 2)
    maps[1, :, GRID // 2:] = 1 / (GRID * GRID // 2)
    config = validate_shot_config({"charts": {"grid": GRID, "channels": "attempts"}, "basis": 2,
                                   "gan": {"model": {"kind": "mlp", "num_classes": 3, "output": "density", "latent_dim": 2}}})
    return ShotChartModel(config, OneHabitShareGenerator(), ("G", "F", "C"), [0.5, 0.3, 0.2], ChartBasis(maps))


def shots_of(player, left: int, right: int, position="G") -> pd.DataFrame:
    x = np.r_[np.full(left, -120.0), np.full(right, 120.0)]
    return pd.DataFrame({"PLAYER_ID": player, "POSITION_GROUP": position, "LOC_X": x, "LOC_Y": 100.0})


def exact_mean_share(left: int, right: int, tau: float) -> float:
    """E[w | shots] under prior z ~ N(0, 1), w = sigmoid(2 z), likelihood (w^left (1 - w)^right)^tau, by quadrature."""
    z = np.linspace(-8, 8, 200_001)
    w = 1 / (1 + np.exp(-2 * z))
    log_post = -z**2 / 2 + tau * (left * np.log(w) + right * np.log1p(-w))
    weight = np.exp(log_post - log_post.max())
    return float((w * weight).sum() / weight.sum())


@pytest.mark.parametrize("left,right,tau", [(0, 0, 1.0), (3, 7, 1.0), (300, 700, 1.0), (2800, 200, 0.5), (30, 70, 0.5)])
def test_posterior_mean_matches_the_exact_integral(left, right, tau):
    model = left_right_model()
    player = pd.DataFrame({"PLAYER_ID": [7], "POSITION_GROUP": ["G"]})  # named, for the record with no shots
    posterior = player_posterior(model, shots_of(7, left, right), 3000, players=player, particles=3000, tau=tau,
                                 saturation=float("inf"), seed=0)
    share = posterior.weights[0, :, 0]
    assert share.mean().item() == pytest.approx(exact_mean_share(left, right, tau), abs=0.01)
    assert posterior.diagnostics.loc[0, "SHOTS"] == left + right
    assert posterior.diagnostics.loc[0, "beta"] == pytest.approx(tau if left + right else 0.0)


def test_a_long_record_keeps_many_distinct_charts():
    posterior = player_posterior(left_right_model(), shots_of(7, 2000, 1000), 200, seed=0, tau=1.0, saturation=float("inf"))
    d = posterior.diagnostics.iloc[0]
    assert d["stages"] >= 3  # the likelihood is switched on in several stages...
    assert d["distinct_charts"] >= 100  # ...so the charts do not collapse onto a few prior draws
    assert d["min_ess_share"] >= 0.45


def test_the_likelihood_power_falls_with_the_record_so_a_long_record_counts_as_at_most_tau_times_saturation():
    power = likelihood_power(torch.tensor([0, 10, 100, 10_000]), tau=0.5, saturation=100.0)
    assert power.tolist() == pytest.approx([0.5, 0.5 / 1.1, 0.25, 0.5 / 101])
    posterior = player_posterior(left_right_model(), shots_of(7, 60, 40), 10, tau=0.5, saturation=100.0, seed=0)
    assert posterior.diagnostics.loc[0, "beta"] == pytest.approx(0.25)


def test_log_likelihood_is_the_sum_over_shots():
    maps = torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.2, 0.8]])
    weights = torch.tensor([[[0.25, 0.75]]])
    cells, counts = torch.tensor([[0, 2, 1]]), torch.tensor([[2.0, 1.0, 0.0]])  # the last cell is padding
    expected = 2 * np.log(0.125) + np.log(0.6)
    assert log_likelihoods(weights, maps, cells, counts).item() == pytest.approx(expected, rel=1e-6)


def test_no_shots_gives_the_position_prior_and_unknown_positions_the_label_mixture():
    model = left_right_model()
    players = pd.DataFrame({"PLAYER_ID": [1, 2], "POSITION_GROUP": ["C", None]})
    posterior = player_posterior(model, shots_of(1, 0, 0).iloc[:0], 4000, players=players, seed=1)
    assert posterior.labels[0].unique().tolist() == [2]
    freqs = torch.bincount(posterior.labels[1], minlength=3) / 4000
    assert freqs.tolist() == pytest.approx([0.5, 0.3, 0.2], abs=0.03)
    assert posterior.weights[:, :, 0].mean().item() == pytest.approx(0.5, abs=0.02)  # E[sigmoid(2 z)] = 1/2
    assert posterior.diagnostics["stages"].tolist() == [0, 0]


def test_sample_player_shots_table_is_reproducible_and_counts_what_it_drops():
    model = left_right_model()
    observed = pd.concat([shots_of(10, 5, 5), shots_of(11, 8, 0, position="F")], ignore_index=True)
    observed.loc[0, "LOC_X"] = np.nan
    observed.loc[1, "LOC_Y"] = 900.0  # beyond half court
    observed.loc[2, "PLAYER_ID"] = None
    shots = model.sample_player_shots(observed, 3, 20, seed=5)
    assert list(shots.columns) == ["PLAYER_ID", "CHART_ID", "LOC_X", "LOC_Y", "SHOT_ZONE_BASIC", "SHOT_DISTANCE",
                                   "POSITION_GROUP"]
    assert len(shots) == 2 * 3 * 20 and shots.groupby("PLAYER_ID")["CHART_ID"].nunique().tolist() == [3, 3]
    assert shots.attrs["dropped"] == {NO_PLAYER_ID: 1, OFF_COURT: 2}
    assert shots.attrs["posterior"]["SHOTS"].tolist() == [7, 8]
    assert set(shots.loc[shots["PLAYER_ID"] == 11, "POSITION_GROUP"]) == {"F"}
    pd.testing.assert_frame_equal(shots, model.sample_player_shots(observed, 3, 20, seed=5))


def test_a_trained_model_with_makes_gives_make_probabilities():
    league = synthetic_league(40, 100, seed=0)
    model, _, _ = train_shot_model({"charts": {"grid": 16, "min_shots": 50}, "basis": 4, "shots_per_chart": 50,
                                    "gan": {"model": {"kind": "mlp", "num_classes": 3, "output": "density",
                                                      "hidden_dim": 16, "depth": 1, "latent_dim": 8},
                                            "train": {"steps": 2, "batch_size": 16, "log_every": 2}}}, league)
    shots = model.sample_player_shots(league[league["PLAYER_ID"] == league["PLAYER_ID"].iloc[0]], 2, 10, seed=0)
    assert shots["MAKE_PROB"].between(0, 1).all() and len(shots) == 20


@pytest.mark.parametrize("observed,match", [
    (pd.DataFrame({"LOC_X": [0.0], "LOC_Y": [0.0]}), r"missing column\(s\) \['PLAYER_ID'\]"),
    (pd.DataFrame({"PLAYER_ID": [1], "POSITION_GROUP": ["PG"], "LOC_X": [0.0], "LOC_Y": [0.0]}), "POSITION_GROUP has unknown value"),
    ([1, 2], "must be a pandas DataFrame"),
    (pd.DataFrame({"PLAYER_ID": [None], "LOC_X": [0.0], "LOC_Y": [0.0]}), "no player to sample for"),
])
def test_bad_observed_shots_are_refused_naming_the_problem(observed, match):
    with pytest.raises(ValueError, match=match):
        player_posterior(left_right_model(), observed, 2)


def test_bad_arguments_are_refused():
    model = left_right_model()
    with pytest.raises(ValueError, match="n_charts must be a positive integer"):
        player_posterior(model, shots_of(1, 1, 1), 0)
    with pytest.raises(ValueError, match=r"tau \(likelihood power\) must be in \(0, 1\]"):
        player_posterior(model, shots_of(1, 1, 1), 2, tau=1.5)


def test_a_cell_model_says_why_it_has_no_posterior():
    league = synthetic_league(40, 100, seed=0)
    model, _, _ = train_shot_model({"charts": {"grid": 16, "min_shots": 50, "channels": "attempts"}, "basis": 0,
                                    "gan": {"model": {"kind": "mlp", "num_classes": 3, "output": "density",
                                                      "hidden_dim": 16, "depth": 1, "latent_dim": 8},
                                            "train": {"steps": 2, "batch_size": 16, "log_every": 2}}}, league)
    with pytest.raises(ValueError, match="posterior sampling needs a model on a chart basis"):
        model.sample_player_shots(league, 2, 10)
