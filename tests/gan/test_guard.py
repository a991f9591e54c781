"""nba_ml.gan.guard: divergence retries from the last good state, the time budget, the memory check."""
import math
from dataclasses import replace
from unittest import mock

import pytest
import torch

from nba_ml.errors import InputError
from nba_ml.gan import TrainingDiverged, latest_checkpoint, load_checkpoint, run_training, train, validate_config
from nba_ml.gan import losses, training
from nba_ml.gan.guard import ResourceError, estimate_memory_bytes, guarded_train, scaled_state_lr
from nba_ml.gan.sinks import read_jsonl

CFG = {"model": {"hidden_dim": 16, "depth": 1, "latent_dim": 2},
       "train": {"steps": 12, "batch_size": 16, "log_every": 3}, "log": {"checkpoint_every": 3}}


def points(n=256):
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(0))


def nan_from(step_at: int, lr_above: float):
    """A critic loss that turns NaN at generator step `step_at` while lr_critic is above `lr_above`:
    what a too-high learning rate does, and what a lower one survives."""
    objective = losses.OBJECTIVES["wgan-gp"]

    def loss(real, fake):
        value = objective.critic_loss(real, fake)
        lr = loss.state.opt_critic.param_groups[0]["lr"]
        return value * float("nan") if loss.state.step + 1 >= step_at and lr > lr_above else value
    return replace(objective, critic_loss=loss), loss


def with_state_probe(objective):
    """Let the loss see the TrainState (through critic_step's first argument)."""
    real_step = training.critic_step

    def critic_step(state, real, labels):
        objective.state = state
        return real_step(state, real, labels)
    return critic_step


def test_divergence_rolls_back_to_the_last_logged_step_and_retries_with_a_lower_lr():
    objective, loss = nan_from(step_at=8, lr_above=0.6e-4)
    with mock.patch.dict(losses.OBJECTIVES, {"wgan-gp": objective}), \
            mock.patch.object(training, "critic_step", with_state_probe(loss)):
        result = guarded_train(validate_config(CFG), points())
    assert result.state.step == 12
    assert result.metrics["guard/retries"] == 1.0
    assert result.config.optim.lr_critic == pytest.approx(0.5e-4)
    assert result.state.opt_critic.param_groups[0]["lr"] == pytest.approx(0.5e-4)
    assert [m["step"] for m in result.history] == [3.0, 6.0, 9.0, 12.0]  # the abandoned attempt's rows are gone
    assert all(math.isfinite(m["loss/critic"]) for m in result.history)


def test_a_run_directory_keeps_only_the_rows_of_the_attempt_that_went_on(tmp_path):
    objective, loss = nan_from(step_at=8, lr_above=0.6e-4)
    with mock.patch.dict(losses.OBJECTIVES, {"wgan-gp": objective}), \
            mock.patch.object(training, "critic_step", with_state_probe(loss)):
        result = run_training(validate_config(CFG), points(), tmp_path / "run", verbose=False)
    assert result.config.optim.lr_critic == pytest.approx(0.5e-4)  # retried once
    assert read_jsonl(tmp_path / "run" / "metrics.jsonl") == result.history
    assert [m["step"] for m in result.history] == [3.0, 6.0, 9.0, 12.0]


def test_divergence_that_persists_ends_in_one_error_naming_step_metric_and_what_was_tried():
    objective = losses.OBJECTIVES["wgan-gp"]
    always_nan = lambda r, f: objective.critic_loss(r, f) * float("nan")
    with mock.patch.dict(losses.OBJECTIVES, {"wgan-gp": replace(objective, critic_loss=always_nan)}):
        with pytest.raises(TrainingDiverged) as caught:
            guarded_train(validate_config(CFG), points())
    message = str(caught.value)
    assert message.startswith("training diverged at step 1: loss/critic=nan")
    assert "after 2 retries: 1) training diverged at step 1: loss/critic=nan" in message
    assert "rolled back to step 0, retrying with lr_critic 5e-05, lr_generator 5e-05" in message
    assert "2) " in message and "lr_critic 2.5e-05" in message
    assert caught.value.step == 1


def test_a_nan_gradient_is_caught_at_its_step():
    real_step = training.generator_step

    def poisoned(state, labels, batch):
        stats = real_step(state, labels, batch)
        if state.step + 1 == 5:
            next(state.generator.parameters()).grad.fill_(float("inf"))
        return stats
    cfg = {**CFG, "guard": {"divergence_retries": 0}}
    with mock.patch.object(training, "generator_step", poisoned), pytest.raises(TrainingDiverged) as caught:
        guarded_train(validate_config(cfg), points())
    assert caught.value.step == 5
    assert "grad_norm/generator" in str(caught.value)


def test_scaled_state_lr_scales_optimizers_and_schedulers_and_leaves_the_original():
    result = train({**CFG, "optim": {"lr_schedule": "linear"}}, points())
    saved = result.state.state_dict()
    scaled = scaled_state_lr(saved, 0.5)
    assert scaled["opt_critic"]["param_groups"][0]["lr"] == pytest.approx(0.5 * saved["opt_critic"]["param_groups"][0]["lr"])
    assert scaled["schedulers"][0]["base_lrs"] == [pytest.approx(0.5e-4)]
    assert saved["schedulers"][0]["base_lrs"] == [pytest.approx(1e-4)]


def test_time_budget_stops_cleanly_with_a_checkpoint_and_resume_finishes(tmp_path):
    cfg = {**CFG, "train": {**CFG["train"], "steps": 100_000}, "guard": {"max_seconds": 0.5}}
    result = run_training(validate_config(cfg), points(), tmp_path / "run", verbose=False)
    assert 0 < result.state.step < 100_000
    assert load_checkpoint(latest_checkpoint(tmp_path / "run"), validate_config(cfg))["counters"]["step"] == result.state.step
    summary = __import__("json").loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "stopped"
    done = run_training(validate_config({**cfg, "train": {**cfg["train"], "steps": result.state.step + 3}}), points(),
                        tmp_path / "run", resume=True, verbose=False)
    assert done.state.step == result.state.step + 3


def test_memory_estimate_refuses_a_config_that_cannot_fit_before_any_work(tmp_path):
    huge = {"model": {"hidden_dim": 16384, "depth": 16}, "train": {"batch_size": 1_000_000}}
    with pytest.raises(ResourceError, match=r"this config needs about [\d,.e+]+ GB to train \([\d,]+ parameters .*batch 1,000,000\), "
                                            r"more than the [\d.]+ GB allowed") as caught:
        guarded_train(validate_config(huge), points())
    assert isinstance(caught.value, InputError)
    with pytest.raises(ResourceError, match=r"allowed \(guard.max_memory_gb\)"):
        run_training(validate_config({**CFG, "guard": {"max_memory_gb": 1e-6}}), points(), tmp_path / "run", verbose=False)


def test_memory_estimate_counts_parameters_and_grows_with_the_batch():
    cfg = validate_config({"model": {"hidden_dim": 16, "depth": 1, "latent_dim": 2}})
    small, params = estimate_memory_bytes(cfg, (2,))
    generator = 2 * 16 + 16 + 16 * 2 + 2  # latent 2 -> 16 -> 2
    critic = 2 * 16 + 16 + 16 * 1 + 1  # 2 -> 16 -> 1
    assert params == generator + critic
    big, _ = estimate_memory_bytes(cfg.model_copy(update={"train": cfg.train.model_copy(update={"batch_size": 512})}), (2,))
    assert big > small
