"""`nba-ml profile`, `nba-ml makes` and `nba-ml sample --observed` end to end, as a simulator's engineer runs them."""
import json
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
        assert zones.columns.tolist() == ["PLAYER_ID", "SHOT_ZONE_BASIC", "ATTEMPTS", "MAKE_PROB", "FG_LO", "FG_HI"]
        assert (zones["FG_LO"] <= zones["FG_HI"]).all() and "newcomer" in set(zones["PLAYER_ID"])


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
