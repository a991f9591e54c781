"""`nba-ml train` and `nba-ml sample` end to end on tiny configs, as a user would run them."""
import pandas as pd
import pytest
import yaml

from nba_ml import cli

POINTS = {"model": {"hidden_dim": 16, "depth": 1, "latent_dim": 2},
          "train": {"steps": 4, "batch_size": 16, "log_every": 2}, "log": {"checkpoint_every": 2}}
SHOTS = {"charts": {"grid": 16, "min_shots": 50, "channels": "attempts"}, "shots_per_chart": 50,
         "gan": {"model": {"kind": "mlp", "num_classes": 3, "output": "density", "hidden_dim": 16, "depth": 1, "latent_dim": 8},
                 "train": {"steps": 2, "batch_size": 16, "log_every": 1}}}


def write(tmp_path, name, cfg):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def test_train_and_sample_points(tmp_path, capsys):
    data = tmp_path / "pts.csv"
    pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0] * 8, "b": [1.0, 0.0, 1.0, 0.0] * 8}).to_csv(data, index=False)
    out = tmp_path / "run"
    assert cli.main(["train", "--config", write(tmp_path, "p.yaml", POINTS), "--data", str(data), "--out", str(out), "--quiet"]) == 0
    assert (out / "model" / "generator.pt").is_file() and (out / "metrics.jsonl").is_file()
    assert cli.main(["sample", "--checkpoint", str(out), "--charts", "7", "--seed", "0", "--out", str(tmp_path / "s.csv")]) == 0
    assert list(pd.read_csv(tmp_path / "s.csv").columns) == ["X", "Y"] and len(pd.read_csv(tmp_path / "s.csv")) == 7


def test_set_overrides_and_resume_continue_the_run(tmp_path):
    config, out = write(tmp_path, "p.yaml", POINTS), str(tmp_path / "run")
    assert cli.main(["train", "--config", config, "--out", out, "--quiet", "--set", "train.steps=2"]) == 0
    assert cli.main(["train", "--config", config, "--out", out, "--quiet", "--resume"]) == 0
    steps = [row["step"] for row in map(yaml.safe_load, (tmp_path / "run" / "metrics.jsonl").read_text().splitlines())]
    assert steps == [2.0, 4.0]


def test_bad_override_is_rejected_naming_the_field(tmp_path, capsys):
    code = cli.main(["train", "--config", write(tmp_path, "p.yaml", POINTS), "--out", str(tmp_path / "r"),
                     "--set", "train.batch_size=-3"])
    assert code == 2
    assert "train.batch_size" in capsys.readouterr().err


def test_train_and_sample_shot_charts_on_the_synthetic_league(tmp_path):
    out = tmp_path / "shots"
    assert cli.main(["train", "--config", write(tmp_path, "s.yaml", SHOTS), "--out", str(out), "--quiet"]) == 0
    assert (out / "plots" / "generated_charts.png").is_file()
    target = tmp_path / "drawn.csv"
    assert cli.main(["sample", "--checkpoint", str(out), "--charts", "3", "--shots-per-chart", "10",
                     "--position", "G", "--seed", "1", "--out", str(target)]) == 0
    drawn = pd.read_csv(target)
    assert len(drawn) == 30 and set(drawn["POSITION_GROUP"]) == {"G"}


def test_sample_for_the_players_of_an_observed_file_with_a_picture(tmp_path, capsys):
    out = tmp_path / "shots"
    assert cli.main(["train", "--config", write(tmp_path, "s.yaml", {**SHOTS, "basis": 4}), "--out", str(out), "--quiet"]) == 0
    observed = tmp_path / "observed.csv"
    pd.DataFrame({"PLAYER_ID": [7, 7, 7, 9, 9], "POSITION_GROUP": ["G", "G", "G", None, None],
                  "LOC_X": [0.0, 10.0, -230.0, 150.0, 0.0], "LOC_Y": [5.0, 0.0, 40.0, 200.0, 900.0]}).to_csv(observed, index=False)
    target, picture = tmp_path / "drawn.csv", tmp_path / "players.png"
    assert cli.main(["sample", "--checkpoint", str(out), "--observed", str(observed), "--charts", "4",
                     "--shots-per-chart", "10", "--seed", "1", "--plot", str(picture), "--out", str(target)]) == 0
    drawn = pd.read_csv(target)
    assert len(drawn) == 2 * 4 * 10 and drawn.groupby("PLAYER_ID")["CHART_ID"].nunique().to_dict() == {7: 4, 9: 4}
    assert set(drawn.loc[drawn["PLAYER_ID"] == 7, "POSITION_GROUP"]) == {"G"}
    assert picture.read_bytes()[:4] == b"\x89PNG"
    printed = capsys.readouterr().out
    assert "beyond_half_court=1" in printed and "posterior: 2 players, 4 observed shots used" in printed


def test_observed_and_position_exclude_each_other(tmp_path, capsys):
    out = tmp_path / "shots"
    cli.main(["train", "--config", write(tmp_path, "s.yaml", {**SHOTS, "basis": 4}), "--out", str(out), "--quiet"])
    observed = tmp_path / "observed.csv"
    pd.DataFrame({"PLAYER_ID": [7], "LOC_X": [0.0], "LOC_Y": [5.0]}).to_csv(observed, index=False)
    assert cli.main(["sample", "--checkpoint", str(out), "--observed", str(observed), "--position", "G", "--charts", "2",
                     "--shots-per-chart", "5", "--out", str(tmp_path / "x.csv")]) == 2
    assert "--position and --observed exclude each other" in capsys.readouterr().err


def test_sample_needs_shots_per_chart_for_charts(tmp_path, capsys):
    out = tmp_path / "shots"
    cli.main(["train", "--config", write(tmp_path, "s.yaml", SHOTS), "--out", str(out), "--quiet"])
    assert cli.main(["sample", "--checkpoint", str(out), "--charts", "3", "--out", str(tmp_path / "x.csv")]) == 2
    assert "--shots-per-chart is required" in capsys.readouterr().err


def test_malformed_set_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--config", "c.yaml", "--out", "o", "--set", "novalue"])
    assert "--set takes KEY.PATH=VALUE" in capsys.readouterr().err


def test_killed_run_resumes_to_the_same_weights(tmp_path):
    """SIGKILL a training process after its first checkpoint, resume it, compare with an uninterrupted run."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import torch

    cfg = {**POINTS, "train": {"steps": 60, "batch_size": 16, "log_every": 5}, "log": {"checkpoint_every": 5}}
    config = write(tmp_path, "p.yaml", cfg)
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    command = [sys.executable, "-m", "nba_ml", "train", "--config", config, "--quiet", "--out"]
    process = subprocess.Popen(command + [str(killed)], env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 120
    while not list((killed / "checkpoints").glob("step_*.pt")) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    checkpoints = sorted((killed / "checkpoints").glob("step_*.pt"))
    assert checkpoints and checkpoints[-1].name != "step_00000060.pt", "the run finished before it was killed"

    assert cli.main(["train", "--config", config, "--out", str(killed), "--quiet", "--resume"]) == 0
    assert cli.main(["train", "--config", config, "--out", str(whole), "--quiet"]) == 0
    resumed = torch.load(killed / "model" / "generator.pt", weights_only=True)
    uninterrupted = torch.load(whole / "model" / "generator.pt", weights_only=True)
    assert resumed.keys() == uninterrupted.keys()
    assert all(torch.equal(resumed[k], uninterrupted[k]) for k in resumed)
