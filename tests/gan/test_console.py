"""nba_ml.gan.console: the guide's text block from a metrics dict, and the callback's output."""
import io
from types import SimpleNamespace

from nba_ml.gan import make_points, train
from nba_ml.gan.console import console_callback, format_block

METRICS = {
    "step": 1200.0, "time/elapsed_s": 12.34,
    "loss/critic": 0.1234, "critic/real": 0.5, "critic/fake": 0.4, "loss/generator": -0.4, "wdist": 0.1, "loss/gp": 0.01,
    "weights/critic_mean": 0.0024, "weights/critic_std": 0.096, "weights/generator_mean": 0.0028, "weights/generator_std": 0.081,
    "stability/dg_ratio": 0.3085, "stability/loss_var": 0.000002, "grad_norm/mean": 1.02, "grad_norm/std": 0.08,
    "quality/pixvar": 0.931, "lr/critic": 1e-4,
}


def test_block_has_the_guides_layout():
    assert format_block(METRICS, 3000).splitlines() == [
        "═" * 75,
        "Step 1200/3000 [12.3s]",
        "─" * 75,
        "  Losses     │ D: 0.1234 (R: -0.5000 F: 0.4000)  G: -0.4000  W-dist: 0.1000  GP: 0.0100",
        "  Weights    │ Critic μ: 0.0024 σ: 0.0960  Gen μ: 0.0028 σ: 0.0810",
        "  Stability  │ D/G Ratio: 0.3085  Var: 0.000002  |∇|: 1.02±0.08",
        "═" * 75,
    ]


def test_clip_pct_shows_only_under_weight_clipping_and_gp_only_when_logged():
    m = {**METRICS, "stability/clip_pct": 12.5}
    del m["loss/gp"]
    block = format_block(m, 3000)
    assert "Clip%: 12.5%" in block
    assert "GP:" not in block


def test_quality_line_appears_with_quality_metrics_beyond_pixvar():
    assert "Quality" not in format_block(METRICS, 3000)  # pixvar alone is logged every step
    block = format_block({**METRICS, "quality/modes_covered": 7.0, "quality/modes_total": 8.0}, 3000)
    assert block.splitlines()[-1] == "  Quality    │ modes_covered: 7  modes_total: 8  PixVar: 0.9310"


def test_quality_line_puts_the_real_figures_beside_the_generated_ones():
    block = format_block({**METRICS, "quality/frechet": 0.0123, "quality/frechet_real": 0.0045, "quality/recall": 0.9,
                          "quality/pixvar_real": 0.5}, 3000)
    assert block.splitlines()[-1] == "  Quality    │ frechet: 0.0123 (real 0.0045)  recall: 0.9  PixVar: 0.9310 (real 0.5000)"


def fake_steps(callback, total, logged):
    for step in range(1, total + 1):
        callback(SimpleNamespace(step=step), {**METRICS, "step": float(step)} if step in logged else None)


def test_callback_prints_a_block_on_logged_steps_only():
    out = io.StringIO()
    fake_steps(console_callback(4, file=out), 4, logged={2, 4})
    text = out.getvalue()
    assert "Step 2/4 [12.3s]" in text and "Step 4/4 [12.3s]" in text
    assert "Step 1/4" not in text and "Step 3/4" not in text
    assert "4/4" in text.splitlines()[-1]  # the bar, closed at the last step


def test_verbose_false_prints_nothing():
    out = io.StringIO()
    fake_steps(console_callback(4, verbose=False, file=out), 4, logged={2, 4})
    assert out.getvalue() == ""


def test_formats_every_key_a_real_training_step_logs():
    out = io.StringIO()
    points = make_points("8gaussians", 64, seed=0).samples
    cfg = {"model": {"latent_dim": 2, "hidden_dim": 16, "depth": 2}, "train": {"steps": 2, "batch_size": 16, "log_every": 2}}
    train(cfg, points, callbacks=(console_callback(2, file=out),))
    assert "Step 2/2" in out.getvalue() and "|∇|:" in out.getvalue()
