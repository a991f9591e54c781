"""How often `zone_of` agrees with the NBA's recorded SHOT_ZONE_BASIC labels.

Usage: python bench/zone_agreement.py [--data-dir DIR]

Loads every `nba_shots_*_regular_season.csv.gz` in DIR (default: ../shared/data
beside the repository) with `load_shots(..., keep_backcourt=True)`, so the
agreement covers ALL rows of each season, backcourt heaves included: those are
exactly where the Backcourt / Above the Break 3 boundary is tested. It prints the
load report, the agreement per season and the most common disagreements.
Exits 1 if any season agrees on less than MIN_AGREEMENT of its rows.
"""

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run from a checkout without installing the package

from nba_ml.shots.court import zone_of  # noqa: E402
from nba_ml.shots.loader import load_shots  # noqa: E402

MIN_AGREEMENT = 0.995
TOP_CONFUSIONS = 10


def season_agreement(path: Path) -> float:
    """Print the agreement report for one season file and return the agreement."""
    started = time.perf_counter()
    shots, report = load_shots(path, keep_backcourt=True)
    load_seconds = time.perf_counter() - started
    print(report)
    print(f"  loaded in {load_seconds:.2f} s")

    recorded = shots["SHOT_ZONE_BASIC"].to_numpy()
    predicted = zone_of(shots["LOC_X"].to_numpy(), shots["LOC_Y"].to_numpy())
    agrees = recorded == predicted
    agreement = agrees.mean()
    print(f"  zone agreement: {agreement:.4%} ({agrees.sum():,} of {len(agrees):,} rows)")
    if not agrees.all():
        confusions = pd.DataFrame({"recorded": recorded[~agrees], "predicted": predicted[~agrees]})
        counts = confusions.value_counts().head(TOP_CONFUSIONS)
        print("  top confusions (recorded -> predicted: rows):")
        for (recorded_zone, predicted_zone), count in counts.items():
            print(f"    {recorded_zone} -> {predicted_zone}: {count:,}")
    return agreement


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    paths = sorted(args.data_dir.glob("nba_shots_*_regular_season.csv.gz"))
    if not paths:
        print(f"no nba_shots_*_regular_season.csv.gz files in {args.data_dir}", file=sys.stderr)
        return 2
    agreements = {path.name: season_agreement(path) for path in paths}
    print()
    for name, agreement in agreements.items():
        print(f"{name}: {agreement:.4%}")
    return 0 if min(agreements.values()) >= MIN_AGREEMENT else 1


if __name__ == "__main__":
    sys.exit(main())
