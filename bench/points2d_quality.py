"""How good, and how fast, is the recommended point-data config on the 25-Gaussian grid?

    python bench/points2d_quality.py                      # nba_ml/configs/points2d.yaml, flush_denormal on
    python bench/points2d_quality.py --no-flush-denormal  # the same with denormal floats allowed
    python bench/points2d_quality.py --seed 1 --set loss.gp_batch=0.25

Trains on 100,000 samples of the 25-Gaussian benchmark, then draws 2,500 samples
and reports modes covered and the high-quality share (within 3 std of the nearest
mode), with the wall-clock training time. Figures are recorded in docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from nba_ml.cli import apply_overrides, parse_override
from nba_ml.gan import load_config, make_points, mode_coverage, train
from nba_ml.gan.config import deep_merge, validate_config

CONFIG = Path(__file__).resolve().parents[1] / "nba_ml" / "configs" / "points2d.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(CONFIG))
    parser.add_argument("--no-flush-denormal", action="store_true")
    parser.add_argument("--seed", type=int, help="train.seed (default: the config's); the data stay those of seed 0")
    parser.add_argument("--set", action="append", type=parse_override, default=[], help="config override, e.g. loss.gp_batch=0.25")
    args = parser.parse_args()
    raw = apply_overrides(load_config(args.config).model_dump(), args.set)
    override = {"train": {"flush_denormal": not args.no_flush_denormal, **({} if args.seed is None else {"seed": args.seed})}}
    cfg = validate_config(deep_merge(raw, override))
    data = make_points("25gaussians", 100_000, seed=0)

    def progress(state, logged):
        if logged is not None:
            found = mode_coverage(state.sampler.sample(2500, seed=1), data.modes, data.mode_std)
            state.generator.train()
            print(f"step {state.step:>6}  {logged['time/elapsed_s']:6.1f}s  modes {found['quality/modes_covered']:.0f}/25"
                  f"  hq {found['quality/hq_pct']:5.1f}%  grad-norm {logged['grad_norm/mean']:.3f}", flush=True)

    started = time.perf_counter()
    result = train(cfg, data.samples, callbacks=(progress,))
    seconds = time.perf_counter() - started
    final = mode_coverage(result.generator.sample(2500, seed=1), data.modes, data.mode_std)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, flush_denormal={cfg.train.flush_denormal}")
    print(f"final: {final['quality/modes_covered']:.0f}/25 modes, {final['quality/hq_pct']:.1f}% high quality, "
          f"{cfg.train.steps} steps in {seconds:.0f} s ({1000 * seconds / cfg.train.steps:.1f} ms/step, evaluation included)")


if __name__ == "__main__":
    main()
