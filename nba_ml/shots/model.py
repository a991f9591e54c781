"""The shot-chart model: train a conditional WGAN-GP on charts, save it, load it, draw shots.

    cfg = load_shot_config("docs/configs/shot_charts.yaml")
    model, run = train_shot_model(cfg, shots)           # shots: a load_shots() or synthetic_league() frame
    model.save("models/shots")
    model = ShotChartModel.load("models/shots")
    model.sample_shots(100, 200, position="G", seed=0)   # CHART_ID, LOC_X, LOC_Y, SHOT_ZONE_BASIC, ...

A directory holds `model.yaml` (config, label names, label frequencies) and
`generator.pt` (tensors only; loaded with weights_only=True).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import pandas as pd
import torch
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from torch import Tensor, nn

from ..gan import GANConfig, TrainResult, train
from ..gan.config import ConfigError, format_validation_error
from ..gan.networks import build_generator
from ..io import atomic_path, write_text_atomic
from .charts import ChartSpec, ShotCharts, draw_shots, make_charts

FORMAT_VERSION = 1


class ShotModelConfig(BaseModel):
    """A shot-chart model: how shots become charts, and the GAN that learns them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    charts: ChartSpec = Field(default_factory=ChartSpec, description="Rasterisation of shots into charts.")
    gan: GANConfig = Field(default_factory=lambda: GANConfig.model_validate(
        {"model": {"kind": "conv", "num_classes": 3, "output": "density"}}), description="The conditional GAN; model.kind must be 'conv'.")
    shots_per_chart: int = Field(200, gt=0, le=100_000, description="Shots drawn per generated chart when evaluating (the real reference uses the same K).")


def validate_shot_config(raw: Any) -> ShotModelConfig:
    """ShotModelConfig from a dict, raising ConfigError naming every bad field."""
    if isinstance(raw, ShotModelConfig):
        return raw
    if not isinstance(raw, dict):
        raise ConfigError(f"a shot-model config must be a mapping with sections charts, gan; got {type(raw).__name__}")
    try:
        cfg = ShotModelConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err)) from None
    if cfg.gan.model.kind != "conv":
        raise ConfigError("invalid config:\n  gan.model.kind: shot charts are grids; use 'conv'")
    return cfg


def load_shot_config(path: str | Path) -> ShotModelConfig:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"cannot read config file {path}: {err.strerror or err}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {err}") from None
    return validate_shot_config(raw or {})


class ShotChartModel:
    """A trained chart generator with what it needs to draw shots: chart spec and label names."""

    def __init__(self, config: ShotModelConfig, generator: nn.Module, position_groups: tuple[str, ...],
                 label_freqs: list[float]):
        self.config = config
        self.generator = generator.eval()
        self.position_groups = tuple(position_groups)
        self.label_freqs = list(label_freqs)  # how often each label occurs in training (position=None draws from it)

    @property
    def conditional(self) -> bool:
        return self.config.gan.model.num_classes > 0

    def labels_for(self, n: int, position: Optional[str], seed: Optional[int]) -> Optional[Tensor]:
        """n labels: all `position`, or drawn from the training frequencies."""
        if not self.conditional:
            if position is not None:
                raise ValueError("this model is unconditional: it cannot generate for a position")
            return None
        if position is not None:
            if position not in self.position_groups:
                raise ValueError(f"position must be one of {', '.join(self.position_groups)}; got {position!r}")
            return torch.full((n,), self.position_groups.index(position), dtype=torch.long)
        rng = torch.Generator().manual_seed(seed if seed is not None else torch.seed())
        return torch.multinomial(torch.tensor(self.label_freqs), n, replacement=True, generator=rng)

    @torch.no_grad()
    def generate_charts(self, n_charts: int, *, position: Optional[str] = None, seed: Optional[int] = None) -> tuple[Tensor, Optional[Tensor]]:
        """(charts (n, C, S, S), labels or None), reproducible with a seed."""
        if n_charts <= 0:
            raise ValueError(f"n_charts must be positive, got {n_charts}")
        labels = self.labels_for(n_charts, position, seed)
        return self.generator.sample(n_charts, seed=seed, condition=labels), labels

    def sample_shots(self, n_charts: int, shots_per_chart: int, *, position: Optional[str] = None,
                     seed: Optional[int] = None) -> pd.DataFrame:
        """Shots drawn from n_charts generated charts: CHART_ID, LOC_X, LOC_Y, SHOT_ZONE_BASIC,
        SHOT_DISTANCE, POSITION_GROUP (conditional models), MAKE_PROB (models trained on makes)."""
        charts, labels = self.generate_charts(n_charts, position=position, seed=seed)
        shots = draw_shots(charts, shots_per_chart, seed=seed)
        if labels is not None:
            names = [self.position_groups[i] for i in labels.tolist()]
            shots["POSITION_GROUP"] = [names[i] for i in shots["CHART_ID"]]
        return shots

    def save(self, directory: str | Path) -> Path:
        """Write model.yaml and generator.pt (atomically) into `directory`."""
        directory = Path(directory)
        meta = {"format": FORMAT_VERSION, "config": self.config.model_dump(mode="json"),
                "position_groups": list(self.position_groups), "label_freqs": self.label_freqs}
        with atomic_path(directory / "generator.pt") as tmp:
            torch.save(self.generator.state_dict(), tmp)
        write_text_atomic(directory / "model.yaml", yaml.safe_dump(meta, sort_keys=False))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "ShotChartModel":
        """Load a saved model; tensors only are unpickled."""
        directory = Path(directory)
        meta_path, weights_path = directory / "model.yaml", directory / "generator.pt"
        for path in (meta_path, weights_path):
            if not path.is_file():
                raise FileNotFoundError(f"{directory} is not a saved shot model: {path.name} is missing")
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"{meta_path}: not a shot-model file of format {FORMAT_VERSION}")
        config = validate_shot_config(meta["config"])
        generator = build_generator(config.gan)
        try:
            generator.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
        except RuntimeError as err:
            raise ValueError(f"{weights_path} does not match the model in {meta_path.name}: {err}") from None
        return cls(config, generator, tuple(meta["position_groups"]), meta["label_freqs"])


def train_shot_model(cfg: ShotModelConfig | dict, shots: pd.DataFrame, *, callbacks=(),
                     resume: Optional[dict] = None) -> tuple[ShotChartModel, TrainResult, ShotCharts]:
    """Rasterise `shots` into charts and train the conditional GAN on them."""
    cfg = validate_shot_config(cfg)
    charts = make_charts(shots, cfg.charts)
    if len(charts) < 2:
        raise ValueError(f"only {len(charts)} charts after filtering (dropped: {charts.dropped}); "
                         f"lower charts.min_shots or give more shots")
    num_classes = cfg.gan.model.num_classes
    if num_classes and num_classes != len(charts.position_groups):
        raise ConfigError(f"invalid config:\n  gan.model.num_classes: {num_classes}, but the charts have "
                          f"{len(charts.position_groups)} position groups {charts.position_groups}")
    data = charts.dataset() if num_classes else charts.charts
    result = train(cfg.gan, data, callbacks=callbacks, resume=resume)
    counts = torch.bincount(charts.labels, minlength=len(charts.position_groups)).double()
    resolved = cfg.model_copy(update={"gan": result.config})
    model = ShotChartModel(resolved, result.generator, charts.position_groups, (counts / counts.sum()).tolist())
    return model, result, charts
