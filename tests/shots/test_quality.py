"""Tests for nba_ml.shots.quality: features, Frechet distance, k-NN precision/recall, the floor."""


import numpy as np
import pandas as pd
import pytest

from tests.shots.shared_data import SHARED_DATA
from nba_ml.shots import quality
from nba_ml.shots.loader import load_shots
from nba_ml.shots.quality import (
    FEATURE_NAMES,
    HALF_COURT_ZONES,
    chart_features,
    frechet_distance,
    knn_precision_recall,
    quality_floor,
    real_charts,
    shot_quality,
    zone_share_error,
)

SEASON_FILES = ("nba_shots_2017-18_regular_season.csv.gz", "nba_shots_2022-23_regular_season.csv.gz")
METRIC_NAMES = ("zone_mae_pp", "frechet", "precision", "recall", "n_real_charts", "n_generated_charts")


def shots_frame(chart_ids, points, **columns) -> pd.DataFrame:
    """A long shot table from a CHART_ID per shot and (LOC_X, LOC_Y) points."""
    x, y = zip(*points)
    return pd.DataFrame({"CHART_ID": chart_ids, "LOC_X": x, "LOC_Y": y, **columns})


def random_charts(n_charts: int, shots_per_chart: int, seed: int) -> pd.DataFrame:
    """Charts of random half-court shots; each chart leans towards the rim or the arc by its own amount."""
    rng = np.random.default_rng(seed)
    rim_lean = rng.uniform(0.1, 0.9, n_charts)
    near_rim = rng.random((n_charts, shots_per_chart)) < rim_lean[:, None]
    radius = np.where(near_rim, rng.uniform(0, 80, near_rim.shape), rng.uniform(150, 280, near_rim.shape))
    angle = rng.uniform(0, np.pi, near_rim.shape)
    return pd.DataFrame(
        {
            "CHART_ID": np.repeat(np.arange(n_charts), shots_per_chart),
            "LOC_X": np.clip(np.round(radius * np.cos(angle)), -250, 250).ravel(),
            "LOC_Y": np.round(radius * np.sin(angle)).ravel(),
        }
    )


def share_features(n_rows: int, seed: int) -> np.ndarray:
    """Random rows shaped like chart features: two blocks of shares, each summing to 1 (singular covariance)."""
    rng = np.random.default_rng(seed)
    return np.hstack([rng.dirichlet(np.ones(6) * 3, n_rows), rng.dirichlet(np.ones(9) * 3, n_rows)])


def frechet_by_eigh(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """Independent reference: Tr sqrt(S_a S_b) = sum sqrt(eig(S_a^1/2 S_b S_a^1/2)), all symmetric."""
    cov_a, cov_b = np.cov(feats_a, rowvar=False), np.cov(feats_b, rowvar=False)
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)).sum()
    mean_gap = feats_a.mean(axis=0) - feats_b.mean(axis=0)
    return mean_gap @ mean_gap + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt


# --- chart_features -----------------------------------------------------------


def test_feature_names_are_six_zones_then_nine_distance_bins():
    assert len(FEATURE_NAMES) == 15
    assert FEATURE_NAMES[:6] == tuple(f"zone/{zone}" for zone in HALF_COURT_ZONES)
    assert "Backcourt" not in HALF_COURT_ZONES
    assert FEATURE_NAMES[6] == "distance_ft/[0,4)"
    assert FEATURE_NAMES[-1] == "distance_ft/[32,inf)"


def test_chart_features_exact_shares_on_hand_built_charts():
    shots = shots_frame(
        ["b", "a", "a", "a", "a", "b"],
        [(-230, 0), (0, 0), (0, 50), (230, 0), (0, 300), (0, 150)],
    )
    chart_ids, features = chart_features(shots)
    assert chart_ids.tolist() == ["a", "b"]  # sorted
    # a: RA at 0 ft, paint at 5 ft, right corner at 23 ft, above the break at 30 ft
    expected_a = [0.25, 0.25, 0, 0, 0.25, 0.25] + [0.25, 0.25, 0, 0, 0, 0.25, 0, 0.25, 0]
    # b: left corner at 23 ft, mid-range at 15 ft
    expected_b = [0, 0, 0.5, 0.5, 0, 0] + [0, 0, 0, 0.5, 0, 0.5, 0, 0, 0]
    np.testing.assert_array_equal(features, [expected_a, expected_b])


