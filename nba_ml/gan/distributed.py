"""Several processes, one run: torchrun's environment, the process group, and each rank's rows.

    torchrun --nproc_per_node=N -m nba_ml train --config ... --data ... --out DIR

starts N copies of the command; each one finds RANK, WORLD_SIZE, LOCAL_RANK,
MASTER_ADDR and MASTER_PORT in its environment and joins one process group
(gloo on CPU, NCCL on CUDA) with `join()`. Without torchrun's environment a
run is a single process, as always.

How a distributed run stays the run of one process on the combined batch: all
ranks seed alike and draw the random numbers of the whole batch (data rows,
noise, interpolation weights), and each keeps its own slice of them
(`local_rows`): its own data shard and its own noise, disjoint from the other
ranks'. DistributedDataParallel averages the gradients, so each update is the
update of the combined batch, and the ranks' weights and RNG states stay
identical; rank 0's checkpoint resumes every rank.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import torch
import torch.distributed as dist
from torch import Tensor

from .config import ConfigError

TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
BACKENDS = {"cpu": "gloo", "cuda": "nccl"}  # device type -> process-group backend


@dataclass(frozen=True)
class World:
    rank: int = 0  # this process's index, 0 .. world_size - 1
    world_size: int = 1  # processes training the run together
    local_rank: int = 0  # index on this machine: which GPU it uses

    @property
    def is_main(self) -> bool:
        """Rank 0: the only one that writes logs, checkpoints, pictures and summaries."""
        return self.rank == 0

    def local_rows(self, rows: Tensor) -> Tensor:
        """This rank's slice of the combined batch's rows (all ranks drew the same `rows`)."""
        size = rows.shape[0] // self.world_size
        return rows[self.rank * size:(self.rank + 1) * size]

    def mean(self, values: Tensor) -> Tensor:
        """`values` averaged over the ranks (the same on every rank); every rank must call it."""
        if self.world_size == 1:
            return values
        values = values.clone()
        dist.all_reduce(values)
        return values / self.world_size

    def agree(self, error: Optional[BaseException]) -> None:
        """Re-raise `error`, or fail on every rank when another rank failed: no rank waits for ever."""
        if self.world_size > 1:
            device = torch.device("cuda", self.local_rank) if dist.get_backend() == "nccl" else torch.device("cpu")
            failed = torch.tensor([0 if error is None else 1], device=device)
            dist.all_reduce(failed)
            if error is None and failed.item():
                raise RuntimeError(f"another rank failed before training (rank {self.rank} stops too); see its error")
        if error is not None:
            raise error


def current() -> World:
    """The world this process trains in: from the process group once joined, else a single process."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))
    return World()


def join(device_type: str) -> World:
    """Join the process group that torchrun's environment describes (once); a single process without it.

    Raises ConfigError for an incomplete torchrun environment (some of TORCHRUN_ENV set, not all).
    """
    if dist.is_available() and dist.is_initialized():
        return current()
    present = [k for k in TORCHRUN_ENV if k in os.environ]
    if not present:
        return World()
    missing = [k for k in TORCHRUN_ENV if k not in os.environ]
    if missing:
        raise ConfigError(f"incomplete torchrun environment: {', '.join(present)} set but {', '.join(missing)} missing; "
                          "start distributed training with `torchrun --nproc_per_node=N -m nba_ml train ...`")
    if int(os.environ["WORLD_SIZE"]) == 1:
        return World()
    if not dist.is_available():
        raise ConfigError("this PyTorch build has no torch.distributed; distributed training is not possible")
    if device_type == "cuda":
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    dist.init_process_group(BACKENDS[device_type])
    return current()


def leave() -> None:
    """Leave the process group, if this process joined one (end of a torchrun command). The ranks meet
    first, so that no rank tears down its connections while another still has collectives in flight
    (that aborted a rank now and then: "terminate called without an active exception")."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
