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
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, FilePath, ValidationError, model_validator

from ..gan import ConfigError, GANConfig, make_points
from ..shots import load_shots
from ..shots.charts import ChartSpec, make_charts
from ..shots.model import validate_shot_config
from ..shots.training import chart_basis
from ..shots.synthetic import synthetic_league
from ..gan.config import deep_merge, format_validation_error
from ..gan.guard import check_memory
from .experiment import PlannedRun, PointTask, ShotTask, compare, evaluation_seed, run_configs
from .progress import QUIET, Progress
from ..io import locked, publish_directory, write_text_atomic
from .status import render_status

# Budget presets per data family and mode, laid over the recommended config for
# the data (`gan` over its GAN section, `charts` over its chart spec). Production
# trains each of a plugin's two runs in about 1-2 minutes on a 2-core CPU,
# development in well under a minute, test in seconds (unit tests).
TEST_PRESET = {"gan": {"model": {"hidden_dim": 32, "depth": 2}, "train": {"steps": 20, "batch_size": 32, "log_every": 10}},
               "charts": {"grid": 16, "unit": "player_season", "min_shots": 50}, "shots_per_chart": 50, "basis": 8}
MODE_PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "shot_charts": {
        "production": {"gan": {}, "charts": {}},  # the shipped shot_charts.yaml as it is
        "development": {"gan": {"train": {"steps": 500, "log_every": 50}}, "charts": {}},
        "test": TEST_PRESET,
    },
    "points": {
        "production": {"gan": {}, "charts": {}},
        "development": {"gan": {"train": {"steps": 2000, "log_every": 250}}, "charts": {}},
        "test": TEST_PRESET,
    },
}
MODE_SAMPLES = {"production": 100_000, "development": 20_000, "test": 2_000}  # point benchmarks
MODE_LEAGUE = {"production": (300, 400), "development": (300, 400), "test": (60, 120)}  # synthetic (players, shots each)
RECOMMENDED = {"shot_charts": "shot_charts", "25gaussians": "points2d", "8gaussians": "points2d", "swissroll": "points2d"}
REPO_ROOT = Path(__file__).resolve().parents[2]