def test_chart_features_bin_edges_are_closed_on_the_left():
    # exactly 4 ft and exactly 32 ft go to the upper bins
    _, features = chart_features(shots_frame([0, 0], [(0, 40), (0, 320)]))
    assert features[0, 6 + 1] == 0.5  # [4, 8)
    assert features[0, -1] == 0.5  # [32, inf)


def test_chart_features_folds_backcourt_into_above_the_break():
    computed = shots_frame([0, 0], [(0, 500), (0, 0)])  # zone_of says Backcourt
    labelled = computed.assign(SHOT_ZONE_BASIC=["Backcourt", "Restricted Area"])
    for shots in (computed, labelled):
        _, features = chart_features(shots)
        assert features[0, HALF_COURT_ZONES.index("Above the Break 3")] == 0.5
        assert features[0, :6].sum() == 1.0


def test_chart_features_uses_the_zone_column_when_present():
    shots = shots_frame([0, 0], [(0, 0), (0, 0)], SHOT_ZONE_BASIC=["Mid-Range", "Mid-Range"])
    _, features = chart_features(shots)
    assert features[0, HALF_COURT_ZONES.index("Mid-Range")] == 1.0


def test_chart_features_rejects_unknown_zone_labels():
    shots = shots_frame([0], [(0, 0)], SHOT_ZONE_BASIC=["Downtown"])
    with pytest.raises(ValueError, match="SHOT_ZONE_BASIC.*Downtown"):
        chart_features(shots)


@pytest.mark.parametrize(
    ("shots", "message"),
    [
        (pd.DataFrame({"CHART_ID": [0], "LOC_Y": [0.0]}), "missing column.*LOC_X"),
        (pd.DataFrame({"LOC_X": [0.0], "LOC_Y": [0.0]}), "missing column.*CHART_ID"),
        (pd.DataFrame({"CHART_ID": [], "LOC_X": [], "LOC_Y": []}), "no rows"),
        (pd.DataFrame({"CHART_ID": [0], "LOC_X": [0.0], "LOC_Y": [np.nan]}), "LOC_Y"),
        (pd.DataFrame({"CHART_ID": [None], "LOC_X": [0.0], "LOC_Y": [0.0]}), "CHART_ID has missing"),
    ],
)
def test_chart_features_bad_input_names_the_problem(shots, message):
    with pytest.raises(ValueError, match=message):
        chart_features(shots)


# --- zone_share_error ---------------------------------------------------------


def test_zone_share_error_on_hand_built_frames():
    real = shots_frame([0] * 4, [(0, 0), (0, 10), (0, 150), (0, 300)])  # RA, RA, Mid-Range, Above the Break
    generated = shots_frame([0] * 4, [(0, 0), (0, 150), (0, 160), (0, 170)])  # RA, Mid-Range x3
    result = zone_share_error(real, generated)
    # |50-25| + |25-75| + |25-0| over six zones = 100 / 6 points
    assert result["zone_mae_pp"] == pytest.approx(100 / 6)
    assert result["real_pct/Restricted Area"] == 50.0
    assert result["generated_pct/Mid-Range"] == 75.0
    assert result["generated_pct/Above the Break 3"] == 0.0


def test_zone_share_error_is_zero_for_the_same_shots_and_rejects_a_missing_column():
    shots = random_charts(3, 50, seed=0)
    assert zone_share_error(shots, shots)["zone_mae_pp"] == 0.0
    with pytest.raises(ValueError, match="generated_shots.*LOC_X"):
        zone_share_error(shots, shots.drop(columns="LOC_X"))


# --- frechet_distance ---------------------------------------------------------


def test_frechet_of_identical_sets_is_zero():
    feats = np.random.default_rng(0).normal(size=(50, 4))
    assert frechet_distance(feats, feats) == pytest.approx(0.0, abs=1e-10)
    shares = share_features(80, seed=1)
    assert frechet_distance(shares, shares) == pytest.approx(0.0, abs=1e-10)


def test_frechet_one_dimensional_closed_form():
    # means 1 and 2; sample variances (ddof=1) 2 and 8, so sds sqrt(2) and 2 sqrt(2)
    feats_a, feats_b = np.array([[0.0], [2.0]]), np.array([[0.0], [4.0]])
    assert frechet_distance(feats_a, feats_b) == pytest.approx((1 - 2) ** 2 + (np.sqrt(2) - np.sqrt(8)) ** 2)  # 3


