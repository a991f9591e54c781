"""Time one generator iteration (n_critic critic steps + one generator step) of nba_ml's
training code path against the textbook WGAN-GP (../shared/bench/textbook_wgangp.py),
on the same networks, batches and optimizers, on CPU.

    python bench/bench_iteration.py                  # MLP and conv pairs, flush_denormal on and off
    python bench/bench_iteration.py --drift 3000     # also: does speed drift over a long run?

Figures are recorded in docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

from nba_ml.gan import make_points, train, validate_config
from nba_ml.gan import training
from nba_ml.gan.networks import build_critic, build_generator

SHARED = Path(__file__).resolve().parents[2] / "shared"
sys.path.insert(0, str(SHARED / "bench"))
from textbook_wgangp import textbook_iteration  # noqa: E402

PAIRS = {
    # the recommended point-data networks (nba_ml/configs/points2d.yaml)
    "mlp": ({"model": {"kind": "mlp", "latent_dim": 2, "hidden_dim": 256, "depth": 3}}, (256, 2)),
    # a shot-chart sized conv pair: 2 channels, 32x32 grid
    "conv": ({"model": {"kind": "conv", "latent_dim": 64, "base_channels": 32}}, (64, 2, 32, 32)),
}


def setup(pair: str, seed: int = 0):
    raw, shape = PAIRS[pair]
    cfg = validate_config(raw).with_data_shape(shape[1:])
    torch.manual_seed(seed)
    generator, critic = build_generator(cfg), build_critic(cfg)
    opt_c, opt_g = training.make_optimizers(cfg, critic, generator)
    state = training.TrainState(cfg, generator, critic, opt_g, opt_c, torch.device("cpu"))
    return state, torch.randn(shape)


def ours(state, real):
    for _ in range(state.cfg.loss.n_critic):
        training.critic_step(state, real, None)
    training.generator_step(state, None, real.shape[0])


def textbook(state, real):
    sample_z = lambda n: torch.randn(n, state.cfg.model.latent_dim)
    textbook_iteration(state.critic, state.generator, state.opt_critic, state.opt_generator, real, sample_z,
                       n_critic=state.cfg.loss.n_critic, lam=state.cfg.loss.gp_weight)


def time_iterations(fn, pair: str, iters: int, warmup: int = 3) -> float:
    """Median seconds per generator iteration."""
    state, real = setup(pair)
    for _ in range(warmup):
        fn(state, real)
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn(state, real)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def drift(steps: int, flush: bool) -> tuple[float, float]:
    """ms per iteration over the first and last 10% of a weight-clipping run (tiny weights: denormal-prone)."""
    stamps = []
    cfg = {"model": {"latent_dim": 2, "hidden_dim": 256, "depth": 3}, "loss": {"kind": "wgan-clip"},
           "train": {"steps": steps, "log_every": max(1, steps // 10), "flush_denormal": flush}}
    torch.set_flush_denormal(flush)
    train(cfg, make_points("25gaussians", 20000).samples, callbacks=(lambda s, m: m and stamps.append(m["time/elapsed_s"]),))
    per_log = [b - a for a, b in zip([0.0] + stamps[:-1], stamps)]
    return 1000 * per_log[0] / (steps // 10), 1000 * per_log[-1] / (steps // 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--drift", type=int, default=0, help="also run a weight-clipping run of this many steps")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for flush in (True, False):
        torch.set_flush_denormal(flush)
        for pair in PAIRS:
            t_ours, t_book = time_iterations(ours, pair, args.iters), time_iterations(textbook, pair, args.iters)
            print(f"flush_denormal={flush!s:<5} {pair:<4}: nba_ml {1000 * t_ours:7.1f} ms/iter   "
                  f"textbook {1000 * t_book:7.1f} ms/iter   speed-up x{t_book / t_ours:.2f}")
    if args.drift:
        for flush in (True, False):
            first, last = drift(args.drift, flush)
            print(f"drift, flush_denormal={flush!s:<5}: first 10% {first:.1f} ms/iter, last 10% {last:.1f} ms/iter")


if __name__ == "__main__":
    main()
