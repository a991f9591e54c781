"""The shot-chart model: train on a tiny synthetic league, save, load, draw shots, evaluate."""
import pandas as pd
import pytest
import torch

from nba_ml.gan import ConfigError
from nba_ml.shots.model import ShotChartModel, load_shot_config, validate_shot_config
from nba_ml.shots.quality import evaluate_shot_model
from nba_ml.shots.training import train_shot_model
from nba_ml.shots.synthetic import synthetic_league

TINY = {"charts": {"grid": 16, "min_shots": 50, "channels": "attempts"}, "shots_per_chart": 50,
        "gan": {"model": {"kind": "mlp", "num_classes": 3, "output": "density", "hidden_dim": 16, "depth": 1, "latent_dim": 8},
                "train": {"steps": 3, "batch_size": 16, "log_every": 3}}}


@pytest.fixture(scope="module", params=[16, 0], ids=["basis16", "cells"])
def trained(request):
    shots = synthetic_league(40, 100, seed=0)
    model, result, charts = train_shot_model({**TINY, "basis": request.param}, shots)
    return model, result, charts


def test_training_resolves_the_sample_shape(trained):
    model, result, charts = trained
    # a basis model generates K mixture weights; a cell model the flattened 16 x 16 chart
    assert result.config.model.data_shape == ((model.config.basis,) if model.config.basis else (16 * 16,))
    assert (model.basis is None) == (model.config.basis == 0)
    assert charts.position_groups == ("G", "F", "C")
    assert sum(model.label_freqs) == pytest.approx(1.0)


def test_generated_charts_are_densities_on_the_grid(trained):
    model, _, _ = trained
    charts, labels = model.generate_charts(5, position="F", seed=0)
    assert charts.shape == (5, 1, 16, 16)
    assert labels.tolist() == [1] * 5
    assert torch.allclose((((charts + 1) / 2) ** 2).sum(dim=(1, 2, 3)), torch.ones(5), atol=1e-5)


def test_sample_shots_table(trained):
    model, _, _ = trained
    shots = model.sample_shots(4, 25, position="C", seed=3)
    assert list(shots.columns[:4]) == ["CHART_ID", "LOC_X", "LOC_Y", "SHOT_ZONE_BASIC"]
    assert len(shots) == 100 and shots["CHART_ID"].nunique() == 4
    assert set(shots["POSITION_GROUP"]) == {"C"}
    assert shots["LOC_X"].between(-250, 250).all() and shots["LOC_Y"].between(-52.5, 417.5).all()
    pd.testing.assert_frame_equal(shots, model.sample_shots(4, 25, position="C", seed=3))


def test_unknown_position_is_rejected(trained):
    with pytest.raises(ValueError, match="position must be one of G, F, C; got 'PG'"):
        trained[0].sample_shots(2, 5, position="PG")


def test_save_and_load_give_the_same_shots(trained, tmp_path):
    model = trained[0]
    model.save(tmp_path / "m")
    loaded = ShotChartModel.load(tmp_path / "m")
    pd.testing.assert_frame_equal(model.sample_shots(3, 10, seed=1), loaded.sample_shots(3, 10, seed=1))
    assert loaded.position_groups == ("G", "F", "C")


def test_load_refuses_missing_or_mismatched_files(trained, tmp_path):
    with pytest.raises(FileNotFoundError, match="no saved model"):
        ShotChartModel.load(tmp_path / "nothing")
    trained[0].save(tmp_path / "m")
    text = (tmp_path / "m" / "model.yaml").read_text().replace("hidden_dim: 16", "hidden_dim: 32")
    (tmp_path / "m" / "model.yaml").write_text(text)
    with pytest.raises(ValueError, match="does not hold the generator"):
        ShotChartModel.load(tmp_path / "m")


def test_evaluate_reports_overall_and_per_position(trained):
    metrics = evaluate_shot_model(trained[0], synthetic_league(40, 100, seed=1))
    for key in ("shots/zone_mae_pp", "shots/frechet", "shots/precision", "shots/recall", "shots/G/frechet", "shots/C/recall"):
        assert key in metrics
    assert metrics["shots/n_generated_charts"] == metrics["shots/n_real_charts"]


def test_bad_config_names_the_field():
    with pytest.raises(ConfigError, match=r"charts.grid"):
        validate_shot_config({"charts": {"grid": 20}})


def test_shipped_config_is_valid():
    from pathlib import Path

    shipped = Path(__file__).resolve().parents[2] / "nba_ml" / "configs" / "shot_charts.yaml"
    cfg = load_shot_config(shipped)
    assert (cfg.gan.model.num_classes, cfg.gan.model.output, cfg.gan.loss.gp_weight) == (3, "density", 10.0)


@pytest.mark.parametrize("change,match", [
    (lambda meta: meta.update(label_freqs=[0.5, 0.5]), r"invalid model file: label_freqs: Value error, has 2 values for 3 position groups \[\'G\', \'F\', \'C\'\] \(got \[0.5, 0.5\]\)$"),
    (lambda meta: meta.update(label_freqs=[0.0, 0.0, 0.0]), "invalid model file: label_freqs: Value error, must be non-negative and sum to 1"),
    (lambda meta: meta.update(label_freqs=[1.5, -0.25, -0.25]), "invalid model file: label_freqs: Value error, must be non-negative and sum to 1"),
    (lambda meta: meta.update(label_freqs=[float("nan"), 0.5, 0.5]), "invalid model file: label_freqs: Value error, must be non-negative and sum to 1"),
    (lambda meta: meta.pop("charts"), "charts: Field required"),
    (lambda meta: meta.update(position_groups=["G", "G", "C"]), r"position_groups: Value error, must be distinct \(got \[\'G\', \'G\', \'C\'\]\)$"),
    (lambda meta: meta["charts"].update(grid=12), "charts.grid"),
])
def test_a_damaged_model_yaml_is_refused_naming_the_file_and_field(trained, tmp_path, change, match):
    import yaml

    from nba_ml.errors import ModelFileError

    model, _, _ = trained
    model.save(tmp_path / "m")
    path = tmp_path / "m" / "model.yaml"
    meta = yaml.safe_load(path.read_text())
    change(meta)
    path.write_text(yaml.safe_dump(meta))
    with pytest.raises(ModelFileError, match=f"model.yaml.*{match}"):
        ShotChartModel.load(tmp_path / "m")


def test_a_make_model_is_saved_and_loaded_with_the_chart_model(tmp_path):
    from nba_ml.errors import ModelFileError

    model, _, _ = train_shot_model({**TINY, "charts": {**TINY["charts"], "channels": "attempts+makes"}, "basis": 4},
                                   synthetic_league(30, 100, seed=0))
    model.save(tmp_path / "m")
    loaded = ShotChartModel.load(tmp_path / "m")
    assert torch.equal(loaded.makes.surface, model.makes.surface) and loaded.makes.seasons == ("synthetic",)
    assert torch.equal(loaded.makes.skill_cov, model.makes.skill_cov)
    (tmp_path / "m" / "makes.pt").write_bytes(b"not a tensor file")
    with pytest.raises(ModelFileError, match="makes.pt"):
        ShotChartModel.load(tmp_path / "m")
