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
import math
import warnings
from typing import Any, Literal, Optional

import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from torch import Tensor, nn

from ..errors import ModelFileError, format_validation_error, one_line
from ..io import read_tensors
from ..gan import GANConfig
from ..gan.config import ConfigError, read_yaml_mapping
from ..gan.export import export_generator, find_export, load_export
from ..gan.networks import NETWORKS
from .basis import ChartBasis
from .charts import ChartSpec, decode_weights, draw_shots
from .player.chart_posterior import DEFAULT_PARTICLES, player_posterior
from .player.make_model import NO_MAKE_MODEL, MakeConfig, MakeModel, skill_posterior
from .player.build import build_profiles, check_profile_memory, check_prior_ids, prior_players
from .player.profiles import DEFAULT_CHARTS, PlayerProfiles, check_sampling_memory
from .player.records import player_records

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
    keep: Literal["last", "best"] = Field("last", description="Which generator a run keeps: 'best' = the one of its checkpointed step with the lowest held-out Frechet distance (quality/frechet, with quality_holdout > 0), 'last' = the last step's. Without a run directory (train_shot_model without run_dir) there is no Quality line: the last.")
    makes: MakeConfig = Field(default_factory=MakeConfig, description="The make model of a given player (nba_ml.shots.player.make_model): fitted with the charts when they have makes (channels 'attempts+makes').")


BASIS_FILE = "basis.pt"  # a saved basis model's maps (and make rates), beside generator.pt
MAKES_FILE = "makes.pt"  # a saved make model's surfaces and skill prior, beside generator.pt


