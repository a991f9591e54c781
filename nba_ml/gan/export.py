"""A trained generator saved for sampling: `model.yaml` (config and metadata) + `generator.pt` (tensors only).

Unlike a training checkpoint (nba_ml.gan.checkpoint: both networks, optimizers,
RNG states), an export holds only what sampling needs, and loads without the
training data.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import torch
import yaml
from torch import nn

from ..errors import ModelFileError, one_line, yaml_problem
from ..io import atomic_directory
from .checkpoint import read_tensors
from .config import ConfigError, GANConfig, validate_config
from .networks import build_generator

FORMAT_VERSION = 1
META_FILE, WEIGHTS_FILE = "model.yaml", "generator.pt"


def export_generator(directory: str | Path, cfg: GANConfig, generator: nn.Module, meta: dict[str, Any],
                     tensors: Optional[dict[str, Any]] = None) -> Path:
    """Write the generator's weights, `meta` (plain YAML-able values, e.g. kind='points') and any further
    `tensors` files ({name: tensors}) to a new directory that then replaces `directory` whole."""
    directory = Path(directory)
    with atomic_directory(directory) as tmp:
        for name, saved in {WEIGHTS_FILE: generator.state_dict(), **(tensors or {})}.items():
            torch.save(saved, tmp / name)
        document = {"format": FORMAT_VERSION, **meta, "gan": cfg.model_dump(mode="json")}
        (tmp / META_FILE).write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return directory


def find_export(path: str | Path) -> Path:
    """The export directory at `path`, or at `path`/model (a run directory)."""
    path = Path(path)
    for candidate in (path, path / "model"):
        if (candidate / META_FILE).is_file():
            return candidate
    raise FileNotFoundError(f"no saved model at {path}: expected {path / META_FILE} or {path / 'model' / META_FILE}")


def load_export(path: str | Path) -> tuple[GANConfig, nn.Module, dict[str, Any]]:
    """(config, generator in eval mode, meta) from an export; tensors only are unpickled.

    Raises ModelFileError naming the file for a model.yaml or generator.pt that is damaged or not a model's.
    """
    directory = find_export(path)
    meta_path, weights = directory / META_FILE, directory / WEIGHTS_FILE
    try:
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise ModelFileError(f"{meta_path} is not valid YAML ({yaml_problem(err)})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
        raise ModelFileError(f"{meta_path}: not a saved model of format {FORMAT_VERSION}")
    try:
        cfg = validate_config(meta.pop("gan"))
    except (KeyError, ConfigError) as err:
        raise ModelFileError(f"{meta_path}: its gan section is not a valid config ({one_line(err)})") from None
    generator = build_generator(cfg)
    try:
        generator.load_state_dict(read_tensors(weights, ModelFileError))
    except (RuntimeError, TypeError, AttributeError) as err:  # tensors, but not this generator's
        raise ModelFileError(f"{weights} does not hold the generator described in {META_FILE}: {one_line(err)}") from None
    return cfg, generator.eval(), meta
