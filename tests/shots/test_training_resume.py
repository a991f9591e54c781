"""nba_ml.shots.training: a shot-model run records its settings and data, and a resume that changes either
is refused in one line, before any work and without touching the run directory."""
import pytest

from nba_ml.gan import ConfigError
from nba_ml.shots import training
from nba_ml.shots.synthetic import synthetic_league
from nba_ml.shots.training import train_shot_model

CFG = {"charts": {"grid": 16, "min_shots": 50, "channels": "attempts"}, "basis": 4, "shots_per_chart": 20,
       "gan": {"model": {"num_classes": 3, "output": "density", "hidden_dim": 8, "depth": 1, "latent_dim": 4},
               "train": {"steps": 2, "batch_size": 8, "log_every": 1}, "log": {"checkpoint_every": 1, "verbose": False}}}


@pytest.fixture(scope="module")
def shots():
    return synthetic_league(20, 100, seed=0)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, shots):
    from nba_ml.gan import runs

    run_dir = tmp_path_factory.mktemp("shots") / "run"
    plots, runs.write_plots = runs.write_plots, lambda history, plots_dir: []
    try:
        train_shot_model(CFG, shots, run_dir=run_dir)
    finally:
        runs.write_plots = plots
    return run_dir


def files_of(run_dir):
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(run_dir.rglob("*")) if p.is_file()}


def with_(**changes):
    cfg = {**CFG, "charts": dict(CFG["charts"])}
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            cfg[section] = {**cfg[section], field: value}
        else:
            cfg[key] = value
    return cfg


@pytest.mark.parametrize("cfg, difference", [
    (with_(charts__grid=8), r"charts.grid \(16 -> 8\)"),
    (with_(charts__min_shots=40), r"charts.min_shots \(50 -> 40\)"),
    (with_(basis=3), r"basis \(4 -> 3\)"),
    (with_(shots_per_chart=30), r"shots_per_chart \(20 -> 30\)"),
    (with_(calibrate_prior=True), r"calibrate_prior \(False -> True\)"),
    (with_(quality_holdout=0.2), r"quality_holdout \(0.0 -> 0.2\)"),
])
def test_a_resume_that_changes_a_shot_setting_is_refused_before_any_work(trained_run, shots, monkeypatch, cfg, difference):
    before = files_of(trained_run)
    monkeypatch.setattr(training, "make_charts", lambda *a, **k: pytest.fail("charts were made before the refusal"))
    with pytest.raises(ConfigError, match=rf"^cannot resume .*run: what it trains on differs from its identity.yaml in "
                                          rf"{difference}; only train.steps, log.\* and guard.\* may change$"):
        train_shot_model(cfg, shots, run_dir=trained_run, resume=True)
    assert files_of(trained_run) == before


def test_a_resume_on_other_shots_is_refused_naming_the_data(trained_run, shots, monkeypatch):
    before = files_of(trained_run)
    monkeypatch.setattr(training, "make_charts", lambda *a, **k: pytest.fail("charts were made before the refusal"))
    moved = shots.assign(LOC_X=shots["LOC_X"].where(shots.index != 0, shots["LOC_X"] + 1))  # one shot moved
    with pytest.raises(ConfigError, match=r"identity.yaml in data.sha256 \('[0-9a-f]{16}' -> '[0-9a-f]{16}'\);"):
        train_shot_model(CFG, moved, run_dir=trained_run, resume=True)
    with pytest.raises(ConfigError, match=rf"data.rows \({len(shots)} -> {len(shots) - 1}\), data.sha256"):
        train_shot_model(CFG, shots.iloc[1:], run_dir=trained_run, resume=True)
    with pytest.raises(ConfigError, match=r"config.yaml in loss.n_critic \(5 -> 2\);"):
        train_shot_model({**CFG, "gan": {**CFG["gan"], "loss": {"n_critic": 2}}}, shots, run_dir=trained_run, resume=True)
    assert files_of(trained_run) == before


def test_columns_the_model_does_not_use_do_not_count(trained_run, shots, tmp_path):
    """An extra column (a note, a shot id) is no change of the data: the run continues."""
    import shutil

    run_dir = shutil.copytree(trained_run, tmp_path / "run")
    longer = with_(gan={**CFG["gan"], "train": {**CFG["gan"]["train"], "steps": 3}})
    model, result, _ = train_shot_model(longer, shots.assign(NOTE="x"), run_dir=run_dir, resume=True)
    assert result.state.step == 3
