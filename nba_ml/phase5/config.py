"""What a Phase 5 plugin is given: its Recommendation, its PluginConfig (laid over the shipped config
and the mode's preset), and DATA_KINDS, the one table of what each choice of `data` is made of.

    cfg.data_kind                    DATA_KINDS[cfg.data], looked up in one place
        .presets[mode]               the budget laid over the recommended config
        .recommended                 the shipped config it starts from (nba_ml/configs/NAME.yaml)
        .fields                      the PluginConfig fields that apply to it only
        .shot_config(cfg)            the shot model's config, checked with the plugin's at setup() (points: None)
        .sample_shape(cfg)           one training sample's shape, for the memory check
        .make_task(cfg, shot, ...)   the data and how a run is judged (nba_ml.phase5.experiment)
        .describe(cfg)               what STATUS.md says the data is
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Literal, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field, FilePath, model_validator
from pydantic.fields import FieldInfo

from ..gan import GANConfig, make_points
from ..gan.config import deep_merge
from ..gan.networks import NETWORKS
from ..shots import load_shots
from ..shots.charts import ChartSpec, make_charts
from ..shots.model import ShotModelConfig, validate_shot_config
from ..shots.training import chart_basis
from ..shots.synthetic import synthetic_league
from .experiment import PointTask, ShotTask
from .progress import Progress

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
SHOT_SETTINGS = ("shots_per_chart", "basis")  # shot-model fields the shipped file and a preset may set, beside charts
DEFAULT_DATA, DEFAULT_MODE = "shot_charts", "production"

DataChoice = Literal["shot_charts", "25gaussians", "8gaussians", "swissroll"]  # the keys of DATA_KINDS


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


def _shot_field(name: str, description: str) -> FieldInfo:
    """ShotModelConfig's field of that name (its default and constraints, by reference), described for a plugin."""
    return FieldInfo.merge_field_infos(ShotModelConfig.model_fields[name], description=description)


