"""The shot-chart model: a trained conditional WGAN-GP on charts, saved, loaded, drawing shots.

    cfg = load_shot_config("nba_ml/configs/shot_charts.yaml")
    model, run, charts = train_shot_model(cfg, shots)   # nba_ml.shots.training
    model.save("models/shots")
    model = ShotChartModel.load("models/shots")
    model.sample_shots(100, 200, position="G", seed=0)   # CHART_ID, LOC_X, LOC_Y, SHOT_ZONE_BASIC, ...

A saved model is an export (nba_ml.gan.export): `model.yaml` (config, label
names, label frequencies), `generator.pt` and, for a model on a chart basis
(`basis: K`, the default), `basis.pt` (tensors only; weights_only=True).

With `basis: K` the GAN does not generate the S x S cells: it generates a chart's
mixture weights over K basis maps fitted to the training charts
(nba_ml.shots.basis), and generate_charts() turns them into charts.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import numpy as np
import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from torch import Tensor, nn

from ..gan import GANConfig
from ..gan.config import ConfigError, format_validation_error, read_yaml_mapping
from ..errors import ModelFileError
from ..gan.checkpoint import read_tensors
from ..gan.export import export_generator, find_export, load_export
from ..gan.networks import NETWORKS
from .basis import ChartBasis
from .charts import ChartSpec, draw_shots, encode_density
from .player.chart_posterior import PlayerPosterior, player_posterior

class ShotModelConfig(BaseModel):
    """A shot-chart model: how shots become charts, and the GAN that learns them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    charts: ChartSpec = Field(default_factory=lambda: ChartSpec(grid=32, channels="attempts"), description="Rasterisation of shots into charts.")
    gan: GANConfig = Field(default_factory=lambda: GANConfig.model_validate(
        {"model": {"kind": "mlp", "num_classes": 3, "output": "density", "latent_dim": 32, "hidden_dim": 256}}),
        description="The conditional GAN: 'mlp' on the basis weights (or, with basis 0, on flattened charts) or 'conv' (DCGAN) on the grids (basis 0).")
    shots_per_chart: int = Field(200, gt=0, le=100_000, description="Shots drawn per generated chart when evaluating (the real reference uses the same K).")
    basis: int = Field(16, ge=0, le=256, description="K: the GAN generates mixture weights over K basis maps fitted to the training charts (NMF), not the S x S cells; 0 = the GAN generates the cells.")
    calibrate_prior: bool = Field(False, description="After training, fit one factor per position group and basis habit so that the generated charts' mean mixture weights equal the training charts' (basis models; the posterior's prior at 0 shots is then the training population's mean chart).")
    quality_holdout: float = Field(0.0, ge=0, lt=1, description="Share of players (seeded by gan.train.seed) kept out of training; a run judges its charts against theirs every log.quality_every logged steps (nba_ml.shots.training); 0 = train on all, no Quality line.")


BASIS_FILE = "basis.pt"  # a saved basis model's maps (and make rates), beside generator.pt


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
    if cfg.basis and not (NETWORKS[cfg.gan.model.kind].flat and cfg.gan.model.output == "density"):
        raise ConfigError("invalid config:\n  basis: a basis model generates mixture weights, so it needs "
                          "gan.model.kind='mlp' and gan.model.output='density' "
                          f"(got {cfg.gan.model.kind!r}, {cfg.gan.model.output!r}); set basis: 0 for a GAN on the cells")
    if cfg.calibrate_prior and not cfg.basis:
        raise ConfigError("invalid config:\n  calibrate_prior: the calibration scales mixture weights over the basis "
                          "maps, so it needs basis: K > 0")
    if not cfg.basis and NETWORKS[cfg.gan.model.kind].flat and cfg.gan.model.output == "density" and cfg.charts.channels != "attempts":
        raise ConfigError("invalid config:\n  charts.channels: the mlp 'density' output is one distribution over all "
                          "features, so it needs channels='attempts' (use model.kind='conv' for a makes channel)")
    return cfg


