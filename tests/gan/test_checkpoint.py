"""nba_ml.gan.checkpoint: atomic saves, safe loads, clear refusals, and bitwise-equal resumes."""
import random

import numpy as np
import pytest
import torch

from nba_ml.gan import make_points, train, validate_config
from nba_ml.gan.checkpoint import (
    CheckpointError,
    checkpoint_callback,
    checkpoint_path,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from nba_ml.gan.training import build_state, restore_rng

TINY = {"model": {"latent_dim": 2, "hidden_dim": 16, "depth": 2}, "train": {"steps": 6, "batch_size": 16, "log_every": 2}}


def tiny(**sections):
    return validate_config({k: {**TINY.get(k, {}), **sections.get(k, {})} for k in {*TINY, *sections}})


@pytest.fixture(scope="module")
def points():
    return make_points("8gaussians", 256, seed=0).samples


class Crash(Exception):
    pass


def crash_at(step):
    def callback(state, metrics):
        if state.step == step:
            raise Crash
    return callback


def test_round_trip_restores_weights_optimizers_counters_and_rng(points, tmp_path):
    result = train(tiny(train={"ema_decay": 0.9}), points)
    path = save_checkpoint(result.state, tmp_path)
    assert path == tmp_path / "checkpoints" / "step_00000006.pt"
    saved = load_checkpoint(path, result.config)
    assert saved["format"] == 1 and saved["config"] == result.config.model_dump(mode="json")

    rng_after_save = (torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate())
    torch.manual_seed(123), np.random.seed(123), random.seed(123)
    fresh = build_state(result.config, torch.device("cpu"))
    before_load = torch.get_rng_state()
    fresh.load_state_dict(saved)
    assert torch.equal(torch.get_rng_state(), before_load)  # the process's random state: restore_rng's
    restore_rng(saved["rng"])
    for name in ("generator", "critic", "ema"):
        ours, theirs = getattr(fresh, name).state_dict(), getattr(result.state, name).state_dict()
        assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
    assert fresh.opt_critic.state_dict()["state"][0]["exp_avg"].equal(result.state.opt_critic.state_dict()["state"][0]["exp_avg"])
    assert (fresh.step, fresh.critic_steps, list(fresh.loss_window)) == (6, 30, list(result.state.loss_window))
    assert torch.equal(torch.get_rng_state(), rng_after_save[0])
    assert np.array_equal(np.random.get_state()[1], rng_after_save[1])
    assert random.getstate() == rng_after_save[2]


def test_shape_mismatch_is_refused_naming_it(points, tmp_path):
    result = train(tiny(model={"hidden_dim": 32}), points)
    path = save_checkpoint(result.state, tmp_path)
    message = r"checkpoint generator has hidden_dim 32 \(net.0.weight \(32, 2\)\) but config model.hidden_dim is 16"
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path, tiny())
    with pytest.raises(CheckpointError, match="checkpoint has model.critic_norm 'none' but config model.critic_norm is 'layer'"):
        load_checkpoint(path, tiny(model={"hidden_dim": 32, "critic_norm": "layer"}))
    with pytest.raises(CheckpointError, match="checkpoint has no EMA weights but config train.ema_decay is 0.9"):
        load_checkpoint(path, tiny(model={"hidden_dim": 32}, train={"ema_decay": 0.9}))


class RunsCode:
    """A pickled object that would run code (print) when unpickled."""

    def __reduce__(self):
        return (print, ("unpickled arbitrary code",))


def test_arbitrary_pickled_objects_are_refused(tmp_path, capsys):
    path = tmp_path / "evil.pt"
    torch.save({"format": 1, "payload": RunsCode()}, path)
    with pytest.raises(CheckpointError, match="refusing to unpickle them .*GLOBAL print"):
        load_checkpoint(path, tiny())
    assert "unpickled arbitrary code" not in capsys.readouterr().out


def test_other_files_are_refused(tmp_path):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a nba_ml.gan checkpoint of format 1"):
        load_checkpoint(tmp_path / "other.pt", tiny())
    for damaged in (b"PK\x03\x04 truncated zip", b"not a checkpoint at all"):
        (tmp_path / "damaged.pt").write_bytes(damaged)
        with pytest.raises(CheckpointError, match="not a readable checkpoint"):
            load_checkpoint(tmp_path / "damaged.pt", tiny())


def test_latest_checkpoint_ignores_temp_files(points, tmp_path):
    assert latest_checkpoint(tmp_path) is None
    result = train(tiny(train={"steps": 2}), points)
    complete = save_checkpoint(result.state, tmp_path)
    (tmp_path / "checkpoints" / ".step_00000009.pt.k3j2.tmp").write_bytes(b"half a checkpoint")
    (tmp_path / "checkpoints" / "step_00000010.pt.tmp").write_bytes(b"half a checkpoint")
    assert latest_checkpoint(tmp_path) == complete
    checkpoint_path(tmp_path, 11).write_bytes(complete.read_bytes())
    assert latest_checkpoint(tmp_path) == checkpoint_path(tmp_path, 11)  # by step, not name length or mtime


