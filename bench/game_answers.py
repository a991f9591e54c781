"""A game's shots against the fixed game protocol: the package's answers to ../shared/bench/game_protocol.py.

    python ../shared/bench/game_protocol.py observed halves DIR     # the protocol writes the records and queries
    python bench/game_answers.py DIR [--model RUN] [--seasons 40]   # -> DIR/zones.csv, actions.csv, makes.csv, defense.csv
    python ../shared/bench/game_protocol.py score halves DIR        # the protocol's scores and PASS or FAIL

Reads DIR/records.csv.gz and DIR/queries_{zone,action,make}.csv, trains the shipped config on the records with
`nba-ml train` (into DIR/run) unless --model names a trained run or model, builds the profiles of the records'
players and defenses (`model.player_profiles`) and answers through the public API:

  zones.csv    profiles.zone_probabilities(queries_zone)
  actions.csv  profiles.action_probabilities(queries_action)
  makes.csv    profiles.make_probabilities(queries_make)
  defense.csv  per defense, over its rows of queries_zone: SHARE, the mean of zone_probabilities, and PPS, the
               mean points of `draw(season=None)` shots (the posterior mean profile; MAKE_PROB x SHOT_VALUE over
               64 seeds: with 16, the MAE of dev moved by +-0.0003 between seed sets); their 90% intervals from
               `--seasons` simulated seasons (`draw(season=k)`: every profile drawn once, then the shots, MADE
               included)
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "nba_ml" / "configs" / "shot_charts.yaml"
HALF_COURT = ["Restricted Area", "In The Paint (Non-RA)", "Mid-Range", "Left Corner 3", "Right Corner 3", "Above the Break 3"]
MEAN_SEEDS = 64


def model_of(folder: Path, given: str | None):
    from nba_ml.shots.model import ShotChartModel

    if given:
        path = Path(given)
        return ShotChartModel.load(path / "model" if (path / "model" / "model.yaml").exists() else path)
    run = folder / "run"
    if not (run / "model" / "model.yaml").exists():
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "nba_ml", "train", "--config", str(CONFIG), "--data",
                               str(folder / "records.csv.gz"), "--out", str(run), "--quiet"], cwd=REPO,
                              capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"nba-ml train failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        print(f"trained the shipped config on the records in {time.perf_counter() - started:.0f} s", flush=True)
    return ShotChartModel.load(run / "model")


def defense_table(profiles, queries: pd.DataFrame, seasons: int) -> pd.DataFrame:
    """defense.csv (module docstring)."""
    defense = queries["DEFENSE"].astype(str).to_numpy()
    share = profiles.zone_probabilities(queries)[HALF_COURT].groupby(defense).mean()
    mean_points = []
    for seed in range(MEAN_SEEDS):
        shots = profiles.draw(queries, season=None, seed=10_000 + seed)
        mean_points.append((shots["MAKE_PROB"] * shots["SHOT_VALUE"]).groupby(defense).mean())
    pps = pd.concat(mean_points, axis=1).mean(axis=1)
    drawn_share, drawn_pps = [], []
    for season in range(seasons):
        shots = profiles.draw(queries, season=season, seed=season)
        zone = shots["SHOT_ZONE_BASIC"].astype(str).to_numpy()
        drawn_share.append(pd.crosstab(defense, zone, normalize="index").reindex(index=share.index, columns=HALF_COURT,
                                                                                fill_value=0.0))
        drawn_pps.append((shots["MADE"] * shots["SHOT_VALUE"]).groupby(defense).mean().reindex(share.index))
    shares = np.stack([d.to_numpy() for d in drawn_share])
    points = np.stack([p.to_numpy() for p in drawn_pps])
    rows = []
    for i, name in enumerate(share.index):
        for z, zone in enumerate(HALF_COURT):
            lo, hi = np.percentile(shares[:, i, z], [5, 95])
            rows.append({"DEFENSE": name, "SHOT_ZONE_BASIC": zone, "SHARE": share.iloc[i, z], "SHARE_LO": lo, "SHARE_HI": hi})
        lo, hi = np.percentile(points[:, i], [5, 95])
        rows.append({"DEFENSE": name, "SHOT_ZONE_BASIC": "All", "PPS": pps.loc[name], "PPS_LO": lo, "PPS_HI": hi})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", type=Path, help="the protocol's folder (its `observed` output)")
    parser.add_argument("--model", help="a trained run or model directory (default: train the shipped config into DIR/run)")
    parser.add_argument("--seasons", type=int, default=40, help="simulated seasons for the defenses' intervals")
    parser.add_argument("--seed", type=int, default=0, help="the profiles' seed")
    args = parser.parse_args()
    folder = args.dir
    model = model_of(folder, args.model)
    records = pd.read_csv(folder / "records.csv.gz", low_memory=False)
    queries = {kind: pd.read_csv(folder / f"queries_{kind}.csv") for kind in ("zone", "action", "make")}
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        profiles = model.player_profiles(records, seed=args.seed)
        built = time.perf_counter() - started
        zones = profiles.zone_probabilities(queries["zone"])
        actions = profiles.action_probabilities(queries["action"])
        makes = profiles.make_probabilities(queries["make"])
        started = time.perf_counter()
        defense = defense_table(profiles, queries["zone"], args.seasons)
        simulated = time.perf_counter() - started
    for warning in dict.fromkeys(str(w.message) for w in said):
        print(f"warning: {warning}")
    zones.insert(0, "QUERY_ID", queries["zone"]["QUERY_ID"].to_numpy())
    actions.insert(0, "QUERY_ID", queries["action"]["QUERY_ID"].to_numpy())
    zones.to_csv(folder / "zones.csv", index=False)
    actions.to_csv(folder / "actions.csv", index=False)
    pd.DataFrame({"QUERY_ID": queries["make"]["QUERY_ID"].to_numpy(), "MAKE_PROB": makes.to_numpy()}).to_csv(
        folder / "makes.csv", index=False)
    defense.to_csv(folder / "defense.csv", index=False)
    game = profiles.game
    print(f"profiles of {len(profiles.players)} players and {len(game.defenses)} defenses built in {built:.1f} s; "
          f"{args.seasons} simulated seasons of {len(queries['zone']):,} situations (+{MEAN_SEEDS} at the posterior "
          f"mean) in {simulated:.1f} s; wrote zones.csv, actions.csv, makes.csv, defense.csv to {folder}")


if __name__ == "__main__":
    main()
