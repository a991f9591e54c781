"""train.device and train.precision: bad choices fail before training; CUDA runs skip cleanly without CUDA."""
import math

import pytest
import torch

from nba_ml.gan import ConfigError, make_points, train, validate_config

TINY = {"model": {"latent_dim": 2, "hidden_dim": 16, "depth": 2}, "train": {"steps": 4, "batch_size": 16, "log_every": 2}}
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def tiny(**train_fields):
    return {**TINY, "train": {**TINY["train"], **train_fields}}


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_mixed_precision_on_cpu_is_a_config_error(precision):
    with pytest.raises(ConfigError, match=f"precision='{precision}' needs a CUDA device"):
        validate_config(tiny(precision=precision))


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_cuda_is_a_config_error_before_training():
    with pytest.raises(ConfigError, match="no CUDA device is available"):
        train(tiny(device="cuda"), torch.randn(64, 2))
    with pytest.raises(ConfigError, match="precision='fp16' needs CUDA, but training runs on cpu"):
        train(tiny(device="auto", precision="fp16"), torch.randn(64, 2))


def test_auto_without_cuda_trains_on_cpu_in_fp32():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    result = train(tiny(device="auto"), make_points("8gaussians", 256, seed=0).samples)
    assert next(result.generator.parameters()).device.type == "cpu"


@needs_cuda
@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_cuda_training_in_each_precision_gives_finite_float32_metrics(precision):
    result = train(tiny(device="cuda", precision=precision), make_points("8gaussians", 256, seed=0).samples)
    assert next(result.critic.parameters()).device.type == "cuda"
    assert all(math.isfinite(result.metrics[k]) for k in ("loss/critic", "loss/gp", "grad_norm/mean"))
    assert result.state.scalers[0].is_enabled() == (precision == "fp16")


@needs_cuda
def test_fp16_run_resumes_with_its_loss_scale():
    first = train(tiny(device="cuda", precision="fp16"), make_points("8gaussians", 256, seed=0).samples)
    saved = first.state.state_dict()
    assert saved["scalers"][0]["scale"] > 0
    more = train(tiny(device="cuda", precision="fp16", steps=6), make_points("8gaussians", 256, seed=0).samples, resume=saved)
    assert more.state.step == 6
