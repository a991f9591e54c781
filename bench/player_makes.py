"""Points for a given player: the make model against the fixed make protocol, end to end.

    python bench/player_makes.py                      # the seasons setting and the three split folds
    python bench/player_makes.py --settings split:0   # one setting
    python bench/player_makes.py --work DIR --retrain # keep the work in DIR; train again even if DIR has a model

For each setting the protocol (../shared/bench/makes_protocol.py, run as a program, not copied) writes the
records, queries and training shots; the shipped config is trained on the training shots with
`nba-ml train`; `nba-ml makes` answers every record (n = 0, 50, 200 and, five seasons apart, 'hist'); the
protocol's `score` prints the table and PASS or FAIL. Each record's file gets a SEASON column (the season
its shots are from: the judged season, or 2017-18 for 'hist'), and `--season` is the judged season: the
simulator knows both, and the make model discounts a record by its age and widens a season it was not
trained on (nba_ml.shots.player.make_model).
"""
from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROTOCOL = REPO.parent / "shared" / "bench" / "makes_protocol.py"
CONFIG = REPO / "nba_ml" / "configs" / "shot_charts.yaml"
SETTINGS = ("seasons", "split:0", "split:1", "split:2")
JUDGED, OLDER = "2022-23", "2017-18"


def run(command: list[str], log: Path) -> tuple[float, str]:
    """Run a command from the project root; (seconds, its output). A failure stops the bench with its output."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    log.write_text(done.stdout + done.stderr)
    if done.returncode not in (0, 1):  # the protocol's score exits 1 for FAIL
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return seconds, done.stdout


def with_season(source: Path, target: Path, season: str) -> Path:
    """The record's file with a SEASON column (the season its shots are from)."""
    with open(source, newline="") as fin, open(target, "w", newline="") as fout:
        reader = csv.DictReader(fin)
        writer = csv.DictWriter(fout, [*reader.fieldnames, "SEASON"])
        writer.writeheader()
        for row in reader:
            writer.writerow({**row, "SEASON": season})
    return target


def bench_setting(setting: str, work: Path, retrain: bool) -> str:
    folder = work / setting.replace(":", "_")
    folder.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    if not (folder / "queries.csv").exists():
        run([python, str(PROTOCOL), "observed", setting, str(folder)], folder / "observed.log")
    model = folder / "run"
    if retrain or not (model / "model" / "model.yaml").exists():
        seconds, _ = run([python, "-m", "nba_ml", "train", "--config", str(CONFIG), "--data", str(folder / "train.csv.gz"),
                          "--out", str(model), "--quiet"], folder / "train.log")
        print(f"{setting}: trained in {seconds:.0f} s", flush=True)
    records = ["0", "50", "200"] + (["hist"] if setting == "seasons" else [])
    for n in records:
        season = OLDER if n == "hist" else JUDGED
        observed = with_season(folder / f"obs_n{n}.csv", folder / f"obs_n{n}_season.csv", season)
        seconds, _ = run([python, "-m", "nba_ml", "makes", "--checkpoint", str(model), "--observed", str(observed),
                          "--queries", str(folder / "queries.csv"), "--out", str(folder / f"pred_n{n}.csv"),
                          "--zones-out", str(folder / f"zones_n{n}.csv"), "--season", JUDGED, "--seed", "0"],
                         folder / f"makes_n{n}.log")
        print(f"{setting}: nba-ml makes, record n = {n}: {seconds:.1f} s", flush=True)
    _, score = run([python, str(PROTOCOL), "score", setting, str(folder)], folder / "score.log")
    return score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), help="seasons, split:0, split:1, split:2")
    parser.add_argument("--work", type=Path, default=REPO / "bench_out" / "player_makes", help="work folder")
    parser.add_argument("--retrain", action="store_true", help="train the models again even if the work folder has them")
    args = parser.parse_args()
    for setting in args.settings:
        print(bench_setting(setting, args.work, args.retrain), flush=True)


if __name__ == "__main__":
    main()
