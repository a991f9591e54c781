"""A trained generator saved for sampling: `model.yaml` (config and metadata) + `generator.pt` (tensors only).

Unlike a training checkpoint (nba_ml.gan.checkpoint: both networks, optimizers,
RNG states), an export holds only what sampling needs, and loads without the
training data.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import yaml
from torch import nn

from ..io import atomic_path, write_text_atomic
from .config import GANConfig, validate_config
from .networks import build_generator

FORMAT_VERSION = 1
META_FILE, WEIGHTS_FILE = "model.yaml", "generator.pt"


def export_generator(directory: str | Path, cfg: GANConfig, generator: nn.Module, meta: dict[str, Any]) -> Path:
    """Write the generator's weights and `meta` (plain YAML-able values, e.g. kind='points') atomically."""
    directory = Path(directory)
    with atomic_path(directory / WEIGHTS_FILE) as tmp:
        torch.save(generator.state_dict(), tmp)
    document = {"format": FORMAT_VERSION, **meta, "gan": cfg.model_dump(mode="json")}
    write_text_atomic(directory / META_FILE, yaml.safe_dump(document, sort_keys=False))
    return directory


def find_export(path: str | Path) -> Path:
    """The export directory at `path`, or at `path`/model (a run directory)."""
    path = Path(path)
    for candidate in (path, path / "model"):
        if (candidate / META_FILE).is_file():
            return candidate
    raise FileNotFoundError(f"no saved model at {path}: expected {path / META_FILE} or {path / 'model' / META_FILE}")


def load_export(path: str | Path) -> tuple[GANConfig, nn.Module, dict[str, Any]]:
    """(config, generator in eval mode, meta) from an export; tensors only are unpickled."""
    directory = find_export(path)
    meta = yaml.safe_load((directory / META_FILE).read_text(encoding="utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
        raise ValueError(f"{directory / META_FILE}: not a saved model of format {FORMAT_VERSION}")
    cfg = validate_config(meta.pop("gan"))
    generator = build_generator(cfg)
    weights = directory / WEIGHTS_FILE
    try:
        generator.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    except (RuntimeError, FileNotFoundError) as err:
        raise ValueError(f"{weights} does not hold the generator described in {META_FILE}: {err}") from None
    return cfg, generator.eval(), meta
