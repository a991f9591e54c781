"""Draw the pictures of README.md and docs/shot_charts.md from the shared 2022-23 season.

    python docs/pictures/draw.py                      # 140 s, 1.0 GB on a 2-core CPU with other work beside it
    python docs/pictures/draw.py --shared DIR --out DIR --steps 600 --seed 0

Trains the shipped shot-chart config (nba_ml/configs/shot_charts.yaml) briefly, as
tests/shots/test_real_season_quality.py does, and writes two small PNGs with the package's
own picture functions:

- generated_vs_real.png: real 2022-23 player-seasons beside charts the model generates for the
  same position groups (G, F, C), the same number of shots drawn from every chart
  (nba_ml.shots.pictures.plot_models_against_real);
- player_card.png: the cards of a few well-known players (`nba-ml profile --plot`): his recorded
  2022-23 shots, a season simulated from his profile, his FG% by zone against the league's;
- defense_card.png: the defense card of the whole season's profiles (`nba-ml profile --plot` draws it
  beside the player cards): per defense, points per shot and per zone share and FG% allowed less expected.

The season itself stays in ../shared/data (its terms: internal use only); only the pictures are
committed. The same arguments draw the same pictures.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml
from PIL import Image  # matplotlib's own dependency

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # this checkout's package, installed or not

from nba_ml.cli import apply_overrides  # noqa: E402
from nba_ml.shots import load_shots  # noqa: E402
from nba_ml.shots.model import validate_shot_config  # noqa: E402
from nba_ml.shots.pictures import plot_defense_card, plot_models_against_real, plot_player_cards  # noqa: E402
from nba_ml.shots.training import train_shot_model  # noqa: E402

SEASON_FILE = "nba_shots_2022-23_regular_season.csv.gz"
CARD_PLAYERS = (201939, 203954)  # Stephen Curry (G) and Joel Embiid (C): two shot diets far apart


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data",
                        help="folder holding the shared seasons (default: ../shared/data beside the repository)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "pictures", help="folder for the PNGs")
    parser.add_argument("--steps", type=int, default=600, help="training steps (the shipped config trains 3,000)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the training, the charts drawn and the profiles")
    parser.add_argument("--players", type=int, nargs="+", default=list(CARD_PLAYERS),
                        help="PLAYER_IDs of the 2022-23 players on the card")
    args = parser.parse_args()
    started = time.perf_counter()

    raw = yaml.safe_load((REPO / "nba_ml" / "configs" / "shot_charts.yaml").read_text())
    raw = apply_overrides(raw, [(["gan", "train", "steps"], args.steps), (["gan", "train", "log_every"], args.steps),
                                (["gan", "train", "seed"], args.seed)])
    shots, _ = load_shots(args.shared / SEASON_FILE)
    model, _, charts = train_shot_model(validate_shot_config(raw), shots)
    print(f"trained {args.steps} steps on {len(charts)} player-seasons of 2022-23 ({time.perf_counter() - started:.0f} s)")

    K = model.config.shots_per_chart
    print(small_png(plot_models_against_real(
        {"generated": model}, charts, args.out / "generated_vs_real.png", seed=args.seed,
        title=f"2022-23: real player-seasons and generated charts, {K} shots drawn from each")))

    record = shots[shots["PLAYER_ID"].isin(args.players)]
    profiles = model.player_profiles(record, seed=args.seed)
    print(small_png(plot_player_cards(profiles, args.out / "player_card.png", observed=record, players=args.players,
                                      title="Player cards, 2022-23 (nba-ml profile --plot)")))
    season = model.player_profiles(shots, seed=args.seed)
    print(small_png(plot_defense_card(season.defenses, args.out / "defense_card.png",
                                      title="Defenses, 2022-23: allowed less expected (nba-ml profile --plot)")))
    print(f"done in {time.perf_counter() - started:.0f} s")


def small_png(path: Path) -> str:
    """Rewrite a PNG with an adaptive palette of 256 colours: a third of its bytes, no visible change (the pictures
    are flat colours and dots). Returns what was written."""
    with Image.open(path) as image:
        palette = image.convert("RGB").quantize(256)
    palette.save(path, optimize=True)
    return f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)"


if __name__ == "__main__":
    main()
