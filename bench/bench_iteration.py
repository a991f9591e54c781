"""Time one generator iteration (n_critic critic steps + one generator step) of train()'s code
path against the textbook WGAN-GP (../shared/bench/textbook_wgangp.py) and against the same loop
without the penalty (the floor), on the same networks, batches and optimizers, on CPU.

    python bench/bench_iteration.py                   # the table, flush_denormal on and off
    python bench/bench_iteration.py --rounds 9 --pairs shot points2d
    python bench/bench_iteration.py --memory 3000     # also: RSS over a long run (no growth?)
    python bench/bench_iteration.py --threads 1       # one intra-op thread (steadier on a shared CPU)

Variants are interleaved: every round times a block of iterations of each variant, in an
order that rotates between rounds, so that load from other processes falls on all of them
alike. The figure of a variant is the median over its blocks of the block's median; the
range is the smallest and largest block median. Figures are recorded in docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import torch
from torch import Tensor

from nba_ml.gan import train, validate_config
from nba_ml.gan import training
from nba_ml.gan.config import deep_merge
from nba_ml.phase5.config import recommended_config

SHARED = Path(__file__).resolve().parents[2] / "shared"
sys.path.insert(0, str(SHARED / "bench"))
from textbook_wgangp import textbook_iteration  # noqa: E402

# name -> (GAN config, batch shape, iterations per timed block)
PAIRS = {
    # the shipped shot-chart config: a conditional MLP on 16 basis weights, batch 64
    "shot": (recommended_config("shot_charts")["gan"], (64, 16), 20),
    # the recommended point config (nba_ml/configs/points2d.yaml), batch 256
    "points2d": (recommended_config("points2d"), (256, 2), 20),
    # a shot-chart sized conv pair: 2 channels, 32x32 grid, batch 64
    "conv": ({"model": {"kind": "conv", "latent_dim": 64, "base_channels": 32}, "train": {"batch_size": 64}},
             (64, 2, 32, 32), 2),
}
# variant -> loss settings laid over the pair's config ("textbook" runs the baseline on the same networks)
VARIANTS = {
    "penalty": {"gp_every": 1},
    "lazy": {"gp_every": 4},
    "subset": {"gp_batch": 0.25},  # the penalty on a quarter of the batch (--gp-batch)
    "floor": {"gp_weight": 0.0},
    "textbook": {},
}


@dataclass
class Run:
    state: training.TrainState
    real: Tensor
    labels: Optional[Tensor]


def setup(pair: str, variant: str = "penalty", seed: int = 0) -> Run:
    raw, shape, _ = PAIRS[pair]
    cfg = validate_config(deep_merge(raw, {"loss": VARIANTS[variant]})).with_data_shape(shape[1:])
    torch.manual_seed(seed)
    state = training.build_state(cfg, torch.device("cpu"))
    labels = torch.randint(cfg.model.num_classes, (shape[0],)) if cfg.model.num_classes else None
    return Run(state, torch.rand(shape) * 2 - 1, labels)


def ours(run: Run) -> None:
    """One generator iteration exactly as train() orders it."""
    for _ in range(run.state.cfg.loss.n_critic):
        training.critic_step(run.state, run.real, run.labels)
    training.generator_step(run.state, run.labels, run.real.shape[0])


def textbook(run: Run) -> None:
    state, labels = run.state, run.labels
    critic = lambda x: state.critic(x, labels)  # the textbook is unconditional: the labels ride along
    generator = lambda z: state.generator(z, labels)
    sample_z = lambda n: torch.randn(n, state.cfg.model.latent_dim)
    textbook_iteration(critic, generator, state.opt_critic, state.opt_generator, run.real, sample_z,
                       n_critic=state.cfg.loss.n_critic, lam=state.cfg.loss.gp_weight)


def block(fn: Callable[[Run], None], run: Run, iters: int) -> float:
    """Median seconds per iteration over one block of `iters` iterations."""
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn(run)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(pair: str, rounds: int, flushes: tuple[bool, ...]) -> dict[tuple[str, bool], list[float]]:
    """Block medians of every (variant, flush_denormal), interleaved round by round."""
    runs = {(v, f): setup(pair, v) for v in VARIANTS for f in flushes}
    fns = {v: textbook if v == "textbook" else ours for v in VARIANTS}
    iters = PAIRS[pair][2]
    for (variant, flush), run in runs.items():  # warm-up
        torch.set_flush_denormal(flush)
        fns[variant](run)
    keys = list(runs)
    out: dict[tuple[str, bool], list[float]] = {k: [] for k in keys}
    for r in range(rounds):
        for variant, flush in keys[r % len(keys):] + keys[: r % len(keys)]:
            torch.set_flush_denormal(flush)
            out[(variant, flush)].append(block(fns[variant], runs[(variant, flush)], iters))
    return out


def rss_mb() -> float:
    """Resident memory of this process now (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def memory_over(steps: int) -> list[tuple[int, float]]:
    """RSS at every tenth of a train() run of the shipped shot config on random weights (growth check)."""
    samples = []
    cfg = deep_merge(PAIRS["shot"][0], {"train": {"steps": steps, "log_every": max(1, steps // 10)}})
    data = torch.utils.data.TensorDataset(torch.softmax(torch.randn(2000, 16), 1).sqrt() * 2 - 1, torch.randint(3, (2000,)))
    train(cfg, data, callbacks=(lambda s, m: m and samples.append((s.step, rss_mb())),))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed blocks per variant")
    parser.add_argument("--pairs", nargs="+", choices=list(PAIRS), default=list(PAIRS))
    parser.add_argument("--no-flush-off", action="store_true", help="time with flush_denormal on only")
    parser.add_argument("--memory", type=int, default=0, help="also: RSS over a train() run of this many steps")
    parser.add_argument("--gp-batch", type=float, default=0.25, help="loss.gp_batch of the 'subset' variant")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    flushes = (True,) if args.no_flush_off else (True, False)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.rounds} rounds")
    VARIANTS["subset"] = {"gp_batch": args.gp_batch}
    print(f"subset: loss.gp_batch={args.gp_batch}")
    print("| pair | flush_denormal | penalty ms | lazy ms | subset ms | floor ms | textbook ms | penalty / floor "
          "| lazy / floor | subset / floor | textbook / floor | speed-up over textbook: penalty, lazy, subset |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for pair in args.pairs:
        blocks = measure(pair, args.rounds, flushes)
        for flush in flushes:
            med = {v: statistics.median(blocks[(v, flush)]) for v in VARIANTS}
            ms = " | ".join(f"{1000 * med[v]:.1f} ({1000 * min(blocks[(v, flush)]):.1f}-{1000 * max(blocks[(v, flush)]):.1f})"
                            for v in VARIANTS)
            ratios = " | ".join(f"{med[v] / med['floor']:.2f}" for v in ("penalty", "lazy", "subset", "textbook"))
            speedups = ", ".join(f"x{med['textbook'] / med[v]:.2f}" for v in ("penalty", "lazy", "subset"))
            print(f"| {pair} | {'on' if flush else 'off'} | {ms} | {ratios} | {speedups} |", flush=True)
    if args.memory:
        torch.set_flush_denormal(True)
        trace = memory_over(args.memory)
        print("RSS MB at steps: " + ", ".join(f"{step}: {mb:.0f}" for step, mb in trace))


if __name__ == "__main__":
    main()
