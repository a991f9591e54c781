"""nba_ml.gan.runs: what a run leaves in its directory, the experiment log, and resuming."""
import json
from dataclasses import replace
import multiprocessing
from types import SimpleNamespace

import pytest
import torch

from nba_ml.errors import OutputError
from nba_ml.gan import ConfigError, TrainingDiverged, load_config, losses, make_points, runs, validate_config
from nba_ml.gan.runs import LOG_COLUMNS, append_experiment_log, every_logged, run_training
from nba_ml.gan.sinks import read_jsonl

TINY = {"model": {"latent_dim": 2, "hidden_dim": 16, "depth": 2}, "train": {"steps": 6, "batch_size": 16, "log_every": 2},
        "log": {"checkpoint_every": 4, "verbose": False}}


def tiny(**sections):
    return validate_config({k: {**TINY.get(k, {}), **sections.get(k, {})} for k in {*TINY, *sections}})


@pytest.fixture(scope="module")
def points():
    return make_points("8gaussians", 256, seed=0).samples


@pytest.fixture
def no_plots(monkeypatch):
    """Plots cost most of a tiny run; the run-directory test checks them once."""
    monkeypatch.setattr(runs, "write_plots", lambda history, plots_dir: [])


def without_time(history):
    return [{k: v for k, v in row.items() if k != "time/elapsed_s"} for row in history]