class ShotModelFile(BaseModel):
    """The shot-chart part of a saved model.yaml, checked field by field when a model is loaded."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: Literal["shot_charts"]
    charts: ChartSpec
    shots_per_chart: int = Field(gt=0, le=100_000)
    basis: int = Field(0, ge=0, le=256)
    position_groups: tuple[str, ...] = Field(min_length=1)
    label_freqs: list[float]
    makes: MakeConfig = Field(default_factory=MakeConfig)

    @field_validator("position_groups")
    @classmethod
    def _distinct(cls, groups: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(groups)) != len(groups):
            raise ValueError("must be distinct")
        return groups

    @field_validator("label_freqs")
    @classmethod
    def _a_distribution_over_the_groups(cls, freqs: list[float], info: ValidationInfo) -> list[float]:
        groups = info.data.get("position_groups")
        if groups is not None and len(freqs) != len(groups):
            raise ValueError(f"has {len(freqs)} values for {len(groups)} position groups {list(groups)}")
        if not all(math.isfinite(f) and f >= 0 for f in freqs) or not math.isclose(sum(freqs), 1.0, abs_tol=1e-6):
            raise ValueError("must be non-negative and sum to 1 (a share per position group)")
        return freqs


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
    if cfg.keep == "best":
        every = cfg.gan.train.log_every * cfg.gan.log.quality_every
        if not cfg.quality_holdout:
            raise ConfigError("invalid config:\n  keep: 'best' picks the step by the held-out players' Quality line, "
                              "so it needs quality_holdout > 0")
        if every % cfg.gan.log.checkpoint_every:
            raise ConfigError(f"invalid config:\n  keep: 'best' reloads a judged step from its checkpoint, but the "
                              f"Quality line comes every {every} steps (train.log_every x log.quality_every) and "
                              f"checkpoints every {cfg.gan.log.checkpoint_every}; make the first a multiple of the second")
    if cfg.calibrate_prior and not cfg.basis:
        raise ConfigError("invalid config:\n  calibrate_prior: the calibration scales mixture weights over the basis "
                          "maps, so it needs basis: K > 0")
    if not cfg.basis and NETWORKS[cfg.gan.model.kind].flat and cfg.gan.model.output == "density" and cfg.charts.has_makes:
        raise ConfigError("invalid config:\n  charts.channels: the mlp 'density' output is one distribution over all "
                          "features, so it needs channels='attempts' (use model.kind='conv' for a makes channel)")
    return cfg


def load_shot_config(path: str | Path) -> ShotModelConfig:
    """Read a YAML file (safe loader) into a validated ShotModelConfig."""
    return validate_shot_config(read_yaml_mapping(path))


class ShotChartModel:
    """A trained chart generator with what it needs to draw shots: chart spec and label names."""

    def __init__(self, config: ShotModelConfig, generator: nn.Module, position_groups: tuple[str, ...],
                 label_freqs: list[float], basis: Optional[ChartBasis] = None, prior_scale: Optional[Tensor] = None,
                 makes: Optional[MakeModel] = None):
        if bool(config.basis) != (basis is not None) or (basis is not None and basis.size != config.basis):
            raise ValueError(f"config.basis={config.basis} but the model was given "
                             f"{'no basis' if basis is None else f'a basis of {basis.size} maps'}")
        if basis is not None and (basis.make_maps is not None) != config.charts.has_makes:
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
        if makes is not None and tuple(makes.position_groups) != self.position_groups:
            raise ValueError(f"the make model's position groups {makes.position_groups} are not the model's "
                             f"{self.position_groups}")
        self.makes = makes  # how well a given player shoots (nba_ml.shots.player.make_model), or None

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
        weights = decode_weights(encoded)
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

    def player_profiles(self, observed: pd.DataFrame, *, players: Optional[pd.DataFrame] = None,
                        seed: Optional[int] = None, charts: int = DEFAULT_CHARTS, season: Optional[str] = None,
                        **posterior_options) -> PlayerProfiles:
        """Profiles of given players (nba_ml.shots.player.profiles): for each player of `observed` (his shots, any
        number of seasons: PLAYER_ID, LOC_X, LOC_Y, SHOT_MADE_FLAG [, POSITION_GROUP, SEASON]) and of `players`
        (PLAYER_ID [, POSITION_GROUP]: players with no record), `charts` posterior draws of where he shoots and
        the posterior of how well, for `season` (default: the newest SEASON of the record; the model's own when
        there is none). A record without SHOT_MADE_FLAG still gives where he shoots; how well is then his
        position's (a warning says so; another one when the model has no make model at all)."""
        check_prior_ids(observed, players)
        listed = prior_players(self.position_groups) if players is None else pd.concat(
            [players, prior_players(self.position_groups)], ignore_index=True)
        records = player_records(observed, self.position_groups, players=listed, target_season=season)
        if self.basis is not None:  # without one, player_posterior says why
            check_profile_memory(self, records, charts, posterior_options.get("particles", DEFAULT_PARTICLES))
        if self.makes is None:
            warnings.warn("this model has no make model, so the profiles say where each player shoots, without "
                          f"MAKE_PROB or MADE: {NO_MAKE_MODEL}")
        elif not records.has_outcomes and int(records.table["SHOTS"].sum()) > 0:
            warnings.warn("observed has no SHOT_MADE_FLAG column: the make model needs each shot's 0/1 outcome, so "
                          "MAKE_PROB is each player's position rate (where he shoots still follows his record)")
        chart = player_posterior(self, records, charts, seed=seed, **posterior_options)
        skill = skill_posterior(self.makes, records) if self.makes is not None else None
        return build_profiles(self, observed, records, chart, skill, seed)

    def sample_player_shots(self, observed: pd.DataFrame, n_charts: int, shots_per_chart: int, *,
                            players: Optional[pd.DataFrame] = None, seed: Optional[int] = None,
                            season: Optional[str] = None, **posterior_options) -> pd.DataFrame:
        """Shots for given players: n_charts posterior charts per player (see player_profiles), shots_per_chart
        shots from each, each chart with its own posterior draw of his make surface.

        Columns: PLAYER_ID, CHART_ID ('<PLAYER_ID>:<i>'), DRAW, LOC_X, LOC_Y, SHOT_ZONE_BASIC, SHOT_DISTANCE,
        SHOT_VALUE, MAKE_PROB and MADE (models with a make model: his own), POSITION_GROUP (the chart's label).
        The players' diagnostics (one row each, every player of the input) and the dropped-row counts are in
        `frame.attrs['posterior']` / `['dropped']`.
        """
        check_sampling_memory(shots_per_chart, n_charts, names=("shots_per_chart", "n_charts"))  # before the posterior
        profiles = self.player_profiles(observed, players=players, seed=seed, charts=n_charts, season=season,
                                        **posterior_options)
        shots = profiles.sample(shots_per_chart, draws=n_charts, seed=seed, chart_ids=True)
        shots.attrs["posterior"] = profiles.players
        shots.attrs["dropped"] = dict(profiles.dropped)
        return shots

    def save(self, directory: str | Path) -> Path:
        """Export to `directory` (model.yaml + generator.pt [+ basis.pt] [+ makes.pt]), swapped in whole."""
        meta = {"kind": "shot_charts", "charts": self.config.charts.model_dump(mode="json"),
                "shots_per_chart": self.config.shots_per_chart, "basis": self.config.basis,
                "position_groups": list(self.position_groups), "label_freqs": self.label_freqs,
                "makes": self.config.makes.model_dump(mode="json")}
        tensors = {}
        if self.basis is not None:
            tensors[BASIS_FILE] = {"maps": self.basis.maps}
            if self.basis.make_maps is not None:
                tensors[BASIS_FILE]["make_maps"] = self.basis.make_maps
            if self.prior_scale is not None:
                tensors[BASIS_FILE]["prior_scale"] = self.prior_scale
        if self.makes is not None:
            tensors[MAKES_FILE] = self.makes.tensors()
        return export_generator(directory, self.config.gan, self.generator, meta, tensors)

    @classmethod
    def load(cls, directory: str | Path) -> "ShotChartModel":
        """Load an export (or a run directory holding model/); tensors only are unpickled. A model.yaml, basis.pt
        or makes.pt that is damaged or does not fit the model is a ModelFileError naming the file and field."""
        gan, generator, meta = load_export(directory)
        where = find_export(directory)
        if meta.get("kind") != "shot_charts":
            raise ModelFileError(f"{where / 'model.yaml'} holds a {meta.get('kind')!r} model, not a shot-chart model")
        try:
            saved = ShotModelFile.model_validate(meta)
            config = validate_shot_config({"charts": saved.charts.model_dump(), "gan": gan.model_dump(),
                                           "shots_per_chart": saved.shots_per_chart, "basis": saved.basis,
                                           "makes": saved.makes.model_dump()})
        except (ValidationError, ConfigError) as err:
            problem = format_validation_error(err) if isinstance(err, ValidationError) else str(err)
            problem = problem.replace("invalid config", "invalid model file", 1)
            raise ModelFileError(f"{where / 'model.yaml'}: {one_line(ValueError(problem))}") from None
        basis, prior, makes = None, None, None
        if config.basis:
            path = where / BASIS_FILE
            try:  # the maps, make rates and calibration factors are checked by the constructors
                tensors = read_tensors(path, ModelFileError)
                basis, prior = ChartBasis(tensors["maps"], tensors.get("make_maps")), tensors.get("prior_scale")
            except (OSError, RuntimeError, KeyError, TypeError, ValueError, AttributeError) as err:
                raise ModelFileError(f"{path}: expected the chart basis of this model ({config.basis} maps): {err}") from None
        if (where / MAKES_FILE).exists():
            path = where / MAKES_FILE
            try:
                makes = MakeModel.from_tensors(read_tensors(path, ModelFileError), config.makes, saved.position_groups)
            except (RuntimeError, KeyError, TypeError, ValueError, AttributeError) as err:
                raise ModelFileError(f"{path}: expected the make model of this model: {one_line(err)}") from None
        try:
            return cls(config, generator, saved.position_groups, saved.label_freqs, basis, prior, makes)
        except ValueError as err:
            raise ModelFileError(f"{where}: the saved files do not fit together: {one_line(err)}") from None
