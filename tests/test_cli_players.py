"""`nba-ml profile`, `nba-ml makes` and `nba-ml sample --observed` end to end, as a simulator's engineer runs them."""
import json
import os
from pathlib import Path

import pandas as pd
import pytest
import yaml

from nba_ml import cli
from nba_ml.shots.synthetic import synthetic_league

SHOTS = {"charts": {"grid": 16, "min_shots": 50}, "shots_per_chart": 50, "basis": 4,
         "gan": {"model": {"kind": "mlp", "num_classes": 3, "output": "density", "hidden_dim": 16, "depth": 1, "latent_dim": 8},
                 "train": {"steps": 2, "batch_size": 16, "log_every": 1}}}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny shot model with a make model, trained by `nba-ml train` on the built-in league."""
    folder = tmp_path_factory.mktemp("cli_players")
    config = folder / "s.yaml"
    config.write_text(yaml.safe_dump(SHOTS))
    assert cli.main(["train", "--config", str(config), "--out", str(folder / "run"), "--quiet"]) == 0
    return folder / "run"


@pytest.fixture()
def record(tmp_path):
    shots = synthetic_league(4, 60, seed=5)
    shots["PLAYER_ID"] = shots["PLAYER_ID"].map(lambda i: f"P{i}")  # text ids, as some feeds spell them
    path = tmp_path / "record.csv"
    shots.to_csv(path, index=False)
    return path


def test_profile_saves_the_profiles_their_table_and_player_cards(run, record, tmp_path, capsys):
    out = tmp_path / "profiles"
    assert cli.main(["profile", "--checkpoint", str(run), "--observed", str(record), "--out", str(out),
                     "--plot", str(tmp_path / "cards.png"), "--charts", "10", "--seed", "0"]) == 0
    meta = json.loads((out / "profiles.json").read_text())
    assert meta["player_ids"] == ["P1", "P2", "P3", "P4"]  # strings stay strings, every player is there
    table = pd.read_csv(out / "table.csv")
    assert {"SHARE", "FG_LO", "FG_HI", "PPS", "LEAGUE_FG"} <= set(table.columns) and len(table) == 4 * 7
    assert (tmp_path / "cards.png").stat().st_size > 10_000
    assert "profiles: 4 players, 240 shots of their record used" in capsys.readouterr().out


def test_a_player_whose_every_row_a_shot_file_would_drop_still_gets_a_profile_and_answers(run, tmp_path, capsys):
    record = tmp_path / "record.csv"  # P1: a usable shot; P2: a heave from the backcourt; P3: no coordinates, a flag of 7
    record.write_text("PLAYER_ID,POSITION_GROUP,LOC_X,LOC_Y,SHOT_MADE_FLAG\nP1,G,0,10,1\nP2,F,0,900,0\nP3,C,x,,7\n")
    out = tmp_path / "profiles"
    assert cli.main(["profile", "--checkpoint", str(run), "--observed", str(record), "--out", str(out), "--seed", "0"]) == 0
    assert json.loads((out / "profiles.json").read_text())["player_ids"] == ["P1", "P2", "P3"]
    printed = capsys.readouterr().out
    assert "2 rows kept that a shot file would drop (missing_or_non_numeric_coordinates=1, beyond_half_court=1)" in printed
    assert "profiles: 3 players, 1 shot of their record used (not used: {'shots/missing_player_id': 0, " \
           "'shots/off_grid_or_non_finite': 2, 'makes/invalid_made_flag': 0})" in printed
    assert "player 'P2': his one shot row is not on the half court with coordinates: his position's prior" in printed
    queries = tmp_path / "queries.csv"
    queries.write_text("QUERY_ID,PLAYER_ID,LOC_X,LOC_Y\n0,P1,0,10\n1,P2,0,10\n2,P3,0,10\n3,P3,nan,10\n")
    pred = tmp_path / "pred.csv"
    assert cli.main(["makes", "--checkpoint", str(run), "--observed", str(record), "--queries", str(queries),
                     "--out", str(pred)]) == 0
    assert pd.read_csv(pred)["QUERY_ID"].tolist() == [0, 1, 2]  # the query without a location is counted, not answered
    assert "queries not used: {'queries/off_court': 1}" in capsys.readouterr().out


def test_makes_answers_queries_from_a_record_an_empty_one_or_none(run, record, tmp_path):
    queries = pd.read_csv(record).groupby("PLAYER_ID").head(15)[["PLAYER_ID", "LOC_X", "LOC_Y"]]
    queries = pd.concat([queries, pd.DataFrame({"PLAYER_ID": ["newcomer"], "LOC_X": [0.0], "LOC_Y": [10.0]})])
    queries.insert(0, "QUERY_ID", range(100, 100 + len(queries)))
    queries.to_csv(tmp_path / "q.csv", index=False)
    empty = tmp_path / "none.csv"
    pd.read_csv(record).iloc[:0].to_csv(empty, index=False)
    for observed in ([str(record)], [str(empty)], []):
        args = ["makes", "--checkpoint", str(run), "--queries", str(tmp_path / "q.csv"), "--out", str(tmp_path / "p.csv"),
                "--zones-out", str(tmp_path / "z.csv"), "--seed", "0"]
        assert cli.main(args + (["--observed", *observed] if observed else [])) == 0
        pred, zones = pd.read_csv(tmp_path / "p.csv"), pd.read_csv(tmp_path / "z.csv")
        assert pred.columns.tolist() == ["QUERY_ID", "PLAYER_ID", "MAKE_PROB"] and len(pred) == len(queries)
        assert pred["QUERY_ID"].tolist() == queries["QUERY_ID"].tolist() and pred["MAKE_PROB"].between(0.05, 0.95).all()
        assert zones.columns.tolist() == ["PLAYER_ID", "SHOT_ZONE_BASIC", "ATTEMPTS", "MAKE_PROB", "FG_LO", "FG_HI", "NOTE"]
        assert (zones["FG_LO"] <= zones["FG_HI"]).all() and "newcomer" in set(zones["PLAYER_ID"])


def test_makes_without_a_seed_draws_the_intervals_of_seed_0(run, record, tmp_path):
    pd.read_csv(record).head(40)[["PLAYER_ID", "LOC_X", "LOC_Y"]].to_csv(tmp_path / "q.csv", index=False)
    for name, seed in (("unseeded", []), ("seed0", ["--seed", "0"])):
        assert cli.main(["makes", "--checkpoint", str(run), "--observed", str(record), "--queries", str(tmp_path / "q.csv"),
                         "--out", str(tmp_path / f"{name}_p.csv"), "--zones-out", str(tmp_path / f"{name}.csv"), *seed]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "unseeded.csv"), pd.read_csv(tmp_path / "seed0.csv"))


def test_makes_says_what_it_needs(run, record, tmp_path, capsys):
    queries = tmp_path / "q.csv"
    pd.DataFrame({"PLAYER_ID": ["P1"], "LOC_X": [0.0], "LOC_Y": [10.0]}).to_csv(queries, index=False)
    no_outcomes = tmp_path / "no_outcomes.csv"
    pd.read_csv(record).drop(columns="SHOT_MADE_FLAG").to_csv(no_outcomes, index=False)
    assert cli.main(["makes", "--checkpoint", str(run), "--observed", str(no_outcomes), "--queries", str(queries),
                     "--out", str(tmp_path / "p.csv")]) == 2
    assert "needs each shot's outcome, a SHOT_MADE_FLAG column of 0/1" in capsys.readouterr().err
    assert cli.main(["makes", "--checkpoint", str(run), "--queries", str(queries), "--out", str(tmp_path / "p.txt")]) == 2
    assert "--out " in (err := capsys.readouterr().err) and "unknown table format '.txt'" in err


def test_a_model_trained_without_makes_says_why_and_how_to_retrain(record, tmp_path, capsys):
    config = tmp_path / "a.yaml"
    config.write_text(yaml.safe_dump({**SHOTS, "charts": {**SHOTS["charts"], "channels": "attempts"}}))
    assert cli.main(["train", "--config", str(config), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    queries = tmp_path / "q.csv"
    pd.DataFrame({"PLAYER_ID": ["P1"], "LOC_X": [0.0], "LOC_Y": [10.0]}).to_csv(queries, index=False)
    assert cli.main(["makes", "--checkpoint", str(tmp_path / "run"), "--queries", str(queries),
                     "--out", str(tmp_path / "p.csv")]) == 2
    assert "has no make model: it was trained without makes" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_sample_observed_gains_shot_value_and_made_and_writes_parquet(run, record, tmp_path, suffix):
    out = tmp_path / f"shots{suffix}"
    assert cli.main(["sample", "--checkpoint", str(run), "--observed", str(record), "--charts", "3",
                     "--shots-per-chart", "5", "--seed", "2", "--out", str(out)]) == 0
    shots = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
    assert {"SHOT_VALUE", "MAKE_PROB", "MADE", "CHART_ID", "POSITION_GROUP"} <= set(shots.columns)
    assert len(shots) == 4 * 3 * 5 and set(shots["PLAYER_ID"]) == {"P1", "P2", "P3", "P4"}
    assert set(shots["SHOT_VALUE"]) <= {2, 3} and set(shots["MADE"]) <= {0, 1}


def test_makes_to_standard_output_writes_the_table_alone_there(run, record, tmp_path):
    """--out -: stdout holds the predictions and nothing else; the load reports and the summary go to stderr."""
    import subprocess
    import sys
    from io import StringIO

    queries = pd.read_csv(record).head(7)[["PLAYER_ID", "LOC_X", "LOC_Y"]]
    queries.to_csv(tmp_path / "q.csv", index=False)
    common = ["makes", "--checkpoint", str(run), "--observed", str(record), "--queries", str(tmp_path / "q.csv")]
    done = subprocess.run([sys.executable, "-m", "nba_ml", *common, "--out", "-"], capture_output=True, text=True,
                          cwd=Path(cli.__file__).parents[1], timeout=300)
    assert done.returncode == 0, done.stderr
    assert cli.main([*common, "--out", str(tmp_path / "p.csv")]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(StringIO(done.stdout)), pd.read_csv(tmp_path / "p.csv"))
    assert "LoadReport for" in done.stderr and "wrote 7 make probabilities to standard output; " in done.stderr


# --- hostile but ordinary: no folder emptied, no output over an input, no id lost ---------------------------

def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes() for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("where, message", [
    ("d", "--out d holds 2 entries that are not profiles files ('notes.txt', 'sub'): it would be "
          "replaced whole, and only an empty directory or one holding profiles files alone is; give a new or empty directory"),
    ("link", "--out link holds 2 entries that are not profiles files"),
    (".", "--out . is the working directory: it would be replaced whole; give a new or empty directory"),
    ("$PWD", "--out $PWD is the working directory: it would be replaced whole"),
    ("../w", "--out ../w is the working directory"),
    ("..", "--out .. holds the working directory ("),
    ("", "--out is empty; expected a directory for the profiles"),
    ("mine.csv", "cannot write --out mine.csv: it is a file, not a directory; refusing to replace it with one"),
])
def test_profile_refuses_a_folder_it_would_empty_before_any_work(run, tmp_path, monkeypatch, capsys, where, message):
    work = tmp_path / "w"
    (work / "d" / "sub").mkdir(parents=True)
    (work / "d" / "notes.txt").write_text("keep me")
    (work / "d" / "profiles.json").write_text("{}")  # looks like profiles, holds more: still refused
    (work / "link").symlink_to(work / "d")
    synthetic_league(3, 20, seed=1).to_csv(work / "mine.csv", index=False)
    monkeypatch.chdir(work)
    before = snapshot(tmp_path)
    out = where.replace("$PWD", str(work))
    assert cli.main(["profile", "--checkpoint", str(run), "--observed", "mine.csv", "--out", out]) == 2
    printed = capsys.readouterr()
    assert printed.err.startswith(f"nba-ml profile: {message.replace('$PWD', str(work))}") and printed.err.count("\n") == 1
    assert printed.out == ""  # refused before the model or the record is read
    assert snapshot(tmp_path) == before


def test_profiles_python_save_refuses_the_same_folders(run, tmp_path):
    from nba_ml.errors import OutputError
    from nba_ml.shots.model import ShotChartModel

    profiles = ShotChartModel.load(run).player_profiles(synthetic_league(2, 20, seed=1), seed=0, charts=3)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match="d holds 1 entry that is not profiles files"):
        profiles.save(tmp_path / "d")
    assert snapshot(tmp_path / "d") == {"notes.txt": b"keep me"}
    profiles.save(tmp_path / "p")
    profiles.save(tmp_path / "p")  # its own earlier output: replaced
    assert sorted(snapshot(tmp_path / "p")) == ["profiles.json", "profiles.pt", "table.csv"]


def test_an_output_that_is_an_input_or_another_output_is_refused_before_any_work(run, record, tmp_path, capsys):
    queries = tmp_path / "q.csv"
    queries.write_text("PLAYER_ID,LOC_X,LOC_Y\nP1,0,10\n")
    (tmp_path / "link.csv").symlink_to(record)
    os.link(queries, tmp_path / "hard.csv")
    before = snapshot(tmp_path)
    cases = {
        ("makes", "--queries", str(queries), "--out", str(tmp_path / "same.csv"), "--zones-out", str(tmp_path / "same.csv")):
            f"--out {tmp_path}/same.csv and --zones-out {tmp_path}/same.csv are the same file: each output needs its own",
        ("makes", "--queries", str(queries), "--out", str(queries)):
            f"--out {queries} is the --queries file {queries}: refusing to write over an input; name another output",
        ("makes", "--queries", str(queries), "--out", str(tmp_path / "hard.csv")): "is the --queries file",
        ("makes", "--queries", str(queries), "--observed", str(record), "--out", str(tmp_path / "p.csv"),
         "--zones-out", str(tmp_path / "link.csv")): f"--zones-out {tmp_path}/link.csv is the --observed file {record}",
        ("sample", "--observed", str(record), "--charts", "2", "--shots-per-chart", "2", "--out", str(record)):
            f"--out {record} is the --observed file {record}: refusing to write over an input",
        ("sample", "--observed", str(record), "--charts", "2", "--shots-per-chart", "2", "--out", str(tmp_path / "link.csv")):
            "is the --observed file",
        ("profile", "--observed", str(record), "--out", str(tmp_path / "p"), "--plot", str(tmp_path / "p" / "c.png")):
            f"--out {tmp_path}/p holds --plot {tmp_path}/p/c.png, and is replaced whole: name another directory",
        ("profile", "--observed", str(record), "--out", str(record.parent)): "holds ",
    }
    for (command, *rest), message in cases.items():
        assert cli.main([command, "--checkpoint", str(run), *rest]) == 2, (command, rest)
        printed = capsys.readouterr()
        assert message in printed.err and printed.err.count("\n") == 1 and "LoadReport" not in printed.out + printed.err
    assert snapshot(tmp_path) == before


def test_a_full_disk_is_one_line_before_the_posterior_runs(run, record, tmp_path, monkeypatch, capsys):
    import shutil

    from nba_ml.shots import model

    monkeypatch.setattr(shutil, "disk_usage", lambda folder: shutil._ntuple_diskusage(10 ** 9, 10 ** 9, 1000))
    monkeypatch.setattr(model, "player_posterior", lambda *a, **k: pytest.fail("the posterior ran"))
    assert cli.main(["profile", "--checkpoint", str(run), "--observed", str(record), "--out", str(tmp_path / "p"),
                     "--charts", "100"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"nba-ml profile: cannot write --out {tmp_path}/p: it needs at least 3.8 MB") and \
        err.endswith(f" MB and {tmp_path} has 0.001 MB free\n")
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("spelled", ["203078.5", str(2 ** 70), str(2 ** 63 + 5)])
def test_an_id_that_is_no_64_bit_integer_is_kept_as_written_in_every_output(run, tmp_path, spelled, capsys):
    shots = synthetic_league(2, 20, seed=3)
    shots["PLAYER_ID"] = shots["PLAYER_ID"].map({1: spelled, 2: "203954"})
    shots.to_csv(tmp_path / "r.csv", index=False)
    assert cli.main(["profile", "--checkpoint", str(run), "--observed", str(tmp_path / "r.csv"), "--out",
                     str(tmp_path / "p"), "--charts", "3", "--seed", "0"]) == 0
    assert json.loads((tmp_path / "p" / "profiles.json").read_text())["player_ids"] == [spelled, "203954"]
    assert set(pd.read_csv(tmp_path / "p" / "table.csv", dtype=str)["PLAYER_ID"]) == {spelled, "203954"}
    assert "'shots/missing_player_id': 0" in capsys.readouterr().out
    assert cli.main(["sample", "--checkpoint", str(run), "--observed", str(tmp_path / "r.csv"), "--charts", "2",
                     "--shots-per-chart", "2", "--out", str(tmp_path / "s.csv")]) == 0
    assert set(pd.read_csv(tmp_path / "s.csv", dtype=str)["PLAYER_ID"]) == {spelled, "203954"}
    (tmp_path / "q.csv").write_text(f"PLAYER_ID,LOC_X,LOC_Y\n{spelled},0,10\n")
    assert cli.main(["makes", "--checkpoint", str(run), "--observed", str(tmp_path / "r.csv"), "--queries",
                     str(tmp_path / "q.csv"), "--out", str(tmp_path / "m.csv")]) == 0
    assert pd.read_csv(tmp_path / "m.csv", dtype=str)["PLAYER_ID"].tolist() == [spelled]
    assert "1 player asked for, 1 of them with a record" in capsys.readouterr().out


def test_a_column_named_twice_is_refused_in_one_line(run, tmp_path, capsys):
    (tmp_path / "r.csv").write_text("PLAYER_ID,LOC_X,LOC_Y,LOC_X,SHOT_MADE_FLAG\n1,0,10,1610612737,1\n")
    assert cli.main(["profile", "--checkpoint", str(run), "--observed", str(tmp_path / "r.csv"),
                     "--out", str(tmp_path / "p")]) == 2
    assert capsys.readouterr().err == (f"nba-ml profile: {tmp_path}/r.csv: a column appears more than once (case and "
                                       "spaces ignored): LOC_X 2 times (as 'LOC_X', 'LOC_X'); expected each column once\n")
    from nba_ml.errors import InputError
    from nba_ml.shots.model import ShotChartModel

    frame = pd.DataFrame([[1, 0.0, 10.0, 1610612737.0]], columns=["PLAYER_ID", "LOC_X", "LOC_Y", "LOC_X"])
    with pytest.raises(InputError, match=r"^observed has column\(s\) named more than once: \['LOC_X'\]; expected each "
                                         r"column once$"):
        ShotChartModel.load(run).player_profiles(frame)


def test_queries_past_the_court_are_counted_and_every_player_named_is_in_the_zones(run, record, tmp_path, capsys):
    (tmp_path / "q.csv").write_text("QUERY_ID,PLAYER_ID,LOC_X,LOC_Y\n0,P1,0,10\n1,P1,0,880\n2,P2,0,1000000\n"
                                    "3,P3,0,-100\n4,P4,300,10\n5,P4,0,10\n")
    assert cli.main(["makes", "--checkpoint", str(run), "--observed", str(record), "--queries", str(tmp_path / "q.csv"),
                     "--out", str(tmp_path / "p.csv"), "--zones-out", str(tmp_path / "z.csv")]) == 0
    assert pd.read_csv(tmp_path / "p.csv")["QUERY_ID"].tolist() == [0, 5]
    zones = pd.read_csv(tmp_path / "z.csv", keep_default_na=False)
    assert zones["PLAYER_ID"].tolist() == ["P1", "P2", "P3", "P4"]
    assert zones.loc[1:2, "SHOT_ZONE_BASIC"].tolist() == ["", ""] and zones.loc[1:2, "ATTEMPTS"].tolist() == [0, 0]
    assert zones.loc[1, "NOTE"] == "his one query is not on the half court with coordinates: no zones"
    summary = capsys.readouterr().out
    assert "4 players asked for, 4 of them with a record (240 shots with an outcome), 2 of them with no query on the " \
           "half court (not answered)" in summary and "queries not used: {'queries/off_court': 4}" in summary


def test_a_record_piped_to_standard_input_is_read(run, record, tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "nba_ml", "profile", "--checkpoint", str(run), "--observed", "/dev/stdin",
                           "--out", str(tmp_path / "p"), "--charts", "3"], input=record.read_bytes(), capture_output=True,
                          cwd=Path(cli.__file__).parents[1], timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "p" / "profiles.json").read_text())["player_ids"] == ["P1", "P2", "P3", "P4"]
