"""Data for training: the 2-D benchmarks of the WGAN-GP paper, and the checks on any data.

The benchmarks follow Gulrajani et al. (2017), gan_toy.py: 8 Gaussians on a
ring of radius 2 (std 0.02, scaled by 1/1.414), 25 Gaussians on a 5x5 grid at
-4..4 step 2 (std 0.05, scaled by 1/2.828), and the Swiss roll (scaled by 1/7.5).
Generated in-process from a seed; nothing is downloaded.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Optional

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from ..errors import InputError, one_line
from .networks import NETWORKS

PointDataset = Literal["8gaussians", "25gaussians", "swissroll"]  # the keys of POINT_SETS


@dataclass(frozen=True)
class PointData:
    """Samples (N, 2) and, for the Gaussian mixtures, their modes (K, 2) and common std."""

    name: str
    samples: Tensor
    modes: Optional[Tensor]
    mode_std: Optional[float]


# How a benchmark draws n points from a numpy Generator: (points (n, 2), their modes (K, 2) and common std, or
# None and None), all at the benchmark's scale.
Draw = Callable[[np.random.Generator, int], tuple[np.ndarray, Optional[np.ndarray], Optional[float]]]


def _gaussian_mixture(modes: np.ndarray, std: float, scale: float) -> Draw:
    """n points of equal-weight Gaussians of std `std` at `modes`, all times `scale`."""
    def draw(rng: np.random.Generator, n: int):
        which = rng.integers(len(modes), size=n)
        points = modes[which] + std * rng.standard_normal((n, 2))
        return points * scale, modes * scale, std * scale
    return draw


def _swiss_roll(rng: np.random.Generator, n: int):
    t = 1.5 * math.pi * (1 + 2 * rng.random(n))
    roll = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) + 0.25 * rng.standard_normal((n, 2))
    return roll / 7.5, None, None


_RING = np.arange(8) * (2 * math.pi / 8)  # the 8 Gaussians' angles
_GRID = np.arange(-4, 5, 2, dtype=np.float64)  # the 25 Gaussians' coordinates

# name -> how its points are drawn.
POINT_SETS: dict[str, Draw] = {
    "8gaussians": _gaussian_mixture(2.0 * np.stack([np.cos(_RING), np.sin(_RING)], axis=1), 0.02, 1 / 1.414),
    "25gaussians": _gaussian_mixture(np.stack(np.meshgrid(_GRID, _GRID), axis=-1).reshape(-1, 2), 0.05, 1 / 2.828),
    "swissroll": _swiss_roll,
}


def make_points(name: PointDataset, n: int, seed: int = 0) -> PointData:
    """n samples of a 2-D benchmark, reproducible from `seed`."""
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    if name not in POINT_SETS:
        raise ValueError(f"unknown point dataset {name!r}; expected one of {', '.join(POINT_SETS)}")
    points, modes, std = POINT_SETS[name](np.random.default_rng(seed), n)
    return PointData(name, torch.as_tensor(points, dtype=torch.float32),
                     None if modes is None else torch.as_tensor(modes, dtype=torch.float32), std)


def check_samples(samples: Tensor, model_kind: str, where: str = "data") -> None:
    """Reject data that training cannot use, naming what is wrong; called before training starts."""
    if not isinstance(samples, Tensor):
        raise TypeError(f"{where} must be a torch.Tensor or a torch Dataset, got {type(samples).__name__}")
    if not samples.is_floating_point():
        raise ValueError(f"{where} must be a float tensor, got dtype {samples.dtype}")
    network = NETWORKS[model_kind]
    if samples.dim() != (2 if network.flat else 4):
        raise ValueError(f"{where} has shape {tuple(samples.shape)}, but model.kind={model_kind!r} needs {network.layout}")
    if samples.shape[0] == 0:
        raise ValueError(f"{where} is empty (0 samples)")
    bad = ~torch.isfinite(samples)
    if bad.any():
        rows = bad.reshape(bad.shape[0], -1).any(dim=1).nonzero().flatten()
        raise ValueError(f"{where} has non-finite values (NaN or inf) in {len(rows)} samples, first at index {int(rows[0])}")


def dataset_to_tensors(dataset: Dataset) -> tuple[Tensor, Optional[Tensor]]:
    """Stack a map-style Dataset of `x` or `(x, label)` items into (samples, labels or None)."""
    try:
        n = len(dataset)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError("a Dataset passed to train() must define __len__ (map-style)") from None
    if n == 0:
        raise ValueError("data is an empty Dataset")
    items = [dataset[i] for i in range(n)]
    if isinstance(items[0], (tuple, list)):
        samples = torch.stack([torch.as_tensor(x) for x, _ in items])
        labels = torch.as_tensor([int(y) for _, y in items], dtype=torch.long)
        return samples.float(), labels
    return torch.stack([torch.as_tensor(x) for x in items]).float(), None


def load_points(path: str | Path) -> Tensor:
    """Samples (N, d) from a CSV or Parquet file whose columns are all numeric (a header row is expected).

    Raises InputError naming the file for anything wrong with it."""
    import pandas as pd

    path = Path(path)
    readers = {".csv": pd.read_csv, ".parquet": pd.read_parquet}
    if path.suffix.lower() not in readers:
        raise InputError(f"{path}: point data must be .csv or .parquet, got {path.suffix or 'no extension'}")
    try:
        table = readers[path.suffix.lower()](path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except Exception as err:  # pandas/pyarrow raise many types for a corrupt file
        raise InputError(f"{path}: cannot read it as {path.suffix[1:]}: {one_line(err)}") from None
    non_numeric = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    if non_numeric:
        raise InputError(f"{path}: point data must be numeric; non-numeric columns: {non_numeric}")
    if table.empty:
        raise InputError(f"{path}: no rows")
    samples = torch.as_tensor(table.to_numpy(dtype="float32"))
    try:
        check_samples(samples, "mlp", where=str(path))
    except ValueError as err:
        raise InputError(str(err)) from None
    return samples
