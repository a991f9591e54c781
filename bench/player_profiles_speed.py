"""Speed and memory of given players' profiles: build, draw, and `nba-ml sample --observed` end to end.

    python bench/player_profiles_speed.py --model RUN [--record SHOTS] [--repeats 5]

RUN: a trained shot-chart run (`nba-ml train --config nba_ml/configs/shot_charts.yaml ...`). SHOTS: the
players' record, default the whole 2022-23 season (../shared/data). Measured, in this order:

1. player_profiles(record): every player of the season from his full-season record (100 charts each).
2. A simulated season: each player as many shots as his record has, one draw, profiles.sample, against a
   bare numpy draw of as many shots in the same run: a cell by inverse CDF on one 64 x 64 map, a uniform
   position inside it, an outcome from a per-cell rate (the best of --repeats rounds, the two taking turns,
   after a first call that makes the profiles' sampling tables, timed on its own).
3. `nba-ml sample --observed SHOTS --charts 100 --shots-per-chart 200` to .parquet and to .csv, in a child
   process under /usr/bin/time -v (wall time and peak memory; the best of --cli-repeats runs of each, the
   two formats in turns), and pyarrow's CSV writer alone on the same table, for the .csv target (at most
   that time on top of .parquet).
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SEASON = REPO.parent / "shared" / "data" / "nba_shots_2022-23_regular_season.csv.gz"


def best_of(repeats: int, *works) -> list[float]:
    """The best time of each work over `repeats` rounds, the works taking turns within a round (so that a
    busy spell of the machine slows them alike)."""
    times = [[] for _ in works]
    for _ in range(repeats):
        for work, spent in zip(works, times):
            started = time.perf_counter()
            work()
            spent.append(time.perf_counter() - started)
    return [min(spent) for spent in times]


def bare_draw(cdf: np.ndarray, rate: np.ndarray, shots: int, rng: np.random.Generator, grid: int = 64):
    """The reference: cells by inverse CDF on one map, a uniform position inside, an outcome per cell."""
    cell = np.searchsorted(cdf, rng.random(shots) * cdf[-1])
    x = -250.0 + (cell % grid + rng.random(shots)) * (500.0 / grid)
    y = -52.5 + (cell // grid + rng.random(shots)) * (470.0 / grid)
    made = rng.random(shots) < rate[cell]
    return x, y, made


def against_bare(profiles, shots: int, work, repeats: int) -> tuple[float, float, float]:
    """(the first call of `work`, its best time, the bare draw's best time) for `shots` shots: the bare draw on
    the first player's mean chart with a flat make rate, the two taking turns after the first call."""
    density = profiles.densities(0).mean(axis=0).ravel().astype(np.float64)
    cdf, rate = np.cumsum(density), np.full(density.size, 0.47)
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    work()
    first = time.perf_counter() - started
    bare, ours = best_of(repeats, lambda: bare_draw(cdf, rate, shots, rng), work)
    return first, ours, bare


def timed_child(command: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in GB, output) of a child process under /usr/bin/time -v."""
    done = subprocess.run(["/usr/bin/time", "-v", *command], cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    peak_kb = next(int(line.split()[-1]) for line in done.stderr.splitlines() if "Maximum resident set size" in line)
    wall = next(line.split()[-1] for line in done.stderr.splitlines() if "Elapsed (wall clock)" in line)
    minutes, seconds = wall.split(":")[-2:]
    return 60 * float(minutes) + float(seconds), peak_kb / 1e6, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, type=Path, help="a trained shot-chart run directory")
    parser.add_argument("--record", type=Path, default=SEASON, help="the players' record (default: 2022-23)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-cli", action="store_true", help="leave out the nba-ml sample runs")
    parser.add_argument("--cli-repeats", type=int, default=2, help="nba-ml sample runs of each format (the best)")
    args = parser.parse_args()

    from nba_ml.shots import load_shots
    from nba_ml.shots.model import ShotChartModel

    model = ShotChartModel.load(args.model)
    record, _ = load_shots(args.record)
    players = record["PLAYER_ID"].nunique()

    started = time.perf_counter()
    profiles = model.player_profiles(record, seed=0, charts=100)
    build = time.perf_counter() - started
    print(f"1. profiles of {players} players from {len(record):,} record shots (100 charts each): {build:.2f} s; "
          f"peak RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB", flush=True)

    counts = record.groupby("PLAYER_ID").size()
    season = {player: int(n) for player, n in counts.items()}
    shots = sum(season.values())
    first, ours, bare = against_bare(profiles, shots, lambda: profiles.sample(season, draws=1, seed=1), args.repeats)
    print(f"2. a simulated season, {shots:,} shots of {len(season)} players, one draw: profiles.sample {ours * 1000:.1f} ms "
          f"({shots / ours / 1e6:.1f} M shots/s); bare numpy draw {bare * 1000:.1f} ms ({shots / bare / 1e6:.1f} M shots/s); "
          f"ratio {ours / bare:.2f} (target <= 2); the first call, which makes the sampling tables once, {first:.2f} s", flush=True)

    if args.skip_cli:
        return
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "nba_ml", "sample", "--checkpoint", str(args.model), "--observed", str(args.record),
                   "--charts", "100", "--shots-per-chart", "200", "--seed", "0"]
        runs = {"parquet": [], "csv": []}
        for _ in range(args.cli_repeats):  # in turns: a busy spell of the machine slows both alike
            for suffix, measured in runs.items():
                measured.append(timed_child([*command, "--out", f"{tmp}/shots.{suffix}"])[:2])
        (parquet_s, parquet_gb), (csv_s, csv_gb) = (min(measured) for measured in runs.values())
        import pyarrow as pa
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        table = pq.read_table(f"{tmp}/shots.parquet")
        rows = table.num_rows
        table = table.cast(pa.schema([(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type) for f in table.schema]))
        writer_s, = best_of(1, lambda: pacsv.write_csv(table, f"{tmp}/alone.csv"))
    print(f"3. nba-ml sample --observed (whole season, 100 charts x 200 shots = {rows:,} rows): .parquet {parquet_s:.1f} s, "
          f"peak {parquet_gb:.2f} GB (targets 10 s, 1.5 GB); .csv {csv_s:.1f} s, peak {csv_gb:.2f} GB; pyarrow's CSV "
          f"writer alone on that table {writer_s:.1f} s (.csv target: {parquet_s:.1f} + {writer_s:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