def recommended_config(name: str) -> dict[str, Any]:
    """A shipped config (nba_ml/configs/NAME.yaml) as a raw dict."""
    return yaml.safe_load(resources.files("nba_ml.configs").joinpath(f"{name}.yaml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Recommendation:
    rec_id: str  # 'rec_115'
    sub_phase: str  # '5.85'
    title: str
    folder: str  # folder under docs/phases/phase_5/
    kinds: tuple[str, str]  # (baseline loss.kind, candidate loss.kind), trained side by side
    purpose: str  # one sentence for STATUS.md


class PluginConfig(BaseModel):
    """What a Phase 5 GAN plugin accepts; `gan` takes GANConfig sections and is laid over the mode preset."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="False: execute() trains nothing and returns success with skipped=True.")
    mode: Literal["production", "development", "test"] = Field("production", description="Training budget preset: 'test' runs in seconds.")
    output_dir: Optional[Path] = Field(None, description="Where artifacts go; None = artifacts/<rec_id> under the working directory.")
    status_path: Optional[Path] = Field(None, description="STATUS.md to keep; None = the recommendation's docs folder in a checkout, else <output_dir>/STATUS.md (never inside site-packages).")
    data: Literal["shot_charts", "25gaussians", "8gaussians", "swissroll"] = Field("shot_charts", description="What to train on: shot charts (default) or a built-in 2-D benchmark.")
    data_file: Optional[FilePath] = Field(None, description="shot_charts: a real shot file (CSV, CSV.gz, Parquet); None = the built-in synthetic league.")
    reference_file: Optional[FilePath] = Field(None, description="shot_charts: the season generated shots are judged against; None = the training shots (synthetic: a second league).")
    charts: ChartSpec = Field(default_factory=ChartSpec, description="shot_charts: how shots become charts (over nba_ml/configs/shot_charts.yaml).")
    shots_per_chart: int = Field(200, gt=0, le=100_000, description="shot_charts: K shots drawn per chart when evaluating.")
    basis: int = Field(16, ge=0, le=256, description="shot_charts: the GAN generates mixture weights over this many basis maps fitted to the training charts; 0 = it generates the cells.")
    n_samples: Optional[int] = Field(None, gt=0, le=10_000_000, description="Points: training samples to generate; None = the mode's preset.")
    eval_samples: int = Field(2500, gt=0, le=1_000_000, description="Points: generated samples used for evaluation (2,500 as in the mode-coverage literature).")
    progress: bool = Field(False, description="Print a line (stderr) as each stage starts and a progress bar per training run; `nba-ml phase5` turns it on unless --quiet.")
    gan: GANConfig = Field(default_factory=GANConfig, description="GAN settings (model, loss, optim, train, log) over the recommended config and mode preset; loss.kind is set per run.")

    @property
    def training_samples(self) -> int:
        return self.n_samples or MODE_SAMPLES[self.mode]

    @model_validator(mode="before")
    @classmethod
    def _lay_gan_over_preset(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        gan = raw.get("gan") or {}
        if isinstance(gan, GANConfig):
            gan = gan.model_dump(exclude_unset=True)  # only what the caller set overrides the preset
        if not isinstance(gan, dict):
            raise ValueError(f"gan must be a mapping of GANConfig sections, got {type(gan).__name__}")
        if isinstance(gan.get("loss"), dict) and "kind" in gan["loss"]:
            raise ValueError("gan.loss.kind is chosen by the plugin for each of its runs; remove it")
        family = "shot_charts" if raw.get("data", "shot_charts") == "shot_charts" else "points"
        presets = MODE_PRESETS[family]
        preset = presets.get(raw.get("mode", "production"), presets["production"])  # a bad mode is reported by its field
        recommended = recommended_config(RECOMMENDED.get(raw.get("data", "shot_charts"), "shot_charts"))
        merged = {**raw, "gan": deep_merge(deep_merge(recommended.get("gan", recommended), preset["gan"]), gan)}
        charts = raw.get("charts") or {}
        if "charts" in recommended and isinstance(charts, dict):
            merged["charts"] = deep_merge(deep_merge(recommended["charts"], preset["charts"]), charts)
            for key, default in (("shots_per_chart", 200), ("basis", 16)):
                merged.setdefault(key, preset.get(key, recommended.get(key, default)))
        return merged


class Phase5Plugin:
    """setup() validates, execute() trains the recommendation's comparison and keeps STATUS.md."""

    recommendation: Recommendation

    def __init__(self, config: Optional[dict[str, Any]] = None):
        self.raw_config = dict(config or {})
        self.config: Optional[PluginConfig] = None
        self._task = None  # the data, when planned_runs() built it before execute()

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
            if config.data == "shot_charts":
                shot_config(config)
            check_memory(config.gan, sample_shape(config))
        except ConfigError as err:
            raise ConfigError(f"{rec_id}: {err}") from None
        self.config = config
        return self.config

    def execute(self) -> dict[str, Any]:
        """Train and compare; never raises for a failed run: returns success False with the error."""
        if self.config is None:
            raise RuntimeError(f"{type(self).__name__}.execute() called before setup(): call impl.setup() first")
        cfg, rec = self.config, self.recommendation
        started = datetime.now(timezone.utc)
        if not cfg.enabled:
            result = {"success": True, "skipped": True, "metrics": {}, "artifacts": {}}
        else:
            result = self._run(cfg, rec)
        with locked(self.status_path):
            result["artifacts"]["status"] = str(write_text_atomic(self.status_path, render_status(rec, cfg, result, started)))
        return result

    def planned_runs(self, progress: Progress = QUIET) -> list[PlannedRun]:
        """The runs execute() will train (none when disabled); builds its data now and keeps it for execute()."""
        if self.config is None:
            raise RuntimeError(f"{type(self).__name__}.planned_runs() called before setup(): call impl.setup() first")
        cfg, rec = self.config, self.recommendation
        if not cfg.enabled:
            return []
        self._task = self._task or make_task(cfg, progress, rec.rec_id)
        return [PlannedRun(run_cfg, self._task, evaluation_seed(cfg.gan), f"{rec.rec_id} {name}")
                for name, run_cfg in run_configs(cfg.gan, rec.kinds).items()]

    def _run(self, cfg: PluginConfig, rec: Recommendation) -> dict[str, Any]:
        out_dir = self.output_dir
        progress = Progress(cfg.progress)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        # Artifacts are written to a folder of this run's own and published at the end: two runs never mix theirs.
        staged = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".staging", dir=out_dir.parent))
        try:
            task, self._task = self._task or make_task(cfg, progress, rec.rec_id), None
            comparison = compare(cfg.gan, rec.kinds, task, staged, progress, rec.rec_id)
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



