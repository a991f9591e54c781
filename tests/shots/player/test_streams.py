"""Per-player random streams: a player's numbers depend on the seed, his id and the use, nothing else."""
import numpy as np
import pytest
import torch

from nba_ml.errors import InputError
from nba_ml.shots.player.streams import PlayerStreams, Stream, player_key, root_entropy


def test_a_key_is_stable_and_tells_an_int_id_from_its_text():
    assert player_key(203078) == player_key(203078) != player_key("203078")
    assert player_key(203078) == 4297261741446968201  # the same in any process (a hash, not Python's hash())
    assert 0 <= player_key("P1") < 2**63


def test_a_players_stream_depends_on_the_seed_his_key_and_the_use_only():
    key, other = player_key(203078), player_key(1630162)
    sample = PlayerStreams(7, Stream.SAMPLE)
    first = sample.of(key).random(4)
    sample.of(other).random(100)  # another player in between changes nothing
    assert np.array_equal(sample.of(key).random(4), first)
    assert np.array_equal(PlayerStreams(7, Stream.SAMPLE).of(key).random(4), first)
    assert not np.array_equal(sample.of(other).random(4), first)
    assert not np.array_equal(PlayerStreams(8, Stream.SAMPLE).of(key).random(4), first)
    assert not np.array_equal(PlayerStreams(7, Stream.MAKES).of(key).random(4), first)


def test_the_torch_generator_follows_the_same_stream():
    streams = PlayerStreams(7, Stream.POSTERIOR)
    a = torch.randn(3, generator=streams.torch_generator(player_key(5)))
    assert torch.equal(torch.randn(3, generator=PlayerStreams(7, Stream.POSTERIOR).torch_generator(player_key(5))), a)
    assert not torch.equal(torch.randn(3, generator=streams.torch_generator(player_key(6))), a)
    assert not torch.equal(torch.randn(3, generator=PlayerStreams(7, Stream.RECORD).torch_generator(player_key(5))), a)


def test_the_root_is_the_seed_or_fresh_entropy():
    assert root_entropy(0) == 0 and root_entropy(np.int64(12)) == 12
    assert root_entropy(None) != root_entropy(None)
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(InputError, match="seed must be a non-negative integer or None"):
            root_entropy(bad)
