"""Runner, CLI, atomic writes and the shipped configs."""
from pathlib import Path

import pytest

from nba_ml import cli
from nba_ml.errors import OutputError
from nba_ml.gan import load_config
from nba_ml.io import write_text_atomic
from nba_ml.phase5 import runner
from nba_ml.phase5.config import recommended_config

REPO = Path(__file__).resolve().parents[2]


def test_shipped_configs_exist_once_and_docs_link_to_them():
    shipped = REPO / "nba_ml" / "configs" / "points2d.yaml"
    assert not (REPO / "docs" / "configs").exists()
    for doc in (REPO / "README.md", *(REPO / "docs").glob("*.md"), *REPO.glob("*/*.py"), *REPO.glob("*/*/*.py")):
        text = doc.read_text(encoding="utf-8") if doc != Path(__file__) else ""
        assert "docs/configs/" not in text and '"docs" / "configs"' not in text, doc
    assert load_config(shipped).loss.kind == "wgan-gp"
    assert recommended_config("points2d")["model"]["kind"] == "mlp"


def test_the_plan_trains_the_run_both_plugins_share_once_and_where_jobs_allow():
    plugins = {rec_id: runner.load_plugin(rec_id)({"mode": "test"}) for rec_id in runner.PLUGINS}
    for plugin in plugins.values():
        plugin.setup()
    planned = runner.plan(plugins, jobs=2)
    assert [p.users for p in planned] == [[("rec_115", "wgan_clip")], [("rec_115", "wgan_gp"), ("rec_098", "wgan_gp")],
                                          [("rec_098", "gan")]]
    assert [p.run.cfg.loss.kind for p in planned] == ["wgan-clip", "wgan-gp", "gan"]
    assert all(p.in_worker for p in planned)
    assert not any(p.in_worker for p in runner.plan(plugins, jobs=1))  # one after another, in this process
    disabled = runner.load_plugin("rec_115")({"enabled": False})
    disabled.setup()
    assert runner.plan({"rec_115": disabled}, jobs=2) == []


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "STATUS.md"
    write_text_atomic(path, "old")
    monkeypatch.setattr(Path, "write_text", lambda self, *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        write_text_atomic(path, "new")
    monkeypatch.undo()
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["STATUS.md"]  # no temporary file left behind


def status_of(index, rec_id):
    return str(index.parent / runner.load_plugin(rec_id).recommendation.folder / "STATUS.md")


def test_update_index_rewrites_only_between_the_markers(tmp_path):
    index = tmp_path / "PHASE_5_INDEX.md"
    index.write_text(f"# Phase 5\nintro\n{runner.BEGIN}\nold table\n{runner.END}\nfooter\n")
    runner.update_index({"rec_115": {"success": True, "metrics": {}, "artifacts": {"status": status_of(index, "rec_115")}}}, index)
    text = index.read_text()
    assert text.startswith("# Phase 5\nintro\n") and text.endswith("footer\n")
    assert "old table" not in text
    assert "| 5.85 | rec_115: Implement Gradient Penalty for Wasserstein GAN (WGAN-GP) | ✅ complete |" in text
    assert "| 5.68 | rec_098: Implement WGAN with Gradient Penalty for Improved GAN Training Stability | not run |" in text


def test_two_runners_at_once_both_land_their_rows(tmp_path):
    """Two processes, each updating its own recommendation's row many times: neither row is lost."""
    import subprocess
    import sys

    index = tmp_path / "PHASE_5_INDEX.md"
    index.write_text(f"# Phase 5\n{runner.BEGIN}\n{runner.END}\n")
    script = ("import sys; from pathlib import Path; from nba_ml.phase5 import runner\n"
              "index, rec_id, status = Path(sys.argv[1]), sys.argv[2], sys.argv[3]\n"
              "for i in range(30):\n"
              "    runner.update_index({rec_id: {'success': i % 2 == 0, 'metrics': {}, 'artifacts': {'status': status}}}, index)\n")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(index), rec_id, status_of(index, rec_id)],
                              env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
             for rec_id in ("rec_115", "rec_098")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    text = index.read_text()
    assert "| rec_115: Implement Gradient Penalty for Wasserstein GAN (WGAN-GP) | ❌ failed |" in text  # i = 29, last
    assert "| rec_098: Implement WGAN with Gradient Penalty for Improved GAN Training Stability | ❌ failed |" in text


def test_index_is_left_alone_for_a_status_written_elsewhere(tmp_path):
    index = tmp_path / "PHASE_5_INDEX.md"
    original = f"{runner.BEGIN}\nold\n{runner.END}\n"
    index.write_text(original)
    runner.update_index({"rec_115": {"success": True, "metrics": {}, "artifacts": {"status": str(tmp_path / "STATUS.md")}}}, index)
    assert index.read_text() == original


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_written_files_and_model_directories_follow_the_umask(tmp_path, umask):
    import os

    from nba_ml.gan.config import validate_config
    from nba_ml.gan.export import export_generator
    from nba_ml.gan.networks import build_generator
    from nba_ml.io import write_json_atomic

    old = os.umask(umask)
    try:
        text = write_text_atomic(tmp_path / "STATUS.md", "x")
        data = write_json_atomic(tmp_path / "m.json", {})
        cfg = validate_config({"model": {"data_shape": [2], "hidden_dim": 4, "depth": 1}})
        model = export_generator(tmp_path / "model", cfg, build_generator(cfg), {"kind": "points"})
    finally:
        os.umask(old)
    for path in (text, data, model / "generator.pt", model / "model.yaml"):
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path
    assert model.stat().st_mode & 0o777 == 0o777 & ~umask