def load_shot_config(path: str | Path) -> ShotModelConfig:
    """Read a YAML file (safe loader) into a validated ShotModelConfig."""
    return validate_shot_config(read_yaml_mapping(path))


class ShotChartModel:
    """A trained chart generator with what it needs to draw shots: chart spec and label names."""

    def __init__(self, config: ShotModelConfig, generator: nn.Module, position_groups: tuple[str, ...],
                 label_freqs: list[float], basis: Optional[ChartBasis] = None, prior_scale: Optional[Tensor] = None):
        if bool(config.basis) != (basis is not None) or (basis is not None and basis.size != config.basis):
            raise ValueError(f"config.basis={config.basis} but the model was given "
                             f"{'no basis' if basis is None else f'a basis of {basis.size} maps'}")
        if basis is not None and (basis.make_maps is not None) != (config.charts.num_channels == 2):
            raise ValueError(f"charts.channels={config.charts.channels!r} but the basis has "
                             f"{'make rates' if basis.make_maps is not None else 'no make rates'}")
        self.config = config
        self.basis = basis
        self.generator = generator.eval()
        self.position_groups = tuple(position_groups)
        self.label_freqs = list(label_freqs)  # how often each label occurs in training (position=None draws from it)
        groups = max(1, len(self.position_groups) if self.conditional else 1)
        if prior_scale is not None and (basis is None or tuple(prior_scale.shape) != (groups, basis.size)):
            raise ValueError(f"prior_scale must have shape ({groups}, basis size), got {tuple(prior_scale.shape)}")
        self.prior_scale = prior_scale  # (groups, K) factors on generated mixture weights (calibrate_prior), or None

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
        rng = torch.Generator()
        rng.manual_seed(seed) if seed is not None else rng.seed()  # never reseeds the global generator
        return torch.multinomial(torch.tensor(self.label_freqs), n, replacement=True, generator=rng)

    @torch.no_grad()
    def generate_charts(self, n_charts: int, *, position: Optional[str] = None, seed: Optional[int] = None) -> tuple[Tensor, Optional[Tensor]]:
        """(charts (n, C, S, S), labels or None), reproducible with a seed."""
        if n_charts <= 0:
            raise ValueError(f"n_charts must be positive, got {n_charts}")
        labels = self.labels_for(n_charts, position, seed)
        spec = self.config.charts
        samples = self.generator.sample(n_charts, seed=seed, condition=labels)
        if self.basis is not None:
            return self.basis.charts(self.mixture_weights(samples, labels)), labels
        return samples.reshape(n_charts, spec.num_channels, spec.grid, spec.grid), labels  # mlp models generate flat charts

    def mixture_weights(self, encoded: Tensor, labels: Optional[Tensor]) -> Tensor:
        """Mixture weights (N, K) of generator outputs (encoded as 2 * sqrt(w) - 1), times the calibration
        factors of each row's label when the model has them; rows not yet divided by their sums."""
        weights = ((encoded + 1) / 2).square()
        if self.prior_scale is None:
            return weights
        return weights * self.prior_scale[labels if labels is not None and self.conditional else 0]

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

    def sample_player_shots(self, observed: pd.DataFrame, n_charts: int, shots_per_chart: int, *,
                            players: Optional[pd.DataFrame] = None, seed: Optional[int] = None,
                            **posterior_options) -> pd.DataFrame:
        """Shots for given players: for each player of `observed` (a shots frame of one or many players,
        any number of seasons: PLAYER_ID, LOC_X, LOC_Y, POSITION_GROUP when known) and of `players`
        (PLAYER_ID [, POSITION_GROUP], for players with no shots on record), n_charts charts drawn from
        the posterior given his shots (nba_ml.shots.player.chart_posterior), shots_per_chart shots from each.

        Columns: PLAYER_ID, CHART_ID ('<PLAYER_ID>:<i>'), LOC_X, LOC_Y, SHOT_ZONE_BASIC, SHOT_DISTANCE,
        POSITION_GROUP (the chart's label), MAKE_PROB (models with makes). The posterior's per-player
        diagnostics and dropped-row counts are in `frame.attrs['posterior']` / `['dropped']`.
        """
        posterior = player_posterior(self, observed, n_charts, players=players, seed=seed, **posterior_options)
        return self.shots_from_posterior(posterior, shots_per_chart, seed=seed)

    def shots_from_posterior(self, posterior: PlayerPosterior, shots_per_chart: int, *,
                             seed: Optional[int] = None) -> pd.DataFrame:
        """Shots drawn from a PlayerPosterior's charts (see sample_player_shots)."""
        n_players, n_charts, size = posterior.weights.shape
        player = np.repeat(np.asarray(posterior.player_ids, dtype=object), n_charts)
        chart_ids = [f"{p}:{i}" for p, i in zip(player, np.tile(np.arange(n_charts), n_players))]
        charts = self.basis.charts(posterior.weights.reshape(-1, size)).reshape(n_players, n_charts, -1, *self.basis.maps.shape[1:])
        for p in torch.nonzero((posterior.record_share > 0).any(dim=1)).flatten().tolist():  # players with a record
            charts[p, :, 0] = encode_density(posterior.densities(self.basis.maps, p).to(charts))
        shots = draw_shots(charts.flatten(0, 1), shots_per_chart, seed=seed, chart_ids=chart_ids)
        shots.insert(0, "PLAYER_ID", np.repeat(player, shots_per_chart))
        shots["POSITION_GROUP"] = np.repeat([self.position_groups[i] for i in posterior.labels.flatten().tolist()],
                                            shots_per_chart)
        shots.attrs["posterior"] = posterior.diagnostics
        shots.attrs["dropped"] = posterior.dropped
        return shots

    def save(self, directory: str | Path) -> Path:
        """Export to `directory` (model.yaml + generator.pt [+ basis.pt]), swapped in whole."""
        meta = {"kind": "shot_charts", "charts": self.config.charts.model_dump(mode="json"),
                "shots_per_chart": self.config.shots_per_chart, "basis": self.config.basis,
                "position_groups": list(self.position_groups), "label_freqs": self.label_freqs}
        tensors = {}
        if self.basis is not None:
            tensors[BASIS_FILE] = {"maps": self.basis.maps}
            if self.basis.make_maps is not None:
                tensors[BASIS_FILE]["make_maps"] = self.basis.make_maps
            if self.prior_scale is not None:
                tensors[BASIS_FILE]["prior_scale"] = self.prior_scale
        return export_generator(directory, self.config.gan, self.generator, meta, tensors)

    @classmethod
    def load(cls, directory: str | Path) -> "ShotChartModel":
        """Load an export (or a run directory holding model/); tensors only are unpickled."""
        gan, generator, meta = load_export(directory)
        if meta.get("kind") != "shot_charts":
            raise ValueError(f"{directory} holds a {meta.get('kind')!r} model, not a shot-chart model")
        config = validate_shot_config({"charts": meta["charts"], "gan": gan.model_dump(),
                                       "shots_per_chart": meta["shots_per_chart"], "basis": meta.get("basis", 0)})
        groups, freqs = tuple(meta["position_groups"]), meta["label_freqs"]
        if not config.basis:
            return cls(config, generator, groups, freqs)
        path = find_export(directory) / BASIS_FILE
        try:  # the maps, make rates and calibration factors are checked by the constructors
            saved = read_tensors(path, ModelFileError)
            basis = ChartBasis(saved["maps"], saved.get("make_maps"))
            return cls(config, generator, groups, freqs, basis, saved.get("prior_scale"))
        except (OSError, RuntimeError, KeyError, TypeError, ValueError, AttributeError) as err:
            raise ModelFileError(f"{path}: expected the chart basis of this model ({config.basis} maps): {err}") from None
