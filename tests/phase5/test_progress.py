"""nba_ml.phase5.progress: stage lines, a bar per run, heartbeats; and `nba-ml phase5` showing them unless --quiet."""
import io
import time
from types import SimpleNamespace

from nba_ml import cli
from nba_ml.phase5 import progress as progress_module
from nba_ml.phase5.progress import Progress


def test_stage_lines_and_a_bar_that_follows_the_steps():
    out = io.StringIO()
    progress = Progress(enabled=True, file=out)
    progress.stage("rec_115: training wgan_gp (4 steps)")
    bar = progress.bar(4, "rec_115 wgan_gp")
    for step in (1, 2, 3, 2, 3, 4):  # 3 -> 2: a divergence rollback
        bar(SimpleNamespace(step=step), None)
    progress.close()
    text = out.getvalue()
    assert "] rec_115: training wgan_gp (4 steps)\n" in text
    assert "rec_115 wgan_gp: 100%" in text and "4/4" in text


def test_a_long_stage_without_a_bar_gets_heartbeat_lines(monkeypatch):
    monkeypatch.setattr(progress_module, "HEARTBEAT_S", 0.2)
    out = io.StringIO()
    progress = Progress(enabled=True, file=out)
    progress.stage("rec_098: evaluating gan")
    time.sleep(1.5)
    progress.close()
    assert "still rec_098: evaluating gan" in out.getvalue()


def test_disabled_prints_nothing():
    out = io.StringIO()
    progress = Progress(enabled=False, file=out)
    progress.stage("x")
    progress.bar(2, "y")(SimpleNamespace(step=1), None)
    assert out.getvalue() == ""


def test_phase5_shows_each_stage_and_quiet_turns_it_off(tmp_path, capsys, monkeypatch):
    from implement_rec_115 import GradientPenaltyWGAN

    monkeypatch.setattr(GradientPenaltyWGAN, "status_path", property(lambda self: tmp_path / "STATUS.md"))
    assert cli.main(["phase5", "--mode", "test", "--only", "rec_115", "--artifacts", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    for stage in ("rec_115: data: built-in synthetic league", "rec_115: basis: fitting 8 maps to", "rec_115: real floor",
                  "rec_115: training wgan_clip (20 steps)", "rec_115: evaluating wgan_clip",
                  "rec_115: training wgan_gp (20 steps)", "rec_115: evaluating wgan_gp"):
        assert stage in err, stage
    assert "rec_115 wgan_gp: 100%" in err
    assert cli.main(["phase5", "--mode", "test", "--only", "rec_115", "--artifacts", str(tmp_path / "b"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "rec_115 (5.85)" in captured.out
