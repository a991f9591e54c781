"""Command line: `nba-ml phase5` (also `python -m nba_ml phase5`) runs the Phase 5 GAN recommendations."""
from __future__ import annotations

import argparse
import sys
from typing import Optional

from .gan import ConfigError


def _phase5(args: argparse.Namespace) -> int:
    from .phase5.runner import PLUGINS, run_all, summary_lines, update_index

    results = run_all({"mode": args.mode}, only=args.only, artifacts_root=args.artifacts)
    print("\n".join(summary_lines(results)))
    if args.only is None or set(args.only) == set(PLUGINS):
        update_index(results)
    return 0 if all(r["success"] for r in results.values()) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nba-ml", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    phase5 = commands.add_parser("phase5", help="run rec_115 and rec_098, print a summary, update their STATUS.md")
    phase5.add_argument("--mode", choices=["production", "development", "test"], default="production",
                        help="training budget: production (minutes), development (about a minute), test (seconds)")
    phase5.add_argument("--only", nargs="+", choices=["rec_115", "rec_098"], help="run only these recommendations")
    phase5.add_argument("--artifacts", metavar="DIR", help="artifacts go to DIR/<rec_id> (default: artifacts/<rec_id>)")
    phase5.set_defaults(func=_phase5)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as err:
        print(f"nba-ml: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
