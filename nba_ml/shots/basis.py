"""A chart basis: shot charts as mixtures of K basis maps learned from the training charts.

    basis = fit_basis(charts.charts, k=16)      # non-negative matrix factorisation (KL) of the densities
    weights = basis.weights(charts.charts)      # (N, K) mixture weights, each row on the simplex
    charts = basis.charts(weights)              # (N, 1, S, S) encoded charts again, smooth
    basis = with_make_rates(basis, charts, weights)  # charts with makes: + each habit's make rates

Why. A player's chart is a handful of shot habits in different proportions (at
the rim, the short corners, the corner threes, above the break...). A GAN on the
raw S x S cells spends its critic on cell-level noise: with 100 shots in 1,024
cells, two charts of the same player differ more cell by cell than two players'
zone mixes do, so the Wasserstein critic barely sees the mix and the generator
collapsed to a few chart types (recall 0.14 on a season it had not seen,
docs/benchmarks.md). On mixture weights the GAN learns what varies between
players; the basis, fitted once, supplies the spatial detail, and every generated
chart is a proper density.

The factorisation is sklearn's NMF with the Kullback-Leibler loss (the Poisson
likelihood of shot counts) and multiplicative updates, initialised by NNDSVDa
with a fixed random_state: the same charts give the same maps in any process
(a resumed run refits them). Each map is a density over the grid (sums to 1),
so a chart's weights are the shares of its shots that each habit accounts for.
The GAN sees the weights encoded as 2 * sqrt(w) - 1 (encode_density), the same
Hellinger geometry as the raw charts.

Makes. For charts with a makes channel, `with_make_rates` gives every habit its
own make probability per cell: each chart's attempts and makes in a cell are
shared among its habits in proportion to their share of that cell
(w_k maps_k / sum_j w_j maps_j), pooled over the charts, and shrunk toward the
league's rate with the charts' `make_prior_shots`. A generated chart's make
probability in a cell is then the mix of its habits' rates there, weighted the
same way, so it follows the chart's mix (more rim finishers, higher rate at the
rim); the GAN itself still learns only the weights.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .charts import ShotCharts, decode_density, decode_make_prob, encode_density, encode_make_prob

NMF_MAX_ITER = 1000  # multiplicative updates; 857 charts x 1,024 cells at K = 16 take ~3 s
NMF_TOL = 1e-5
FIT_GRID = 32  # habits are found on charts pooled to this size: finer grids give noisier, player-specific maps


@dataclass(frozen=True)
class ChartBasis:
    """K basis maps over an S x S grid, each a density: `maps` (K, S, S), every map summing to 1;
    `make_maps` (K, S, S), each habit's make probability per cell, or None (attempts only)."""

    maps: Tensor
    make_maps: Tensor | None = None

    def __post_init__(self) -> None:
        if self.maps.dim() != 3 or self.maps.shape[1] != self.maps.shape[2] or self.maps.shape[0] < 1:
            raise ValueError(f"basis maps must have shape (K, S, S) with K >= 1, got {tuple(self.maps.shape)}")
        if not torch.isfinite(self.maps).all() or (self.maps < 0).any():
            raise ValueError("basis maps must be finite and non-negative")
        if self.make_maps is not None:
            if self.make_maps.shape != self.maps.shape:
                raise ValueError(f"make_maps must have the shape of maps {tuple(self.maps.shape)}, "
                                 f"got {tuple(self.make_maps.shape)}")
            if not ((self.make_maps >= 0) & (self.make_maps <= 1)).all():
                raise ValueError("make_maps must be probabilities in [0, 1]")

    @property
    def size(self) -> int:
        return self.maps.shape[0]

    @property
    def grid(self) -> int:
        return self.maps.shape[-1]

    def weights(self, charts: Tensor) -> Tensor:
        """Mixture weights (N, K), rows summing to 1, of encoded charts (N, C, S, S) on this basis
        (KL projection with the maps held fixed)."""
        if charts.shape[-1] != self.grid:
            raise ValueError(f"charts are {charts.shape[-1]} x {charts.shape[-1]}; the basis is {self.grid} x {self.grid}")
        from sklearn.decomposition import non_negative_factorization  # here: loading a model needs no sklearn
        from sklearn.exceptions import ConvergenceWarning

        densities = decode_density(charts).flatten(1).double().numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            weights, _, _ = non_negative_factorization(
                densities, H=self.maps.flatten(1).double().numpy(), n_components=self.size, update_H=False,
                beta_loss="kullback-leibler", solver="mu", max_iter=NMF_MAX_ITER, tol=NMF_TOL)
        return _rows_on_simplex(torch.from_numpy(weights).float())

    def charts(self, weights: Tensor) -> Tensor:
        """Encoded charts (N, C, S, S) of mixture weights (N, K), rows renormalised to sum to 1;
        C = 2 (attempts, make probability) with make_maps, else 1."""
        if weights.dim() != 2 or weights.shape[1] != self.size:
            raise ValueError(f"weights must have shape (N, {self.size}), got {tuple(weights.shape)}")
        weights = _rows_on_simplex(weights.clamp(min=0))
        maps = self.maps.flatten(1).to(weights)
        density = weights @ maps
        charts = encode_density(density.reshape(-1, 1, self.grid, self.grid))
        if self.make_maps is None:
            return charts
        make_maps = self.make_maps.flatten(1).to(weights)
        rate = (weights @ (maps * make_maps)) / density.clamp(min=torch.finfo(density.dtype).tiny)
        rate = torch.where(density > 0, rate, make_maps.mean(dim=0))  # a cell no habit reaches is never drawn
        return torch.cat([charts, encode_make_prob(rate.clamp(0, 1)).reshape(-1, 1, self.grid, self.grid)], dim=1)


