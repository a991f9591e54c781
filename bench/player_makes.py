"""Points for a given player: the make model against the fixed make protocol, end to end.

    python bench/player_makes.py                      # the seasons setting and the three split folds
    python bench/player_makes.py --settings split:0   # one setting
    python bench/player_makes.py --work DIR --retrain # keep the work in DIR; train again even if DIR has a model
    python bench/player_makes.py --settings dev:0 dev:1 dev:2   # 2017-18 split by players (below)

For each setting the protocol (../shared/bench/makes_protocol.py, run as a program, not copied) writes the
records, queries and training shots; the shipped config is trained on the training shots with
`nba-ml train`; `nba-ml makes` answers every record (n = 0, 50, 200 and, five seasons apart, 'hist'); the
protocol's `score` prints the table and PASS or FAIL. Each record's file gets a SEASON column (the season
its shots are from: the judged season, or 2017-18 for 'hist'), and `--season` is the judged season: the
simulator knows both, and the make model discounts a record by its age and widens a season it was not
trained on (nba_ml.shots.player.make_model).

The dev folds are the protocol's split setting on 2017-18 instead of 2022-23 (its `main` takes the seasons
as a mapping; the judged season is then 2017-18): players no baseline was tuned on, a check that a gain in
the protocol's folds is not their luck.
"""
from __future__ import annotations

import argparse
import csv
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROTOCOL = REPO.parent / "shared" / "bench" / "makes_protocol.py"
CONFIG = REPO / "nba_ml" / "configs" / "shot_charts.yaml"
SETTINGS = ("seasons", "split:0", "split:1", "split:2")
DEV = ("dev:0", "dev:1", "dev:2")
JUDGED, OLDER = "2022-23", "2017-18"


def protocol(setting: str) -> tuple[list[str], str, str]:
    """(the command that runs the protocol for `setting`, the protocol's name of the setting, the judged season)."""
    if setting not in SETTINGS + DEV:
        sys.exit(f"unknown setting {setting!r}: one of {', '.join(SETTINGS + DEV)}")
    if setting.startswith("dev:"):
        older = PROTOCOL.parent.parent / "data" / "nba_shots_2017-18_regular_season.csv.gz"
        call = (f"import sys; sys.path.insert(0, {str(PROTOCOL.parent)!r}); import makes_protocol as p; "
                f"p.main({{{OLDER!r}: {str(older)!r}, {JUDGED!r}: {str(older)!r}}})")
        return [sys.executable, "-c", call], setting.replace("dev:", "split:"), OLDER
    return [sys.executable, str(PROTOCOL)], setting, JUDGED


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
    command, name, judged = protocol(setting)
    if not (folder / "queries.csv").exists():
        run([*command, "observed", name, str(folder)], folder / "observed.log")
    model = folder / "run"
    if retrain and model.exists():  # the bench's own run: nba-ml train refuses a folder that holds one
        shutil.rmtree(model)
        print(f"{setting}: removed the earlier run {model} (--retrain)", flush=True)
    if retrain or not (model / "model" / "model.yaml").exists():
        seconds, _ = run([python, "-m", "nba_ml", "train", "--config", str(CONFIG), "--data", str(folder / "train.csv.gz"),
                          "--out", str(model), "--quiet"], folder / "train.log")
        print(f"{setting}: trained in {seconds:.0f} s", flush=True)
    records = ["0", "50", "200"] + (["hist"] if setting == "seasons" else [])
    for n in records:
        season = OLDER if n == "hist" else judged
        observed = with_season(folder / f"obs_n{n}.csv", folder / f"obs_n{n}_season.csv", season)
        seconds, _ = run([python, "-m", "nba_ml", "makes", "--checkpoint", str(model), "--observed", str(observed),
                          "--queries", str(folder / "queries.csv"), "--out", str(folder / f"pred_n{n}.csv"),
                          "--zones-out", str(folder / f"zones_n{n}.csv"), "--season", judged, "--seed", "0"],
                         folder / f"makes_n{n}.log")
        print(f"{setting}: nba-ml makes, record n = {n}: {seconds:.1f} s", flush=True)
    _, score = run([*command, "score", name, str(folder)], folder / "score.log")
    return score if name == setting else f"{setting} (the protocol's {name} on {OLDER}):\n{score}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), help="seasons, split:0-2, dev:0-2")
    parser.add_argument("--work", type=Path, default=REPO / "bench_out" / "player_makes", help="work folder")
    parser.add_argument("--retrain", action="store_true", help="train the models again (the work folder's earlier runs are removed first)")
    args = parser.parse_args()
    scores = []
    for setting in args.settings:
        scores.append(bench_setting(setting, args.work, args.retrain))
        print(scores[-1], flush=True)
    print(pooled(scores))


def pooled(scores: list[str]) -> str:
    """One line over the settings, from the protocol's 'model minus best baseline' lines: how many pass, the
    PPS margins of the records it judges on PPS (n > 0) and the log-loss margins of every record."""
    ll, pps = [], []
    for score in scores:
        for n, ll_gain, pps_gain in re.findall(r"n(\w+)=\(ll ([+-][\d.]+), pps ([+-][\d.]+),", score):
            ll.append(float(ll_gain))
            if n != "0":
                pps.append(float(pps_gain))
    passed = sum(score.rstrip().endswith("PASS") for score in scores)
    if not pps:
        return f"{passed} of {len(scores)} settings PASS"
    return (f"{passed} of {len(scores)} settings PASS; PPS MAE margin over the best baseline (n > 0): mean "
            f"{sum(pps) / len(pps):+.4f} over {len(pps)} records, {sum(g > 0 for g in pps)} ahead, from {min(pps):+.4f} "
            f"to {max(pps):+.4f}; log-loss ahead of every baseline in {sum(g > 0 for g in ll)} of {len(ll)}")


if __name__ == "__main__":
    main()
