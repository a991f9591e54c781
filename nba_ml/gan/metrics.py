"""Training and quality metrics: small functions returning flat dicts with namespaced keys.

Definitions (docs/metrics.md gives the full table):
  weights/<net>_mean, weights/<net>_std  mean and std over all parameters of the network
  stability/clip_pct                     % of critic parameters with |w| >= clip value
  stability/loss_var                     variance of loss/critic over the last window
  stability/dg_ratio                     |loss/critic| / |loss/generator|
  quality/pixvar                         mean over features of the per-feature variance of a generated batch
                                         (real_pixvar: the same of the real data, triage's baseline)
  quality/modes_covered, quality/hq_pct  mode coverage on Gaussian mixtures (Srivastava et al. 2017 style)
"""
from __future__ import annotations

import math
from typing import Iterable

import torch
from torch import Tensor, nn

from .data import dataset_to_tensors

PIXVAR_REAL_SAMPLES = 4096  # real rows the diversity baseline is taken over (strided: cheap on big data)


def weight_stats(net: nn.Module, name: str) -> dict[str, float]:
    """Mean and std of all the parameters of `net`, as one population."""
    flat = torch.cat([p.detach().reshape(-1) for p in net.parameters()])
    return {f"weights/{name}_mean": flat.mean().item(), f"weights/{name}_std": flat.std().item()}


def clip_pct(critic: nn.Module, clip_value: float) -> float:
    """Percentage of critic parameters sitting at the clip bound (|w| >= c)."""
    flat = torch.cat([p.detach().reshape(-1) for p in critic.parameters()])
    return 100.0 * (flat.abs() >= clip_value).float().mean().item()


def loss_variance(values: Iterable[float]) -> float:
    """Population variance of a window of loss values (0 for fewer than two)."""
    values = list(values)
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / len(values)


def dg_ratio(critic_loss: float, generator_loss: float) -> float:
    """|D| / |G|, the guide's balance indicator (inf when G is exactly 0)."""
    return abs(critic_loss) / abs(generator_loss) if generator_loss != 0 else math.inf


def pixvar(samples: Tensor) -> float:
    """Sample diversity: the per-feature variance across the batch, averaged over features."""
    flat = samples.detach().reshape(samples.shape[0], -1).double()
    return flat.var(dim=0, unbiased=False).mean().item()


def real_pixvar(data) -> float:
    """pixvar of the real data (a tensor or a Dataset of x or (x, label) items): the baseline that triage
    compares generated pixvar with."""
    samples = data if isinstance(data, Tensor) else dataset_to_tensors(data)[0]
    return pixvar(samples[:: max(1, samples.shape[0] // PIXVAR_REAL_SAMPLES)])


def mode_coverage(samples: Tensor, modes: Tensor, mode_std: float, n_std: float = 3.0) -> dict[str, float]:
    """Modes covered and high-quality share for samples of a Gaussian mixture.

    A sample is high quality if it lies within n_std standard deviations
    (Euclidean) of its nearest mode; a mode is covered if it is the nearest
    mode of at least one high-quality sample.
    """
    dist = torch.cdist(samples.detach().double(), modes.double())  # (N, K)
    nearest_dist, nearest = dist.min(dim=1)
    high_quality = nearest_dist <= n_std * mode_std
    covered = torch.unique(nearest[high_quality]).numel()
    return {
        "quality/modes_covered": float(covered),
        "quality/modes_total": float(modes.shape[0]),
        "quality/hq_pct": 100.0 * high_quality.double().mean().item(),
    }
