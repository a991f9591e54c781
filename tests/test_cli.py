"""`nba-ml train` and `nba-ml sample` end to end on tiny configs, as a user would run them."""
from pathlib import Path

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
    assert "1 row kept that a shot file would drop (beyond_half_court=1)" in printed
    assert "profiles: 2 players, 4 shots of their record used (not used: {'shots/missing_player_id': 0, " \
           "'shots/off_grid_or_non_finite': 1," in printed


def test_observed_and_position_exclude_each_other(tmp_path, capsys):
    out = tmp_path / "shots"
    cli.main(["train", "--config", write(tmp_path, "s.yaml", {**SHOTS, "basis": 4}), "--out", str(out), "--quiet"])
    observed = tmp_path / "observed.csv"
    pd.DataFrame({"PLAYER_ID": [7], "LOC_X": [0.0], "LOC_Y": [5.0]}).to_csv(observed, index=False)
    err = one_line_error(capsys, ["sample", "--checkpoint", str(out), "--observed", str(observed), "--position", "G",
                                  "--charts", "2", "--shots-per-chart", "5", "--out", str(tmp_path / "x.csv")])
    assert err == ("nba-ml sample: --position does not apply to given players (--observed): it is for a shot-chart "
                   "model's generated charts\n")


def test_sample_checks_each_mode_s_options_and_the_model_s_position_groups(tmp_path, capsys):
    out = tmp_path / "shots"
    cli.main(["train", "--config", write(tmp_path, "s.yaml", SHOTS), "--out", str(out), "--quiet"])
    sample = ["sample", "--checkpoint", str(out), "--charts", "3", "--out", str(tmp_path / "x.csv")]
    assert one_line_error(capsys, sample) == \
        "nba-ml sample: --shots-per-chart is required for a shot-chart model's generated charts\n"
    err = one_line_error(capsys, [*sample, "--shots-per-chart", "2", "--plot", str(tmp_path / "p.png"), "--season", "2022-23"])
    assert err == ("nba-ml sample: --plot does not apply to a shot-chart model's generated charts: it is for given players "
                   "(--observed); --season does not apply to a shot-chart model's generated charts: it is for given "
                   "players (--observed)\n")
    err = one_line_error(capsys, [*sample, "--shots-per-chart", "2", "--position", "PG"])
    assert err == "nba-ml sample: --position PG: this model's position groups are G, F, C\n"
    assert not (tmp_path / "x.csv").exists()


def test_a_point_model_takes_none_of_the_shot_chart_options(saved_points_model, tmp_path, capsys):
    err = one_line_error(capsys, ["sample", "--checkpoint", str(saved_points_model), "--charts", "3", "--position", "G",
                                  "--observed", "shots.csv", "--out", str(tmp_path / "x.csv")])
    assert err == ("nba-ml sample: --position does not apply to a point model: it is for a shot-chart model's generated "
                   "charts; --observed does not apply to a point model: it is for shot-chart models\n")


def test_profile_and_the_profiles_share_one_default_number_of_charts():
    from nba_ml.shots.player.profiles import DEFAULT_CHARTS

    args = cli.build_parser().parse_args(["profile", "--checkpoint", "m", "--observed", "o.csv", "--out", "p"])
    assert args.charts == DEFAULT_CHARTS


def one_line_error(capsys, argv: list[str]) -> str:
    """Run the CLI, check it failed with exit 2 and exactly one line on stderr (no traceback), return the line."""
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_malformed_set_is_one_line(capsys):
    assert "--set takes KEY.PATH=VALUE" in one_line_error(capsys, ["train", "--config", "c.yaml", "--out", "o", "--set", "novalue"])


def test_set_value_that_is_not_yaml_is_one_line(tmp_path, capsys):
    err = one_line_error(capsys, ["train", "--config", write(tmp_path, "p.yaml", POINTS), "--out", str(tmp_path / "r"),
                                  "--set", "train.steps=[1"])
    assert err.startswith("nba-ml train: --set train.steps=[1: the value is not valid YAML (line 1, column 3")


def test_shot_file_without_usable_coordinates_blames_the_data(tmp_path, capsys):
    data = tmp_path / "text.csv"
    data.write_text("LOC_X,LOC_Y,POSITION_GROUP\nleft,deep,G\nright,far,F\n")
    err = one_line_error(capsys, ["train", "--config", write(tmp_path, "s.yaml", SHOTS), "--data", str(data),
                                  "--out", str(tmp_path / "r")])
    assert "no usable rows: all 2 rows were dropped (missing_or_non_numeric_coordinates=2)" in err
    assert "basis" not in err


