"""Runner, CLI, atomic writes and the shipped configs."""
from pathlib import Path

import pytest

from nba_ml import cli
from nba_ml.gan import load_config
from nba_ml.io import write_text_atomic
from nba_ml.phase5 import runner
from nba_ml.phase5.plugin import recommended_config

REPO = Path(__file__).resolve().parents[2]


def test_docs_copy_of_points2d_is_the_shipped_config():
    shipped = REPO / "nba_ml" / "configs" / "points2d.yaml"
    assert (REPO / "docs" / "configs" / "points2d.yaml").read_text() == shipped.read_text()
    assert load_config(shipped).loss.kind == "wgan-gp"
    assert recommended_config("points2d")["model"]["kind"] == "mlp"


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "STATUS.md"
    write_text_atomic(path, "old")
    monkeypatch.setattr(Path, "write_text", lambda self, *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        write_text_atomic(path, "new")
    monkeypatch.undo()
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["STATUS.md"]  # no temporary file left behind


def test_update_index_rewrites_only_between_the_markers(tmp_path, monkeypatch):
    index = tmp_path / "PHASE_5_INDEX.md"
    index.write_text(f"# Phase 5\nintro\n{runner.BEGIN}\nold table\n{runner.END}\nfooter\n")
    monkeypatch.setattr(runner, "INDEX_PATH", index)
    runner.update_index({"rec_115": {"success": True, "metrics": {}, "artifacts": {}}})
    text = index.read_text()
    assert text.startswith("# Phase 5\nintro\n") and text.endswith("footer\n")
    assert "old table" not in text
    assert "| 5.85 | rec_115: Implement Gradient Penalty for Wasserstein GAN (WGAN-GP) | ✅ complete |" in text
    assert "| 5.68 | rec_098: Implement WGAN with Gradient Penalty for Improved GAN Training Stability | not run |" in text


def test_cli_runs_one_recommendation_in_test_mode(tmp_path, capsys, monkeypatch):
    from implement_rec_115 import GradientPenaltyWGAN

    monkeypatch.setattr(GradientPenaltyWGAN, "status_path", property(lambda self: tmp_path / "STATUS.md"))
    code = cli.main(["phase5", "--mode", "test", "--only", "rec_115", "--artifacts", str(tmp_path / "art")])
    out = capsys.readouterr().out
    assert code == 0
    assert "rec_115 (5.85) Implement Gradient Penalty for Wasserstein GAN (WGAN-GP): ok" in out
    assert (tmp_path / "art" / "rec_115" / "metrics.json").is_file()
    assert (tmp_path / "STATUS.md").is_file()


def test_cli_rejects_an_unknown_mode(capsys):
    with pytest.raises(SystemExit):
        cli.main(["phase5", "--mode", "fast"])
    assert "invalid choice: 'fast'" in capsys.readouterr().err


def test_json_is_strict_with_non_finite_numbers_as_null(tmp_path):
    import json

    from nba_ml.io import write_json_atomic

    path = write_json_atomic(tmp_path / "m.json", {"a": float("inf"), "b": [float("nan"), 1.5], "c": 2})
    assert json.loads(path.read_text()) == {"a": None, "b": [None, 1.5], "c": 2}
    assert "Infinity" not in path.read_text() and "NaN" not in path.read_text()
