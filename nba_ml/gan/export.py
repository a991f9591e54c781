"""A trained generator saved for sampling: `model.yaml` (config and metadata) + `generator.pt` (tensors only).

Unlike a training checkpoint (nba_ml.gan.checkpoint: both networks, optimizers,
RNG states), an export holds only what sampling needs, and loads without the
training data.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional

import torch
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from torch import nn

from ..errors import ModelFileError, one_line, yaml_problem
from ..io import SavedDirectory, atomic_directory, read_tensors, save_tensors
from ..errors import format_validation_error
from .config import GANConfig
from .networks import build_generator, shapes_only

FORMAT_VERSION = 1
META_FILE, WEIGHTS_FILE = "model.yaml", "generator.pt"
# What an export directory holds (model.yaml and tensor files); a save replaces only such a directory, or an empty one.
EXPORT_DIRECTORY = SavedDirectory("saved model", META_FILE, ("*.pt",))


class ExportFile(BaseModel):
    """The part of model.yaml every export has; the rest (kind-specific: a shot-chart model's charts, label
    names, ...) is passed on as it is, for the kind's own loader to check."""

    model_config = ConfigDict(extra="allow", frozen=True)

    format: Literal[1] = Field(description="Layout version of the export (FORMAT_VERSION); other versions are refused.")
    kind: str = Field(min_length=1, description="What the generator generates, e.g. 'points' or 'shot_charts'; its loader reads the rest.")
    gan: GANConfig = Field(description="The GAN config the generator was trained with, with model.data_shape resolved.")


def export_generator(directory: str | Path, cfg: GANConfig, generator: nn.Module, meta: dict[str, Any],
                     tensors: Optional[dict[str, Any]] = None) -> Path:
    """Write the generator's weights, `meta` (plain YAML-able values, e.g. kind='points') and any further
    `tensors` files ({name: tensors}) to a new directory that then replaces `directory` whole."""
    directory = Path(directory)
    with atomic_directory(directory, EXPORT_DIRECTORY) as tmp:
        for name, saved in {WEIGHTS_FILE: generator.state_dict(), **(tensors or {})}.items():
            save_tensors(saved, tmp / name)  # a full disk: an OutputError naming the directory
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

    model.yaml is validated (ExportFile): its format, kind and gan config; `meta` is the rest of it, with
    format and kind, as the file has it: the kind's loader checks its own fields. Raises ModelFileError
    naming the file (and field) for a model.yaml or generator.pt that is damaged or not a model's.
    """
    directory = find_export(path)
    meta_path, weights = directory / META_FILE, directory / WEIGHTS_FILE
    document = read_export_file(meta_path)
    cfg = document.gan
    saved = read_tensors(weights, ModelFileError)
    with shapes_only():  # a model.yaml asking for a huge network allocates nothing
        generator = build_generator(cfg)
    problem = weights_problem(generator, saved)
    if problem:
        raise ModelFileError(f"{weights} does not hold the generator described in {META_FILE}: {problem}")
    dtypes = {key: value.dtype for key, value in generator.state_dict().items()}
    try:  # the saved tensors become the weights (assign): nothing is initialised only to be overwritten
        generator.load_state_dict({key: value.to(dtypes[key]) for key, value in saved.items()}, assign=True)
    except (RuntimeError, TypeError, AttributeError) as err:  # tensors, but not this generator's
        raise ModelFileError(f"{weights} does not hold the generator described in {META_FILE}: {one_line(err)}") from None
    left = [name for name, t in [*generator.named_parameters(), *generator.named_buffers()] if t.is_meta]
    if left:
        raise ModelFileError(f"{weights} does not hold the generator described in {META_FILE}: no values for {left[:3]}")
    meta = {key: value for key, value in document.model_dump(mode="python").items() if key != "gan"}
    return cfg, generator.eval(), meta


def read_export_file(path: Path) -> ExportFile:
    """model.yaml, validated: ModelFileError naming the file and each bad field otherwise."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ModelFileError(f"{path} is not valid YAML ({yaml_problem(err)})") from None
    except OSError as err:
        raise ModelFileError(f"{path}: cannot read it ({err.strerror or err})") from None
    if not isinstance(raw, dict):
        raise ModelFileError(f"{path}: not a saved model: expected a mapping with format, kind and gan, got {type(raw).__name__}")
    if raw.get("format") != FORMAT_VERSION or isinstance(raw.get("format"), bool):
        raise ModelFileError(f"{path}: not a saved model of format {FORMAT_VERSION} (format: {raw.get('format')!r})")
    if any(not isinstance(key, str) for key in raw):
        raise ModelFileError(f"{path}: keys must be names, got {[key for key in raw if not isinstance(key, str)]!r}")
    try:
        document = ExportFile.model_validate(raw)
    except ValidationError as err:
        raise ModelFileError(f"{path}: " + one_line(format_validation_error(err).replace("invalid config", "invalid model file", 1))) from None
    if document.gan.model.data_shape is None:
        raise ModelFileError(f"{path}: invalid model file: gan.model.data_shape: missing (an export's config has the shape of its samples)")
    return document


def weights_problem(generator: nn.Module, saved: Any) -> Optional[str]:
    """What keeps `saved` (a generator.pt's contents) from being the weights of `generator`, or None."""
    if not isinstance(saved, dict) or not all(isinstance(v, torch.Tensor) for v in saved.values()):
        return f"expected a mapping of parameter names to tensors, got {type(saved).__name__}"
    wanted = {key: tuple(value.shape) for key, value in generator.state_dict().items()}
    found = {key: tuple(value.shape) for key, value in saved.items()}
    missing, unexpected = sorted(wanted.keys() - found.keys()), sorted(found.keys() - wanted.keys())
    if missing or unexpected:
        return f"missing {missing[:3]}, unexpected {unexpected[:3]}" if missing and unexpected else \
            (f"missing {missing[:3]}" if missing else f"unexpected {unexpected[:3]}")
    shapes = [f"{key} {found[key]} (the config builds {wanted[key]})" for key in wanted if found[key] != wanted[key]]
    return "shapes differ: " + ", ".join(shapes[:3]) if shapes else None