@pytest.fixture(scope="module")
def saved_points_model(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("points_model")
    out = tmp_path / "run"
    assert cli.main(["train", "--config", write(tmp_path, "p.yaml", {**POINTS, "train": {"steps": 1, "batch_size": 8}}),
                     "--out", str(out), "--quiet"]) == 0
    return out / "model"


class _Payload:
    def __reduce__(self):  # unpickling would call print: weights_only loading must refuse it, not run it
        return (print, ("unpickled and ran",))


@pytest.mark.parametrize("damage, message", [
    (lambda model: (model / "generator.pt").write_bytes(b"not a checkpoint"), r"generator.pt is not a readable checkpoint"),
    (lambda model: (model / "generator.pt").write_bytes((model / "generator.pt").read_bytes()[:100]),
     r"generator.pt is not a readable checkpoint \(RuntimeError: PytorchStreamReader failed reading zip archive"),
    (lambda model: __import__("torch").save({"weight": _Payload()}, model / "generator.pt"),
     r"generator.pt holds objects other than tensors .* refusing to unpickle them \(Unsupported global: GLOBAL print"),
    (lambda model: (model / "model.yaml").write_text("format: 1\ngan: [unclosed\n"),
     r"model.yaml is not valid YAML \(line 3, column 1: expected ',' or '\]'"),
])
def test_damaged_model_is_one_line(saved_points_model, tmp_path, capsys, damage, message):
    import re
    import shutil

    model = tmp_path / "model"
    shutil.copytree(saved_points_model, model)
    damage(model)
    err = one_line_error(capsys, ["sample", "--checkpoint", str(model), "--charts", "3", "--out", str(tmp_path / "s.csv")])
    assert re.search(message, err), err
    assert "unpickled and ran" not in capsys.readouterr().out
    assert not (tmp_path / "s.csv").exists()


KILL_CFG = {**POINTS, "train": {"steps": 60, "batch_size": 16, "log_every": 5}, "log": {"checkpoint_every": 5}}
# Run in the child: the CLI, with torch.save blocking (after writing) on the temporary file of
# checkpoint argv[1], so that the parent can kill the process in the middle of a checkpoint write.
BLOCKING_SAVE = """
import pathlib, sys, time, torch
from nba_ml import cli
real_save, step, marker = torch.save, sys.argv[1], pathlib.Path(sys.argv[2])
def save(obj, f, *args, **kwargs):
    real_save(obj, f, *args, **kwargs)
    path = str(getattr(f, "name", f))  # the package saves through an open file
    if f"step_{int(step):08d}.pt" in path and path.endswith(".tmp"):
        getattr(f, "flush", lambda: None)()
        marker.touch()
        time.sleep(600)
torch.save = save
sys.exit(cli.main(sys.argv[3:]))
"""


@pytest.fixture(scope="module")
def uninterrupted_weights(tmp_path_factory):
    import torch

    tmp_path = tmp_path_factory.mktemp("whole")
    assert cli.main(["train", "--config", write(tmp_path, "p.yaml", KILL_CFG), "--out", str(tmp_path / "whole"), "--quiet"]) == 0
    return torch.load(tmp_path / "whole" / "model" / "generator.pt", weights_only=True)


def kill_when(process, ready, deadline_s=120.0):
    import signal
    import time

    deadline = time.monotonic() + deadline_s
    while not ready() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()


def resume_and_compare(config, killed, uninterrupted_weights):
    import torch

    assert cli.main(["train", "--config", config, "--out", str(killed), "--quiet", "--resume"]) == 0
    resumed = torch.load(killed / "model" / "generator.pt", weights_only=True)
    assert resumed.keys() == uninterrupted_weights.keys()
    assert all(torch.equal(resumed[k], uninterrupted_weights[k]) for k in resumed)


@pytest.mark.parametrize("seed", [0, 1])
def test_killed_at_a_random_moment_resumes_to_the_same_weights(tmp_path, uninterrupted_weights, seed):
    """SIGKILL a training process a random time after it starts training, resume, compare with an uninterrupted run."""
    import os
    import random
    import subprocess
    import sys
    import time

    config, killed = write(tmp_path, "p.yaml", KILL_CFG), tmp_path / "killed"
    process = subprocess.Popen([sys.executable, "-m", "nba_ml", "train", "--config", config, "--quiet", "--out", str(killed)],
                               env={**os.environ, "PYTHONPATH": str(Path(cli.__file__).parents[1])})
    delay = random.Random(seed).uniform(0.0, 1.0)  # after the first logged row: anywhere in the run, or past its end
    started = []
    kill_when(process, lambda: (killed / "metrics.jsonl").exists() and (started or started.append(time.monotonic()))
              and time.monotonic() - started[0] > delay)
    resume_and_compare(config, killed, uninterrupted_weights)


def test_killed_during_a_checkpoint_write_resumes_to_the_same_weights(tmp_path, uninterrupted_weights):
    import os
    import subprocess
    import sys

    config, killed, marker = write(tmp_path, "p.yaml", KILL_CFG), tmp_path / "killed", tmp_path / "writing"
    process = subprocess.Popen([sys.executable, "-c", BLOCKING_SAVE, "10", str(marker),
                                "train", "--config", config, "--quiet", "--out", str(killed)],
                               env={**os.environ, "PYTHONPATH": str(Path(cli.__file__).parents[1])})
    kill_when(process, marker.exists)
    names = sorted(p.name for p in (killed / "checkpoints").iterdir())
    assert names[0] == ".step_00000010.pt" or names[0].startswith(".step_00000010.pt.")  # the half-done write
    assert "step_00000010.pt" not in names and "step_00000005.pt" in names  # never visible under its name
    resume_and_compare(config, killed, uninterrupted_weights)


def test_a_run_that_keeps_diverging_ends_in_one_line_and_exit_1(tmp_path, capsys, monkeypatch):
    from dataclasses import replace

    from nba_ml.gan import losses

    objective = losses.OBJECTIVES["wgan-gp"]
    monkeypatch.setitem(losses.OBJECTIVES, "wgan-gp",
                        replace(objective, critic_loss=lambda r, f: objective.critic_loss(r, f) * float("nan")))
    assert cli.main(["train", "--config", write(tmp_path, "p.yaml", POINTS), "--out", str(tmp_path / "r"), "--quiet",
                     "--set", "guard.divergence_retries=1"]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("nba-ml train: training diverged at step 1: loss/critic=nan")
    assert "after 1 retries: 1) " in err


def test_a_time_budget_stops_with_a_line_saying_how_to_continue(tmp_path, capsys):
    config, out = write(tmp_path, "p.yaml", POINTS), str(tmp_path / "r")
    assert cli.main(["train", "--config", config, "--out", out, "--quiet", "--set", "train.steps=1000000",
                     "--set", "guard.max_seconds=0.5"]) == 0
    assert "stopped at the time budget (guard.max_seconds=0.5) after step" in capsys.readouterr().out
    assert list((tmp_path / "r" / "checkpoints").glob("step_*.pt")) and (tmp_path / "r" / "model" / "generator.pt").is_file()


# --- outputs checked first -------------------------------------------------------------------------

@pytest.mark.parametrize("argv, message", [
    (["sample", "--checkpoint", "nowhere", "--charts", "3", "--out", "drawn.txt"],
     "nba-ml sample: --out drawn.txt: unknown table format '.txt'; expected a name ending in .csv, .csv.gz or .parquet "
     "(any case) or - for standard output"),
    (["sample", "--checkpoint", "nowhere", "--charts", "3", "--out", "drawn"],
     "nba-ml sample: --out drawn: no format suffix; expected a name ending in .csv, .csv.gz or .parquet (any case) or - for standard output"),
    (["sample", "--checkpoint", "nowhere", "--charts", "3", "--out", "d.csv", "--plot", "p.jpg"],
     "nba-ml sample: --plot p.jpg: unknown picture format '.jpg'; expected a name ending in .png, .svg or .pdf (any case)"),
    (["train", "--config", "nowhere.yaml", "--out", "notes.txt"], "nba-ml train: --out notes.txt is a file, not a directory"),
])
def test_outputs_are_checked_before_any_work(tmp_path, capsys, monkeypatch, argv, message):
    """The model, config and data named do not exist: the output's line comes first, so nothing was read."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "d.csv").write_text("mine")
    assert one_line_error(capsys, argv) == message + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "notes.txt"] and (tmp_path / "notes.txt").read_text() == "mine"


def test_a_directory_as_out_is_refused_and_kept(saved_points_model, tmp_path, capsys):
    (tmp_path / "drawn.csv").mkdir()
    err = one_line_error(capsys, ["sample", "--checkpoint", str(saved_points_model), "--charts", "3", "--out", str(tmp_path / "drawn.csv")])
    assert err.endswith("drawn.csv is a directory; expected a name ending in .csv, .csv.gz or .parquet (any case) or - for standard output\n")
    assert (tmp_path / "drawn.csv").is_dir()


@pytest.mark.parametrize("name, magic", [("drawn.CSV.GZ", b"\x1f\x8b"), ("drawn.PARQUET", b"PAR1"), ("drawn.Csv", b'"X","Y"')])
def test_sample_writes_the_format_of_the_out_name(saved_points_model, tmp_path, name, magic):
    assert cli.main(["sample", "--checkpoint", str(saved_points_model), "--charts", "5", "--seed", "0", "--out", str(tmp_path / name)]) == 0
    assert (tmp_path / name).read_bytes().startswith(magic)


def test_sample_to_standard_output_says_the_rest_on_stderr(saved_points_model):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "nba_ml", "sample", "--checkpoint", str(saved_points_model), "--charts", "4",
                           "--seed", "0", "--out", "-"], capture_output=True, text=True, cwd=Path(cli.__file__).parents[1], timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == '"X","Y"' and len(done.stdout.splitlines()) == 5
    assert done.stderr == "wrote 4 rows to standard output\n"


def test_a_model_of_an_unknown_kind_is_one_line(saved_points_model, tmp_path, capsys):
    import shutil

    model = shutil.copytree(saved_points_model, tmp_path / "model")
    document = yaml.safe_load((model / "model.yaml").read_text())
    (model / "model.yaml").write_text(yaml.safe_dump({**document, "kind": "heatmaps"}))
    err = one_line_error(capsys, ["sample", "--checkpoint", str(model), "--charts", "3", "--out", str(tmp_path / "s.csv")])
    assert err.endswith("model.yaml has kind 'heatmaps'; nba-ml sample draws from points and shot_charts models\n")


def test_observed_players_to_parquet_ignore_the_frames_attrs(tmp_path):
    out = tmp_path / "shots"
    assert cli.main(["train", "--config", write(tmp_path, "s.yaml", {**SHOTS, "basis": 4}), "--out", str(out), "--quiet"]) == 0
    observed = tmp_path / "observed.csv"
    pd.DataFrame({"PLAYER_ID": [7, 7, 9], "LOC_X": [0.0, 10.0, 150.0], "LOC_Y": [5.0, 0.0, 200.0]}).to_csv(observed, index=False)
    assert cli.main(["sample", "--checkpoint", str(out), "--observed", str(observed), "--charts", "2",
                     "--shots-per-chart", "5", "--seed", "1", "--out", str(tmp_path / "drawn.parquet")]) == 0
    assert len(pd.read_parquet(tmp_path / "drawn.parquet")) == 2 * 2 * 5


# --- resume, checked before any work -------------------------------------------------------------------

def test_resume_on_another_data_file_is_refused_in_one_line(tmp_path, capsys):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    pd.DataFrame({"a": [0.0, 1.0] * 16, "b": [1.0, 0.0] * 16}).to_csv(first, index=False)
    pd.DataFrame({"a": [0.0, 1.5] * 16, "b": [1.0, 0.0] * 16}).to_csv(second, index=False)
    config, out = write(tmp_path, "p.yaml", POINTS), tmp_path / "run"
    assert cli.main(["train", "--config", config, "--data", str(first), "--out", str(out), "--quiet"]) == 0
    config_yaml = (out / "config.yaml").read_bytes()
    err = one_line_error(capsys, ["train", "--config", config, "--data", str(second), "--out", str(out), "--quiet", "--resume",
                                  "--set", "train.steps=8"])
    assert "what it trains on differs from its identity.yaml in data.sha256 (" in err
    assert (out / "config.yaml").read_bytes() == config_yaml


def test_a_refused_resume_reads_no_data(tmp_path, capsys):
    config, out = write(tmp_path, "p.yaml", POINTS), tmp_path / "run"
    assert cli.main(["train", "--config", config, "--out", str(out), "--quiet"]) == 0
    err = one_line_error(capsys, ["train", "--config", config, "--data", str(tmp_path / "not_there.csv"), "--out", str(out),
                                  "--resume", "--set", "loss.n_critic=3"])
    assert err.endswith("the config differs from its config.yaml in loss.n_critic (5 -> 3); only train.steps, log.* and guard.* may change\n")


def test_a_shot_run_resumed_with_other_settings_is_refused_before_the_data_is_read(tmp_path, capsys):
    config, out = write(tmp_path, "s.yaml", {**SHOTS, "basis": 4}), tmp_path / "run"
    assert cli.main(["train", "--config", config, "--out", str(out), "--quiet"]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    err = one_line_error(capsys, ["train", "--config", config, "--data", str(tmp_path / "not_there.csv"), "--out", str(out),
                                  "--resume", "--set", "basis=8", "--set", "charts.grid=32"])
    assert err == (f"nba-ml train: cannot resume {out}: what it trains on differs from its identity.yaml in basis (4 -> 8), "
                   "charts.grid (16 -> 32); only train.steps, log.* and guard.* may change\n")
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_a_corrupt_config_yaml_in_the_run_is_one_line(tmp_path, capsys):
    config, out = write(tmp_path, "p.yaml", POINTS), tmp_path / "run"
    assert cli.main(["train", "--config", config, "--out", str(out), "--quiet"]) == 0
    (out / "config.yaml").write_text("model: {hidden_dim: sixteen}\n")
    err = one_line_error(capsys, ["train", "--config", config, "--out", str(out), "--resume"])
    assert err == f"nba-ml train: {out / 'config.yaml'}: invalid config: model.hidden_dim: Input should be a valid integer, " \
                  "unable to parse string as an integer (got 'sixteen')\n"


# --- interrupts: real processes, real signals -------------------------------------------------------------

# Run in the child: the CLI, with every checkpoint write taking a little longer, so that a run of KILL_CFG
# lasts long enough to be interrupted in the middle.
SLOW_SAVES = """
import sys, time, torch
from nba_ml import cli
real_save = torch.save
def save(obj, path, *args, **kwargs):
    real_save(obj, path, *args, **kwargs)
    time.sleep(0.15)
torch.save = save
sys.exit(cli.main(sys.argv[1:]))
"""


def start(script_args: list[str], **kwargs):
    import os
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, *script_args], stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path(cli.__file__).parents[1])}, **kwargs)


def wait_for(ready, process, deadline_s=120.0):
    import time

    deadline = time.monotonic() + deadline_s
    while not ready() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "the process ended before it could be interrupted"


def hidden_leftovers(folder: Path) -> list[str]:
    """Temporary files and folders (hidden, .tmp / .staging / .old) anywhere under `folder`."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*") if not p.name.endswith(".lock"))


