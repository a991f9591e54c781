"""The shot-chart model: train a conditional WGAN-GP on charts, save it, load it, draw shots.

    cfg = load_shot_config("nba_ml/configs/shot_charts.yaml")
    model, run = train_shot_model(cfg, shots)           # shots: a load_shots() or synthetic_league() frame
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
from torch.utils.data import TensorDataset

from ..gan import GANConfig, TrainResult, run_training, train
from ..gan.config import ConfigError, format_validation_error, read_yaml_mapping
from ..errors import ModelFileError
from ..gan.checkpoint import read_tensors
from ..gan.export import export_generator, find_export, load_export
from ..gan.metrics import real_pixvar
from .basis import ChartBasis, fit_basis, with_make_rates
from .charts import ChartSpec, ShotCharts, draw_shots, encode_density, make_charts
from .posterior import PlayerPosterior, player_posterior
from .quality import real_charts, shot_quality
from .training_quality import quality_callback, split_players

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
    quality_holdout: float = Field(0.0, ge=0, lt=1, description="Share of players (seeded by gan.train.seed) kept out of training; a run judges its charts against theirs every log.quality_every logged steps (nba_ml.shots.training_quality); 0 = train on all, no Quality line.")


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
    if cfg.basis and (cfg.gan.model.kind, cfg.gan.model.output) != ("mlp", "density"):
        raise ConfigError("invalid config:\n  basis: a basis model generates mixture weights, so it needs "
                          "gan.model.kind='mlp' and gan.model.output='density' "
                          f"(got {cfg.gan.model.kind!r}, {cfg.gan.model.output!r}); set basis: 0 for a GAN on the cells")
    if cfg.calibrate_prior and not cfg.basis:
        raise ConfigError("invalid config:\n  calibrate_prior: the calibration scales mixture weights over the basis "
                          "maps, so it needs basis: K > 0")
    if not cfg.basis and cfg.gan.model.kind == "mlp" and cfg.gan.model.output == "density" and cfg.charts.channels != "attempts":
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
        the posterior given his shots (nba_ml.shots.posterior), shots_per_chart shots from each.

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


def train_shot_model(cfg: ShotModelConfig | dict, shots: pd.DataFrame, *, callbacks=(),
                     run_dir: Optional[str | Path] = None, resume: bool = False,
                     verbose: bool = False) -> tuple[ShotChartModel, TrainResult, ShotCharts]:
    """Rasterise `shots` into charts and train the conditional GAN on them.

    With `run_dir`, training is a run (nba_ml.gan.run_training: console, metrics.jsonl,
    checkpoints, plots, summary; `resume` continues it); otherwise a plain train().
    """
    cfg = validate_shot_config(cfg)
    shots, held_out = split_players(shots, cfg.quality_holdout, cfg.gan.train.seed)
    charts = make_charts(shots, cfg.charts)
    basis, weights = chart_basis(charts, cfg)
    data = training_data(charts, cfg.gan, weights)
    if run_dir is None:
        result = train(cfg.gan, data, callbacks=callbacks)
    else:
        if held_out is not None:
            callbacks = (*callbacks, quality_callback(cfg, charts, basis, shots, held_out, real_pixvar(data)))
        result = run_training(cfg.gan, data, run_dir, resume=resume, verbose=verbose, callbacks=callbacks)
    return model_from_result(cfg, result, charts, basis, weights), result, charts


def chart_basis(charts: ShotCharts, cfg: ShotModelConfig) -> tuple[Optional[ChartBasis], Optional[Tensor]]:
    """The basis of cfg.basis maps fitted to the training charts (with its habits' make rates when the
    charts have makes) and the charts' mixture weights on it; (None, None) for a GAN on the cells."""
    if not cfg.basis:
        return None, None
    if cfg.basis > len(charts):
        raise ConfigError(f"invalid config:\n  basis: {cfg.basis} maps, but there are only {len(charts)} "
                          f"training charts; use at most {len(charts)}")
    basis = fit_basis(charts.charts, cfg.basis)
    weights = basis.weights(charts.charts)
    if charts.league_make_prob is not None:
        basis = with_make_rates(basis, charts, weights)
    return basis, weights


def training_data(charts: ShotCharts, gan: GANConfig, weights: Optional[Tensor] = None):
    """What train() takes for these charts: their encoded mixture weights (N, K) on a basis
    (`chart_basis`), else the charts (flat for the MLP pair); with labels for a conditional model."""
    if len(charts) < 2:
        raise ValueError(f"only {len(charts)} charts after filtering (dropped: {charts.dropped}); "
                         f"lower charts.min_shots or give more shots")
    num_classes = gan.model.num_classes
    if num_classes and num_classes != len(charts.position_groups):
        raise ConfigError(f"invalid config:\n  gan.model.num_classes: {num_classes}, but the charts have "
                          f"{len(charts.position_groups)} position groups {charts.position_groups}")
    if weights is not None:
        samples = encode_density(weights)
    else:
        samples = charts.charts.flatten(1) if gan.model.kind == "mlp" else charts.charts
    return TensorDataset(samples, charts.labels) if num_classes else samples