def test_callback_saves_every_k_steps_and_the_last(points, tmp_path):
    train(tiny(train={"steps": 5}), points, callbacks=(checkpoint_callback(tmp_path, 2),))
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        "step_00000002.pt", "step_00000004.pt", "step_00000005.pt"]


@pytest.mark.parametrize("overrides,every", [
    ({}, 3),  # checkpoint on a step that is not logged
    ({"train": {"ema_decay": 0.9}}, 2),  # on a logged step, with EMA
    ({"optim": {"lr_schedule": "linear"}}, 3),
], ids=["plain", "ema", "linear-lr"])
def test_resume_from_a_checkpoint_equals_an_uninterrupted_run(points, tmp_path, overrides, every):
    cfg = tiny(**overrides)
    uninterrupted = train(cfg, points)

    with pytest.raises(Crash):  # checkpoints at `every`, then the process dies a step later
        train(cfg, points, callbacks=(checkpoint_callback(tmp_path, every), crash_at(every + 1)))
    resumed = train(cfg, points, resume=load_checkpoint(latest_checkpoint(tmp_path), cfg))

    assert resumed.state.step == uninterrupted.state.step == 6
    for net in ("generator", "critic", "sampler"):
        ours, theirs = getattr(resumed.state, net).state_dict(), getattr(uninterrupted.state, net).state_dict()
        assert all(torch.equal(ours[k], theirs[k]) for k in theirs), net
    drop_time = [{k: v for k, v in h.items() if k != "time/elapsed_s"} for h in uninterrupted.history]
    assert [{k: v for k, v in h.items() if k != "time/elapsed_s"} for h in resumed.history] == drop_time[-len(resumed.history):]


def test_cfg_without_data_shape_takes_the_checkpoints(points, tmp_path):
    result = train(tiny(train={"steps": 1}), points)
    assert validate_config(tiny()).model.data_shape is None
    assert load_checkpoint(save_checkpoint(result.state, tmp_path), tiny())["counters"]["step"] == 1


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 2], lambda b: b[:100] + bytes(len(b) - 100), lambda b: b""])
def test_a_damaged_newest_checkpoint_is_skipped_for_the_previous_with_a_warning(tmp_path, damage):
    from nba_ml.gan.checkpoint import CheckpointWarning, load_latest_checkpoint
    from nba_ml.gan.runs import run_training

    cfg = tiny(train={"steps": 4, "log_every": 1}, log={"checkpoint_every": 2, "verbose": False})
    data = torch.randn(64, 2)
    run_training(cfg, data, tmp_path / "run", verbose=False)
    newest = tmp_path / "run" / "checkpoints" / "step_00000004.pt"
    newest.write_bytes(damage(newest.read_bytes()))
    with pytest.warns(CheckpointWarning, match=r"skipping a damaged checkpoint, using the one before it: .*step_00000004.pt"):
        path, saved = load_latest_checkpoint(tmp_path / "run", cfg)
    assert path.name == "step_00000002.pt" and saved["counters"]["step"] == 2
    with pytest.warns(CheckpointWarning):
        resumed = run_training(cfg, data, tmp_path / "run", resume=True, verbose=False)
    assert resumed.state.step == 4 and [row["step"] for row in resumed.history] == [1.0, 2.0, 3.0, 4.0]


def test_a_run_killed_before_its_first_checkpoint_resumes_from_the_start(tmp_path):
    from nba_ml.gan.checkpoint import CheckpointWarning
    from nba_ml.gan.runs import run_training

    cfg = tiny(train={"steps": 4, "log_every": 1}, log={"checkpoint_every": 4})
    data = torch.randn(64, 2)

    def crash(state, metrics):
        if state.step == 2:
            raise KeyboardInterrupt  # metrics.jsonl has rows, checkpoints/ has none
    with pytest.raises(KeyboardInterrupt):
        run_training(cfg, data, tmp_path / "run", callbacks=(crash,), verbose=False)
    with pytest.warns(CheckpointWarning, match="no complete checkpoint yet: starting it again from step 0"):
        resumed = run_training(cfg, data, tmp_path / "run", resume=True, verbose=False)
    assert [row["step"] for row in resumed.history] == [1.0, 2.0, 3.0, 4.0]


def test_a_checkpoint_on_a_full_disk_is_one_output_error_and_leaves_no_temporary_file(tmp_path):
    """On a 16 kB tmpfs (mounting one needs root: skipped elsewhere); torch's own writer would raise a RuntimeError
    from its C++ serializer, the package's an OutputError naming the file."""
    import errno
    import os

    from nba_ml.errors import OutputError

    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or os.system(f"mount -t tmpfs -o size=16k tmpfs {mount} 2>/dev/null") != 0:
        pytest.skip("cannot mount a small tmpfs here (not root, or no mount permission)")
    try:
        state = build_state(tiny(model={"hidden_dim": 64, "data_shape": [2]}), torch.device("cpu"))
        with pytest.raises(OutputError, match=r"^cannot write .*step_00000000.pt: No space left on device$") as raised:
            save_checkpoint(state, mount / "run")
        assert raised.value.errno == errno.ENOSPC and os.listdir(mount / "run" / "checkpoints") == []
    finally:
        os.system(f"umount {mount}")