def test_saving_over_a_model_swaps_in_a_whole_new_directory(tmp_path, monkeypatch):
    """A save that fails half-way leaves the old model loadable and untouched; one that succeeds leaves no old file."""
    import torch

    from nba_ml.gan.config import validate_config
    from nba_ml.gan.export import export_generator, load_export
    from nba_ml.gan.networks import build_generator

    cfg = validate_config({"model": {"data_shape": [2], "hidden_dim": 4, "depth": 1}})
    model = export_generator(tmp_path / "model", cfg, build_generator(cfg), {"kind": "points", "extra": 1},
                             {"leftover.pt": {"x": torch.zeros(1)}})
    before = {p.name: p.read_bytes() for p in model.iterdir()}
    real_save = torch.save
    monkeypatch.setattr(torch, "save", lambda obj, f: (_ for _ in ()).throw(OSError("disk full"))
                        if str(getattr(f, "name", f)).endswith("generator.pt") else real_save(obj, f))
    with pytest.raises(OutputError, match=r"^cannot write .*model: disk full$"):  # also an OSError
        export_generator(model, cfg, build_generator(cfg), {"kind": "points"})
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in model.iterdir()} == before
    assert load_export(model)[2]["extra"] == 1
    export_generator(model, cfg, build_generator(cfg), {"kind": "points"})
    assert sorted(p.name for p in model.iterdir()) == ["generator.pt", "model.yaml"]  # nothing of the old one
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temporary directory left


def test_cli_runs_one_recommendation_in_test_mode(tmp_path, capsys, monkeypatch):
    from implement_rec_115 import GradientPenaltyWGAN

    monkeypatch.setattr(GradientPenaltyWGAN, "status_path", property(lambda self: tmp_path / "STATUS.md"))
    code = cli.main(["phase5", "--mode", "test", "--only", "rec_115", "--artifacts", str(tmp_path / "art"), "--jobs", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "rec_115 (5.85) Implement Gradient Penalty for Wasserstein GAN (WGAN-GP): ok" in out
    assert (tmp_path / "art" / "rec_115" / "metrics.json").is_file()
    assert (tmp_path / "STATUS.md").is_file()


def test_cli_rejects_an_unknown_mode(capsys):
    with pytest.raises(SystemExit):
        cli.main(["phase5", "--mode", "fast"])
    assert "invalid choice: 'fast'" in capsys.readouterr().err


def test_cli_rejects_a_negative_number_of_jobs(capsys):
    assert cli.main(["phase5", "--mode", "test", "--jobs", "-1"]) == 2
    assert "--jobs must be 0 (the usable CPU cores) or a positive number" in capsys.readouterr().err


def test_json_is_strict_with_non_finite_numbers_as_null(tmp_path):
    import json

    from nba_ml.io import write_json_atomic

    path = write_json_atomic(tmp_path / "m.json", {"a": float("inf"), "b": [float("nan"), 1.5], "c": 2})
    assert json.loads(path.read_text()) == {"a": None, "b": [None, 1.5], "c": 2}
    assert "Infinity" not in path.read_text() and "NaN" not in path.read_text()


def test_installed_without_a_checkout_status_goes_to_the_artifacts_not_site_packages(tmp_path, monkeypatch):
    from implement_rec_115 import GradientPenaltyWGAN
    from nba_ml.phase5 import plugin

    site_packages = tmp_path / "site-packages"  # REPO_ROOT of an installed package: no docs/phases there
    monkeypatch.setattr(plugin, "REPO_ROOT", site_packages)
    impl = GradientPenaltyWGAN({"mode": "test", "output_dir": str(tmp_path / "art")})
    impl.setup()
    assert impl.status_path == tmp_path / "art" / "STATUS.md"
    impl = GradientPenaltyWGAN({"mode": "test", "status_path": str(tmp_path / "mine.md")})
    impl.setup()
    assert impl.status_path == tmp_path / "mine.md"


def test_published_artifacts_of_two_runs_never_mix(tmp_path):
    """Each run stages its files; publishing moves them in under the target's lock, so the target holds one run's set."""
    import threading

    from nba_ml.io import publish_directory

    target = tmp_path / "rec_115"
    target.mkdir()
    (target / "metrics.json").write_text("old")

    def run(name):
        staged = tmp_path / f".stage_{name}"
        for file in ("metrics.json", "samples.png", "history_wgan_gp.csv"):
            write_text_atomic(staged / file, name)
        moved = publish_directory(staged, target)
        assert sorted(p.name for p in moved.values()) == ["history_wgan_gp.csv", "metrics.json", "samples.png"]
        assert not staged.exists()
    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    contents = {p.read_text() for p in target.iterdir()}
    assert contents in ({"a"}, {"b"})  # all from one run


def test_status_points_to_the_real_player_benchmark_only_for_the_shipped_shot_config():
    from datetime import datetime, timezone

    from nba_ml.phase5.config import PluginConfig
    from nba_ml.phase5.status import REAL_PLAYERS_ROW, render_status

    rec = runner.load_plugin("rec_098").recommendation
    result = {"success": True, "metrics": {}, "artifacts": {}}
    started = datetime(2026, 12, 7, tzinfo=timezone.utc)
    shipped = render_status(rec, PluginConfig(), result, started)
    assert REAL_PLAYERS_ROW in shipped.splitlines()
    assert '"On players it has not seen"' in REAL_PLAYERS_ROW and "### On players it has not seen" in (
        Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md").read_text()  # the section it names exists
    for other in ({"mode": "test"}, {"data": "25gaussians"}, {"gan": {"train": {"steps": 10}}}, {"basis": 8}):
        assert REAL_PLAYERS_ROW not in render_status(rec, PluginConfig.model_validate(other), result, started), other
