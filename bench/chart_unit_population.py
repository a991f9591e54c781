"""Which charts make the population: each chart unit's training charts, drawn back, against held-out players.

    python bench/chart_unit_population.py

No GAN: the best a model of each chart unit could do. 2022-23 is split by players into the
folds of bench/player_posterior.py; in each fold the training players' charts of each unit are
drawn back at K = 200 shots, as many charts per position group as the training players have real
K-shot season charts, and judged against the held-out players' real charts. The floor is those
real training-player charts against the same held-out ones: both figures compare equal counts.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from player_posterior import season_split  # bench/ is on sys.path when this script runs

from nba_ml.shots.charts import ChartSpec, draw_shots, make_charts
from nba_ml.shots.quality import quality_floor, real_charts, shot_quality

UNITS = {
    "20-game blocks, >= 80 shots": ChartSpec(grid=32, unit="player_games", games_per_chart=20, min_shots=80, channels="attempts"),
    "20-game blocks, >= 150 shots": ChartSpec(grid=32, unit="player_games", games_per_chart=20, min_shots=150, channels="attempts"),
    "41-game blocks, >= 150 shots": ChartSpec(grid=32, unit="player_games", games_per_chart=41, min_shots=150, channels="attempts"),
    "player-season, >= 200 shots": ChartSpec(grid=32, unit="player_season", min_shots=200, channels="attempts"),
}
K = 200


def drawn_back(charts, counts: pd.Series, rng: np.random.Generator) -> pd.DataFrame:
    """`counts[group]` of the charts of each group (without replacement when there are enough), K shots each."""
    parts = []
    for group, n in counts.items():
        index = np.flatnonzero((charts.labels == charts.position_groups.index(group)).numpy())
        part = draw_shots(charts.charts[rng.choice(index, int(n), replace=len(index) < n)], K, seed=1)
        part["CHART_ID"] = [f"{group}:{c}" for c in part["CHART_ID"]]
        part["POSITION_GROUP"] = group
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def main() -> None:
    shots, _, fold_of = season_split("2022-23", 3)
    print("Frechet, model (floor, ratio), per fold: all / G / F / C")
    for fold in range(3):
        held = (shots["PLAYER_ID"].astype(str).map(fold_of) == fold).to_numpy()
        real = real_charts(shots[held], K, seed=0)
        counts = real_charts(shots[~held], K, seed=1).groupby("CHART_ID")["POSITION_GROUP"].first().value_counts()
        floor = quality_floor(shots[held], shots[~held], K, by="POSITION_GROUP")
        for name, spec in UNITS.items():
            charts = make_charts(shots[~held], spec)
            m = shot_quality(real, drawn_back(charts, counts, np.random.default_rng(0)), by="POSITION_GROUP")
            cells = [f"{m[f'shots/{g}frechet']:.4f} ({floor[f'shots/{g}frechet']:.4f}, "
                     f"{m[f'shots/{g}frechet'] / floor[f'shots/{g}frechet']:.1f}x)" for g in ("", "G/", "F/", "C/")]
            print(f"fold {fold}  {name:<30} {len(charts):>4} charts  " + "  ".join(cells), flush=True)


if __name__ == "__main__":
    main()