def test_frechet_diagonal_covariances_closed_form():
    cross = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])  # mean 0, covariance (2/3) I
    scaled_shifted = 2 * cross + [3.0, 4.0]  # mean (3, 4), covariance (8/3) I
    expected = 25 + 2 * (np.sqrt(8 / 3) - np.sqrt(2 / 3)) ** 2  # ||mu||^2 + sum (s1 - s2)^2 = 25 + 4/3
    assert frechet_distance(cross, scaled_shifted) == pytest.approx(expected)
    assert frechet_distance(scaled_shifted, cross) == pytest.approx(expected)


def test_frechet_translation_adds_squared_shift():
    delta = np.array([0.3, -0.1, 0.2, 0.0])
    feats = np.random.default_rng(2).normal(size=(40, 4))
    assert frechet_distance(feats, feats + delta) == pytest.approx(delta @ delta, rel=1e-9)
    shares = share_features(60, seed=3)  # singular covariance
    shift = np.full(15, 0.01)
    assert frechet_distance(shares, shares + shift) == pytest.approx(shift @ shift, rel=1e-6)


def test_frechet_on_singular_share_features_matches_an_independent_formula():
    feats_a, feats_b = share_features(120, seed=4), share_features(90, seed=5) ** 1.5
    assert np.linalg.eigvalsh(np.cov(feats_a, rowvar=False)).min() < 1e-12  # really singular
    assert frechet_distance(feats_a, feats_b) == pytest.approx(frechet_by_eigh(feats_a, feats_b), rel=1e-8)


def test_frechet_of_a_collapsed_set_is_mean_gap_plus_reference_spread():
    reference = share_features(100, seed=6)
    collapsed = np.repeat(reference[:1], 30, axis=0)  # zero covariance
    gap = reference.mean(axis=0) - reference[0]
    expected = gap @ gap + np.trace(np.cov(reference, rowvar=False))
    assert frechet_distance(reference, collapsed) == pytest.approx(expected, rel=1e-9)


def test_frechet_falls_back_to_eps_when_sqrtm_fails(monkeypatch):
    feats_a, feats_b = share_features(50, seed=7), share_features(50, seed=8)
    expected = frechet_by_eigh(feats_a, feats_b)
    real_sqrtm, calls = quality.scipy.linalg.sqrtm, []

    def sqrtm_failing_once(matrix):
        calls.append(matrix)
        return np.full_like(matrix, np.nan) if len(calls) == 1 else real_sqrtm(matrix)

    monkeypatch.setattr(quality.scipy.linalg, "sqrtm", sqrtm_failing_once)
    assert frechet_distance(feats_a, feats_b) == pytest.approx(expected, rel=1e-3)
    assert len(calls) == 2
    # the retry saw both covariances with eps on the diagonal
    offset = quality.FRECHET_EPS * np.eye(15)
    retried = (np.cov(feats_a, rowvar=False) + offset) @ (np.cov(feats_b, rowvar=False) + offset)
    np.testing.assert_allclose(calls[1], retried)


def test_frechet_rejects_bad_shapes():
    with pytest.raises(ValueError, match="feats_a needs at least 2 rows"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="feats_a has 3 features but feats_b has 4"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="feats_b must be 2-D"):
        frechet_distance(np.zeros((5, 3)), np.zeros(5))


# --- knn_precision_recall -----------------------------------------------------


def test_knn_identical_sets_give_one_and_one():
    feats = np.random.default_rng(9).normal(size=(30, 5))
    assert knn_precision_recall(feats, feats, k=3) == (1.0, 1.0)


def test_knn_far_away_fakes_give_zero_and_zero():
    real = np.random.default_rng(10).normal(size=(20, 3))
    assert knn_precision_recall(real, real + 100.0, k=5) == (0.0, 0.0)


def test_knn_hand_built_line():
    real = np.array([[0.0], [1.0], [2.0], [3.0]])  # k=1: every real radius is 1
    fake = np.array([[0.5], [4.0], [10.0]])  # inside; exactly on 3's ball (closed); outside
    # fake radii (k=1): 3.5, 3.5, 6.0; the ball around 0.5 covers every real point
    precision, recall = knn_precision_recall(real, fake, k=1)
    assert precision == pytest.approx(2 / 3)
    assert recall == 1.0


def test_knn_swapping_the_sides_swaps_precision_and_recall():
    real, fake = share_features(40, seed=11), share_features(35, seed=12) ** 1.2
    precision, recall = knn_precision_recall(real, fake, k=4)
    assert knn_precision_recall(fake, real, k=4) == (recall, precision)
    assert 0.0 < precision < 1.0 or 0.0 < recall < 1.0  # a case that tests something


