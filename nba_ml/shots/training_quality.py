"""Quality while a shot model trains: the guide's "quality metrics every N epochs" for shot charts.

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

from typing import Optional

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from .basis import ChartBasis
from .charts import ShotCharts, make_charts
from .quality import quality_floor

QUALITY_KEYS = ("frechet", "precision", "recall")


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
    from .model import evaluate_shot_model, model_from_generator  # model imports this module

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
            out["quality/inception"] = inception_score(((encoded + 1) / 2).square())
        state.generator.train()  # the model put the sampler in eval mode
        return {**out, **real}

    return judge

