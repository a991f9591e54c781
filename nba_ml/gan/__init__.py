"""nba_ml.gan: WGAN-GP and its baselines (weight-clipping WGAN, standard GAN) for the NBA simulator.

The public API:

    from nba_ml.gan import GANConfig, load_config, train, gradient_penalty
    result = train(GANConfig(), points)          # TrainResult(generator, critic, history, metrics, config)
    result.generator.sample(1000, seed=0)
"""
from .config import ConfigError, GANConfig, load_config, validate_config
from .data import PointData, make_points
from .losses import (
    bce_discriminator_loss,
    bce_generator_loss,
    gradient_norms,
    gradient_penalty,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from .metrics import mode_coverage, pixvar
from .networks import build_critic, build_generator
from .training import TrainingDiverged, TrainResult, TrainState, train
from .checkpoint import CheckpointError, latest_checkpoint, load_checkpoint, save_checkpoint
from .runs import run_training
from .triage import triage

__all__ = [
    "ConfigError", "GANConfig", "load_config", "validate_config",
    "PointData", "make_points",
    "bce_discriminator_loss", "bce_generator_loss", "gradient_norms", "gradient_penalty",
    "wasserstein_critic_loss", "wasserstein_generator_loss",
    "mode_coverage", "pixvar",
    "build_critic", "build_generator",
    "TrainingDiverged", "TrainResult", "TrainState", "train",
    "CheckpointError", "latest_checkpoint", "load_checkpoint", "save_checkpoint",
    "run_training", "triage",
]
