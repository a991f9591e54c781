"""What a GAN could reach at best with each chart representation: the training charts themselves.

    python bench/chart_representation.py            # charts of 2022-23, judged on 2017-18

Draws K = 200 shots from every training chart of the shipped config (20-game
charts of 2022-23) as it would be represented to the GAN: the raw counts, blurred
by one cell (the earlier shipped config), and rebuilt from its mixture weights on
a basis of 8, 16 or 32 maps (nba_ml.shots.basis). A generator that reproduced the
training charts exactly would score these figures against the unseen season.
Needs ../shared/data beside the checkout.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import yaml
from shot_model_quality import season_file  # bench/ is on sys.path when this script runs

from nba_ml.shots import load_shots
from nba_ml.shots.basis import fit_basis
from nba_ml.shots.charts import blur_density, decode_density, draw_shots, encode_density, make_charts
from nba_ml.shots.model import validate_shot_config
from nba_ml.shots.quality import real_charts, shot_quality

REPO = Path(__file__).resolve().parents[1]
KEYS = ("zone_mae_pp", "frechet", "precision", "recall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--train", default="2022-23")
    parser.add_argument("--judge", default="2017-18")
    args = parser.parse_args()

    cfg = validate_shot_config(yaml.safe_load((REPO / "nba_ml" / "configs" / "shot_charts.yaml").read_text()))
    train_shots, _ = load_shots(season_file(Path(args.data_dir), args.train))
    judge_shots, _ = load_shots(season_file(Path(args.data_dir), args.judge))
    charts = make_charts(train_shots, cfg.charts)
    reference = real_charts(judge_shots, cfg.shots_per_chart, seed=0)
    groups = [charts.position_groups[i] for i in charts.labels.tolist()]

    variants = {"raw counts": charts.charts,
                "blurred 1 cell": encode_density(blur_density(decode_density(charts.charts), 1.0)).unsqueeze(1)}
    for k in (8, 16, 32):
        basis = fit_basis(charts.charts, k)
        variants[f"basis of {k} maps"] = basis.charts(basis.weights(charts.charts))

    print(f"{len(charts)} charts of {args.train} ({cfg.charts.unit}), K={cfg.shots_per_chart} shots each, "
          f"judged on {args.judge}")
    print(f"{'representation':<18}" + "".join(f"{k:>12}" for k in KEYS) + "   recall G / F / C")
    for name, encoded in variants.items():
        shots = draw_shots(encoded, cfg.shots_per_chart, seed=0)
        shots["POSITION_GROUP"] = [groups[i] for i in shots["CHART_ID"]]
        q = shot_quality(reference, shots, by="POSITION_GROUP")
        per_group = " / ".join(f"{q[f'shots/{g}/recall']:.3f}" for g in ("G", "F", "C"))
        print(f"{name:<18}" + "".join(f"{q[f'shots/{k}']:12.4f}" for k in KEYS) + f"   {per_group}")


if __name__ == "__main__":
    main()
