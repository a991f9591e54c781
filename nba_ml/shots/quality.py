"""Domain quality metrics for generated shot charts, against a real reference season.

A *chart* is one player-season of shot locations. Generated charts come from the
simulator as a long table (one row per shot) with columns CHART_ID, LOC_X, LOC_Y,
SHOT_ZONE_BASIC and optionally POSITION_GROUP; `real_charts` cuts a real season
into the same form, with the same number of shots K per chart, so that real and
generated charts carry the same sampling noise.

Per-chart features (`chart_features`, F = 15, all shares of the chart's shots):
  0-5   zone shares, in the order of HALF_COURT_ZONES: Restricted Area,
        In The Paint (Non-RA), Mid-Range, Left Corner 3, Right Corner 3,
        Above the Break 3. Backcourt heaves are folded into Above the Break 3
        (they are threes beyond the arc; the loader drops them by default).
  6-14  shot-distance shares over the feet bins [0,4), [4,8), ..., [28,32),
        [32, inf); distance = hypot(LOC_X, LOC_Y) / 10, so a bin [a, b) holds
        exactly the shots whose SHOT_DISTANCE (whole feet) is in a..b-1.

Metrics (`shot_quality`, flat dict, keys `shots/<name>` or `shots/<group>/<name>`):
  zone_mae_pp   mean over the six zones of |real share - generated share|, in
                percentage points, with shares pooled over all shots.
  frechet       Frechet distance between Gaussians fitted to the two sets of
                chart features: ||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 (S_r S_g)^1/2).
  precision     share of generated charts inside the real manifold: within the
                k-NN ball (radius = distance to its k-th nearest real neighbour)
                of at least one real chart (Kynkaanniemi et al. 2019).
  recall        share of real charts inside the generated manifold (the same,
                with the roles swapped).
  n_real_charts, n_generated_charts   how many charts each side had.

The features are used raw, not standardised: every feature is a share of the
same shots, in the same unit, so Euclidean distance already weighs a point of
share equally everywhere. Standardising would blow up rare features (the corner
threes, the 32+ ft bin) whose spread between charts is mostly the binomial noise
of K shots, and would make the metric depend on a scaler fitted to one side.

Read metrics at similar chart counts on both sides: the Frechet estimate is
biased upwards for few charts (with 15 features and ~30 charts a side, as for
centres in half a season, it is about as large as between two seasons), and
k-NN balls shrink as charts are added. Swapping the sides swaps precision and
recall and leaves the other metrics unchanged.

`quality_floor` gives the same metrics between two real seasons: the floor a
model is read against (the project target: Frechet within 3x the floor, precision
and recall >= 0.8 on a season not seen in training).
"""

import warnings

import numpy as np
import pandas as pd
import scipy.linalg
from scipy.spatial.distance import cdist

from nba_ml.frames import require_columns
from nba_ml.shots.court import ABOVE_THE_BREAK_3, BACKCOURT, ZONES, zone_of

HALF_COURT_ZONES = tuple(zone for zone in ZONES if zone != BACKCOURT)
DISTANCE_BIN_EDGES_FT = (0, 4, 8, 12, 16, 20, 24, 28, 32)  # last bin is [32, inf)
FEATURE_NAMES = tuple(f"zone/{zone}" for zone in HALF_COURT_ZONES) + tuple(
    f"distance_ft/[{low},{high})" for low, high in zip(DISTANCE_BIN_EDGES_FT, DISTANCE_BIN_EDGES_FT[1:] + ("inf",))
)

DEFAULT_SHOTS_PER_CHART = 200  # K: shots drawn per chart on both sides
DEFAULT_K_NEIGHBOURS = 5  # k of the k-NN balls, as in Kynkaanniemi et al. 2019
FRECHET_EPS = 1e-6  # added to both covariance diagonals when sqrtm fails (FID reference)
FRECHET_MAX_RESIDUAL = 1e-6  # relative ||sqrtm(P)^2 - P|| above which sqrtm counts as failed
FRECHET_MAX_IMAGINARY = 1e-3  # relative imaginary part of Tr(sqrtm) beyond which we refuse
DISTANCE_CHUNK_ROWS = 1024  # rows per cdist block, so memory stays O(chunk * n)


