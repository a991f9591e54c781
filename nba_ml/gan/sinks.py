"""Metric sinks: training callbacks that pass each logged step's flat dict to a store, unchanged.

Every sink is called as `sink(state, metrics)` after each generator iteration
(metrics is None on steps that are not logged), exposes `log(metrics)` for use
outside train(), and `close()`. Keys are written as they are ('loss/critic'),
so one name means one thing in the JSONL file, TensorBoard and W&B alike.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

# The guide's W&B chart groups -> the metric keys (globs) they hold. W&B puts
# panels in sections named by the key prefix before '/'; define_charts binds
# every key to the 'step' x-axis so that sparse keys (quality/* every
# quality_every logged steps) and resumed runs line up with the rest.
CHART_GROUPS: dict[str, tuple[str, ...]] = {
    "Losses": ("loss/*", "critic/*", "wdist"),
    "Weights": ("weights/*",),
    "Stability": ("stability/*", "grad_norm/*"),
    "Quality": ("quality/*",),
    "Schedule": ("lr/*", "time/*"),
}


class _Sink:
    """The callback adapter the sinks share: log on logged steps, add no metrics."""

    def __call__(self, state, metrics: Optional[dict[str, float]]) -> None:
        if metrics is not None:
            self.log(metrics)
        return None

    def log(self, metrics: dict[str, float]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class JsonlSink(_Sink):
    """One JSON object per logged step, appended and flushed at once so a crash loses at most that line."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._file = None  # opened at the first row: a run that fails before logging leaves no file

    @staticmethod
    def encode(metrics: dict[str, float]) -> str:
        # Python's json writes NaN/Infinity (e.g. an inf dg_ratio) and reads them back exactly.
        return json.dumps(metrics) + "\n"

    def log(self, metrics: dict[str, float]) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Appending is the one write that is not atomic-by-rename: rewriting the
            # whole file each step would be quadratic. read_jsonl skips a torn last line.
            self._file = open(self.path, "a", encoding="utf-8")
        self._file.write(self.encode(metrics))
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a JSONL metrics file ([] if none); a torn last line (a crash mid-write) is skipped."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    rows = []
    for i, line in enumerate(lines):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if i != len(lines) - 1:
                raise ValueError(f"{path}: line {i + 1} is not valid JSON") from None
    return rows


class TensorBoardSink(_Sink):
    """Scalars in TensorBoard event files, one tag per metric key, x-axis the generator step."""

    def __init__(self, log_dir: str | Path, purge_step: Optional[int] = None):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as err:
            raise ImportError(f"TensorBoard logging needs the tensorboard package: pip install nba_ml[tensorboard] ({err})") from None
        # purge_step: a resumed run drops the events the crashed run wrote after its checkpoint.
        self.writer = SummaryWriter(log_dir=str(log_dir), purge_step=purge_step)

    def log(self, metrics: dict[str, float]) -> None:
        step = int(metrics["step"])
        for key, value in metrics.items():
            if key != "step":
                self.writer.add_scalar(key, value, step)

    def close(self) -> None:
        self.writer.close()


class WandbSink(_Sink):
    """A Weights & Biases run; mode='offline' (or WANDB_MODE=offline) needs no account or network."""

    def __init__(self, project: str, run_name: str, config: dict[str, Any], mode: Optional[str] = None,
                 dir: str | Path = "."):
        try:
            import wandb
        except ImportError as err:
            raise ImportError(f"W&B logging needs the wandb package: pip install nba_ml[wandb] ({err})") from None
        Path(dir).mkdir(parents=True, exist_ok=True)
        # mode=None leaves the choice to WANDB_MODE (online, offline, disabled).
        self.run = wandb.init(project=project, name=run_name, config=config, mode=mode, dir=str(dir))
        self.define_charts()

    def define_charts(self) -> None:
        """Bind every metric group of the guide's charts to the 'step' x-axis."""
        self.run.define_metric("step")
        for patterns in CHART_GROUPS.values():
            for pattern in patterns:
                self.run.define_metric(pattern, step_metric="step")

    def log(self, metrics: dict[str, float]) -> None:
        self.run.log(dict(metrics))

    def close(self) -> None:
        self.run.finish()

    finish = close
