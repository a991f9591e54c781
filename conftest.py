"""Every Python and shell block of README.md and docs/ runs in the test suite (Sybil).

Each document runs in a scratch folder laid out as a checkout beside ../shared: `nba_ml/` (its
configs) and `bench/` linked in, ../shared/data reachable as the documents write it, and the files
the examples name, made from the 2022-23 season: runs/shots (its model also saved in models/shots),
their_shots.csv, his_games.csv and queries.csv. A YAML block whose first line names a file
(`# my_run.yaml`) writes that file. runs/shots is `nba-ml train` of the shipped config on that
season, as the documents run it, at 10 steps instead of 3,000: the examples check that the
commands and calls work, not the model's quality (tests/shots/test_real_season_quality.py does).
The Python blocks of one document share a namespace, in order, as in a notebook (a block of `>>>`
lines is a doctest: its outputs are checked); a shell block runs in bash (-e, pipefail). A block
that cannot run here says why beside it: `<!-- skip: next "the reason" -->`. STATUS.md files are
written in the scratch folder, never over this checkout's.
"""
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from sybil import Sybil
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser

REPO = Path(__file__).resolve().parent
SHARED = REPO.parent / "shared"
SEASON = SHARED / "data" / "nba_shots_2022-23_regular_season.csv.gz"
TRAIN = ["nba-ml", "train", "--config", "nba_ml/configs/shot_charts.yaml", "--data",
         "../shared/data/nba_shots_2022-23_regular_season.csv.gz", "--out", "runs/shots", "--quiet",
         "--set", "gan.train.steps=10", "--set", "gan.train.log_every=10"]
PLAYERS = [203078, 1630162, 203954]  # Bradley Beal (G), Anthony Edwards (G), Joel Embiid (C)


def read_yaml(example) -> None:
    """A YAML block parses; one whose first line names a file (`# my_run.yaml`) is that file, for the blocks after it."""
    text = example.parsed
    yaml.safe_load(text)
    first = text.splitlines()[0] if text.strip() else ""
    if first.startswith("# ") and first.endswith((".yaml", ".yml")) and " " not in first[2:]:
        Path(first[2:]).write_text(text)


def run_shell(example) -> None:
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", example.parsed], capture_output=True, text=True,
                          timeout=600)
    if done.returncode != 0:
        raise AssertionError(f"exit status {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def lay_out(root: Path) -> Path:
    """A checkout-like folder `root/main` beside `root/shared` (a link to ../shared)."""
    work = root / "main"
    work.mkdir(parents=True)
    for name in ("nba_ml", "bench"):
        (work / name).symlink_to(REPO / name)
    (root / "shared").symlink_to(SHARED)
    return work


@pytest.fixture(scope="session")
def doc_files(tmp_path_factory) -> Path:
    """The files the documents name, made once: a 10-step model of the shipped config, records and queries."""
    from nba_ml.shots.model import ShotChartModel

    if not SEASON.is_file():
        pytest.skip(f"the documents' examples read {SEASON}, which is absent")
    work = lay_out(tmp_path_factory.mktemp("doc_files"))
    subprocess.run(TRAIN, cwd=work, check=True, capture_output=True, timeout=600)
    ShotChartModel.load(work / "runs" / "shots").save(work / "models" / "shots")
    season = pd.read_csv(SEASON)
    theirs = season[season["PLAYER_ID"].isin(PLAYERS)]
    theirs[["PLAYER_ID", "PLAYER_NAME", "POSITION_GROUP", "SEASON", "LOC_X", "LOC_Y", "SHOT_MADE_FLAG"]].to_csv(
        work / "their_shots.csv", index=False)
    his = theirs[theirs["PLAYER_ID"] == PLAYERS[0]]
    his = his[his["GAME_ID"].isin(his["GAME_ID"].unique()[:5])]  # five games of one player
    his[["PLAYER_ID", "PLAYER_NAME", "LOC_X", "LOC_Y", "SHOT_MADE_FLAG"]].to_csv(work / "his_games.csv", index=False)
    pd.DataFrame({"PLAYER_ID": [p for p in PLAYERS for _ in range(3)], "LOC_X": [0, -230, 100] * 3,
                  "LOC_Y": [10, 20, 150] * 3}).to_csv(work / "queries.csv", index=False)
    return work


@pytest.fixture(scope="module")
def doc_folder(doc_files, tmp_path_factory):
    """One document's scratch folder, its working directory while its blocks run."""
    from nba_ml.phase5 import plugin, runner

    work = lay_out(tmp_path_factory.mktemp("doc"))
    for entry in doc_files.iterdir():
        if not entry.is_symlink():
            (shutil.copytree if entry.is_dir() else shutil.copy)(entry, work / entry.name)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        patch.setattr(plugin, "REPO_ROOT", work)  # STATUS.md beside the artifacts, not in this checkout
        patch.setattr(runner, "INDEX_PATH", work / "PHASE_5_INDEX.md")
        yield work


pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser(), CodeBlockParser(language="bash", evaluator=run_shell),
             CodeBlockParser(language="yaml", evaluator=read_yaml), SkipParser()],
    patterns=["README.md", "docs/*.md", "docs/*/*/*.md", "docs/*/*/*/*.md"],
    excludes=["STATUS.md"],
    fixtures=["doc_folder"],
).pytest()
