"""nba_ml.gan.triage on hand-built histories, one per verdict."""
import math

import pytest

from nba_ml.gan.triage import (
    FIXES,
    LOWER_LR,
    SMALLER_BATCH,
    triage,
    triage_metrics,
)


def history(n=12, **series):
    """n logged steps of a healthy WGAN-GP run; `series` overrides a key with a function of the row index."""
    rows = []
    for i in range(n):
        row = {"step": float(100 * (i + 1)), "loss/critic": -0.5 + 0.02 * (-1) ** i, "loss/generator": -3.0 - 2 * i,
               "loss/gp": 0.01, "wdist": 0.6 + 0.03 * (-1) ** i, "grad_norm/mean": 1.0 + 0.1 * (-1) ** i,
               "grad_norm/std": 0.1, "quality/pixvar": 0.9}
        row.update({key: f(i) for key, f in series.items()})
        rows.append(row)
    return rows


def test_healthy_run_is_stable_even_with_a_drifting_generator_loss():
    # loss/generator falls from -3 to -25: the critic's free offset, not divergence
    assert triage(history(), pixvar_real=1.0) == {"verdict": "stable", "findings": [], "suggestions": []}


def test_collapsed_diversity_is_mode_collapse():
    report = triage(history(**{"quality/pixvar": lambda i: 0.01}), pixvar_real=1.0)
    assert report["verdict"] == "mode_collapse"
    assert report["findings"] == ["sample diversity collapsed: pixvar 0.01 is under 25% of the real data's 1"]
    assert report["suggestions"] == list(FIXES["mode_collapse"])
    assert report["suggestions"][0] == SMALLER_BATCH


def test_pixvar_uses_the_absolute_threshold_without_a_real_baseline_and_extra_outranks_history():
    assert triage(history(**{"quality/pixvar": lambda i: 0.05}))["verdict"] == "mode_collapse"
    assert triage(history(**{"quality/pixvar": lambda i: 0.5}))["verdict"] == "stable"
    # a final evaluation passed in `extra` (more samples) decides over the per-step estimates
    assert triage(history(), extra={"quality/pixvar": 0.05, "quality/pixvar_real": 1.0})["verdict"] == "mode_collapse"


def test_few_modes_covered_is_mode_collapse():
    rows = history()
    rows[-1].update({"quality/modes_covered": 3.0, "quality/modes_total": 8.0})
    report = triage(rows)
    assert (report["verdict"], report["findings"]) == ("mode_collapse", ["only 3 of 8 modes covered"])
    rows[-1]["quality/modes_covered"] = 7.0
    assert triage(rows)["verdict"] == "stable"


@pytest.mark.parametrize("extra,verdict", [
    ({"quality/share/paint": 0.8, "quality/share/corner3": 0.2}, "mode_collapse"),
    ({"quality/share/paint": 0.8, "quality/share_real/paint": 0.3}, "mode_collapse"),
    ({"quality/share/paint": 0.55, "quality/share_real/paint": 0.5}, "stable"),  # the real data is paint-heavy too
    ({"quality/share/paint": 0.4, "quality/share/midrange": 0.3}, "stable"),
])
def test_one_zone_dominating_is_mode_collapse(extra, verdict):
    assert triage(history(), extra=extra)["verdict"] == verdict


def test_nan_loss_is_diverging():
    rows = history()
    rows[5]["loss/critic"] = math.nan
    report = triage(rows)
    assert report["verdict"] == "diverging"
    assert report["findings"] == ["loss/critic is nan at step 600"]
    assert report["suggestions"] == list(FIXES["diverging"])


def test_growing_wasserstein_estimate_is_diverging():
    report = triage(history(**{"wdist": lambda i: 0.6 * 1.5 ** i}))
    assert report["verdict"] == "diverging"
    assert report["findings"][0].startswith("|wdist| grows over the last third of training")


def test_a_stop_on_nan_reported_in_extra_is_diverging():
    report = triage([], extra={"train/diverged_at_step": 7.0})
    assert report["findings"] == ["training stopped at step 7: a loss became NaN or infinite"]