def test_run_directory_holds_config_metrics_checkpoints_plots_and_summary(points, tmp_path):
    run_dir = tmp_path / "run_001"
    result = run_training(tiny(), points, run_dir, verbose=False)

    assert load_config(run_dir / "config.yaml") == result.config  # resolved: data_shape filled in
    assert result.config.model.data_shape == (2,)
    assert read_jsonl(run_dir / "metrics.jsonl") == result.history
    assert [h["step"] for h in result.history] == [2.0, 4.0, 6.0]
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["step_00000004.pt", "step_00000006.pt"]
    for name in ("losses.png", "wdist.png", "grad_norm.png"):
        assert (run_dir / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(run_dir.rglob("*.tmp"))  # every write was atomic

    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["run_id"] == "run_001" and summary["status"] == "completed" and summary["step"] == 6
    assert summary["final_metrics"] == result.metrics
    assert summary["triage"]["verdict"] in ("stable", "unstable", "mode_collapse", "diverging")
    assert summary["timings"]["wall_s"] >= summary["timings"]["train_s"] > 0
    assert summary["paths"]["checkpoints"] == ["checkpoints/step_00000004.pt", "checkpoints/step_00000006.pt"]


def test_each_run_appends_one_row_under_one_header(points, tmp_path, no_plots):
    log = tmp_path / "logs" / "experiments.md"
    run_training(tiny(), points, tmp_path / "run_a", experiment_log=log, notes="baseline")
    run_training(tiny(loss={"n_critic": 2}, log={"experiment_log": str(log)}), points, tmp_path / "run_b", notes="a | b")
    header, rule, *rows = log.read_text().splitlines()
    assert header.startswith("| Date | Run | Loss | LR (D/G) | n_critic | Batch | Steps | Seed | Stability | D Loss | G Loss")
    assert rule.count("---") == header.count("|") - 1
    assert len(rows) == 2
    first, second = (row.strip("|").split(" | ") for row in rows)
    assert first[1:8] == ["run_a", "wgan-gp", "0.0001/0.0001", "5", "16", "6", "0"]
    assert second[1] == "run_b" and second[4] == "2" and rows[1].endswith("| a \\| b |")
    assert "pixvar" in first[11]


def append_rows(path, writer):
    for i in range(20):
        append_experiment_log(path, [f"{writer}-{i}"] + ["x" * 200] * (len(LOG_COLUMNS) - 1))


def test_parallel_appends_keep_one_header_and_whole_rows(tmp_path):
    path = tmp_path / "experiments.md"
    workers = [multiprocessing.get_context("fork").Process(target=append_rows, args=(path, w)) for w in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    lines = path.read_text().splitlines()
    assert lines[0].startswith("| Date |") and sum(line.startswith("| Date |") for line in lines) == 1
    assert sorted(line.split(" | ")[0] for line in lines[2:]) == sorted(f"| {w}-{i}" for w in range(4) for i in range(20))
    assert all(line.count(" | ") == len(LOG_COLUMNS) - 1 for line in lines)


def test_resume_after_a_crash_equals_an_uninterrupted_run(points, tmp_path, no_plots):
    cfg = tiny(train={"steps": 4, "log_every": 1}, log={"checkpoint_every": 2})
    uninterrupted = run_training(cfg, points, tmp_path / "whole")

    def crash(state, metrics):
        if state.step == 4:  # after the checkpoint at 2 and the logged step 3
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        run_training(cfg, points, tmp_path / "split", callbacks=(crash,))
    assert [row["step"] for row in read_jsonl(tmp_path / "split" / "metrics.jsonl")] == [1, 2, 3]
    resumed = run_training(cfg, points, tmp_path / "split", resume=True)

    for net in ("generator", "critic"):
        ours, theirs = getattr(resumed.state, net).state_dict(), getattr(uninterrupted.state, net).state_dict()
        assert all(torch.equal(ours[k], theirs[k]) for k in theirs), net
    assert without_time(resumed.history) == without_time(uninterrupted.history)  # step 3 logged once, by the resume
    assert json.loads((tmp_path / "split" / "summary.json").read_text())["resumed_from_step"] == 2


def test_resume_may_extend_the_steps_but_nothing_else(points, tmp_path, no_plots):
    run_training(tiny(train={"steps": 4}), points, tmp_path)
    with pytest.raises(ConfigError, match=r"loss.n_critic \(5 -> 3\); only train.steps, log.\* and guard.\* may change"):
        run_training(tiny(loss={"n_critic": 3}), points, tmp_path, resume=True)
    result = run_training(tiny(train={"steps": 6}), points, tmp_path, resume=True)
    assert [h["step"] for h in result.history] == [2.0, 4.0, 6.0]


def test_resume_needs_a_checkpoint_and_a_fresh_run_a_fresh_directory(points, tmp_path, no_plots):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        run_training(tiny(), points, tmp_path, resume=True)
    run_training(tiny(), points, tmp_path)
    with pytest.raises(FileExistsError, match="already holds a run"):
        run_training(tiny(), points, tmp_path)


def test_a_diverged_run_still_leaves_its_summary_and_log_row(points, tmp_path, no_plots, monkeypatch):
    objective = losses.OBJECTIVES["wgan-gp"]
    monkeypatch.setitem(losses.OBJECTIVES, "wgan-gp",
                        replace(objective, critic_loss=lambda r, f: objective.critic_loss(r, f) * float("nan")))
    with pytest.raises(TrainingDiverged):
        run_training(tiny(), points, tmp_path / "run", experiment_log=tmp_path / "log.md")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "diverged" and summary["triage"]["verdict"] == "diverging"
    assert "❌ Diverging" in (tmp_path / "log.md").read_text()


def test_quality_callbacks_see_metrics_every_quality_every_logged_steps(points, tmp_path):
    seen = []
    gated = every_logged(lambda state, metrics: seen.append((state.step, metrics is not None)), 2)
    cfg = SimpleNamespace(train=SimpleNamespace(log_every=2, steps=10))
    for step in range(1, 11):
        gated(SimpleNamespace(step=step, cfg=cfg), {} if step % 2 == 0 or step == 10 else None)
    assert [step for step, had_metrics in seen if had_metrics] == [4, 8, 10]  # logged steps 2, 4, 6, 8, 10: every 2nd + last


# --- what a resume refuses, and the files it reads back -----------------------------------------

def snapshot_of(run_dir):
    """Every file of a run directory with its bytes and modification time: a refused resume changes none."""
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(run_dir.rglob("*")) if p.is_file()}


def test_resume_refuses_other_data_naming_it_and_touching_nothing(points, tmp_path, no_plots):
    run_training(tiny(), points, tmp_path / "run")
    before = snapshot_of(tmp_path / "run")
    with pytest.raises(ConfigError, match=r"^cannot resume .*run: what it trains on differs from its identity.yaml in "
                                          r"data.rows \(256 -> 255\), data.sha256 \('[0-9a-f]{16}' -> '[0-9a-f]{16}'\); "
                                          r"only train.steps, log.\* and guard.\* may change$"):
        run_training(tiny(train={"steps": 8}), points[:255], tmp_path / "run", resume=True)
    shifted = points.clone()
    shifted[0, 0] += 1e-3  # one value of one row
    with pytest.raises(ConfigError, match=r"in data.sha256 \('[0-9a-f]{16}' -> '[0-9a-f]{16}'\);"):
        run_training(tiny(train={"steps": 8}), shifted, tmp_path / "run", resume=True)
    assert snapshot_of(tmp_path / "run") == before


def test_resume_compares_the_identity_a_caller_gives(points, tmp_path, no_plots):
    run_training(tiny(), points, tmp_path / "run", identity={"charts": {"grid": 32}, "basis": 16})
    with pytest.raises(ConfigError, match=r"identity.yaml in basis \(16 -> 8\), charts.grid \(32 -> 16\);"):
        runs.check_resume(tiny(), tmp_path / "run", {"charts": {"grid": 16}, "basis": 8})
    with pytest.raises(ConfigError, match=r"config.yaml in loss.n_critic \(5 -> 2\); what it trains on differs from its "
                                          r"identity.yaml in basis \(16 -> None\);"):
        runs.check_resume(tiny(loss={"n_critic": 2}), tmp_path / "run", {"charts": {"grid": 32}})
    # What may change does not count: steps, logging, the guard.
    runs.check_resume(tiny(train={"steps": 100}, log={"checkpoint_every": 7, "verbose": True}, guard={"max_seconds": 5}),
                      tmp_path / "run", {"charts": {"grid": 32}, "basis": 16})


@pytest.mark.parametrize("text, message", [
    ("train: {steps: -1}\n", r"config.yaml: invalid config: train.steps: Input should be greater than 0 \(got -1\)$"),
    ("model: {hidden_dim: 16, width: 3}\n", r"config.yaml: invalid config: model.width: Extra inputs are not permitted"),
    ("model: [unclosed\n", r"config.yaml is not valid YAML \(line 2, column 1: expected ',' or '\]'"),
    ("- a list\n", r"config.yaml must hold a YAML mapping of config sections, got list"),
    ("train: {seed: 2024-13-01}\n", r"config.yaml is not valid YAML \(month must be in 1..12\)"),
])
def test_a_damaged_config_yaml_is_one_line_naming_the_file_and_field(points, tmp_path, no_plots, text, message):
    run_training(tiny(), points, tmp_path / "run")
    (tmp_path / "run" / "config.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message) as raised:
        run_training(tiny(), points, tmp_path / "run", resume=True)
    assert "\n" not in str(raised.value) and str(tmp_path / "run" / "config.yaml") in str(raised.value)
    (tmp_path / "run" / "config.yaml").write_bytes(b"\xff\xfe not text")
    with pytest.raises(ConfigError, match=r"config.yaml is not UTF-8 text \(invalid start byte at byte 0\)"):
        runs.read_run_config(tmp_path / "run")


def test_a_run_from_before_identities_resumes_with_a_warning_and_gets_one(points, tmp_path, no_plots):
    run_training(tiny(train={"steps": 4}), points, tmp_path / "run")
    (tmp_path / "run" / "identity.yaml").unlink()
    with pytest.warns(UserWarning, match="has no identity.yaml .* its data and settings cannot be checked"):
        run_training(tiny(), points, tmp_path / "run", resume=True)
    assert (tmp_path / "run" / "identity.yaml").is_file()


def test_a_file_where_the_run_directory_goes_is_refused(points, tmp_path):
    (tmp_path / "run").write_text("notes")
    with pytest.raises(OutputError, match=r"run is a file, not a directory"):
        run_training(tiny(), points, tmp_path / "run")
    assert (tmp_path / "run").read_text() == "notes"


def test_the_data_fingerprint_covers_samples_labels_and_shape():
    from torch.utils.data import TensorDataset

    x = torch.arange(12.0).reshape(6, 2)
    labels = torch.tensor([0, 1, 0, 1, 0, 1])
    base = runs.data_fingerprint(TensorDataset(x, labels))
    assert base["rows"] == 6 and base["shape"] == [2]
    assert runs.data_fingerprint(TensorDataset(x, labels.flip(0)))["sha256"] != base["sha256"]
    assert runs.data_fingerprint(x.reshape(6, 2, 1))["sha256"] != runs.data_fingerprint(x)["sha256"]
    assert runs.data_fingerprint(x.clone()) == runs.data_fingerprint(x)