def model_from_result(cfg: ShotModelConfig, result: TrainResult, charts: ShotCharts,
                      basis: Optional[ChartBasis] = None, weights: Optional[Tensor] = None) -> ShotChartModel:
    """The sampler of a finished run, with the label frequencies of its training charts; calibrated
    (cfg.calibrate_prior) to the training charts' mixture `weights`."""
    model = model_from_generator(cfg, result.config, result.generator, charts, basis)
    if cfg.calibrate_prior:
        model.prior_scale = prior_scale(model, weights, charts.labels)
    return model


# calibrate_prior: generator draws per group, and fixed-point iterations (the mean error after them is ~1e-6)
CALIBRATION_DRAWS, CALIBRATION_ITERATIONS = 8192, 100


@torch.no_grad()
def prior_scale(model: ShotChartModel, weights: Tensor, labels: Tensor) -> Tensor:
    """(groups, K) factors s such that the generated mixture weights w, rescaled w * s / sum(w * s), have the
    mean of the training charts' `weights` (N, K) in each label's group (all charts for an unconditional model).

    A fixed point (iterative proportional fitting): s <- s * target / mean(rescaled w), on seeded draws. The GAN
    keeps its charts' shapes and spread; only how much of each habit a group's charts hold on average moves.
    """
    conditional = model.conditional
    groups = len(model.position_groups) if conditional else 1
    rng = torch.Generator().manual_seed(0)
    scale = torch.ones(groups, model.basis.size)
    for g in range(groups):
        mine = weights[labels == g] if conditional else weights
        if len(mine) == 0:
            continue  # a group without training charts keeps factors of 1
        target = mine.double().mean(dim=0)
        condition = torch.full((CALIBRATION_DRAWS,), g, dtype=torch.long) if conditional else None
        z = torch.randn(CALIBRATION_DRAWS, model.generator.latent_dim, generator=rng)
        drawn = ((model.generator.eval()(z, condition).double() + 1) / 2).square()
        s = torch.ones(model.basis.size, dtype=torch.float64)
        for _ in range(CALIBRATION_ITERATIONS):
            rescaled = drawn * s
            s = s * target / (rescaled / rescaled.sum(dim=1, keepdim=True)).mean(dim=0).clamp(min=1e-300)
        scale[g] = (s / s.max()).float()  # only ratios matter
    return scale


def model_from_generator(cfg: ShotModelConfig, gan: GANConfig, generator: nn.Module, charts: ShotCharts,
                         basis: Optional[ChartBasis] = None) -> ShotChartModel:
    """A sampler of `generator` (trained with the resolved `gan` config), with its training charts' label frequencies."""
    counts = torch.bincount(charts.labels, minlength=len(charts.position_groups)).double()
    resolved = cfg.model_copy(update={"gan": gan})
    return ShotChartModel(resolved, generator, charts.position_groups, (counts / counts.sum()).tolist(), basis)


def evaluate_shot_model(model: ShotChartModel, reference: pd.DataFrame, *, seed: int = 0,
                        counts: Optional[dict[str, int]] = None) -> dict[str, float]:
    """Shot metrics of the model against a reference season (nba_ml.shots.quality), overall and per position.

    The reference is cut into charts of K = config.shots_per_chart shots (one
    per player-season with at least K shots); the model draws `counts[group]`
    charts per position group (default: as many as the reference has), K shots
    each. Frechet estimates depend on the chart counts, so to read a model
    against a real-vs-real floor, give it the counts of the floor's other side.
    """
    k = model.config.shots_per_chart
    real = real_charts(reference, k, seed=seed)
    by = "POSITION_GROUP" if model.conditional and "POSITION_GROUP" in real else None
    if by is None:
        generated = model.sample_shots(sum(counts.values()) if counts else real["CHART_ID"].nunique(), k, seed=seed)
    else:
        counts = pd.Series(counts) if counts else real.groupby("CHART_ID")[by].first().value_counts()
        parts = []
        for i, (group, n) in enumerate(counts.items()):
            if group in model.position_groups:
                part = model.sample_shots(int(n), k, position=group, seed=seed + i)
                part["CHART_ID"] = part["CHART_ID"].map(lambda c, g=group: f"{g}:{c}")
                parts.append(part)
        generated = pd.concat(parts, ignore_index=True)
    return shot_quality(real, generated, by=by)
