"""Where a generator iteration's time goes: torch.profiler over n_critic critic steps + one generator
step of train()'s code path, per benchmark pair (bench/bench_iteration.py's PAIRS).

    python bench/profile_critic_step.py [--pair shot|points2d|conv] [--iters 10] [--rows 15] [--threads 1]

Prints the profiler's table sorted by self CPU time; docs/benchmarks.md summarises it.
"""
from __future__ import annotations

import argparse

import torch
from torch.profiler import ProfilerActivity, profile

from bench_iteration import PAIRS, ours, setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", choices=list(PAIRS), default="shot")
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--rows", type=int, default=15)
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    run = setup(args.pair)
    for _ in range(3):
        ours(run)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(args.iters):
            ours(run)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))


if __name__ == "__main__":
    main()