@pytest.mark.parametrize("signame, status", [("SIGINT", 130), ("SIGTERM", 143)])
def test_an_interrupted_run_says_where_it_stopped_and_resumes_to_the_same_weights(tmp_path, uninterrupted_weights, signame, status):
    import re
    import signal

    config, run = write(tmp_path, "p.yaml", KILL_CFG), tmp_path / "run"
    process = start(["-c", SLOW_SAVES, "train", "--config", config, "--quiet", "--out", str(run)])
    wait_for(lambda: (run / "metrics.jsonl").exists(), process)
    process.send_signal(getattr(signal, signame))
    _, err = process.communicate(timeout=120)
    assert process.returncode == status, err
    line = re.fullmatch(rf"nba-ml train: interrupted by {signame} at step (\d+) of 60, with a checkpoint; resume with: "
                        rf"nba-ml train --config {re.escape(config)} --quiet --out {re.escape(str(run))} --resume\n", err)
    assert line, err
    assert f"step_{int(line.group(1)):08d}.pt" in [p.name for p in (run / "checkpoints").iterdir()]
    assert hidden_leftovers(run) == []
    resume_and_compare(config, run, uninterrupted_weights)


def test_a_second_signal_during_a_checkpoint_write_stops_at_once_and_leaves_no_temporary_file(tmp_path, uninterrupted_weights):
    import signal
    import time

    config, run, marker = write(tmp_path, "p.yaml", KILL_CFG), tmp_path / "run", tmp_path / "writing"
    process = start(["-c", BLOCKING_SAVE, "10", str(marker), "train", "--config", config, "--quiet", "--out", str(run)])
    wait_for(marker.exists, process)
    process.send_signal(signal.SIGTERM)  # noted: the run would stop at the end of the step, after the write
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)  # the write blocks: the second one stops it at once
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143
    assert err.startswith("nba-ml train: interrupted by SIGTERM at step 9 of 60; its newest checkpoint is of step 5; resume with: ")
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step_00000005.pt"]  # the half-written one removed
    assert hidden_leftovers(run) == []
    resume_and_compare(config, run, uninterrupted_weights)