# --- Real reference charts ----------------------------------------------------


def real_charts(
    shots: pd.DataFrame,
    shots_per_chart: int = DEFAULT_SHOTS_PER_CHART,
    *,
    min_shots: int | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Cut real shots into charts of exactly `shots_per_chart` shots each.

    One chart per player-season (PLAYER_ID, and SEASON when present) with at
    least `min_shots` shots (default: `shots_per_chart`); from each, a seeded
    uniform random subsample of `shots_per_chart` shots without replacement.
    Rows without a PLAYER_ID are ignored.

    Returns a long table with CHART_ID ("<SEASON>:<PLAYER_ID>", or "<PLAYER_ID>"
    without SEASON), LOC_X, LOC_Y, SHOT_ZONE_BASIC (from the column, or computed
    with `zone_of` when absent) and, when the input has it, POSITION_GROUP (the
    chart's most common group, so it is constant within a chart). Rows keep
    their input order within a chart; charts are sorted by CHART_ID.
    """
    _checked_coordinates(shots, "shots")
    _require_columns(shots, ("PLAYER_ID",), "shots")
    if shots_per_chart < 1:
        raise ValueError(f"shots_per_chart must be >= 1, got {shots_per_chart}")
    min_shots = shots_per_chart if min_shots is None else min_shots
    if min_shots < shots_per_chart:
        raise ValueError(f"min_shots ({min_shots}) must be >= shots_per_chart ({shots_per_chart})")

    shots = shots[shots["PLAYER_ID"].notna()].reset_index(drop=True)
    chart_ids = _player_season_ids(shots)
    shots_in_chart = chart_ids.map(chart_ids.value_counts())
    eligible = (shots_in_chart >= min_shots).to_numpy()
    if not eligible.any():
        raise ValueError(f"shots: no player-season has min_shots={min_shots} shots or more")

    # A random permutation then the first K rows of each chart is a uniform
    # K-subset per chart; sorting the kept row numbers restores input order.
    rows = np.flatnonzero(eligible)
    permuted = rows[np.random.default_rng(seed).permutation(len(rows))]
    kept = pd.Series(permuted).groupby(chart_ids.to_numpy()[permuted]).head(shots_per_chart)
    kept = np.sort(kept.to_numpy())

    charts = pd.DataFrame({"CHART_ID": chart_ids.to_numpy()[kept]})
    charts["LOC_X"] = shots["LOC_X"].to_numpy(dtype=float)[kept]
    charts["LOC_Y"] = shots["LOC_Y"].to_numpy(dtype=float)[kept]
    if "SHOT_ZONE_BASIC" in shots:
        charts["SHOT_ZONE_BASIC"] = shots["SHOT_ZONE_BASIC"].to_numpy()[kept]
    else:
        charts["SHOT_ZONE_BASIC"] = zone_of(charts["LOC_X"].to_numpy(), charts["LOC_Y"].to_numpy())
    if "POSITION_GROUP" in shots:
        charts["POSITION_GROUP"] = _chart_mode(charts["CHART_ID"], shots["POSITION_GROUP"].iloc[kept])
    return charts.sort_values("CHART_ID", kind="stable").reset_index(drop=True)


def _player_season_ids(shots: pd.DataFrame) -> pd.Series:
    """CHART_ID of each shot: '<SEASON>:<PLAYER_ID>', or the PLAYER_ID alone without SEASON."""
    player = shots["PLAYER_ID"]
    # Int64 first, so that float ids (NaN-holding columns) print as 201939, not 201939.0.
    player = (player.astype("Int64") if pd.api.types.is_numeric_dtype(player) else player).astype(str)
    if "SEASON" not in shots:
        return player
    return shots["SEASON"].astype(str) + ":" + player


def _chart_mode(chart_ids: pd.Series, values: pd.Series) -> np.ndarray:
    """Each chart's most common non-missing value (ties: the smallest), repeated on every row."""
    pairs = pd.DataFrame({"CHART_ID": chart_ids.to_numpy(), "VALUE": values.to_numpy()}).dropna()
    counts = pairs.value_counts().rename("COUNT").reset_index()
    counts = counts.sort_values(["CHART_ID", "COUNT", "VALUE"], ascending=[True, False, True])
    modes = counts.drop_duplicates("CHART_ID").set_index("CHART_ID")["VALUE"]
    return chart_ids.map(modes).to_numpy()


# --- Per-chart features -------------------------------------------------------


def chart_features(shots: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return (chart_ids, features) with one row of F = 15 shares per CHART_ID.

    chart_ids is sorted; features[i] belongs to chart_ids[i] and has columns
    FEATURE_NAMES:
      0-5   share of the chart's shots in each of HALF_COURT_ZONES (Restricted
            Area, In The Paint (Non-RA), Mid-Range, Left Corner 3, Right Corner 3,
            Above the Break 3), Backcourt counted as Above the Break 3; zones come
            from SHOT_ZONE_BASIC when present, else from `zone_of(LOC_X, LOC_Y)`;
      6-14  share of its shots in the distance bins [0,4), [4,8), ..., [28,32),
            [32, inf) feet, distance = hypot(LOC_X, LOC_Y) / 10.
    Each block sums to 1 per chart.
    """
    x, y = _checked_coordinates(shots, "shots")
    _require_columns(shots, ("CHART_ID",), "shots")
    if shots["CHART_ID"].isna().any():
        raise ValueError("shots: column CHART_ID has missing values")
    chart_ids, chart_index = np.unique(shots["CHART_ID"].to_numpy(), return_inverse=True)

    zone_index = _zone_index(shots, x, y)
    distance_ft = np.hypot(x, y) / 10.0
    bin_index = np.searchsorted(DISTANCE_BIN_EDGES_FT, distance_ft, side="right") - 1  # [a, b) bins

    counts = np.zeros((len(chart_ids), len(FEATURE_NAMES)))
    np.add.at(counts, (chart_index, zone_index), 1.0)
    np.add.at(counts, (chart_index, len(HALF_COURT_ZONES) + bin_index), 1.0)
    shots_per_chart = np.bincount(chart_index, minlength=len(chart_ids))
    return chart_ids, counts / shots_per_chart[:, None]


def _zone_index(shots: pd.DataFrame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Position of each shot's zone in HALF_COURT_ZONES, Backcourt folded into Above the Break 3."""
    if "SHOT_ZONE_BASIC" in shots:
        zones = shots["SHOT_ZONE_BASIC"].to_numpy(dtype=object)
    else:
        zones = zone_of(x, y).astype(object)
    zones = np.where(zones == BACKCOURT, ABOVE_THE_BREAK_3, zones)
    codes = pd.Index(HALF_COURT_ZONES).get_indexer(zones)  # -1 for a label not in the list
    if (codes < 0).any():
        unknown = sorted({str(zone) for zone in zones[codes < 0]})
        raise ValueError(f"shots: column SHOT_ZONE_BASIC has unknown zone(s) {unknown}; expected one of {ZONES}")
    return codes.astype(np.intp)


# --- Metrics ------------------------------------------------------------------


def zone_share_error(real_shots: pd.DataFrame, generated_shots: pd.DataFrame) -> dict[str, float]:
    """Pooled zone shares (percent) of each side and their mean absolute error in points.

    Returns a flat dict: `zone_mae_pp`, then `real_pct/<zone>` and
    `generated_pct/<zone>` for each of HALF_COURT_ZONES (Backcourt folded into
    Above the Break 3). Shares are pooled over all shots, not averaged per chart.
    """
    real_pct = _pooled_zone_percent(real_shots, "real_shots")
    generated_pct = _pooled_zone_percent(generated_shots, "generated_shots")
    result = {"zone_mae_pp": float(np.mean(np.abs(real_pct - generated_pct)))}
    result.update({f"real_pct/{zone}": float(pct) for zone, pct in zip(HALF_COURT_ZONES, real_pct)})
    result.update({f"generated_pct/{zone}": float(pct) for zone, pct in zip(HALF_COURT_ZONES, generated_pct)})
    return result


def _pooled_zone_percent(shots: pd.DataFrame, name: str) -> np.ndarray:
    """Percent of all the frame's shots in each of HALF_COURT_ZONES."""
    x, y = _checked_coordinates(shots, name)
    counts = np.bincount(_zone_index(shots, x, y), minlength=len(HALF_COURT_ZONES))
    return 100.0 * counts / counts.sum()


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (rows are samples).

    d^2 = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 sqrtm(S_a S_b)), with sample
    covariances (ddof=1) as in the FID reference code. Share features make both
    covariances singular (each block of shares sums to 1); scipy's sqrtm handles
    that accurately, so, as in the FID reference, FRECHET_EPS * I is added to both
    covariances only when the plain square root comes out non-finite or does not
    square back to S_a S_b. (Adding it always would bias a collapsed generator,
    S_g = 0, by about 2 sqrt(eps) Tr(S_r^1/2).) Tiny imaginary parts left by sqrtm
    are dropped; a large one raises ArithmeticError.
    """
    feats_a = _checked_features(feats_a, "feats_a", min_rows=2)
    feats_b = _checked_features(feats_b, "feats_b", min_rows=2)
    _require_same_width(feats_a, feats_b, "feats_a", "feats_b")
    mean_gap = feats_a.mean(axis=0) - feats_b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(feats_a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(feats_b, rowvar=False))

    root = _covariance_product_sqrt(cov_a, cov_b)
    if root is None:
        offset = FRECHET_EPS * np.eye(len(cov_a))
        cov_a, cov_b = cov_a + offset, cov_b + offset
        root = scipy.linalg.sqrtm(cov_a @ cov_b)
    trace_sqrt = np.trace(root)
    if abs(trace_sqrt.imag) > FRECHET_MAX_IMAGINARY * max(abs(trace_sqrt.real), FRECHET_EPS):
        raise ArithmeticError(f"sqrtm(S_a S_b) has a large imaginary trace {trace_sqrt.imag:.3g}")
    distance = mean_gap @ mean_gap + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt.real
    return max(float(distance), 0.0)  # rounding can leave -1e-17 for identical sets


def _covariance_product_sqrt(cov_a: np.ndarray, cov_b: np.ndarray) -> np.ndarray | None:
    """sqrtm(cov_a @ cov_b), or None when it is non-finite or does not square back to the product."""
    product = cov_a @ cov_b
    with warnings.catch_warnings():
        # scipy warns on every singular input; singular is the normal case here, checked below.
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        root = scipy.linalg.sqrtm(product)
    if not np.isfinite(root).all():
        return None
    residual = np.linalg.norm(root @ root - product)
    return root if residual <= FRECHET_MAX_RESIDUAL * max(np.linalg.norm(product), FRECHET_EPS**2) else None


def knn_precision_recall(
    real_feats: np.ndarray, fake_feats: np.ndarray, k: int = DEFAULT_K_NEIGHBOURS
) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019) with k-NN balls.

    precision = share of fake rows within distance r_i of some real row i, where
    r_i is the distance from real row i to its k-th nearest *other* real row;
    recall = share of real rows within the k-NN ball of some fake row, radii
    taken among the fake rows. Balls are closed (<=), so identical sets give 1.
    Exact Euclidean distances (scipy cdist, in row chunks), deterministic.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    real_feats = _checked_features(real_feats, "real_feats", min_rows=1)
    fake_feats = _checked_features(fake_feats, "fake_feats", min_rows=1)
    _require_same_width(real_feats, fake_feats, "real_feats", "fake_feats")
    if min(len(real_feats), len(fake_feats)) < k + 1:
        raise ValueError(
            f"k={k} needs at least k + 1 = {k + 1} rows on each side; "
            f"real_feats has {len(real_feats)}, fake_feats has {len(fake_feats)}"
        )
    precision = _share_inside_balls(fake_feats, real_feats, _kth_neighbour_radii(real_feats, k))
    recall = _share_inside_balls(real_feats, fake_feats, _kth_neighbour_radii(fake_feats, k))
    return precision, recall


def _kth_neighbour_radii(feats: np.ndarray, k: int) -> np.ndarray:
    """Distance from each row to its k-th nearest other row."""
    radii = np.empty(len(feats))
    for start in range(0, len(feats), DISTANCE_CHUNK_ROWS):
        distances = cdist(feats[start : start + DISTANCE_CHUNK_ROWS], feats)
        # Each row's own zero distance sorts first, so the k-th other row is at index k.
        radii[start : start + DISTANCE_CHUNK_ROWS] = np.partition(distances, k, axis=1)[:, k]
    return radii


def _share_inside_balls(points: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> float:
    """Share of `points` within radii[i] of at least one centres[i]."""
    inside = np.empty(len(points), dtype=bool)
    for start in range(0, len(points), DISTANCE_CHUNK_ROWS):
        distances = cdist(points[start : start + DISTANCE_CHUNK_ROWS], centres)
        inside[start : start + DISTANCE_CHUNK_ROWS] = (distances <= radii[None, :]).any(axis=1)
    return float(inside.mean())


# --- Everything at once -------------------------------------------------------


def shot_quality(
    real_shots: pd.DataFrame,
    generated_shots: pd.DataFrame,
    *,
    by: str | None = None,
    k: int = DEFAULT_K_NEIGHBOURS,
) -> dict[str, float]:
    """All shot metrics of generated charts against real ones, as a flat dict.

    Keys: shots/zone_mae_pp, shots/frechet, shots/precision, shots/recall,
    shots/n_real_charts, shots/n_generated_charts. With `by` (a column constant
    within each chart, e.g. 'POSITION_GROUP'), the same six again for every group
    value found on either side, as shots/<group>/<name>; charts with a missing
    group count only overall. A metric that a side's chart count cannot support
    (Frechet needs 2 charts, precision/recall k + 1) is NaN.
    """
    _require_columns(real_shots, ("CHART_ID", "LOC_X", "LOC_Y"), "real_shots")
    _require_columns(generated_shots, ("CHART_ID", "LOC_X", "LOC_Y"), "generated_shots")
    metrics = _metrics_for(real_shots, generated_shots, k, prefix="shots/")
    if by is None:
        return metrics
    real_groups = _chart_groups(real_shots, by, "real_shots")
    generated_groups = _chart_groups(generated_shots, by, "generated_shots")
    for group in sorted(set(real_groups.dropna()) | set(generated_groups.dropna())):
        real_part = _charts_in_group(real_shots, real_groups, group)
        generated_part = _charts_in_group(generated_shots, generated_groups, group)
        metrics.update(_metrics_for(real_part, generated_part, k, prefix=f"shots/{group}/"))
    return metrics


def quality_floor(
    season_a_shots: pd.DataFrame,
    season_b_shots: pd.DataFrame,
    shots_per_chart: int = DEFAULT_SHOTS_PER_CHART,
    seed: int = 0,
    *,
    by: str | None = None,
    k: int = DEFAULT_K_NEIGHBOURS,
) -> dict[str, float]:
    """`shot_quality` between two real seasons: season A as the reference, B as the 'generated' side.

    Both are cut with `real_charts(..., shots_per_chart)`, A with `seed` and B
    with `seed + 1`, so passing the same frame twice gives the floor between two
    independent K-subsamples of the same charts. Same keys as `shot_quality`.
    """
    reference = real_charts(season_a_shots, shots_per_chart, seed=seed)
    other = real_charts(season_b_shots, shots_per_chart, seed=seed + 1)
    return shot_quality(reference, other, by=by, k=k)


def _metrics_for(real_shots: pd.DataFrame, generated_shots: pd.DataFrame, k: int, prefix: str) -> dict[str, float]:
    """The six metrics of one comparison, NaN where a side has too few charts (a group may be empty)."""
    real_feats, fake_feats = _features_or_empty(real_shots), _features_or_empty(generated_shots)
    fewest_charts = min(len(real_feats), len(fake_feats))
    metrics = {
        "zone_mae_pp": np.nan,
        "frechet": np.nan,
        "precision": np.nan,
        "recall": np.nan,
        "n_real_charts": len(real_feats),
        "n_generated_charts": len(fake_feats),
    }
    if fewest_charts >= 1:
        metrics["zone_mae_pp"] = zone_share_error(real_shots, generated_shots)["zone_mae_pp"]
    if fewest_charts >= 2:
        metrics["frechet"] = frechet_distance(real_feats, fake_feats)
    if fewest_charts >= k + 1:
        metrics["precision"], metrics["recall"] = knn_precision_recall(real_feats, fake_feats, k)
    return {prefix + name: float(value) for name, value in metrics.items()}


def _features_or_empty(shots: pd.DataFrame) -> np.ndarray:
    """chart_features of a frame, or an empty (0, F) array for a frame with no rows."""
    if shots.empty:
        return np.empty((0, len(FEATURE_NAMES)))
    return chart_features(shots)[1]


def _chart_groups(shots: pd.DataFrame, by: str, name: str) -> pd.Series:
    """The `by` value of each chart (index CHART_ID); raises if it varies within a chart."""
    _require_columns(shots, ("CHART_ID", by), name)
    per_chart = shots.groupby("CHART_ID")[by]
    if (per_chart.nunique(dropna=False) > 1).any():
        raise ValueError(f"{name}: column {by} must be constant within each CHART_ID")
    return per_chart.first()


def _charts_in_group(shots: pd.DataFrame, chart_groups: pd.Series, group: object) -> pd.DataFrame:
    """The shots of the charts whose group is `group` (possibly none)."""
    return shots[shots["CHART_ID"].isin(chart_groups.index[chart_groups == group])]


# --- Validation ---------------------------------------------------------------


def _require_columns(shots: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    """InputError naming the frame and any missing column, or an empty frame."""
    require_columns(shots, columns, name)
    if shots.empty:
        raise ValueError(f"{name}: the frame has no rows")


def _checked_coordinates(shots: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray]:
    """LOC_X and LOC_Y as float arrays; raises on missing columns, no rows or non-finite values."""
    _require_columns(shots, ("LOC_X", "LOC_Y"), name)
    x = pd.to_numeric(shots["LOC_X"], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(shots["LOC_Y"], errors="coerce").to_numpy(dtype=float)
    for column, values in (("LOC_X", x), ("LOC_Y", y)):
        if not np.isfinite(values).all():
            raise ValueError(f"{name}: column {column} has missing, non-numeric or infinite values")
    return x, y


def _checked_features(feats: np.ndarray, name: str, min_rows: int) -> np.ndarray:
    """Features as a finite 2-D float array with at least `min_rows` rows."""
    feats = np.asarray(feats, dtype=float)
    if feats.ndim != 2:
        raise ValueError(f"{name} must be 2-D (samples, features), got shape {feats.shape}")
    if len(feats) < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} rows, got {len(feats)}")
    if not np.isfinite(feats).all():
        raise ValueError(f"{name} has NaN or infinite values")
    return feats


def _require_same_width(first: np.ndarray, second: np.ndarray, first_name: str, second_name: str) -> None:
    if first.shape[1] != second.shape[1]:
        raise ValueError(f"{first_name} has {first.shape[1]} features but {second_name} has {second.shape[1]}")


def evaluate_shot_model(model, reference: pd.DataFrame, *, seed: int = 0, counts: dict[str, int] | None = None) -> dict[str, float]:
    """Shot metrics of the model against a reference season (nba_ml.shots.quality), overall and per position.

    The reference is cut into charts of K = config.shots_per_chart shots (one
    per player-season with at least K shots); the model draws `counts[group]`
    charts per position group (default: as many as the reference has), K shots
    each. Frechet estimates depend on the chart counts, so to read a model
    against a real-vs-real floor, give it the counts of the floor's other side.
    """
    k = model.config.shots_per_chart
    real = real_charts(reference, k, seed=seed)
    by = "POSITION_GROUP" if model.conditional and "POSITION_GROUP" in real else None
    if by is None:
        generated = model.sample_shots(sum(counts.values()) if counts else real["CHART_ID"].nunique(), k, seed=seed)
    else:
        counts = counts or real.groupby("CHART_ID")[by].first().value_counts().to_dict()
        generated = sample_by_group(model, counts, k, seed=seed)
    return shot_quality(real, generated, by=by)


def sample_by_group(model, counts: dict, shots_per_chart: int, *, seed: int = 0) -> pd.DataFrame:
    """`counts[group]` generated charts of each position group the model has (others skipped), `shots_per_chart`
    shots each, the i-th group seeded seed + i; CHART_ID '<group>:<chart>'."""
    parts = []
    for i, (group, n) in enumerate(counts.items()):
        if group in model.position_groups:
            part = model.sample_shots(int(n), shots_per_chart, position=group, seed=seed + i)
            part["CHART_ID"] = part["CHART_ID"].map(lambda c, g=group: f"{g}:{c}")
            parts.append(part)
    return pd.concat(parts, ignore_index=True)