def test_gradient_norm_far_from_one_is_unstable_under_wgan_gp_only():
    rows = history(**{"grad_norm/mean": lambda i: 2.5})
    report = triage(rows)
    assert report["verdict"] == "unstable"
    assert "critic gradient norm stays far from 1 (median 2.5" in report["findings"][0]
    assert report["suggestions"] == list(FIXES["unstable"])
    no_penalty = [{k: v for k, v in row.items() if k != "loss/gp"} for row in rows]  # wgan-clip, gan
    assert triage(no_penalty)["verdict"] == "stable"
    brief_spike = history(**{"grad_norm/mean": lambda i: 2.5 if i == 11 else 1.0})
    assert triage(brief_spike)["verdict"] == "stable"


def test_persistent_clipping_is_unstable_with_the_guides_fix():
    report = triage(history(**{"stability/clip_pct": lambda i: 80.0}))
    assert report["verdict"] == "unstable"
    assert report["suggestions"][0].startswith("raise loss.clip_value")


def test_the_worst_finding_decides_and_suggestions_follow_it():
    rows = history(**{"quality/pixvar": lambda i: 0.01, "grad_norm/mean": lambda i: 2.5})
    rows[-1]["wdist"] = math.inf
    report = triage(rows, pixvar_real=1.0)
    assert report["verdict"] == "diverging"
    assert len(report["findings"]) == 3
    assert report["suggestions"][0] == LOWER_LR
    assert len(report["suggestions"]) == len(set(report["suggestions"]))  # no repeats
    assert triage_metrics(report) == {"triage/verdict_code": 3.0, "triage/findings": 3.0}


# rec_098's standard GAN run and WGAN-GP run as its STATUS.md reported them (production, 2022-23 table):
# the standard GAN missed the forwards entirely (recall 0, Frechet 1,272 times the floor).
FLOOR = {"floor/shots/recall": 0.9667, "floor/shots/precision": 0.9933, "floor/shots/frechet": 0.0004474,
         "floor/shots/G/recall": 0.9792, "floor/shots/F/recall": 0.963, "floor/shots/C/recall": 0.9583,
         "floor/shots/G/frechet": 0.001509, "floor/shots/F/frechet": 0.0009168, "floor/shots/C/frechet": 0.009709}
COLLAPSED_GAN = {"shots/recall": 0.56, "shots/precision": 0.4267, "shots/frechet": 0.2486,
                 "shots/G/recall": 0.5972, "shots/F/recall": 0.0, "shots/C/recall": 0.5,
                 "shots/G/frechet": 0.05301, "shots/F/frechet": 1.166, "shots/C/frechet": 0.07771}
HEALTHY_WGAN_GP = {"shots/recall": 0.96, "shots/precision": 0.9233, "shots/frechet": 0.003761,
                   "shots/G/recall": 0.9375, "shots/F/recall": 0.9537, "shots/C/recall": 1.0,
                   "shots/G/frechet": 0.005686, "shots/F/frechet": 0.003531, "shots/C/frechet": 0.01343}


def test_collapsed_group_is_named_from_the_quality_figures():
    report = triage(history(), pixvar_real=1.0, extra={**COLLAPSED_GAN, **FLOOR})
    assert report["verdict"] == "mode_collapse"
    assert report["findings"] == [
        "overall the generated charts miss most real charts: Frechet distance 0.2486, 556 times its real floor 0.000447",
        "overall precision 0.427 (real floor 0.993): most generated charts lie far from every real chart",
        "forwards (F) collapsed: the generated charts miss most of its real charts: recall 0 (real floor 0.963); "
        "Frechet distance 1.166, 1,272 times its real floor 0.000917",
    ]


def test_healthy_quality_figures_add_no_finding():
    assert triage(history(), pixvar_real=1.0, extra={**HEALTHY_WGAN_GP, **FLOOR})["verdict"] == "stable"


def test_quality_without_a_floor_uses_absolute_thresholds_and_skips_empty_groups():
    report = triage(history(), pixvar_real=1.0, extra={"shots/recall": 0.9, "shots/C/recall": 0.2, "shots/G/recall": math.nan,
                                                       "shots/frechet": 5.0})
    assert report["findings"] == ["centres (C) collapsed: the generated charts miss most of its real charts: recall 0.2"]
