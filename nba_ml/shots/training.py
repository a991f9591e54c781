"""Training a shot-chart model: charts, the chart basis, the conditional WGAN-GP, the prior's calibration,
and the quality the run reports while it trains.

    cfg = load_shot_config("nba_ml/configs/shot_charts.yaml")
    model, run, charts = train_shot_model(cfg, shots)   # shots: a load_shots() or synthetic_league() frame
    model.save("models/shots")

Quality while a shot model trains (the guide's "quality metrics every N epochs" for shot charts).
A share of the players (`ShotModelConfig.quality_holdout`) is kept out of training.
Every `log.quality_every` logged steps of a run, the generator's charts are judged
against those players' real charts, and the same figures of real charts (training
players against the held-out ones, as many charts a side) stand beside them:

  quality/frechet, quality/precision, quality/recall     generated vs held-out real (nba_ml.shots.quality)
  quality/frechet_real, quality/precision_real, ...      real training-player charts vs held-out real: the floor
  quality/inception, quality/inception_real              IS-style score of the charts' habit mixtures
  quality/pixvar (every logged step), quality/pixvar_real   diversity of the GAN's samples, and of the real ones

IS-style score. The guide's Inception Score exp(E_x KL(p(y|x) || p(y))) needs a
classifier; a chart on a basis has one built in: its mixture weights over the K
shot habits are its class distribution p(y|x), and p(y) is their mean over the
charts. High when charts are each dominated by few habits (sharp) and different
charts use different habits (diverse); at most K. Real charts get the same score
from their projected weights, so the two read side by side.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn
from torch.utils.data import TensorDataset

from ..errors import counted
from ..frames import frame_fingerprint
from ..gan import GANConfig, TrainResult, run_training, train
from ..gan.checkpoint import checkpoint_path, sampler_at
from ..gan.config import ConfigError
from ..gan.metrics import real_pixvar
from ..gan.networks import NETWORKS
from ..gan.runs import check_resume
from .basis import ChartBasis, fit_basis, with_make_rates
from .charts import ShotCharts, decode_weights, encode_density, make_charts
from .model import ShotChartModel, ShotModelConfig, validate_shot_config
from .player.make_fit import fit_make_model
from .quality import evaluate_shot_model, quality_floor

QUALITY_KEYS = ("frechet", "precision", "recall")
# The shot columns a model is made from: their fingerprint is the data part of a run's identity.
SHOT_COLUMNS = ("LOC_X", "LOC_Y", "SHOT_MADE_FLAG", "PLAYER_ID", "POSITION_GROUP", "SEASON", "GAME_ID", "GAME_DATE", "TEAM_ID")

def train_shot_model(cfg: ShotModelConfig | dict, shots: pd.DataFrame, *, callbacks=(),
                     run_dir: Optional[str | Path] = None, resume: bool = False,
                     verbose: bool = False) -> tuple[ShotChartModel, TrainResult, ShotCharts]:
    """Rasterise `shots` into charts and train the conditional GAN on them.

    With `run_dir`, training is a run (nba_ml.gan.run_training: console, metrics.jsonl,
    checkpoints, plots, summary; `resume` continues it); otherwise a plain train(). A run records the
    shot settings and a fingerprint of `shots` (run_identity); a resume that changes either is refused
    before any work.
    """
    cfg = validate_shot_config(cfg)
    identity = run_identity(cfg, shots) if run_dir is not None else None
    if resume and run_dir is not None:
        check_resume(cfg.gan, run_dir, identity)  # before the charts and the basis: refused in a moment, nothing touched
    every_shot = shots
    shots, held_out = split_players(shots, cfg.quality_holdout, cfg.gan.train.seed)
    charts = make_charts(shots, cfg.charts)
    makes = None  # fitted first, on every player (the Quality line judges the GAN alone): bad data is found early
    if cfg.makes.fit and charts.league_make_prob is not None:
        makes = fit_make_model(every_shot, cfg.makes, min_shots=cfg.charts.min_shots, position_groups=charts.position_groups)
    basis, weights = chart_basis(charts, cfg)
    data = training_data(charts, cfg.gan, weights)
    if run_dir is None:
        result = train(cfg.gan, data, callbacks=callbacks)
    else:
        if held_out is not None:
            callbacks = (*callbacks, quality_callback(cfg, charts, basis, shots, held_out, real_pixvar(data)))
        result = run_training(cfg.gan, data, run_dir, resume=resume, verbose=verbose, callbacks=callbacks, identity=identity)
        if cfg.keep == "best":
            result = best_step(result, Path(run_dir))
    model = model_from_result(cfg, result, charts, basis, weights)
    model.makes = makes
    return model, result, charts


def best_step(result: TrainResult, run_dir: Path) -> TrainResult:
    """The run's result with the generator of its checkpointed step of lowest held-out Frechet distance
    (quality/frechet), and quality/kept_step, quality/kept_frechet added to its final metrics."""
    judged = [(row["quality/frechet"], int(row["step"])) for row in result.history
              if np.isfinite(row.get("quality/frechet", np.nan)) and checkpoint_path(run_dir, int(row["step"])).is_file()]
    if not judged:
        return result
    frechet, step = min(judged)
    generator = result.generator if step == int(result.metrics.get("step", -1)) else sampler_at(run_dir, step, result.config)
    return dataclasses.replace(result, generator=generator,
                               metrics={**result.metrics, "quality/kept_step": float(step), "quality/kept_frechet": frechet})


def run_identity(cfg: ShotModelConfig, shots: Optional[pd.DataFrame] = None) -> dict:
    """What a shot-model run is beside its GAN config: every other setting, and the fingerprint of its shots
    (without `shots`, the settings alone: what can be checked before the data is read)."""
    settings = cfg.model_dump(mode="json", exclude={"gan"})
    return settings if shots is None else {**settings, "data": frame_fingerprint(shots, SHOT_COLUMNS, "shots")}


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
        raise ValueError(f"only {counted(len(charts), 'chart')} after filtering (dropped: {charts.dropped}); "
                         f"lower charts.min_shots or give more shots")
    num_classes = gan.model.num_classes
    if num_classes and num_classes != len(charts.position_groups):
        raise ConfigError(f"invalid config:\n  gan.model.num_classes: {num_classes}, but the charts have "
                          f"{len(charts.position_groups)} position groups {charts.position_groups}")
    if weights is not None:
        samples = encode_density(weights)
    else:
        samples = charts.charts.flatten(1) if NETWORKS[gan.model.kind].flat else charts.charts
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
        drawn = decode_weights(model.generator.eval()(z, condition).double())
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

def split_players(shots: pd.DataFrame, share: float, seed: int) -> tuple[pd.DataFrame, Optional[pd.DataFrame]]:
    """(training shots, held-out shots): a seeded random `share` of the PLAYER_IDs held out (None when share is 0)."""
    if share == 0:
        return shots, None
    players = np.sort(shots["PLAYER_ID"].dropna().unique())
    held = np.random.default_rng(seed).permutation(len(players))[: max(1, round(share * len(players)))]
    is_held = shots["PLAYER_ID"].isin(players[held]).to_numpy()
    return shots[~is_held], shots[is_held]


def inception_score(weights: Tensor) -> float:
    """exp(mean KL(w_i || mean w)) of mixture weights (N, K), rows on the simplex."""
    weights = weights.double().clamp(min=0)
    weights = weights / weights.sum(dim=1, keepdim=True).clamp(min=1e-300)
    marginal = weights.mean(dim=0, keepdim=True)
    kl = torch.where(weights > 0, weights * (weights.clamp(min=1e-300).log() - marginal.clamp(min=1e-300).log()), 0.0)
    return float(kl.sum(dim=1).mean().exp())


def real_quality(cfg, basis: Optional[ChartBasis], training_shots: pd.DataFrame, held_out: pd.DataFrame,
                 seed: int) -> dict[str, float]:
    """The real charts' own figures: training players against the held-out ones, as many players a side."""
    players = np.sort(training_shots["PLAYER_ID"].dropna().unique())
    n_held = held_out["PLAYER_ID"].nunique()
    some = np.random.default_rng(seed).permutation(len(players))[:n_held]
    floor = quality_floor(held_out, training_shots[training_shots["PLAYER_ID"].isin(players[some])],
                          cfg.shots_per_chart, seed)
    out = {f"quality/{key}_real": floor[f"shots/{key}"] for key in QUALITY_KEYS}
    if basis is not None:
        charts = make_charts(held_out, cfg.charts)
        if len(charts):
            out["quality/inception_real"] = inception_score(basis.weights(charts.charts))
    return out


def quality_callback(cfg, charts: ShotCharts, basis: Optional[ChartBasis], training_shots: pd.DataFrame,
                     held_out: pd.DataFrame, pixvar_real: float):
    """A run_training quality callback: the generated charts against the held-out players (module docstring)."""
    seed = cfg.gan.train.seed
    real = {**real_quality(cfg, basis, training_shots, held_out, seed), "quality/pixvar_real": pixvar_real}

    def judge(state, logged) -> Optional[dict[str, float]]:
        if logged is None:
            return None
        model = model_from_generator(cfg, state.cfg, state.sampler, charts, basis)
        metrics = evaluate_shot_model(model, held_out, seed=seed)
        out = {f"quality/{key}": metrics[f"shots/{key}"] for key in QUALITY_KEYS}
        if basis is not None:
            encoded = model.generator.sample(2048, seed=seed, condition=model.labels_for(2048, None, seed))
            out["quality/inception"] = inception_score(decode_weights(encoded))
        state.generator.train()  # the model put the sampler in eval mode
        return {**out, **real}

    return judge
