"""Per-player random streams: the one way the player-level code seeds a player's numbers.

    streams = PlayerStreams(root_entropy(seed), Stream.SAMPLE)
    rng = streams.of(player_key(player_id))       # a numpy Generator at the start of his stream
    g = streams.torch_generator(player_key(player_id))   # the same stream's seed, for torch

Each use of random numbers (`Stream`) has a stream per player, set from a hash of (root seed, his key, the
use): the same seed gives a player the same numbers whoever else is in the call, in whatever order, and
two uses never share numbers.
"""
from __future__ import annotations

import hashlib
from enum import IntEnum
from typing import Optional

import numpy as np
import torch

from ...errors import InputError


class Stream(IntEnum):
    """The uses of a player's random numbers, each its own stream."""

    POSTERIOR = 0  # the chart posterior's particles: labels, latents, resampling, moves, the charts kept
    RECORD = 1  # his record's share and weights in each posterior chart
    SAMPLE = 11  # PlayerProfiles.sample
    MAKES = 12  # PlayerProfiles.make_prob's posterior draws
    TABLE = 13  # PlayerProfiles.table's posterior draws
    ZONES = 21  # nba-ml makes' zone intervals
    SEASON = 31  # PlayerProfiles.draw: a simulated season's draw of his zones (and of each defense's profile)
    DRAW = 32  # PlayerProfiles.draw: the shots
    SEASON_MAKES = 33  # PlayerProfiles.draw: a simulated season's draw of his zone make offsets


def player_key(player_id) -> int:
    """A stable 63-bit key of a player id: the same id, the same key, in any process; 203078 and '203078' differ."""
    text = f"{type(player_id).__name__}:{player_id}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little") >> 1


def root_entropy(seed: Optional[int]) -> int:
    """The root of every stream: the seed itself, or fresh entropy when it is None (numpy's and torch's meaning:
    every function of the player-level code that takes `seed=None` means this)."""
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


class PlayerStreams:
    """The streams of one use, cheaply: one numpy Generator whose PCG64 state (and stream increment) is set from
    the hash for each player in turn. `of(key)` returns it set to the start of his stream (valid until the next
    call); `torch_generator(key)` a torch.Generator seeded from the same hash."""

    def __init__(self, root: int, stream: Stream):
        self.root, self.stream = int(root), int(stream)
        self.generator = np.random.Generator(np.random.PCG64(0))

    def _digest(self, key: int) -> bytes:
        return hashlib.blake2b(f"{self.root}:{key}:{self.stream}".encode(), digest_size=32).digest()

    def of(self, key: int) -> np.random.Generator:
        digest = self._digest(key)
        self.generator.bit_generator.state = {
            "bit_generator": "PCG64", "has_uint32": 0, "uinteger": 0,
            "state": {"state": int.from_bytes(digest[:16], "little"), "inc": int.from_bytes(digest[16:], "little") | 1}}
        return self.generator

    def torch_generator(self, key: int) -> torch.Generator:
        return torch.Generator().manual_seed(int.from_bytes(self._digest(key)[:8], "little") >> 1)