# Fields that apply to one kind of `data` only: given for the other kind, they are an error, not ignored.
SHOT_CHART_FIELDS = ("data_file", "reference_file", "charts", "shots_per_chart", "basis")
POINT_FIELDS = ("n_samples", "eval_samples")
ERROR_LOG = "error.log"  # the traceback of a failed execute(), in the artifacts folder


def misplaced_fields(raw: dict[str, Any]) -> dict[str, str]:
    """{field: why} for each field given that does not apply to the config's `data` kind."""
    data = raw.get("data", "shot_charts")
    other = POINT_FIELDS if data == "shot_charts" else SHOT_CHART_FIELDS
    wants = "a point benchmark (data: 25gaussians, 8gaussians, swissroll)" if data == "shot_charts" else "data: shot_charts"
    return {name: f"applies to {wants} only, not data {data!r}" for name in other if name in raw}


def shot_config(cfg: PluginConfig):
    """The shot-model config of a shot_charts plugin config (ConfigError naming the bad setting)."""
    return validate_shot_config({"charts": cfg.charts, "gan": cfg.gan, "shots_per_chart": cfg.shots_per_chart,
                                 "basis": cfg.basis})


def sample_shape(cfg: PluginConfig) -> tuple[int, ...]:
    """The shape of one training sample, known from the config alone: what the memory check needs."""
    if cfg.data != "shot_charts":
        return (2,)
    if cfg.basis:
        return (cfg.basis,)
    channels, grid = cfg.charts.num_channels, cfg.charts.grid
    return (channels * grid * grid,) if cfg.gan.model.kind == "mlp" else (channels, grid, grid)


def make_task(cfg: PluginConfig, progress: Progress = QUIET, name: str = ""):
    """The data of a comparison and how its runs are judged (nba_ml.phase5.experiment)."""
    seed = cfg.gan.train.seed
    progress.stage(f"{name}: data: {cfg.data_file or ('built-in synthetic league' if cfg.data == 'shot_charts' else cfg.data)}")
    if cfg.data != "shot_charts":
        return PointTask(make_points(cfg.data, cfg.training_samples, seed=seed), cfg.eval_samples)
    if cfg.data_file is not None:
        shots, _ = load_shots(cfg.data_file)
    else:
        players, per_player = MODE_LEAGUE[cfg.mode]
        shots = synthetic_league(players, per_player, seed=seed)
    if cfg.reference_file is not None:
        reference, _ = load_shots(cfg.reference_file)
    elif cfg.data_file is None:
        reference = synthetic_league(*MODE_LEAGUE[cfg.mode], seed=seed + 1)  # a second league, never trained on
    else:
        reference = shots
    shot_cfg = shot_config(cfg)
    charts = make_charts(shots, cfg.charts)
    progress.stage(f"{name}: basis: fitting {cfg.basis} maps to {len(charts):,} training charts" if cfg.basis else f"{name}: charts: {len(charts):,}")
    return ShotTask(shot_cfg, charts, shots, reference, *chart_basis(charts, shot_cfg))