def test_knn_is_the_same_in_small_chunks(monkeypatch):
    real, fake = share_features(50, seed=13), share_features(45, seed=14) ** 1.3
    whole = knn_precision_recall(real, fake, k=3)
    monkeypatch.setattr(quality, "DISTANCE_CHUNK_ROWS", 7)
    assert knn_precision_recall(real, fake, k=3) == whole


@pytest.mark.parametrize("k", [0, -1, 1.5, True, "5"])
def test_knn_rejects_a_bad_k(k):
    feats = np.zeros((10, 2))
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        knn_precision_recall(feats, feats, k=k)


def test_knn_needs_k_plus_one_rows_on_each_side():
    with pytest.raises(ValueError, match="k=5 needs at least k \\+ 1 = 6 rows.*fake_feats has 5"):
        knn_precision_recall(np.zeros((10, 2)), np.zeros((5, 2)), k=5)


# --- real_charts --------------------------------------------------------------


def player_shots() -> pd.DataFrame:
    """Player 1: 10 shots, player 2: 5, player 3: 3; each player's shots on its own row of the court."""
    players = [1] * 10 + [2] * 5 + [3] * 3
    return pd.DataFrame(
        {
            "PLAYER_ID": players,
            "LOC_X": np.arange(len(players)) * 10.0,
            "LOC_Y": np.array(players) * 100.0,
            "POSITION_GROUP": ["G"] * 10 + ["C"] * 5 + ["F"] * 3,
        }
    )


def test_real_charts_exactly_k_shots_and_drops_small_charts():
    charts = real_charts(player_shots(), shots_per_chart=4)
    assert charts.groupby("CHART_ID").size().to_dict() == {"1": 4, "2": 4}  # player 3 has only 3
    assert list(charts.columns) == ["CHART_ID", "LOC_X", "LOC_Y", "SHOT_ZONE_BASIC", "POSITION_GROUP"]
    # every kept shot is one of that player's own shots, none twice
    assert (charts["LOC_Y"] == charts["CHART_ID"].astype(int) * 100).all()
    assert not charts.duplicated().any()
    assert charts.groupby("CHART_ID")["POSITION_GROUP"].first().to_dict() == {"1": "G", "2": "C"}


def test_real_charts_min_shots_above_k():
    charts = real_charts(player_shots(), shots_per_chart=4, min_shots=6)
    assert charts.groupby("CHART_ID").size().to_dict() == {"1": 4}


def test_real_charts_is_seeded():
    shots = player_shots()
    first = real_charts(shots, shots_per_chart=4, seed=3)
    pd.testing.assert_frame_equal(first, real_charts(shots, shots_per_chart=4, seed=3))
    others = [real_charts(shots, shots_per_chart=4, seed=seed) for seed in range(4, 8)]
    assert any(not other.equals(first) for other in others)


def test_real_charts_one_chart_per_player_season_and_zones_computed():
    shots = pd.concat([player_shots().assign(SEASON="2017-18"), player_shots().assign(SEASON="2022-23")])
    charts = real_charts(shots.drop(columns="POSITION_GROUP"), shots_per_chart=5)
    assert sorted(charts["CHART_ID"].unique()) == ["2017-18:1", "2017-18:2", "2022-23:1", "2022-23:2"]
    assert "POSITION_GROUP" not in charts
    expected_zones = quality.zone_of(charts["LOC_X"], charts["LOC_Y"])
    assert (charts["SHOT_ZONE_BASIC"].to_numpy() == expected_zones).all()


def test_real_charts_bad_input():
    shots = player_shots()
    with pytest.raises(ValueError, match="missing column.*LOC_X"):
        real_charts(shots.drop(columns="LOC_X"), shots_per_chart=4)
    with pytest.raises(ValueError, match="missing column.*PLAYER_ID"):
        real_charts(shots.drop(columns="PLAYER_ID"), shots_per_chart=4)
    with pytest.raises(ValueError, match="no rows"):
        real_charts(shots.iloc[:0], shots_per_chart=4)
    with pytest.raises(ValueError, match="min_shots \\(3\\) must be >= shots_per_chart \\(4\\)"):
        real_charts(shots, shots_per_chart=4, min_shots=3)
    with pytest.raises(ValueError, match="no player-season has min_shots=11"):
        real_charts(shots, shots_per_chart=11)


