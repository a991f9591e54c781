"""The Phase 5 plugin contract, shared by implement_rec_115 and implement_rec_098.

The Phase 5 runner builds a plugin with a config dict, calls setup() (validate,
nothing else) then execute() (train, evaluate, write STATUS.md) and reads
{'success', 'metrics', 'artifacts'} back. A plugin module only declares its
Recommendation; everything else is here, once.
"""
from __future__ import annotations

import shutil
import tempfile
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from pydantic import ValidationError

from ..gan import ConfigError
from ..errors import format_validation_error
from ..gan.guard import check_memory
from ..io import locked, publish_directory, write_text_atomic
from ..shots.model import ShotModelConfig
from .config import DATA_KINDS, DEFAULT_DATA, PluginConfig, Recommendation, kind_of_data
from .experiment import Run, TrainedRuns, compare, comparison_runs
from .progress import QUIET, Progress
from .status import render_status

REPO_ROOT = Path(__file__).resolve().parents[2]
ERROR_LOG = "error.log"  # the traceback of a failed execute(), in the artifacts folder


class Phase5Plugin:
    """setup() validates, execute() trains the recommendation's comparison and keeps STATUS.md."""

    recommendation: Recommendation

    def __init__(self, config: Optional[dict[str, Any]] = None):
        self.raw_config = dict(config or {})
        self.config: Optional[PluginConfig] = None
        self.shot_config: Optional[ShotModelConfig] = None  # the shot model's config setup() checked (shot charts)
        self.trained: Optional[TrainedRuns] = None  # runs shared with the other plugins of the main job (runner.run_all)
        self._task = None  # the data, when the runner built it before execute()

    @property
    def status_path(self) -> Path:
        """config.status_path; else, in a checkout, the recommendation's docs folder; else (installed,
        where the docs folder would lie inside site-packages) STATUS.md in the artifacts folder."""
        if self.config and self.config.status_path:
            return self.config.status_path
        docs = REPO_ROOT / "docs" / "phases" / "phase_5" / self.recommendation.folder
        if (docs / "README.md").is_file():
            return docs / "STATUS.md"
        return self.output_dir / "STATUS.md"

    @property
    def output_dir(self) -> Path:
        return (self.config.output_dir if self.config else None) or Path("artifacts") / self.recommendation.rec_id

    def setup(self) -> PluginConfig:
        """Validate the config; raises ConfigError (a ValueError) naming every bad field. Trains and writes nothing.

        Beyond the fields: a field that does not apply to the `data` kind is an error, the shot-model
        settings are checked together, and a model or batch that would not fit in memory is refused.
        """
        rec_id, misplaced = self.recommendation.rec_id, misplaced_fields(self.raw_config)
        lines = [f"  {name}: {why}" for name, why in misplaced.items()]
        try:
            config = PluginConfig.model_validate({k: v for k, v in self.raw_config.items() if k not in misplaced})
        except ValidationError as err:
            lines += format_validation_error(err).splitlines()[1:]
        if lines:
            raise ConfigError(f"{rec_id}: invalid config:\n" + "\n".join(lines))
        try:
            shot_config = config.data_kind.shot_config(config)
            check_memory(config.gan, config.data_kind.sample_shape(config))
        except ConfigError as err:
            raise ConfigError(f"{rec_id}: {err}") from None
        self.config, self.shot_config = config, shot_config
        return self.config

    def execute(self) -> dict[str, Any]:
        """Train and compare; never raises for a failed run: returns success False with the error."""
        cfg, rec = self._set_up("execute"), self.recommendation
        started = datetime.now(timezone.utc)
        if not cfg.enabled:
            result = {"success": True, "skipped": True, "metrics": {}, "artifacts": {}}
        else:
            result = self._run(cfg, rec)
        with locked(self.status_path):
            result["artifacts"]["status"] = str(write_text_atomic(self.status_path, render_status(rec, cfg, result, started)))
        return result

    def runs(self) -> dict[str, Run]:
        """run name -> Run: what execute() trains, one run per loss kind of the recommendation (none when disabled)."""
        cfg = self._set_up("runs")
        return comparison_runs(cfg.for_task(), cfg.gan, self.recommendation.kinds) if cfg.enabled else {}

    def task(self, progress: Progress = QUIET):
        """The comparison's data and how its runs are judged (nba_ml.phase5.experiment); built once, kept
        for execute(), which lets it go."""
        cfg = self._set_up("task")
        if self._task is None:
            self._task = cfg.data_kind.make_task(cfg, self.shot_config, progress, self.recommendation.rec_id)
        return self._task

    def _set_up(self, method: str) -> PluginConfig:
        if self.config is None:
            raise RuntimeError(f"{type(self).__name__}.{method}() called before setup(): call impl.setup() first")
        return self.config

    def _run(self, cfg: PluginConfig, rec: Recommendation) -> dict[str, Any]:
        out_dir = self.output_dir
        progress = Progress(cfg.progress)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        # Artifacts are written to a folder of this run's own and published at the end: two runs never mix theirs.
        staged = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".staging", dir=out_dir.parent))
        try:
            task, self._task = self.task(progress), None
            trained = self.trained if self.trained is not None else {}  # alone, a plugin trains both its runs
            comparison = compare(self.runs(), task, staged, trained, progress, rec.rec_id)
            published = publish_directory(staged, out_dir)
            comparison.artifacts = {name: str(published.get(Path(path), path)) for name, path in comparison.artifacts.items()}
        except Exception as err:  # the runner must get a result, not a traceback: that goes to a log file
            where = traceback.extract_tb(err.__traceback__)[-1]
            log = write_text_atomic(out_dir / ERROR_LOG, traceback.format_exc())
            return {"success": False, "metrics": {}, "artifacts": {"error_log": str(log)},
                    "error": f"{type(err).__name__}: {err} (at {Path(where.filename).name}:{where.lineno}; traceback in {log})"}
        finally:
            progress.close()
            shutil.rmtree(staged, ignore_errors=True)
        result = {"success": comparison.success, "metrics": comparison.metrics, "artifacts": comparison.artifacts,
                  "triage": comparison.triage}
        if comparison.error:
            result["error"] = comparison.error
        return result


def misplaced_fields(raw: dict[str, Any]) -> dict[str, str]:
    """{field: why} for each field given that applies to another kind of `data` than the config's."""
    data = raw.get("data", DEFAULT_DATA)
    mine = kind_of_data(data)
    return {name: f"applies to {kind.named} only, not data {data!r}"
            for kind in dict.fromkeys(DATA_KINDS.values()) if kind is not mine
            for name in kind.fields if name in raw}