class PluginConfig(BaseModel):
    """What a Phase 5 GAN plugin accepts; `gan` takes GANConfig sections and is laid over the mode preset."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="False: execute() trains nothing and returns success with skipped=True.")
    mode: Literal["production", "development", "test"] = Field(DEFAULT_MODE, description="Training budget preset: 'test' runs in seconds.")
    output_dir: Optional[Path] = Field(None, description="Where artifacts go; None = artifacts/<rec_id> under the working directory.")
    status_path: Optional[Path] = Field(None, description="STATUS.md to keep; None = the recommendation's docs folder in a checkout, else <output_dir>/STATUS.md (never inside site-packages).")
    data: DataChoice = Field(DEFAULT_DATA, description="What to train on: shot charts (default) or a built-in 2-D benchmark.")
    data_file: Optional[FilePath] = Field(None, description="shot_charts: a real shot file (CSV, CSV.gz, Parquet); None = the built-in synthetic league.")
    reference_file: Optional[FilePath] = Field(None, description="shot_charts: the season generated shots are judged against; None = the training shots (synthetic: a second league).")
    charts: ChartSpec = Field(default_factory=ChartSpec, description="shot_charts: how shots become charts (over nba_ml/configs/shot_charts.yaml).")
    shots_per_chart: int = _shot_field("shots_per_chart", "shot_charts: K shots drawn per chart when evaluating.")
    basis: int = _shot_field("basis", "shot_charts: the GAN generates mixture weights over this many basis maps fitted to the training charts; 0 = it generates the cells.")
    n_samples: Optional[int] = Field(None, gt=0, le=10_000_000, description="Points: training samples to generate; None = the mode's preset.")
    eval_samples: int = Field(2500, gt=0, le=1_000_000, description="Points: generated samples used for evaluation (2,500 as in the mode-coverage literature).")
    progress: bool = Field(False, description="Print a line (stderr) as each stage starts and a progress bar per training run; `nba-ml phase5` turns it on unless --quiet.")
    gan: GANConfig = Field(default_factory=GANConfig, description="GAN settings (model, loss, optim, train, log) over the recommended config and mode preset; loss.kind is set per run.")

    @property
    def training_samples(self) -> int:
        return self.n_samples or MODE_SAMPLES[self.mode]

    @property
    def data_kind(self) -> DataKind:
        return kind_of_data(self.data)

    def for_task(self) -> PluginConfig:
        """This config without where its results go: equal for two plugins whose runs train on the same data
        and are judged the same way (what a run's key holds, nba_ml.phase5.experiment.Run)."""
        return self.model_copy(update={"output_dir": None, "status_path": None, "progress": False})

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
        kind = kind_of_data(raw.get("data", DEFAULT_DATA))
        preset = kind.presets.get(raw.get("mode", DEFAULT_MODE), kind.presets[DEFAULT_MODE])  # a bad mode is reported by its field
        recommended = recommended_config(kind.recommended)
        merged = {**raw, "gan": deep_merge(deep_merge(recommended.get("gan", recommended), preset["gan"]), gan)}
        charts = raw.get("charts") or {}
        if "charts" in recommended and isinstance(charts, dict):
            merged["charts"] = deep_merge(deep_merge(recommended["charts"], preset["charts"]), charts)
            for key in SHOT_SETTINGS:  # set by neither: the field's default, ShotModelConfig's
                if key in preset or key in recommended:
                    merged.setdefault(key, preset.get(key, recommended.get(key)))
        return merged


# --- the data kinds -----------------------------------------------------------------

def shot_model_config(cfg: PluginConfig) -> ShotModelConfig:
    """The shot model's config of a shot_charts plugin config: its charts, GAN and shot settings checked
    together (ConfigError naming the bad setting)."""
    return validate_shot_config({"charts": cfg.charts, "gan": cfg.gan, "shots_per_chart": cfg.shots_per_chart,
                                 "basis": cfg.basis})


def shot_sample_shape(cfg: PluginConfig) -> tuple[int, ...]:
    """Encoded mixture weights on a basis, else the charts themselves (flat for a network of vectors)."""
    if cfg.basis:
        return (cfg.basis,)
    channels, grid = cfg.charts.num_channels, cfg.charts.grid
    return (channels * grid * grid,) if NETWORKS[cfg.gan.model.kind].flat else (channels, grid, grid)


def shot_task(cfg: PluginConfig, shot_config: ShotModelConfig, progress: Progress, name: str) -> ShotTask:
    """The training shots (a shot file, or a synthetic league), the season they are judged against, their
    charts and the basis both runs share."""
    seed = cfg.gan.train.seed
    progress.stage(f"{name}: data: {cfg.data_file or 'built-in synthetic league'}")
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
    charts = make_charts(shots, cfg.charts)
    progress.stage(f"{name}: basis: fitting {cfg.basis} maps to {len(charts):,} training charts" if cfg.basis else f"{name}: charts: {len(charts):,}")
    return ShotTask(shot_config, charts, shots, reference, *chart_basis(charts, shot_config))


def describe_shots(cfg: PluginConfig) -> str:
    source = cfg.data_file or "built-in synthetic league"
    reference = cfg.reference_file or ("a second synthetic league" if cfg.data_file is None else "the training shots")
    return (f"shot charts from {source}: {cfg.charts.unit}, grid {cfg.charts.grid}, min {cfg.charts.min_shots} shots; "
            f"judged against {reference} at K={cfg.shots_per_chart} shots per chart")


def point_task(cfg: PluginConfig, shot_config: None, progress: Progress, name: str) -> PointTask:
    progress.stage(f"{name}: data: {cfg.data}")
    return PointTask(make_points(cfg.data, cfg.training_samples, seed=cfg.gan.train.seed), cfg.eval_samples)


def describe_points(cfg: PluginConfig) -> str:
    return f"{cfg.data} ({cfg.training_samples:,} samples; evaluation on {cfg.eval_samples})"


@dataclass(frozen=True, eq=False)
class DataKind:
    """Everything one choice of PluginConfig.data is made of; the plugin looks it up once (cfg.data_kind)."""

    presets: dict[str, dict[str, Any]]  # mode -> preset: {"gan": ..., "charts": ...} [+ shot settings]
    recommended: str  # the shipped config it starts from: nba_ml/configs/<recommended>.yaml
    fields: tuple[str, ...]  # PluginConfig fields that apply to this kind only: an error with any other
    named: str  # how an error about those fields names this kind
    shot_config: Callable[[PluginConfig], Optional[ShotModelConfig]]  # checked at setup(), handed to make_task
    sample_shape: Callable[[PluginConfig], tuple[int, ...]]  # one training sample, known from the config alone
    make_task: Callable[[PluginConfig, Optional[ShotModelConfig], Progress, str], Any]  # (cfg, shot config, progress, name)
    describe: Callable[[PluginConfig], str]  # the `data` row of STATUS.md


SHOT_CHARTS = DataKind(
    presets=MODE_PRESETS["shot_charts"], recommended="shot_charts",
    fields=("data_file", "reference_file", "charts", *SHOT_SETTINGS), named="data: shot_charts",
    shot_config=shot_model_config, sample_shape=shot_sample_shape, make_task=shot_task, describe=describe_shots)
POINTS = DataKind(
    presets=MODE_PRESETS["points"], recommended="points2d",
    fields=("n_samples", "eval_samples"), named="a point benchmark (data: 25gaussians, 8gaussians, swissroll)",
    shot_config=lambda cfg: None, sample_shape=lambda cfg: (2,), make_task=point_task, describe=describe_points)

# PluginConfig.data -> DataKind.
DATA_KINDS: dict[str, DataKind] = {"shot_charts": SHOT_CHARTS, "25gaussians": POINTS, "8gaussians": POINTS, "swissroll": POINTS}


def kind_of_data(data: Any) -> DataKind:
    """DATA_KINDS[data]; a value that is no choice (its field's error names it) counts as a point benchmark."""
    return DATA_KINDS.get(data, POINTS) if isinstance(data, str) else POINTS