# --- shot_quality and quality_floor -------------------------------------------


def test_shot_quality_of_a_set_against_itself():
    charts = random_charts(12, 40, seed=15)
    metrics = shot_quality(charts, charts)
    assert set(metrics) == {f"shots/{name}" for name in METRIC_NAMES}
    assert metrics["shots/zone_mae_pp"] == 0.0
    assert metrics["shots/frechet"] == pytest.approx(0.0, abs=1e-10)
    assert (metrics["shots/precision"], metrics["shots/recall"]) == (1.0, 1.0)
    assert metrics["shots/n_real_charts"] == 12.0


def test_shot_quality_by_group_and_nan_for_too_few_charts():
    real = random_charts(12, 40, seed=16)
    real["POSITION_GROUP"] = np.where(real["CHART_ID"] < 9, "G", "C")  # 9 guards, 3 centres
    generated = random_charts(10, 40, seed=17)
    generated["POSITION_GROUP"] = np.where(generated["CHART_ID"] < 8, "G", "C")
    metrics = shot_quality(real, generated, by="POSITION_GROUP")
    assert set(metrics) == {f"shots/{prefix}{name}" for prefix in ("", "G/", "C/") for name in METRIC_NAMES}
    assert (metrics["shots/G/n_real_charts"], metrics["shots/G/n_generated_charts"]) == (9.0, 8.0)
    assert 0.0 <= metrics["shots/G/precision"] <= 1.0
    assert np.isnan(metrics["shots/C/precision"])  # 3 charts cannot make k=5 balls
    assert metrics["shots/C/frechet"] >= 0.0


def test_shot_quality_group_only_on_one_side_is_nan():
    real = random_charts(8, 20, seed=18).assign(POSITION_GROUP="G")
    generated = random_charts(8, 20, seed=19).assign(POSITION_GROUP="F")
    metrics = shot_quality(real, generated, by="POSITION_GROUP")
    assert metrics["shots/F/n_real_charts"] == 0.0
    assert np.isnan(metrics["shots/F/zone_mae_pp"]) and np.isnan(metrics["shots/G/recall"])


def test_shot_quality_bad_input():
    charts = random_charts(8, 20, seed=20)
    with pytest.raises(ValueError, match="generated_shots is missing column.*LOC_X"):
        shot_quality(charts, charts.drop(columns="LOC_X"))
    with pytest.raises(ValueError, match="real_shots: the frame has no rows"):
        shot_quality(charts.iloc[:0], charts)
    with pytest.raises(ValueError, match="missing column.*POSITION_GROUP"):
        shot_quality(charts, charts, by="POSITION_GROUP")
    varying = charts.assign(POSITION_GROUP=np.where(np.arange(len(charts)) % 2, "G", "F"))
    with pytest.raises(ValueError, match="POSITION_GROUP must be constant within each CHART_ID"):
        shot_quality(varying, varying, by="POSITION_GROUP")


def test_quality_floor_has_the_same_keys_as_shot_quality():
    shots = random_charts(10, 30, seed=21).rename(columns={"CHART_ID": "PLAYER_ID"}).assign(POSITION_GROUP="G")
    floor = quality_floor(shots, shots, shots_per_chart=20, by="POSITION_GROUP")
    assert set(floor) == {f"shots/{prefix}{name}" for prefix in ("", "G/") for name in METRIC_NAMES}
    assert 0.0 < floor["shots/frechet"] < 0.05  # two different 20-shot subsamples of the same charts


# --- the real floor -----------------------------------------------------------


@pytest.fixture(scope="module")
def two_seasons() -> list[pd.DataFrame]:
    paths = [SHARED_DATA / name for name in SEASON_FILES]
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        pytest.skip(f"shared season files not found in {SHARED_DATA}: {missing}")
    return [load_shots(path)[0] for path in paths]


def test_floor_between_the_two_real_seasons(two_seasons):
    early, late = two_seasons
    floor = quality_floor(early, late, shots_per_chart=200, seed=0)
    assert floor["shots/n_real_charts"] > 300 and floor["shots/n_generated_charts"] > 300
    # the acceptance target for a model is precision and recall >= 0.8 on an unseen season;
    # two real seasons must clear it, or the target is unreachable
    assert floor["shots/precision"] >= 0.8
    assert floor["shots/recall"] >= 0.8
    assert 0.0 < floor["shots/frechet"] < 0.05
