"""Quality while a shot model trains: held-out players, the IS-style score, the Quality line of a run."""
import math

import pandas as pd
import pytest
import torch

from nba_ml.shots.training import train_shot_model
from nba_ml.shots.synthetic import synthetic_league
from nba_ml.shots.training import inception_score, split_players

TINY = {"charts": {"grid": 16, "min_shots": 50, "channels": "attempts"}, "shots_per_chart": 50, "basis": 4,
        "quality_holdout": 0.25,
        "gan": {"model": {"kind": "mlp", "num_classes": 3, "output": "density", "hidden_dim": 16, "depth": 1, "latent_dim": 8},
                "train": {"steps": 4, "batch_size": 16, "log_every": 2}, "log": {"quality_every": 1, "verbose": False}}}


def test_inception_score_is_k_for_sharp_distinct_mixtures_and_one_for_identical_ones():
    assert inception_score(torch.eye(4)) == pytest.approx(4.0)
    assert inception_score(torch.full((5, 4), 0.25)) == pytest.approx(1.0)
    two = torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]])  # KL of each row from the mean (1/4, 1/2, 1/4) = log 2 / 2
    assert inception_score(two) == pytest.approx(math.exp(math.log(2) / 2))


def test_split_players_holds_out_a_seeded_share_of_whole_players():
    shots = pd.DataFrame({"PLAYER_ID": [1, 1, 2, 3, 3, 4, 5, 6, 7, 8], "LOC_X": 0.0})
    training, held = split_players(shots, 0.25, seed=3)
    assert held["PLAYER_ID"].nunique() == 2 and len(training) + len(held) == len(shots)
    assert not set(training["PLAYER_ID"]) & set(held["PLAYER_ID"])
    pd.testing.assert_frame_equal(held, split_players(shots, 0.25, seed=3)[1])
    assert split_players(shots, 0.0, seed=3) == (shots, None)


def test_a_run_logs_quality_against_held_out_players_with_the_real_figures_beside(tmp_path):
    shots = synthetic_league(60, 100, seed=0)
    model, result, charts = train_shot_model(TINY, shots, run_dir=tmp_path / "run")
    _, held = split_players(shots, 0.25, seed=0)
    assert not {unit.split("/")[0] for unit in charts.units} & {str(p) for p in held["PLAYER_ID"].unique()}
    logged = [row for row in result.history if "quality/frechet" in row]
    assert [row["step"] for row in logged] == [2.0, 4.0]  # every logged step (quality_every 1)
    last = logged[-1]
    for name in ("frechet", "precision", "recall", "inception"):
        assert math.isfinite(last[f"quality/{name}"]) and math.isfinite(last[f"quality/{name}_real"])
    for key in ("quality/precision", "quality/recall", "quality/precision_real", "quality/recall_real"):
        assert 0.0 <= last[key] <= 1.0
    assert 1.0 <= last["quality/inception"] <= 4.0 and last["quality/pixvar_real"] > 0
    # the same keys reach the run's sinks (metrics.jsonl here)
    jsonl = pd.read_json(tmp_path / "run" / "metrics.jsonl", lines=True)
    assert jsonl["quality/frechet"].dropna().tolist() == pytest.approx([row["quality/frechet"] for row in logged])


def test_without_a_holdout_there_is_no_quality_line(tmp_path):
    _, result, _ = train_shot_model({**TINY, "quality_holdout": 0.0}, synthetic_league(40, 100, seed=0),
                                    run_dir=tmp_path / "run")
    assert not any("quality/frechet" in row for row in result.history)


def test_keep_best_keeps_the_generator_of_the_step_of_lowest_held_out_frechet(tmp_path):
    from nba_ml.gan.checkpoint import sampler_at

    cfg = {**TINY, "keep": "best", "gan": {**TINY["gan"], "train": {"steps": 8, "batch_size": 16, "log_every": 2},
                                           "log": {"quality_every": 1, "checkpoint_every": 2, "verbose": False}}}
    model, result, _ = train_shot_model(cfg, synthetic_league(60, 100, seed=0), run_dir=tmp_path / "run")
    judged = {int(row["step"]): row["quality/frechet"] for row in result.history if "quality/frechet" in row}
    best = min(judged, key=judged.get)
    assert sorted(judged) == [2, 4, 6, 8] and result.metrics["quality/kept_step"] == best
    assert result.metrics["quality/kept_frechet"] == judged[best]
    kept = sampler_at(tmp_path / "run", best, result.config)
    for mine, theirs in zip(model.generator.state_dict().values(), kept.state_dict().values()):
        assert torch.equal(mine, theirs)
    last = sampler_at(tmp_path / "run", 8, result.config)
    assert best == 8 or not all(torch.equal(a, b) for a, b in zip(model.generator.state_dict().values(),
                                                                  last.state_dict().values()))


@pytest.mark.parametrize("change, message", [
    ({"quality_holdout": 0.0}, "keep: 'best' picks the step by the held-out players' Quality line, so it needs quality_holdout > 0"),
    ({"gan": {**TINY["gan"], "log": {"quality_every": 1, "checkpoint_every": 3}}},
     "the Quality line comes every 2 steps (train.log_every x log.quality_every) and checkpoints every 3"),
])
def test_keep_best_without_a_quality_line_or_checkpoints_at_its_steps_is_refused_naming_the_field(change, message):
    from nba_ml.gan.config import ConfigError
    from nba_ml.shots.model import validate_shot_config

    with pytest.raises(ConfigError, match=r"keep: 'best'") as said:
        validate_shot_config({**TINY, "keep": "best", **change})
    assert message in str(said.value)
