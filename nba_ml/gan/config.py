"""GANConfig: every training option, validated once at the edge.

A raw dict becomes a GANConfig where it enters (`validate_config`, `load_config`, train() given a
dict); code past that takes the GANConfig and trusts it.
A config derived from a valid one (`merged`) is validated again: the values laid over it are new.
Each field has a default, a constraint and a one-line description; the
configuration reference in docs/configuration.md is written from them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import ConfigError, format_validation_error, yaml_problem
from .losses import OBJECTIVES

LossKind = Literal["wgan-gp", "wgan-clip", "gan"]  # the keys of nba_ml.gan.losses.OBJECTIVES
NetworkKind = Literal["mlp", "conv"]  # the keys of nba_ml.gan.networks.NETWORKS


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelConfig(_Section):
    kind: NetworkKind = Field("mlp", description="Network pair: 'mlp' for points/tables (N, d), 'conv' (DCGAN-style) for grids (N, C, H, W).")
    data_shape: Optional[tuple[int, ...]] = Field(None, description="Shape of one sample without the batch dim; None = taken from the data at train time.")
    latent_dim: int = Field(64, gt=0, le=4096, description="Size of the generator's input noise vector z.")
    hidden_dim: int = Field(512, gt=0, le=16384, description="MLP: width of each hidden layer.")
    depth: int = Field(3, gt=0, le=16, description="MLP: number of hidden layers in each network.")
    base_channels: int = Field(64, gt=0, le=1024, description="Conv: channels of the widest-resolution layer; doubles at each halving.")
    critic_norm: Literal["none", "layer"] = Field("none", description="Critic normalisation; never BatchNorm, which breaks the per-sample gradient penalty.")
    num_classes: int = Field(0, ge=0, le=100000, description="Number of condition labels; 0 = unconditional.")
    output: Literal["linear", "density"] = Field("linear", description="Generator output; 'density': a softmax distribution stored as 2*sqrt(p) - 1 (conv: over channel 0's grid, other channels tanh; mlp: over all features).")

    @model_validator(mode="after")
    def _check_shape(self) -> "ModelConfig":
        if self.data_shape is not None:
            if any(s <= 0 for s in self.data_shape):
                raise ValueError(f"data_shape must be positive sizes, got {self.data_shape}")
            rank = {"mlp": 1, "conv": 3}[self.kind]
            if len(self.data_shape) != rank:
                raise ValueError(f"model.kind={self.kind!r} needs a data_shape of rank {rank}, got {self.data_shape}")
            if self.kind == "conv":
                _, height, width = self.data_shape
                if height != width or height < 8 or height & (height - 1):
                    raise ValueError(f"conv grids must be square with a power-of-two side >= 8, got {height}x{width}")
        return self


class LossConfig(_Section):
    kind: LossKind = Field("wgan-gp", description="Objective: 'wgan-gp' (Wasserstein + gradient penalty), 'wgan-clip' (weight clipping), 'gan' (standard non-saturating BCE).")
    gp_weight: float = Field(10.0, ge=0, le=1e4, description="lambda, weight of the gradient penalty in the critic loss (wgan-gp).")
    gp_center: float = Field(1.0, gt=0, description="Target gradient norm of the penalty (1 = the 1-Lipschitz constraint).")
    one_sided: bool = Field(False, description="Penalise only norms above the center: max(0, ||g|| - center)^2.")
    n_critic: int = Field(5, gt=0, le=100, description="Critic updates per generator update.")
    clip_value: float = Field(0.01, gt=0, description="wgan-clip: critic weights are clamped to [-c, c] after each step.")
    gp_every: int = Field(1, gt=0, le=1000, description="Lazy regularisation: the penalty on every k-th critic step only, weighted by k (1 = every step).")
    gp_batch: float = Field(1.0, gt=0, le=1, description="Share of the batch the penalty is taken on: its first ceil(share x batch) rows, whose mean estimates the whole batch's (1 = the whole batch, the exact penalty).")


class OptimConfig(_Section):
    lr_critic: float = Field(1e-4, gt=0, lt=1, description="Learning rate of the critic (discriminator) optimizer.")
    lr_generator: float = Field(1e-4, gt=0, lt=1, description="Learning rate of the generator optimizer.")
    betas: Optional[tuple[float, float]] = Field(None, description="Adam betas; None = the paper's choice for loss.kind: (0.0, 0.9) for wgan-gp, (0.5, 0.999) for gan; unused by wgan-clip (RMSprop).")
    lr_schedule: Literal["constant", "linear"] = Field("constant", description="'linear' decays both learning rates linearly to 0 over train.steps (the WGAN-GP paper's CIFAR setup).")

    @model_validator(mode="after")
    def _check_betas(self) -> "OptimConfig":
        if self.betas is not None and not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"betas must each be in [0, 1), got {self.betas}")
        return self


class TrainConfig(_Section):
    steps: int = Field(2000, gt=0, le=10_000_000, description="Generator iterations (each one follows n_critic critic steps).")
    batch_size: int = Field(256, gt=0, le=1_000_000, description="Samples per batch, for real and generated data alike.")
    seed: int = Field(0, ge=0, description="Seeds python, numpy and torch; same seed + config on CPU = identical run.")
    log_every: int = Field(100, gt=0, description="Generator iterations between entries of TrainResult.history.")
    loss_var_window: int = Field(50, ge=2, description="Generator iterations over which stability/loss_var is taken.")
    device: Literal["cpu", "cuda", "auto"] = Field("cpu", description="Where to train; 'auto' picks cuda when available; 'cuda' without a CUDA device is an error before training.")
    precision: Literal["fp32", "bf16", "fp16"] = Field("fp32", description="CUDA mixed precision: 'bf16' autocast, 'fp16' autocast with loss scaling (GradScaler); the penalty and its norm stay float32. CPU runs need 'fp32'.")
    flush_denormal: bool = Field(True, description="torch.set_flush_denormal(True) on CPU: avoids several-fold slowdowns from denormal floats.")
    ema_decay: Optional[float] = Field(None, gt=0, lt=1, description="Keep an exponential moving average of the generator weights with this decay (e.g. 0.999); None = off.")

    @model_validator(mode="after")
    def _check_precision(self) -> "TrainConfig":
        if self.device == "cpu" and self.precision != "fp32":
            raise ValueError(f"precision={self.precision!r} needs a CUDA device (train.device 'cuda' or 'auto'); CPU training is fp32")
        return self


class LogConfig(_Section):
    verbose: bool = Field(True, description="Progress bar and the per-logged-step console block (nba_ml.gan.console).")
    quality_every: int = Field(1, gt=0, description="Logged steps between quality evaluations by run_training's callbacks (the last step always).")
    checkpoint_every: int = Field(1000, gt=0, description="Generator iterations between checkpoints in the run directory (the last step always).")
    tensorboard: bool = Field(False, description="Also write TensorBoard event files to <run_dir>/tensorboard (needs nba_ml[tensorboard]).")
    wandb: bool = Field(False, description="Also log to Weights & Biases (needs nba_ml[wandb]; WANDB_MODE=offline works without an account).")
    wandb_project: str = Field("nba_ml", min_length=1, description="W&B project name for wandb logging.")
    experiment_log: Optional[str] = Field(None, description="Path of the markdown master experiment log that each run appends one row to; None = none.")


class GuardConfig(_Section):
    divergence_retries: int = Field(2, ge=0, le=10, description="On a NaN/inf loss or gradient: roll back to the last good state (the last logged step) and retry this many times, each with the learning rates times lr_factor; then stop with an error naming the step, the metric and what was tried.")
    lr_factor: float = Field(0.5, gt=0, lt=1, description="Factor applied to both learning rates at each divergence retry.")
    max_seconds: Optional[float] = Field(None, gt=0, description="Wall-clock budget of one training call: stop cleanly at the first step past it (a run directory gets a final checkpoint to resume from); None = no limit.")
    max_memory_gb: Optional[float] = Field(None, gt=0, description="Refuse, before any work, a config whose estimated training memory exceeds this many GB; None = 80% of the machine's memory (the GPU's on cuda).")


class GANConfig(_Section):
    model: ModelConfig = Field(default_factory=ModelConfig, description="Networks.")
    loss: LossConfig = Field(default_factory=LossConfig, description="Objective.")
    optim: OptimConfig = Field(default_factory=OptimConfig, description="Optimizers.")
    train: TrainConfig = Field(default_factory=TrainConfig, description="Training budget and bookkeeping.")
    log: LogConfig = Field(default_factory=LogConfig, description="Run-directory logging: console, checkpoints, sinks, experiment log.")
    guard: GuardConfig = Field(default_factory=GuardConfig, description="Divergence retries and resource limits (nba_ml.gan.guard).")

    @property
    def betas(self) -> tuple[float, float]:
        """The Adam betas in force: the configured ones, else the paper's for loss.kind."""
        return self.optim.betas or OBJECTIVES[self.loss.kind].betas

    def merged(self, override: dict) -> "GANConfig":
        """A copy with `override` (nested sections, as in a YAML file) laid over it, validated like the rest."""
        return validate_config(deep_merge(self.model_dump(), override))

    def with_data_shape(self, shape: tuple[int, ...]) -> "GANConfig":
        """A copy with model.data_shape set (the data's shape, checked against model.kind)."""
        return self.merged({"model": {"data_shape": tuple(shape)}})


def validate_config(raw: Any) -> GANConfig:
    """GANConfig from a dict (or a GANConfig), raising ConfigError naming every bad field."""
    if isinstance(raw, GANConfig):
        return raw
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"config must be a mapping of sections (model, loss, optim, train, log), got {type(raw).__name__}")
    try:
        return GANConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err)) from None


def read_yaml_mapping(path: str | Path) -> dict:
    """The mapping in a YAML file (safe loader; an empty file is {}), or ConfigError saying what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read config file {path}: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path} is not UTF-8 text ({err.reason} at byte {err.start})") from None
    try:
        raw = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, RecursionError) as err:  # ValueError: a date such as 2024-13-01
        raise ConfigError(f"{path} is not valid YAML ({yaml_problem(err)})") from None
    if raw is not None and not isinstance(raw, dict):
        raise ConfigError(f"{path} must hold a YAML mapping of config sections, got {type(raw).__name__}")
    return raw or {}


def load_config(path: str | Path) -> GANConfig:
    """Read a YAML file (safe loader) into a validated GANConfig."""
    return validate_config(read_yaml_mapping(path))


def deep_merge(base: dict, override: dict) -> dict:
    """base with override's keys laid over it, recursing into nested dicts."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