# Run in the child: the CLI, with the CSV writer blocking after its first bytes, so that the parent can
# interrupt `nba-ml sample` while it writes.
BLOCKING_WRITE = """
import pathlib, sys, time
from nba_ml import cli, io
marker = pathlib.Path(sys.argv[1])
def write(chunks, stream, out):
    stream.write(b"X,Y\\n0.1,0.2\\n")
    marker.touch()
    time.sleep(600)
io.TABLE_WRITERS["csv"] = write
sys.exit(cli.main(sys.argv[2:]))
"""


def test_sample_interrupted_while_writing_leaves_the_old_file_and_no_temporary_one(saved_points_model, tmp_path):
    import signal

    target, marker = tmp_path / "drawn.csv", tmp_path / "writing"
    target.write_text("the old draw\n")
    process = start(["-c", BLOCKING_WRITE, str(marker), "sample", "--checkpoint", str(saved_points_model), "--charts", "100",
                     "--out", str(target)])
    wait_for(marker.exists, process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143
    assert err == f"nba-ml sample: interrupted by SIGTERM; nothing was written ({target} is as it was)\n"
    assert target.read_text() == "the old draw\n" and hidden_leftovers(tmp_path) == []


# Run in the child: `nba-ml phase5` with STATUS.md and the index kept in the test's folder; with a marker
# argument, the marker is touched as the first comparison starts training.
PHASE5 = """
import pathlib, sys
from nba_ml import cli
from nba_ml.phase5 import experiment, plugin, runner
status, marker = pathlib.Path(sys.argv[1]), sys.argv[2]
plugin.Phase5Plugin.status_path = property(lambda self: status / self.recommendation.rec_id / "STATUS.md")
runner.update_index = lambda results, index_path=None: (status / "index.md").write_text("updated")
train_once = experiment.train_once
def marked(*args, **kwargs):
    pathlib.Path(marker).touch()
    return train_once(*args, **kwargs)
if marker != "-":
    experiment.train_once = marked
sys.exit(cli.main(sys.argv[3:]))
"""


def test_phase5_interrupted_publishes_nothing_and_leaves_no_staging_folder(tmp_path):
    import signal

    marker, artifacts = tmp_path / "training", tmp_path / "artifacts"
    process = start(["-c", PHASE5, str(tmp_path), str(marker), "phase5", "--mode", "test", "--only", "rec_115", "--quiet",
                     "--jobs", "1", "--artifacts", str(artifacts)])
    wait_for(marker.exists, process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert err == ("nba-ml phase5: interrupted by SIGINT; the recommendation in progress was dropped: nothing of it "
                   "published, its STATUS.md and PHASE_5_INDEX.md as they were, no staging folder left\n")
    assert not (tmp_path / "rec_115" / "STATUS.md").exists() and not (tmp_path / "index.md").exists()
    assert hidden_leftovers(tmp_path) == [] and not (artifacts / "rec_115" / "metrics.json").exists()


def test_phase5_interrupted_while_workers_train_stops_them(tmp_path):
    import signal
    import time

    artifacts = tmp_path / "artifacts"
    process = start(["-c", PHASE5, str(tmp_path), "-", "phase5", "--mode", "test", "--only", "rec_115",
                     "--jobs", "2", "--artifacts", str(artifacts)])
    seen = []
    while process.poll() is None:
        line = process.stderr.readline()
        seen.append(line)
        if "training 2 runs, 2 at a time" in line:
            break
    assert process.poll() is None, "".join(seen)
    workers = children(process.pid)
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    rest = process.stderr.read()
    process.wait(timeout=60)
    assert process.returncode == 143, rest
    assert rest.splitlines()[-1].startswith("nba-ml phase5: interrupted by SIGTERM; the recommendation in progress was dropped"), rest
    assert "Traceback" not in rest
    assert time.monotonic() - started < 30
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers)
    assert hidden_leftovers(tmp_path) == []


def children(pid: int) -> list[int]:
    """The process's child processes (Linux /proc), at least its worker processes' ids."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    if not path.exists():
        pytest.skip("no /proc children list on this system")
    return [int(child) for child in path.read_text().split()]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError, ProcessLookupError):
        return False
    return state not in ("Z", "X")
