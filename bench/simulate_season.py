"""A simulated half-season against the real one: do the defenses, players and team games look like the real ones?

    python bench/simulate_season.py halves --model RUN [--seasons 40] [--picture docs/pictures/season_pps.png]
    python bench/simulate_season.py dev --model RUN

The setting is the game protocol's (../shared/bench/game_protocol.py, imported): profiles built from the first
half's records (every shot of the games before the season's median date), the second half as it was scheduled
(each real shot's shooter, defense, period and clock), `--seasons` simulated halves drawn with
`profiles.draw(season=k)`. RUN: a model trained on that setting's records (bench/game_answers.py trains one into
DIR/run). For each statistic, the share of real values inside the central 90% of the simulated ones:

  (defense, zone) shares        target 85-95%     the six half-court zones' shares of the shots a defense allowed
  defense points per shot       target >= 80%
  player FG%                    target 85-95%     players with 200 or more shots in the second half
  (player, family) counts       target >= 80%     counts of 10 or more (real), each player's shots of each family
  team-game points from field goals: the 10/50/90% quantiles over team-games, real against simulated (the
                                 median over the simulated halves), target within 5 points each
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO.parent / "shared" / "bench"))
import game_protocol as protocol  # noqa: E402  (the fixed protocol: its setting, zones and families)

HALF_COURT = protocol.HALF_COURT
MIN_PLAYER_SHOTS, MIN_FAMILY_COUNT = 200, 10
TARGETS = {"shares": (0.85, 0.95), "pps": (0.80, 1.0), "fg": (0.85, 0.95), "families": (0.80, 1.0)}


def statistics(shots: pd.DataFrame, made: str) -> dict:
    """The statistics of one half-season of shots (`made`: the column of 0/1 outcomes)."""
    points = shots[made] * shots["SHOT_VALUE"]
    zone = shots["SHOT_ZONE_BASIC"].astype(str)
    return {"shares": pd.crosstab(shots["DEFENSE"], zone, normalize="index").reindex(columns=HALF_COURT, fill_value=0.0),
            "pps": points.groupby(shots["DEFENSE"]).mean(),
            "fg": shots[made].groupby(shots["PLAYER_ID"]).mean(),
            "families": pd.crosstab(shots["PLAYER_ID"], shots["ACTION_FAMILY"].astype(str)),
            "games": points.groupby([shots["GAME_ID"], shots["TEAM"]]).sum()}


def covered(real: pd.DataFrame | pd.Series, drawn: list, keep=None) -> tuple[float, int]:
    """(the share of real values inside the central 90% of the drawn ones, how many were judged)."""
    stacked = np.stack([d.reindex_like(real).fillna(0).to_numpy(np.float64) for d in drawn])
    lo, hi = np.percentile(stacked, 5, axis=0), np.percentile(stacked, 95, axis=0)
    value = real.to_numpy(np.float64)
    inside = (value >= lo) & (value <= hi)
    judged = np.ones_like(inside, dtype=bool) if keep is None else keep.to_numpy()
    return float(inside[judged].mean()), int(judged.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("setting", choices=sorted(protocol.SEASONS))
    parser.add_argument("--model", required=True, type=Path, help="a model trained on the setting's records")
    parser.add_argument("--seasons", type=int, default=40)
    parser.add_argument("--picture", type=Path, help="where to save the points-per-shot picture (PNG)")
    args = parser.parse_args()
    from nba_ml.shots.model import ShotChartModel

    st = protocol.setting(args.setting)
    model = ShotChartModel.load(args.model / "model" if (args.model / "model").exists() else args.model)
    targets = st.targets.rename(columns={"Y": "MADE_REAL"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        profiles = model.player_profiles(st.raw_records, seed=0)
        built = time.perf_counter() - started
        situations = targets[["PLAYER_ID", "POSITION_GROUP", "DEFENSE", "PERIOD", "SECONDS_LEFT", "GAME_ID", "TEAM"]]
        started = time.perf_counter()
        drawn = [statistics(profiles.draw(situations, season=k, seed=k), "MADE") for k in range(args.seasons)]
        simulated = time.perf_counter() - started
    real = statistics(targets, "MADE_REAL")
    shots_of = targets.groupby("PLAYER_ID").size()
    rows = {
        "(defense, zone) shares": covered(real["shares"], [d["shares"] for d in drawn]) + (TARGETS["shares"],),
        "defense points per shot": covered(real["pps"], [d["pps"] for d in drawn]) + (TARGETS["pps"],),
        f"player FG% ({MIN_PLAYER_SHOTS}+ shots)": covered(real["fg"], [d["fg"] for d in drawn],
                                                          shots_of.reindex(real["fg"].index) >= MIN_PLAYER_SHOTS) + (TARGETS["fg"],),
        f"(player, family) counts ({MIN_FAMILY_COUNT}+)": covered(real["families"], [d["families"] for d in drawn],
                                                                 real["families"] >= MIN_FAMILY_COUNT) + (TARGETS["families"],),
    }
    print(f"setting {args.setting}: profiles of {len(profiles.players)} players and {len(profiles.game.defenses)} defenses "
          f"in {built:.1f} s; {args.seasons} simulated halves of {len(situations):,} shots in {simulated:.1f} s")
    print("| statistic | real inside the simulated 90% | judged | target |\n|---|---|---|---|")
    for name, (share, judged, (lo, hi)) in rows.items():
        verdict = "met" if lo <= share <= hi else "**not met**"
        print(f"| {name} | {share:.3f} | {judged} | {lo:.2f}-{hi:.2f}: {verdict} |")
    quantiles = [0.1, 0.5, 0.9]
    real_q = real["games"].quantile(quantiles).to_numpy()
    sim_q = np.median(np.stack([d["games"].quantile(quantiles).to_numpy() for d in drawn]), axis=0)
    print(f"| team-game points from field goals, 10/50/90% | real {'/'.join(f'{q:.0f}' for q in real_q)}, simulated "
          f"{'/'.join(f'{q:.0f}' for q in sim_q)} | {len(real['games'])} team-games | within 5 points: "
          f"{'met' if np.all(np.abs(real_q - sim_q) <= 5) else '**not met**'} |")
    if args.picture:
        picture(real["pps"], [d["pps"] for d in drawn], args.picture, args.setting)


def picture(real: pd.Series, drawn: list, path: Path, setting: str) -> None:
    """Points per shot allowed per defense: the simulated halves' median and central 90% against the real value."""
    from nba_ml.plots import plt, save_figure
    stacked = np.stack([d.reindex(real.index).to_numpy() for d in drawn])
    order = np.argsort(np.median(stacked, axis=0))
    lo, mid, hi = (np.percentile(stacked, q, axis=0)[order] for q in (5, 50, 95))
    figure, axes = plt.subplots(figsize=(10, 4.2))
    x = np.arange(len(order))
    axes.vlines(x, lo, hi, color="#9db4d3", linewidth=6, label="simulated halves: central 90%")
    axes.plot(x, mid, "_", color="#1f4e8c", markersize=12, label="simulated: median")
    axes.plot(x, real.to_numpy()[order], "o", color="#c0392b", markersize=6, label="real second half")
    axes.set_xticks(x, real.index.to_numpy()[order], rotation=90, fontsize=8)
    axes.set_ylabel("points per shot allowed (field goals)")
    axes.set_title(f"Points per shot each defense allowed: {setting}, {len(drawn)} simulated halves against the real one")
    axes.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    save_figure(figure, path)
    plt.close(figure)


if __name__ == "__main__":
    main()
