"""A chart basis: shot charts as mixtures of K basis maps learned from the training charts.

    basis = fit_basis(charts.charts, k=16)      # non-negative matrix factorisation (KL) of the densities
    weights = basis.weights(charts.charts)      # (N, K) mixture weights, each row on the simplex
    charts = basis.charts(weights)              # (N, 1, S, S) encoded charts again, smooth

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
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.decomposition import NMF, non_negative_factorization
from sklearn.exceptions import ConvergenceWarning
from torch import Tensor

from .charts import decode_density, encode_density

NMF_MAX_ITER = 1000  # multiplicative updates; 857 charts x 1,024 cells at K = 16 take ~3 s
NMF_TOL = 1e-5


@dataclass(frozen=True)
class ChartBasis:
    """K basis maps over an S x S grid, each a density: `maps` (K, S, S), every map summing to 1."""

    maps: Tensor

    def __post_init__(self) -> None:
        if self.maps.dim() != 3 or self.maps.shape[1] != self.maps.shape[2] or self.maps.shape[0] < 1:
            raise ValueError(f"basis maps must have shape (K, S, S) with K >= 1, got {tuple(self.maps.shape)}")
        if not torch.isfinite(self.maps).all() or (self.maps < 0).any():
            raise ValueError("basis maps must be finite and non-negative")

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
        densities = decode_density(charts).flatten(1).double().numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            weights, _, _ = non_negative_factorization(
                densities, H=self.maps.flatten(1).double().numpy(), n_components=self.size, update_H=False,
                beta_loss="kullback-leibler", solver="mu", max_iter=NMF_MAX_ITER, tol=NMF_TOL)
        return _rows_on_simplex(torch.from_numpy(weights).float())

    def charts(self, weights: Tensor) -> Tensor:
        """Encoded charts (N, 1, S, S) of mixture weights (N, K); rows are renormalised to sum to 1."""
        if weights.dim() != 2 or weights.shape[1] != self.size:
            raise ValueError(f"weights must have shape (N, {self.size}), got {tuple(weights.shape)}")
        density = _rows_on_simplex(weights.clamp(min=0)) @ self.maps.flatten(1).to(weights)
        return encode_density(density.reshape(-1, 1, self.grid, self.grid))


def fit_basis(charts: Tensor, k: int) -> ChartBasis:
    """Fit K basis maps to encoded charts (N, C, S, S) (channel 0, the attempt density)."""
    if k < 1 or k > min(charts.shape[0], charts.shape[-1] ** 2):
        raise ValueError(f"basis size must be between 1 and min(charts, cells) = "
                         f"{min(charts.shape[0], charts.shape[-1] ** 2)}, got {k}")
    densities = decode_density(charts).flatten(1).double().numpy()
    # random_state: NNDSVD starts from a randomized SVD, which would otherwise draw from numpy's global RNG
    nmf = NMF(k, beta_loss="kullback-leibler", solver="mu", init="nndsvda", max_iter=NMF_MAX_ITER, tol=NMF_TOL,
              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        nmf.fit(densities)
    maps = nmf.components_ / np.maximum(nmf.components_.sum(axis=1, keepdims=True), np.finfo(float).tiny)
    grid = charts.shape[-1]
    return ChartBasis(torch.from_numpy(maps).float().reshape(k, grid, grid))


def _rows_on_simplex(weights: Tensor) -> Tensor:
    """Rows divided by their sum; an all-zero row becomes uniform."""
    total = weights.sum(dim=1, keepdim=True)
    uniform = torch.full_like(weights, 1.0 / weights.shape[1])
    return torch.where(total > 0, weights / total.clamp(min=torch.finfo(weights.dtype).tiny), uniform)
