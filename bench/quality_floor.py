"""The floor of the shot-chart quality metrics: the same metrics between real charts.

Usage: python bench/quality_floor.py [--data-dir DIR] [--shots-per-chart K] [--k K_NN] [--seeds N]

Loads the 2017-18 and 2022-23 seasons from DIR (default: ../shared/data beside
the repository) and prints `nba_ml.shots.quality` metrics, overall and per
POSITION_GROUP, for three pairs of real chart sets:
  seasons      2017-18 charts as the reference, 2022-23 charts as the 'generated'
               side: the floor a model is read against on a season it has not seen.
  halves       two disjoint random halves of 2022-23's players: same season,
               different players (a lower floor, but with half the charts a side).
  shot halves  2022-23 players with >= 2K shots, each player's shots split into
               two disjoint random halves, K drawn from each: the same charts,
               only the noise of drawing K shots from a player's season.
  subsamples   the same 2022-23 charts, two independent K-shot subsamples of all
               the chart's shots. The two overlap (a 250-shot player shares 160 of
               200 shots on average), so this floor is optimistic; shown to compare.
Swapping the two sides of a pair swaps precision and recall and leaves the
other metrics unchanged, so one direction is shown. Each pair is repeated over
--seeds seeds (chart subsamples and, for halves, the split) and printed as
mean +- standard deviation over seeds, then min over seeds for precision/recall.
"""

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run from a checkout without installing the package

from nba_ml.shots.loader import load_shots  # noqa: E402
from nba_ml.shots.quality import DEFAULT_K_NEIGHBOURS, DEFAULT_SHOTS_PER_CHART, quality_floor  # noqa: E402

SEASON_FILES = {
    "2017-18": "nba_shots_2017-18_regular_season.csv.gz",
    "2022-23": "nba_shots_2022-23_regular_season.csv.gz",
}
GROUPS = ("all", "G", "F", "C")
FramePair = Callable[[int], tuple[pd.DataFrame, pd.DataFrame]]  # seed -> (reference, other)
METRICS = ("zone_mae_pp", "frechet", "precision", "recall", "n_real_charts", "n_generated_charts")


def disjoint_player_halves(shots: pd.DataFrame, min_shots: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the shots by player into two halves, the players with >= min_shots shared out evenly."""
    shots_per_player = shots.groupby("PLAYER_ID").size()
    eligible = shots_per_player.index[shots_per_player >= min_shots].to_numpy()
    shuffled = np.random.default_rng(seed).permutation(eligible)
    first_half = shots["PLAYER_ID"].isin(shuffled[: len(shuffled) // 2])
    return shots[first_half], shots[~first_half & shots["PLAYER_ID"].isin(shuffled)]


def disjoint_shot_halves(shots: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split every player's shots into two disjoint random halves (sizes differ by at most one)."""
    order = np.random.default_rng(seed).permutation(len(shots))
    rank_within_player = shots.iloc[order].groupby("PLAYER_ID").cumcount().to_numpy()
    in_first_half = np.zeros(len(shots), dtype=bool)
    in_first_half[order] = rank_within_player % 2 == 0
    return shots[in_first_half], shots[~in_first_half]


def repeated_floor(pair_for_seed: FramePair, seeds: int, shots_per_chart: int, k: int) -> pd.DataFrame:
    """quality_floor for each seed's pair of frames, one row per seed."""
    rows = []
    for seed in range(seeds):
        reference, other = pair_for_seed(seed)
        # quality_floor uses seed and seed + 1, so step by 2 to keep every subsample distinct
        rows.append(quality_floor(reference, other, shots_per_chart, seed=2 * seed, by="POSITION_GROUP", k=k))
    return pd.DataFrame(rows)


def print_floor(name: str, runs: pd.DataFrame, seconds: float) -> None:
    """One line per group: mean +- sd over seeds of each metric."""
    print(f"\n{name}  ({len(runs)} seeds, {seconds:.1f} s)")
    print(f"  {'group':<6}" + "".join(f"{metric:>22}" for metric in METRICS) + f"{'min P / min R':>16}")
    for group in GROUPS:
        prefix = "shots/" if group == "all" else f"shots/{group}/"
        cells = []
        for metric in METRICS:
            values = runs[prefix + metric]
            digits = 0 if metric.startswith("n_") else 2 if metric == "zone_mae_pp" else 4
            cells.append(f"{values.mean():>12.{digits}f} +- {values.std(ddof=0):<6.{digits}f}")
        minimum = f"{runs[prefix + 'precision'].min():.3f} / {runs[prefix + 'recall'].min():.3f}"
        print(f"  {group:<6}" + "".join(f"{cell:>22}" for cell in cells) + f"{minimum:>16}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--shots-per-chart", type=int, default=DEFAULT_SHOTS_PER_CHART, help="K shots per chart")
    parser.add_argument("--k", type=int, default=DEFAULT_K_NEIGHBOURS, help="k of the k-NN balls")
    parser.add_argument("--seeds", type=int, default=5, help="repeats of each floor with different seeds")
    args = parser.parse_args()
    paths = {season: args.data_dir / name for season, name in SEASON_FILES.items()}
    missing = [str(path) for path in paths.values() if not path.is_file()]
    if missing:
        print(f"missing season file(s): {missing}", file=sys.stderr)
        return 2

    started = time.perf_counter()
    seasons = {season: load_shots(path)[0] for season, path in paths.items()}
    loaded = ", ".join(f"{season}: {len(shots):,} shots" for season, shots in seasons.items())
    print(f"loaded {loaded} in {time.perf_counter() - started:.1f} s")
    print(f"K = {args.shots_per_chart} shots per chart (players with fewer are left out), k = {args.k}")

    early, late = seasons["2017-18"], seasons["2022-23"]
    pairs = {
        "seasons: 2017-18 (reference) vs 2022-23": lambda seed: (early, late),
        "halves: 2022-23 players, two disjoint random halves": lambda seed: disjoint_player_halves(
            late, args.shots_per_chart, seed
        ),
        "shot halves: 2022-23 players, each player's shots split in two disjoint halves": lambda seed: (
            disjoint_shot_halves(late, seed)
        ),
        "subsamples: 2022-23, same charts, two overlapping K-shot subsamples": lambda seed: (late, late),
    }
    for name, pair_for_seed in pairs.items():
        pair_started = time.perf_counter()
        runs = repeated_floor(pair_for_seed, args.seeds, args.shots_per_chart, args.k)
        print_floor(name, runs, time.perf_counter() - pair_started)
    print(f"\ntotal {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
