"""Chart basis: NMF maps fitted to charts, mixture weights, and charts rebuilt from weights."""
import numpy as np
import pandas as pd
import pytest
import torch

from nba_ml.gan import ConfigError
from nba_ml.shots.basis import ChartBasis, fit_basis
from nba_ml.shots.charts import decode_density, encode_density
from nba_ml.shots.model import ShotChartModel, validate_shot_config
from nba_ml.shots.training import train_shot_model
from nba_ml.shots.synthetic import synthetic_league

GRID = 8


def two_habits() -> torch.Tensor:
    """Two disjoint densities over an 8 x 8 grid: the left half and the right half, uniform."""
    left = torch.zeros(GRID, GRID)
    left[:, : GRID // 2] = 1.0
    return torch.stack([left / left.sum(), left.flip(-1) / left.sum()])


def mixtures(weights: torch.Tensor) -> torch.Tensor:
    """Encoded charts (N, 1, 8, 8) that are exactly `weights` (N, 2) of the two habits."""
    return encode_density((weights @ two_habits().flatten(1)).reshape(-1, 1, GRID, GRID))


def test_fit_recovers_exact_mixtures():
    share = torch.linspace(0.0, 1.0, 12)  # the pure habits included, so the factorisation is unique
    weights = torch.stack([share, 1 - share], dim=1)
    charts = mixtures(weights)
    basis = fit_basis(charts, 2)
    assert basis.maps.shape == (2, GRID, GRID) and basis.size == 2 and basis.grid == GRID
    assert torch.allclose(basis.maps.sum(dim=(1, 2)), torch.ones(2), atol=1e-6)
    found = basis.weights(charts)
    assert torch.allclose(decode_density(basis.charts(found)), decode_density(charts), atol=1e-4)
    swapped = found[0].argmax() != weights[0].argmax()  # NMF may list the habits in either order
    assert torch.allclose(found.flip(1) if swapped else found, weights, atol=1e-3)


def test_on_a_fine_grid_the_habits_are_found_coarse_and_the_maps_refined_to_the_fine_detail():
    fine = 64  # above FIT_GRID (32): the factorisation runs on 2 x 2-pooled charts
    maps = torch.zeros(2, fine, fine)
    maps[0, :, :fine // 2] = 1.0
    maps[0, 10, 5] = 200.0  # a one-cell hot spot inside the left habit, finer than a pooled cell
    maps[1, :, fine // 2:] = 1.0
    maps = maps / maps.sum(dim=(1, 2), keepdim=True)
    share = torch.linspace(0.0, 1.0, 12)
    charts = encode_density((torch.stack([share, 1 - share], 1) @ maps.flatten(1)).reshape(-1, 1, fine, fine))
    basis = fit_basis(charts, 2)
    assert basis.grid == fine
    found = basis.maps if basis.maps[0, 10, 5] > basis.maps[1, 10, 5] else basis.maps.flip(0)
    assert torch.allclose(found, maps, atol=2e-4)  # the hot spot sits in its own cell, not spread over 2 x 2


def test_charts_are_densities_and_weights_rows_are_renormalised():
    basis = ChartBasis(two_habits())
    charts = basis.charts(torch.tensor([[2.0, 2.0], [0.0, 0.0], [-1.0, 3.0]]))
    assert charts.shape == (3, 1, GRID, GRID)
    density = decode_density(charts)
    assert torch.allclose(density.sum(dim=(1, 2)), torch.ones(3))
    assert torch.allclose(density[0], density[1])  # [2, 2] -> [0.5, 0.5]; all-zero -> uniform weights
    assert torch.allclose(density[2], two_habits()[1], atol=1e-7)  # a negative weight counts as 0


def test_fit_is_deterministic_whatever_the_global_rng():
    from nba_ml.shots.charts import ChartSpec, make_charts
    charts = make_charts(synthetic_league(40, 100, seed=0), ChartSpec(grid=16, min_shots=50, channels="attempts")).charts
    np.random.seed(1)
    first = fit_basis(charts, 6).maps
    np.random.seed(2)  # NNDSVD's randomized SVD drew from this before random_state was fixed
    assert torch.equal(first, fit_basis(charts, 6).maps)


def test_bad_sizes_and_maps_are_rejected():
    charts = mixtures(torch.full((4, 2), 0.5))
    with pytest.raises(ValueError, match=r"basis size must be between 1 and min\(charts, cells\) = 4, got 5"):
        fit_basis(charts, 5)
    with pytest.raises(ValueError, match=r"shape \(K, S, S\)"):
        ChartBasis(torch.ones(2, 3, 4))
    with pytest.raises(ValueError, match="non-negative"):
        ChartBasis(-two_habits())
    basis = ChartBasis(two_habits())
    with pytest.raises(ValueError, match="charts are 16 x 16; the basis is 8 x 8"):
        basis.weights(torch.zeros(1, 1, 16, 16))
    with pytest.raises(ValueError, match=r"weights must have shape \(N, 2\)"):
        basis.charts(torch.ones(3, 4))


def test_config_refuses_a_basis_for_a_conv_model_or_a_linear_output():
    with pytest.raises(ConfigError, match="basis: a basis model generates mixture weights"):
        validate_shot_config({"basis": 8, "gan": {"model": {"kind": "conv", "output": "density"}}})
    with pytest.raises(ConfigError, match=r"basis: .*\(got 'mlp', 'linear'\)"):
        validate_shot_config({"basis": 8, "gan": {"model": {"output": "linear"}}})
    assert validate_shot_config({"basis": 8, "gan": {"model": {"output": "density"}},
                                 "charts": {"channels": "attempts+makes"}}).basis == 8
    assert validate_shot_config({"basis": 0, "gan": {"model": {"kind": "conv", "output": "density"}},
                                 "charts": {"channels": "attempts+makes"}}).basis == 0


def test_more_maps_than_charts_is_a_config_error():
    cfg = {"charts": {"grid": 16, "min_shots": 50, "channels": "attempts"}, "basis": 64,
           "gan": {"model": {"num_classes": 3, "output": "density", "hidden_dim": 8, "depth": 1}, "train": {"steps": 1}}}
    with pytest.raises(ConfigError, match="basis: 64 maps, but there are only 20 training charts"):
        train_shot_model(cfg, synthetic_league(20, 100, seed=0))


def test_a_saved_model_without_its_basis_file_is_refused(tmp_path):
    cfg = {"charts": {"grid": 16, "min_shots": 50, "channels": "attempts"}, "basis": 4, "shots_per_chart": 20,
           "gan": {"model": {"num_classes": 3, "output": "density", "hidden_dim": 8, "depth": 1, "latent_dim": 4},
                   "train": {"steps": 2, "batch_size": 8, "log_every": 2}}}
    model, _, _ = train_shot_model(cfg, synthetic_league(20, 100, seed=0))
    model.save(tmp_path / "m")
    loaded = ShotChartModel.load(tmp_path / "m")
    assert torch.equal(loaded.basis.maps, model.basis.maps)
    (tmp_path / "m" / "basis.pt").unlink()
    with pytest.raises(ValueError, match=r"basis.pt: expected the chart basis of this model \(4 maps\)"):
        ShotChartModel.load(tmp_path / "m")


def test_a_resumed_basis_run_equals_an_uninterrupted_one(tmp_path, monkeypatch):
    """The basis is fitted again on resume; it must give the same maps, so the same training samples."""
    from nba_ml.gan import runs
    monkeypatch.setattr(runs, "write_plots", lambda history, plots_dir: [])
    cfg = {"charts": {"grid": 16, "min_shots": 50, "channels": "attempts"}, "basis": 4, "shots_per_chart": 20,
           "gan": {"model": {"num_classes": 3, "output": "density", "hidden_dim": 8, "depth": 1, "latent_dim": 4},
                   "train": {"steps": 4, "batch_size": 8, "log_every": 1}, "log": {"checkpoint_every": 2}}}
    shots = synthetic_league(20, 100, seed=0)
    whole, _, _ = train_shot_model(cfg, shots, run_dir=tmp_path / "whole")

    def crash(state, metrics):
        if state.step == 3:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        train_shot_model(cfg, shots, run_dir=tmp_path / "split", callbacks=(crash,))
    resumed, _, _ = train_shot_model(cfg, shots, run_dir=tmp_path / "split", resume=True)
    assert torch.equal(resumed.basis.maps, whole.basis.maps)
    ours, theirs = resumed.generator.state_dict(), whole.generator.state_dict()
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)


def left_makes_right_misses() -> pd.DataFrame:
    """20 players shooting from two spots, left of the hoop (always made) and right (always missed),
    in shares from 10% to 90% left."""
    rows = []
    for player in range(20):
        left = 20 + 3 * player  # of 80 shots
        for shot in range(80):
            x = -150.0 if shot < left else 150.0
            rows.append({"PLAYER_ID": player, "SEASON": "2022-23", "GAME_ID": f"g{shot % 10}",
                         "POSITION_GROUP": "GFC"[player % 3], "LOC_X": x, "LOC_Y": 100.0,
                         "SHOT_MADE_FLAG": int(x < 0)})
    return pd.DataFrame(rows)


def test_habit_make_rates_follow_the_habits():
    from nba_ml.shots.basis import with_make_rates
    from nba_ml.shots.charts import ChartSpec, cell_of, decode_make_prob, make_charts
    charts = make_charts(left_makes_right_misses(), ChartSpec(grid=8, min_shots=50, make_prior_shots=1.0))
    basis = fit_basis(charts.charts, 2)
    basis = with_make_rates(basis, charts, basis.weights(charts.charts))
    rebuilt = basis.charts(basis.weights(charts.charts))
    assert rebuilt.shape == (20, 2, 8, 8)
    density, rate = decode_density(rebuilt), decode_make_prob(rebuilt)
    rows, (left, right) = cell_of(np.array([-150.0, 150.0]), np.array([100.0, 100.0]), 8)
    row = rows[0]
    # every chart's left spot keeps a rate near 1 and its right spot near 0, whatever its mix
    # (about 1,000 attributed attempts per spot against 1 pseudo-attempt at the league rate)
    assert (rate[:, row, left] > 0.99).all() and (rate[:, row, right] < 0.01).all()
    assert torch.allclose(density[:, row, left] + density[:, row, right], torch.ones(20), atol=1e-4)


def test_make_maps_are_checked():
    with pytest.raises(ValueError, match="make_maps must have the shape of maps"):
        ChartBasis(two_habits(), torch.full((3, GRID, GRID), 0.5))
    with pytest.raises(ValueError, match=r"make_maps must be probabilities in \[0, 1\]"):
        ChartBasis(two_habits(), torch.full((2, GRID, GRID), 1.5))
    charts = mixtures(torch.full((4, 2), 0.5))
    from nba_ml.shots.basis import with_make_rates
    from nba_ml.shots.charts import ChartSpec, ShotCharts
    attempts_only = ShotCharts(ChartSpec(grid=GRID, channels="attempts"), charts, torch.zeros(4, dtype=torch.long),
                               ("G", "F", "C"), ["u"] * 4, ["s"] * 4, torch.full((4,), 10), {}, None)
    with pytest.raises(ValueError, match="charts have no makes channel"):
        with_make_rates(ChartBasis(two_habits()), attempts_only, torch.full((4, 2), 0.5))


def test_a_basis_model_on_makes_draws_make_probabilities(tmp_path):
    cfg = {"charts": {"grid": 16, "min_shots": 50, "channels": "attempts+makes"}, "basis": 4, "shots_per_chart": 20,
           "gan": {"model": {"num_classes": 3, "output": "density", "hidden_dim": 8, "depth": 1, "latent_dim": 4},
                   "train": {"steps": 2, "batch_size": 8, "log_every": 2}}}
    model, _, _ = train_shot_model(cfg, synthetic_league(20, 100, seed=0))
    shots = model.sample_shots(3, 50, seed=0)
    assert shots["MAKE_PROB"].between(0, 1).all() and shots["MAKE_PROB"].nunique() > 1
    model.save(tmp_path / "m")
    loaded = ShotChartModel.load(tmp_path / "m")
    assert torch.equal(loaded.basis.make_maps, model.basis.make_maps)
    pd.testing.assert_frame_equal(loaded.sample_shots(3, 50, seed=0), shots)
