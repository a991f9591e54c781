"""Train the shipped shot-chart config on one real season and judge it on the other.

    python bench/shot_model_quality.py                                   # train 2022-23, judge on 2017-18
    python bench/shot_model_quality.py --train 2017-18 --judge 2022-23
    python bench/shot_model_quality.py --set gan.train.steps=500         # quicker look

Prints training time, peak memory (max RSS), and the shot metrics overall and per
position group next to their floor: the same metrics between the two real seasons.
Figures are recorded in docs/benchmarks.md. Needs ../shared/data beside the checkout.
Two seasons five years apart have a high floor (0.013) that hides a model several times off; the
split of one season by players, with its floor and references that are no GAN, is
bench/chart_split_quality.py.
"""
from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import yaml

from nba_ml.cli import apply_overrides, parse_override
from nba_ml.shots import load_shots
from nba_ml.shots.model import validate_shot_config
from nba_ml.shots.quality import evaluate_shot_model
from nba_ml.shots.training import train_shot_model
from nba_ml.shots.quality import HALF_COURT_ZONES, quality_floor

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
KEYS = ("zone_mae_pp", "frechet", "precision", "recall")


def season_file(data_dir: Path, season: str) -> Path:
    return data_dir / f"nba_shots_{season}_regular_season.csv.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "nba_ml" / "configs" / "shot_charts.yaml"))
    parser.add_argument("--data-dir", default=str(DATA))
    parser.add_argument("--train", default="2022-23")
    parser.add_argument("--judge", default="2017-18")
    parser.add_argument("--set", action="append", type=parse_override, default=[])
    parser.add_argument("--save", help="directory to save the trained model to")
    args = parser.parse_args()

    cfg = validate_shot_config(apply_overrides(yaml.safe_load(Path(args.config).read_text()), args.set))
    train_shots, report = load_shots(season_file(Path(args.data_dir), args.train))
    judge_shots, _ = load_shots(season_file(Path(args.data_dir), args.judge))
    print(report)

    started = time.perf_counter()
    model, result, charts = train_shot_model(cfg, train_shots)
    seconds = time.perf_counter() - started
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"trained {cfg.gan.train.steps} steps on {len(charts)} charts of {args.train} in {seconds:.0f} s "
          f"({1000 * seconds / cfg.gan.train.steps:.0f} ms/step); peak memory {peak_gb:.2f} GB (max RSS)")
    if args.save:
        model.save(args.save)

    metrics = evaluate_shot_model(model, judge_shots, seed=0)
    floor = quality_floor(judge_shots, train_shots, cfg.shots_per_chart, by="POSITION_GROUP")
    print(f"\njudged on {args.judge} (K={cfg.shots_per_chart}); floor = {args.train} real shots against {args.judge}")
    print(f"{'group':<6}" + "".join(f"{k:>22}" for k in KEYS))
    for group in ("", "G/", "F/", "C/"):
        cells = [f"{metrics[f'shots/{group}{k}']:9.4f} ({floor[f'shots/{group}{k}']:8.4f})" for k in KEYS]
        print(f"{(group[:-1] or 'all'):<6}" + "".join(f"{c:>22}" for c in cells))
    print("cells: model (floor)")
    if cfg.charts.channels == "attempts+makes":
        print_make_rates(model, train_shots, judge_shots, args.train, args.judge)


def print_make_rates(model, train_shots, judge_shots, train_name: str, judge_name: str) -> None:
    """Field-goal percentage per zone: generated shots' mean MAKE_PROB against both real seasons."""
    generated = model.sample_shots(2000, model.config.shots_per_chart, seed=0)
    rows = {"generated": generated.groupby("SHOT_ZONE_BASIC")["MAKE_PROB"].mean(),
            train_name: train_shots.groupby("SHOT_ZONE_BASIC")["SHOT_MADE_FLAG"].mean(),
            judge_name: judge_shots.groupby("SHOT_ZONE_BASIC")["SHOT_MADE_FLAG"].mean()}
    zones = [zone for zone in HALF_COURT_ZONES if zone in rows["generated"].index]
    print(f"\nmake rate per zone (generated: mean MAKE_PROB of 2,000 charts x {model.config.shots_per_chart} shots)")
    print(f"{'':<12}" + "".join(f"{zone[:16]:>18}" for zone in zones))
    for name, rates in rows.items():
        print(f"{name:<12}" + "".join(f"{rates.get(zone, float('nan')):18.3f}" for zone in zones))


if __name__ == "__main__":
    main()
