"""Does rasterising shots into charts and drawing shots back keep the zone mix?

Usage: python bench/chart_roundtrip.py [--data-dir DIR] [--grids 32 64] [--shots-per-chart 200] [--seed 0]

For each `nba_shots_*_regular_season.csv.gz` in DIR (default: ../shared/data
beside the repository): load it (half court), build player_season charts
(min_shots=100), draw `--shots-per-chart` shots from every chart with
`draw_shots`, and print pooled SHOT_ZONE_BASIC shares in %:

- real, all: every half-court shot of the season;
- real, charted: shots of the charted players, each chart weighted equally,
  which is what pooling the same number of drawn shots per chart estimates;
- round trip: the drawn shots, and round trip - real charted in pp;
- by volume: the drawn shots re-weighted by each chart's real shot count,
  against the charted shots pooled by volume (real, charted by volume).

It also prints how many charts each season yields at min_shots 100 and 200,
per position group, and how long make_charts takes.
Exits 1 if any zone of the default grid is off by more than MAX_ZONE_ERROR_PP.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run from a checkout without installing the package

from nba_ml.shots.charts import ChartSpec, ShotCharts, draw_shots, make_charts  # noqa: E402
from nba_ml.shots.court import ZONES  # noqa: E402
from nba_ml.shots.loader import load_shots  # noqa: E402

MAX_ZONE_ERROR_PP = 1.0
HALF_COURT_ZONES = [zone for zone in ZONES if zone != "Backcourt"]


def zone_shares(zones: pd.Series, weights: np.ndarray | None = None) -> pd.Series:
    """Share (%) of each half-court zone, optionally weighted."""
    weights = np.ones(len(zones)) if weights is None else weights
    totals = pd.Series(weights, index=zones.to_numpy()).groupby(level=0).sum()
    return (totals.reindex(HALF_COURT_ZONES, fill_value=0) / totals.sum() * 100).rename(None)


def round_trip_table(shots: pd.DataFrame, charts: ShotCharts, shots_per_chart: int, seed: int) -> pd.DataFrame:
    """Per-zone shares: real (all, charted per chart, charted by volume) and the round trip."""
    unit = shots["PLAYER_ID"].astype(str) + "/" + shots["SEASON"].astype(str)
    charted = shots[unit.isin(charts.units)]
    charted_unit = unit[unit.isin(charts.units)].to_numpy()
    per_chart_weight = 1.0 / pd.Series(charted_unit).map(pd.Series(charted_unit).value_counts()).to_numpy()
    drawn = draw_shots(charts.charts, shots_per_chart, seed=seed, chart_ids=charts.units)
    volume = dict(zip(charts.units, charts.shot_counts.tolist()))
    table = pd.DataFrame({
        "real all": zone_shares(shots["SHOT_ZONE_BASIC"]),
        "real charted": zone_shares(charted["SHOT_ZONE_BASIC"], per_chart_weight),
        "round trip": zone_shares(drawn["SHOT_ZONE_BASIC"]),
        "real by volume": zone_shares(charted["SHOT_ZONE_BASIC"]),
        "trip by volume": zone_shares(drawn["SHOT_ZONE_BASIC"], drawn["CHART_ID"].map(volume).to_numpy(float)),
    })
    table.insert(3, "trip - real (pp)", table["round trip"] - table["real charted"])
    table["by volume (pp)"] = table["trip by volume"] - table["real by volume"]
    return table


def chart_counts(shots: pd.DataFrame, min_shots: int) -> str:
    """'N charts (G a, F b, C c)' for player_season charts with at least min_shots."""
    charts = make_charts(shots, ChartSpec(min_shots=min_shots))
    per_group = np.bincount(charts.labels.numpy(), minlength=len(charts.position_groups))
    groups = ", ".join(f"{group} {count}" for group, count in zip(charts.position_groups, per_group))
    return f"{len(charts)} charts ({groups}); dropped {charts.dropped}"


def season_report(path: Path, grids: list[int], shots_per_chart: int, seed: int) -> float:
    """Print the report for one season; return the default grid's worst zone error in pp."""
    shots, _ = load_shots(path)
    print(f"\n=== {path.name}: {len(shots):,} half-court shots")
    for min_shots in (100, 200):
        print(f"  player_season, min_shots={min_shots}: {chart_counts(shots, min_shots)}")
    for grid in grids:
        started = time.perf_counter()
        charts = make_charts(shots, ChartSpec(grid=grid))
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        table = round_trip_table(shots, charts, shots_per_chart, seed)
        draw_seconds = time.perf_counter() - started
        print(f"\n  grid {grid}: make_charts {seconds:.2f} s for {len(charts)} charts; "
              f"draw + zones {draw_seconds:.2f} s for {len(charts) * shots_per_chart:,} shots")
        print(table.round(2).to_string().replace("\n", "\n    ").join(["    ", ""]))
        worst = table["trip - real (pp)"].abs().max()
        print(f"  worst zone, round trip vs real charted: {worst:.2f} pp")
        if grid == ChartSpec().grid:
            default_worst = worst
    return default_worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--grids", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--shots-per-chart", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    grids = sorted(set(args.grids) | {ChartSpec().grid})
    paths = sorted(args.data_dir.glob("nba_shots_*_regular_season.csv.gz"))
    if not paths:
        print(f"no nba_shots_*_regular_season.csv.gz files in {args.data_dir}", file=sys.stderr)
        return 2
    worst = {path.name: season_report(path, grids, args.shots_per_chart, args.seed) for path in paths}
    failed = {name: error for name, error in worst.items() if error > MAX_ZONE_ERROR_PP}
    print(f"\ndefault grid {ChartSpec().grid}: worst zone error per season (pp): "
          + ", ".join(f"{name} {error:.2f}" for name, error in worst.items()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
