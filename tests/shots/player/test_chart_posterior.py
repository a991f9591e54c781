"""A given player's posterior chart: the sampler against an exact answer, the table it returns, bad input."""
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from nba_ml.shots.basis import ChartBasis
from nba_ml.shots.charts import cell_of
from nba_ml.shots.model import ShotChartModel, validate_shot_config
from nba_ml.shots.training import train_shot_model
from nba_ml.shots.player.chart_posterior import likelihood_power, log_likelihoods, player_posterior
from nba_ml.shots.player.records import BAD_MADE_FLAG, NO_PLAYER_ID, OFF_COURT
from nba_ml.shots.synthetic import synthetic_league

GRID = 8


class OneHabitShareGenerator(nn.Module):
    """z -> weights (w, 1 - w) over two maps with w = sigmoid(2 z_0): a prior whose posterior is a 1-D integral."""

    latent_dim = 2

    def forward(self, z, condition=None):
        share = torch.sigmoid(2 * z[:, :1])
        return 2 * torch.cat([share, 1 - share], dim=1).sqrt() - 1  # the density encoding of a basis model

    def sample(self, n, seed=None, condition=None):
        return self(torch.randn(n, self.latent_dim, generator=torch.Generator().manual_seed(seed)), condition)


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
    assert list(shots.columns) == ["PLAYER_ID", "CHART_ID", "DRAW", "LOC_X", "LOC_Y", "SHOT_ZONE_BASIC", "SHOT_DISTANCE",
                                   "SHOT_VALUE", "POSITION_GROUP"]  # no MAKE_PROB, MADE: this model has no make model
    assert len(shots) == 2 * 3 * 20 and shots.groupby("PLAYER_ID")["CHART_ID"].nunique().tolist() == [3, 3]
    assert shots.attrs["dropped"] == {NO_PLAYER_ID: 1, OFF_COURT: 2, BAD_MADE_FLAG: 0}
    assert shots.attrs["posterior"]["SHOTS"].tolist() == [7, 8]
    assert set(shots.loc[shots["PLAYER_ID"] == 11, "POSITION_GROUP"]) == {"F"}
    pd.testing.assert_frame_equal(shots, model.sample_player_shots(observed, 3, 20, seed=5))


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
    with pytest.raises(ValueError, match="invalid posterior option: tau: Input should be less than or equal to 1"):
        player_posterior(model, shots_of(1, 1, 1), 2, tau=1.5)


def test_a_cell_model_says_why_it_has_no_posterior():
    league = synthetic_league(40, 100, seed=0)
    model, _, _ = train_shot_model({"charts": {"grid": 16, "min_shots": 50, "channels": "attempts"}, "basis": 0,
                                    "gan": {"model": {"kind": "mlp", "num_classes": 3, "output": "density",
                                                      "hidden_dim": 16, "depth": 1, "latent_dim": 8},
                                            "train": {"steps": 2, "batch_size": 16, "log_every": 2}}}, league)
    with pytest.raises(ValueError, match="posterior sampling needs a model on a chart basis"):
        model.sample_player_shots(league, 2, 10)