def fit_basis(charts: Tensor, k: int) -> ChartBasis:
    """Fit K basis maps to encoded charts (N, C, S, S) (channel 0, the attempt density).

    The habits are found on the charts pooled to at most FIT_GRID cells a side; on
    finer charts each map is then refined to the full grid with the charts' mixture
    weights held fixed, so the habits (and the weights the GAN learns) stay those
    of the coarse fit while the maps get the fine grid's spatial detail.
    """
    if k < 1 or k > min(charts.shape[0], charts.shape[-1] ** 2):
        raise ValueError(f"basis size must be between 1 and min(charts, cells) = "
                         f"{min(charts.shape[0], charts.shape[-1] ** 2)}, got {k}")
    grid = charts.shape[-1]
    fine = decode_density(charts).double()  # (N, S, S)
    factor = max(1, grid // FIT_GRID)
    coarse = torch.nn.functional.avg_pool2d(fine[:, None], factor)[:, 0] * factor**2 if factor > 1 else fine
    # random_state: NNDSVD starts from a randomized SVD, which would otherwise draw from numpy's global RNG
    from sklearn.decomposition import NMF, non_negative_factorization  # here: loading a model needs no sklearn
    from sklearn.exceptions import ConvergenceWarning

    nmf = NMF(k, beta_loss="kullback-leibler", solver="mu", init="nndsvda", max_iter=NMF_MAX_ITER, tol=NMF_TOL,
              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weights = nmf.fit_transform(coarse.flatten(1).numpy())
        maps = nmf.components_
        if factor > 1:  # refine: min KL(fine^T || maps^T weights^T) over maps^T, the weights fixed (convex)
            maps, _, _ = non_negative_factorization(
                fine.flatten(1).numpy().T, H=np.ascontiguousarray(weights.T), n_components=k, update_H=False,
                beta_loss="kullback-leibler", solver="mu", max_iter=NMF_MAX_ITER, tol=NMF_TOL)
            maps = maps.T
    maps = maps / np.maximum(maps.sum(axis=1, keepdims=True), np.finfo(float).tiny)
    return ChartBasis(torch.from_numpy(maps).float().reshape(k, grid, grid))


def with_make_rates(basis: ChartBasis, charts: ShotCharts, weights: Tensor) -> ChartBasis:
    """The basis plus each habit's make probability per cell, from charts with a makes channel
    and their mixture weights on the basis (`basis.weights(charts.charts)`).

    A chart's attempts per cell are its density times its shot count, and its makes
    are recovered from the shrunk rate of channel 1 (exactly, for unblurred charts).
    Both are shared among the habits by w_k maps_k / sum_j w_j maps_j, pooled over
    the charts and shrunk toward the league's rate with `make_prior_shots`.
    """
    if charts.league_make_prob is None:
        raise ValueError("charts have no makes channel: make them with channels='attempts+makes'")
    prior = charts.spec.make_prior_shots
    league = charts.league_make_prob.flatten()
    attempts = decode_density(charts.charts).flatten(1) * charts.shot_counts[:, None].float()
    makes = (decode_make_prob(charts.charts).flatten(1) * (attempts + prior) - prior * league).clamp(min=0)
    maps = basis.maps.flatten(1)
    mix = (weights @ maps).clamp(min=torch.finfo(maps.dtype).tiny)
    habit_attempts = maps * (weights.T @ (attempts / mix))
    habit_makes = maps * (weights.T @ (makes / mix))
    make_maps = ((habit_makes + prior * league) / (habit_attempts + prior)).clamp(0, 1)
    return ChartBasis(basis.maps, make_maps.reshape(basis.maps.shape))


def _rows_on_simplex(weights: Tensor) -> Tensor:
    """Rows divided by their sum; an all-zero row becomes uniform."""
    total = weights.sum(dim=1, keepdim=True)
    uniform = torch.full_like(weights, 1.0 / weights.shape[1])
    return torch.where(total > 0, weights / total.clamp(min=torch.finfo(weights.dtype).tiny), uniform)
