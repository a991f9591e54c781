"""Checkpoints of a run: TrainState.state_dict() plus the config, saved atomically, loaded without unpickling code.

Layout: <run_dir>/checkpoints/step_00001200.pt. A checkpoint appears only
complete (written to a temp file beside it, then renamed), so the newest
step_*.pt is always loadable. Loading uses torch.load(weights_only=True):
tensors and plain containers only, never arbitrary pickled objects.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any, Optional

from torch import nn

from ..errors import InputError
from ..io import atomic_path, read_tensors, save_tensors
from .config import GANConfig
from .networks import build_critic, build_generator, shapes_only

FORMAT = 1  # bump when the saved layout changes; load_checkpoint refuses other formats
CHECKPOINT_DIR = "checkpoints"
_NAME = re.compile(r"step_(\d{8,})\.pt")  # temp files (.step_….pt.XXXX.tmp) never match
_SIZE_FIELDS = ("latent_dim", "hidden_dim", "base_channels", "num_classes")  # model fields that are tensor dimensions


class CheckpointError(InputError):
    """A checkpoint that cannot be used with this config; the message names the mismatch."""


class DamagedCheckpoint(CheckpointError):
    """A checkpoint file that does not read back whole (truncated, corrupt, not a checkpoint)."""


class CheckpointWarning(UserWarning):
    """A damaged newest checkpoint was skipped for the one before it."""


def checkpoint_path(run_dir: str | Path, step: int) -> Path:
    return Path(run_dir) / CHECKPOINT_DIR / f"step_{step:08d}.pt"


def save_checkpoint(state, run_dir: str | Path) -> Path:
    """Write state.state_dict(), the config and the format to checkpoints/step_{step:08d}.pt atomically."""
    path = checkpoint_path(run_dir, state.step)
    payload = {**state.state_dict(), "config": state.cfg.model_dump(mode="json"), "format": FORMAT}
    with atomic_path(path) as tmp:
        save_tensors(payload, tmp)  # a full disk: an OutputError naming the file
    return path


def checkpoints(run_dir: str | Path) -> list[Path]:
    """The run's checkpoint files, newest (highest step) first."""
    found = [(int(m.group(1)), p) for p in (Path(run_dir) / CHECKPOINT_DIR).glob("step_*.pt")
             if (m := _NAME.fullmatch(p.name))]
    return [p for _, p in sorted(found, reverse=True)]


def latest_checkpoint(run_dir: str | Path) -> Optional[Path]:
    """The complete checkpoint with the highest step, or None."""
    found = checkpoints(run_dir)
    return found[0] if found else None


def load_latest_checkpoint(run_dir: str | Path, cfg: GANConfig) -> Optional[tuple[Path, dict[str, Any]]]:
    """(path, saved) of the newest checkpoint that reads back whole, or None when there is none.

    A damaged newer one (a disk fault, a bad copy: writes themselves are atomic) is skipped
    with a CheckpointWarning naming it; a checkpoint that does not fit `cfg` is an error.
    """
    for path in checkpoints(run_dir):
        try:
            return path, load_checkpoint(path, cfg)
        except DamagedCheckpoint as err:
            warnings.warn(f"skipping a damaged checkpoint, using the one before it: {err}", CheckpointWarning, stacklevel=2)
    return None


def load_checkpoint(path: str | Path, cfg: GANConfig) -> dict[str, Any]:
    """The saved dict (for train(..., resume=...)), after checking it fits `cfg`'s networks."""
    saved = read_tensors(path, DamagedCheckpoint)
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        found = saved.get("format") if isinstance(saved, dict) else type(saved).__name__
        raise DamagedCheckpoint(f"{path} is not a nba_ml.gan checkpoint of format {FORMAT} (found {found!r})")
    problems = mismatches(saved, cfg)
    if problems:
        raise CheckpointError(f"{path} does not fit the config: " + "; ".join(problems))
    return saved


def sampler_at(run_dir: str | Path, step: int, cfg: GANConfig) -> nn.Module:
    """The sampling generator (the EMA copy when the run keeps one) of the run's checkpoint at `step`, in eval
    mode; CheckpointError when there is none or it does not fit `cfg` (a resolved config)."""
    path = checkpoint_path(run_dir, step)
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint at step {step}")
    saved = load_checkpoint(path, cfg)
    generator = build_generator(cfg)
    weights = saved["generator"] if saved["ema"] is None else {
        name.removeprefix("module."): value for name, value in saved["ema"].items() if name.startswith("module.")}
    generator.load_state_dict(weights)
    return generator.eval()


def mismatches(saved: dict[str, Any], cfg: GANConfig) -> list[str]:
    """What differs between a checkpoint and the networks `cfg` builds, one phrase each."""
    saved_model = saved["config"]["model"]
    if cfg.model.data_shape is None:  # an unresolved config takes the checkpoint's data shape
        cfg = cfg.with_data_shape(tuple(saved_model["data_shape"]))
    wanted = cfg.model.model_dump(mode="json")
    shapes = _shape_mismatches(saved, cfg)
    problems = []
    for name in (n for n in wanted if saved_model.get(n) != wanted[n]):
        # Evidence for a size: the first tensor whose saved shape holds the saved value (hidden_dim 256 -> (256, 2)).
        hit = next((s for s in shapes if name in _SIZE_FIELDS and saved_model.get(name) in (s[2] or ())), None)
        where = f"{hit[0]} has {name} {saved_model.get(name)} ({hit[1]} {hit[2]})" if hit else f"has model.{name} {saved_model.get(name)!r}"
        problems.append(f"checkpoint {where} but config model.{name} is {wanted[name]!r}")
    if not problems:  # same model section yet other tensors: say which
        problems += [_describe(*s) for s in shapes]
    if (saved["ema"] is None) != (cfg.train.ema_decay is None):
        problems.append(f"checkpoint {'has no' if saved['ema'] is None else 'has'} EMA weights "
                        f"but config train.ema_decay is {cfg.train.ema_decay}")
    return problems


def _shape_mismatches(saved: dict[str, Any], cfg: GANConfig) -> list[tuple[str, str, Optional[tuple], Optional[tuple]]]:
    """(network, key, saved shape, built shape) for each tensor that differs; None = absent on that side."""
    with shapes_only():
        built = {"generator": build_generator(cfg).state_dict(), "critic": build_critic(cfg).state_dict()}
    out = []
    for net, tensors in built.items():
        theirs = {k: tuple(v.shape) for k, v in saved[net].items()}
        ours = {k: tuple(v.shape) for k, v in tensors.items()}
        out += [(net, k, theirs.get(k), ours.get(k)) for k in {**theirs, **ours} if theirs.get(k) != ours.get(k)]
    return out


def _describe(net: str, key: str, saved_shape: Optional[tuple], built_shape: Optional[tuple]) -> str:
    if saved_shape is None:
        return f"checkpoint {net} lacks {key} {built_shape} that the config builds"
    if built_shape is None:
        return f"checkpoint {net} has {key} {saved_shape} that the config does not build"
    return f"checkpoint {net} {key} has shape {saved_shape} but the config builds {built_shape}"


def checkpoint_callback(run_dir: str | Path, every: int):
    """Training callback saving a checkpoint every `every` generator steps and at the last step.

    Put it after every callback that draws from the global RNG: the checkpoint
    captures the RNG state, and a resumed run continues from exactly there.
    """
    def callback(state, metrics):
        if state.step % every == 0 or state.step == state.cfg.train.steps:
            save_checkpoint(state, run_dir)
        return None
    return callback