def test_calibrated_prior_has_the_training_charts_mean_weights_in_the_posterior_at_no_shots():
    from nba_ml.shots.training import prior_scale

    model = left_right_model()  # prior mean share of the left habit: 0.5
    weights = torch.tensor([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8]])  # two G charts (mean 0.8) and one F chart (0.2)
    model.prior_scale = prior_scale(model, weights, torch.tensor([0, 0, 1]))
    assert model.prior_scale[2].tolist() == [1.0, 1.0]  # no C chart: left as it was
    z = np.linspace(-8, 8, 200_001)  # the calibrated mean share, by quadrature over the prior
    w = 1 / (1 + np.exp(-2 * z))
    for label, wanted in ((0, 0.8), (1, 0.2)):
        s = model.prior_scale[label].double().numpy()
        calibrated = s[0] * w / (s[0] * w + s[1] * (1 - w))
        assert (calibrated * np.exp(-z**2 / 2)).sum() / np.exp(-z**2 / 2).sum() == pytest.approx(wanted, abs=0.005)
    rookie = pd.DataFrame({"PLAYER_ID": [1], "POSITION_GROUP": ["G"]})
    posterior = player_posterior(model, shots_of(1, 0, 0).iloc[:0], 4000, players=rookie, seed=0)
    assert posterior.weights[0, :, 0].mean().item() == pytest.approx(0.8, abs=0.01)
    charts, _ = model.generate_charts(4000, position="F", seed=0)
    left = charts[:, 0].add(1).div(2).square()[:, :, : GRID // 2].sum(dim=(1, 2))
    assert left.mean().item() == pytest.approx(0.2, abs=0.01)


def test_a_trained_calibrated_model_keeps_its_factors_when_saved(tmp_path):
    league = synthetic_league(40, 100, seed=0)
    cfg = {"charts": {"grid": 16, "min_shots": 50, "channels": "attempts"}, "basis": 4, "calibrate_prior": True,
           "gan": {"model": {"kind": "mlp", "num_classes": 3, "output": "density", "hidden_dim": 16, "depth": 1,
                             "latent_dim": 8}, "train": {"steps": 2, "batch_size": 16, "log_every": 2}}}
    model, _, _ = train_shot_model(cfg, league)
    assert model.prior_scale.shape == (3, 4) and not torch.equal(model.prior_scale, torch.ones(3, 4))
    model.save(tmp_path / "m")
    loaded = ShotChartModel.load(tmp_path / "m")
    assert torch.equal(loaded.prior_scale, model.prior_scale)
    assert torch.equal(loaded.generate_charts(5, seed=1)[0], model.generate_charts(5, seed=1)[0])
    uncalibrated, _, _ = train_shot_model({**cfg, "calibrate_prior": False}, league)
    assert uncalibrated.prior_scale is None


def test_calibrate_prior_needs_a_basis():
    from nba_ml.gan.config import ConfigError

    with pytest.raises(ConfigError, match="calibrate_prior: .* needs basis: K > 0"):
        validate_shot_config({"basis": 0, "calibrate_prior": True, "charts": {"grid": 8, "channels": "attempts"}})


def test_a_record_moves_the_charts_towards_his_own_shots_as_much_as_its_effective_shots_are_worth():
    model = left_right_model()
    shots = pd.DataFrame({"PLAYER_ID": 3, "POSITION_GROUP": "G", "LOC_X": -200.0, "LOC_Y": np.full(40, 300.0)})
    posterior = player_posterior(model, shots, 2000, tau=1.0, saturation=float("inf"), concentration=10.0, seed=0)
    share = posterior.record_share[0]
    assert share.mean().item() == pytest.approx(40 / (40 + 10), abs=0.01)  # v ~ Beta(power x n, kappa)
    assert share.std().item() == pytest.approx((0.8 * 0.2 / 51) ** 0.5, rel=0.1)
    densities = posterior.densities(model.basis.maps, 0)
    (row,), (column,) = cell_of(np.array([-200.0]), np.array([300.0]), GRID)  # where all his shots are
    gan_only = (posterior.weights[0] @ model.basis.maps.flatten(1)).reshape(-1, GRID, GRID)
    assert densities[:, row, column].mean() > 5 * gan_only[:, row, column].mean()
    assert torch.allclose(densities.sum(dim=(1, 2)), torch.ones(2000, dtype=densities.dtype))
    drawn = model.sample_player_shots(shots, 50, 50, seed=0, tau=1.0, saturation=float("inf"), concentration=10.0)
    assert (drawn["LOC_X"] < -125).mean() > 0.7  # mostly where he shoots


def test_no_record_or_an_infinite_concentration_leaves_the_gans_charts():
    model = left_right_model()
    rookie = pd.DataFrame({"PLAYER_ID": [1], "POSITION_GROUP": ["G"]})
    posterior = player_posterior(model, shots_of(2, 30, 0), 50, players=rookie, concentration=float("inf"), seed=0)
    assert not posterior.record_share.any()
    posterior = player_posterior(model, shots_of(2, 30, 0), 50, players=rookie, seed=0)
    rookie_row = posterior.player_ids.index(1)
    assert posterior.record_share[rookie_row].eq(0).all() and posterior.record_share[1 - rookie_row].gt(0).all()
    with pytest.raises(ValueError, match="invalid posterior option: concentration: Input should be greater than 0"):
        player_posterior(model, shots_of(2, 3, 0), 5, concentration=0.0)
