"""Speed of a game's shots: building the profiles of a season's players and defenses, and `draw`.

    python bench/game_speed.py --model RUN [--record SHOTS] [--repeats 5] [--calls 2000]

RUN: a trained shot-chart run (`nba-ml train --config nba_ml/configs/shot_charts.yaml ...`). SHOTS: the
record, default the whole 2022-23 season (../shared/data): every shot row a situation (its shooter, his
position, the defense, the moment). Measured, in this order:

1. `model.player_profiles(record)`: every player (100 charts each) and every defense, with the game tables
   (target: 10 s).
2. `profiles.draw(situations, season=1)` of every situation of the season, against a bare numpy draw of as many
   shots in the same run (bench/player_profiles_speed.bare_draw: a cell by inverse CDF on one 64 x 64 map, a
   uniform position inside it, an outcome from a per-cell rate), the best of --repeats rounds, the two taking
   turns, after a first call that makes the season's draws and the sampling tables, timed on its own
   (target: 2 x the bare draw).
3. A game loop: --calls calls of `draw` with one situation each (a one-row DataFrame, a numpy Generator as the
   seed), the median time of a call (target: 0.2 ms).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SEASON = REPO.parent / "shared" / "data" / "nba_shots_2022-23_regular_season.csv.gz"
sys.path.insert(0, str(REPO / "bench"))
from player_profiles_speed import against_bare  # noqa: E402  (the same reference draw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path, help="a trained shot-chart run or model directory")
    parser.add_argument("--record", type=Path, default=SEASON, help="the record (default: 2022-23)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()

    import warnings

    from nba_ml.shots.model import ShotChartModel

    model = ShotChartModel.load(args.model / "model" if (args.model / "model").exists() else args.model)
    record = pd.read_csv(args.record, low_memory=False)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profiles = model.player_profiles(record, seed=0, charts=100)
    build = time.perf_counter() - started
    print(f"1. profiles of {len(profiles.players)} players and {len(profiles.game.defenses)} defenses from "
          f"{len(record):,} record shots (100 charts each, the game tables included): {build:.2f} s (target 10 s)", flush=True)

    team, home, away = record["TEAM_ABBREVIATION"], record["HTM"], record["VTM"]
    situations = pd.DataFrame({"PLAYER_ID": record["PLAYER_ID"], "POSITION_GROUP": record["POSITION_GROUP"],
                               "DEFENSE": np.where(team == home, away, home), "PERIOD": record["PERIOD"],
                               "SECONDS_LEFT": record["MINUTES_REMAINING"] * 60 + record["SECONDS_REMAINING"]})
    shots = len(situations)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first, ours, bare = against_bare(profiles, shots, lambda: profiles.draw(situations, season=1, seed=1), args.repeats)
    print(f"2. a season's situations, {shots:,} shots, one each: profiles.draw {ours * 1000:.1f} ms ({shots / ours / 1e6:.2f} M "
          f"shots/s); bare numpy draw {bare * 1000:.1f} ms; ratio {ours / bare:.2f} (target <= 2); the first call, which "
          f"draws the season's profiles and makes the sampling tables, {first:.2f} s", flush=True)

    one = situations.iloc[[0]].reset_index(drop=True)
    generator = np.random.default_rng(2)
    profiles.draw(one, season=1, seed=generator)
    spent = []
    for i in range(args.calls):
        row = situations.iloc[[i % shots]]
        started = time.perf_counter()
        profiles.draw(row, season=1, seed=generator)
        spent.append(time.perf_counter() - started)
    median = statistics.median(spent)
    print(f"3. a game loop, one situation a call ({args.calls:,} calls, a numpy Generator as the seed): median "
          f"{median * 1e3:.3f} ms a call, 90th percentile {np.percentile(spent, 90) * 1e3:.3f} ms (target 0.2 ms)", flush=True)


if __name__ == "__main__":
    main()
