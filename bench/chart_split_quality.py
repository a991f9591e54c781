"""The shot-chart model on players it has not seen, within one season: 2022-23 split by players into three folds.

    python bench/chart_split_quality.py                           # the shipped config, folds 0 1 2, 3 seeds
    python bench/chart_split_quality.py --folds 0 --set gan.train.steps=9000 --set gan.train.ema_decay=0.999

The split is makes_protocol.py's ('split K': the season's PLAYER_IDs sorted as text, permuted with seed 12345,
fold = position % 3). For each fold K the model trains (`nba-ml train`'s path, a run directory, its Quality
line judging its own 10% of held-out training players) on the shots of the players outside fold K, and is
judged on the charts of the players of fold K (one per player with at least K = shots_per_chart shots, K shots
drawn from each). Beside it, in the same table, references that are no GAN:

  replay     the training folds' real charts, K shots drawn from each: the floor (what replaying the training
             season's own charts gives on new players)
  basis      the training charts' own mixture weights over the model's basis, replayed: what the basis alone
             costs (a generator of mixture weights can come no nearer than its training charts' projections)
  bootstrap  the training charts' mixture weights drawn with replacement: an exact copy of the training charts'
             distribution, sampled as a generator is
  density    a Gaussian mixture (scikit-learn, components by BIC, 1-8, per position group) on the training
             charts' encoded mixture weights over the model's basis (2 sqrt(w) - 1, what the GAN generates), its
             draws decoded and drawn from as the model's are

The count. Precision, recall and copies are taken with as many charts per position group as the training folds
have, on every side. The Frechet estimate is biased by the count of each side's charts (Chong & Forsyth 2020:
FID_N = FID_inf + c / N), so a side sampled from a distribution (model, bootstrap, density) at the training count
carries its own sampling error on top of the training sample's: the bootstrap, an exact copy of the training
distribution, sits well above the floor there. Their `frechet` is therefore taken at GENERATED times the training
count (their own term a tenth), and `frechet_equal` at the training count beside it; for the replayed sides the two
are the same figure.

Metrics (nba_ml.shots.quality): Frechet distance of the per-chart features, precision and recall, and copies: the
median distance of a side's charts to their nearest training chart (K-shot features both), against the judged real
charts' own (a model that replays its training charts sits nearer them than new players do), and against the
judged charts' own projections on the basis (judged_basis: the same smoothing as the model's charts, so that what
the basis smooths away does not count as copying); copies_weights, the same in the basis weights the GAN
generates (2 sqrt(w) - 1, Euclidean), where the judged charts are their projections.
Seeds vary the K-shot draws and the generated charts (not the training); mean +- sd over seeds.
Needs ../shared/data beside the checkout. Figures are in docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml
from scipy.spatial.distance import cdist
from sklearn.mixture import GaussianMixture

from nba_ml.cli import apply_overrides, parse_override
from nba_ml.shots import load_shots
from nba_ml.shots.charts import decode_weights, draw_shots, encode_density, make_charts
from nba_ml.shots.model import ShotChartModel, validate_shot_config
from nba_ml.shots.quality import chart_features, frechet_distance, knn_precision_recall, real_charts, sample_by_group
from nba_ml.shots.training import train_shot_model

REPO = Path(__file__).resolve().parents[1]
SEASON = REPO.parent / "shared" / "data" / "nba_shots_2022-23_regular_season.csv.gz"
FOLDS, FOLD_SEED = 3, 12345  # makes_protocol.py's split
GROUPS = ("G", "F", "C")
MAX_COMPONENTS = 8
GENERATED = 10  # the sampled sides' Frechet at 10 times the training count (module docstring: the count)


def fold_of(shots: pd.DataFrame) -> pd.Series:
    """Each shot's fold: makes_protocol.py's assignment of its PLAYER_ID."""
    ids = sorted({str(i) for i in shots["PLAYER_ID"].unique()})
    folds = dict(zip(ids, np.random.default_rng(FOLD_SEED).permutation(len(ids)) % FOLDS))
    return shots["PLAYER_ID"].astype(str).map(folds)


def features_by_group(charts: pd.DataFrame) -> dict[str, np.ndarray]:
    ids, feats = chart_features(charts)
    group = charts.groupby("CHART_ID")["POSITION_GROUP"].first().reindex(ids).to_numpy()
    return {g: feats[group == g] for g in GROUPS}


def density_weights(weights: np.ndarray, n: int, seed: int) -> np.ndarray:
    """n mixture-weight rows drawn from a Gaussian mixture fitted (BIC) to the encoded `weights`."""
    encoded = encode_density(torch.as_tensor(weights)).double().numpy()
    fits = [GaussianMixture(c, covariance_type="full", random_state=seed, reg_covar=1e-4).fit(encoded)
            for c in range(1, min(MAX_COMPONENTS, len(encoded) // 10) + 1)]
    best = min(fits, key=lambda f: f.bic(encoded))
    drawn, _ = best.sample(n)  # grouped by component: shuffled, so that any first rows are a fair draw
    drawn = drawn[np.random.default_rng(seed).permutation(n)]
    return decode_weights(torch.as_tensor(drawn, dtype=torch.float32).clamp(-1, 1)).numpy()


def side_charts(model, weights_by_group: dict[str, np.ndarray], k: int, seed: int) -> pd.DataFrame:
    """K shots from each chart of each group's mixture weights, on the model's basis."""
    parts = []
    for i, (group, weights) in enumerate(weights_by_group.items()):
        charts = model.basis.charts(torch.as_tensor(weights, dtype=torch.float32))
        shots = draw_shots(charts, k, seed=seed + i)
        shots["CHART_ID"] = group + ":" + shots["CHART_ID"].astype(str)
        shots["POSITION_GROUP"] = group
        parts.append(shots)
    return pd.concat(parts, ignore_index=True)


def model_weights(model, counts: dict[str, int], seed: int) -> dict[str, np.ndarray]:
    """counts[g] generated mixture weights of each group (rows on the simplex), the i-th group seeded seed + i."""
    out = {}
    for i, (group, n) in enumerate(counts.items()):
        labels = torch.full((n,), model.position_groups.index(group), dtype=torch.long)
        weights = model.mixture_weights(model.generator.sample(n, seed=seed + i, condition=labels), labels)
        out[group] = (weights / weights.sum(dim=1, keepdim=True)).numpy()
    return out


def nearest(side: np.ndarray, train: np.ndarray) -> float:
    """Median over `side`'s rows of the distance to the nearest row of `train`."""
    return float(np.median(cdist(side, train).min(axis=1)))


def pooled(by_group: dict[str, np.ndarray], group: str) -> np.ndarray:
    """The rows of `group`, or of every group for 'all'."""
    return np.concatenate(list(by_group.values())) if group == "all" else by_group[group]


def compare(judged: dict, side: dict, training: dict, counts: dict) -> dict[str, float]:
    """Frechet (all of `side`'s charts) and frechet_equal, precision, recall, copies (its first counts[g] charts
    of each group), per group and overall."""
    equal = {g: side[g][: counts[g]] for g in GROUPS}
    out = {}
    for group in (*GROUPS, "all"):
        real, fake, train = pooled(judged, group), pooled(equal, group), pooled(training, group)
        out[f"{group}/frechet"] = frechet_distance(real, pooled(side, group))
        out[f"{group}/frechet_equal"] = frechet_distance(real, fake)
        out[f"{group}/precision"], out[f"{group}/recall"] = knn_precision_recall(real, fake, 5)
        out[f"{group}/copies"] = nearest(fake, train)
    return out


def weight_copies(side: dict, training: dict) -> dict[str, float]:
    """copies_weights per group and overall: encoded mixture weights (2 sqrt(w) - 1) against the training charts'."""
    def encoded(by_group):
        return {g: encode_density(torch.as_tensor(w)).numpy() for g, w in by_group.items()}
    side, training = encoded(side), encoded(training)
    return {f"{g}/copies_weights": nearest(pooled(side, g), pooled(training, g)) for g in (*GROUPS, "all")}


def train(cfg, train_shots: pd.DataFrame, fold: int):
    """The config trained as `nba-ml train` trains it (a run directory: the Quality line, keep), timed."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as run_dir:
        model, result, _ = train_shot_model(cfg, train_shots, run_dir=Path(run_dir) / "run")
    seconds = time.perf_counter() - started
    kept = result.metrics.get("quality/kept_step", float("nan"))
    judged_steps = " ".join(f"{row['step']:.0f}:{row['quality/frechet']:.4f}" for row in result.history
                            if "quality/frechet" in row)
    print(f"fold {fold}: trained {cfg.gan.train.steps} steps in {seconds:.0f} s (kept step {kept:.0f}); "
          f"held-out Frechet by step {judged_steps}", flush=True)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "nba_ml" / "configs" / "shot_charts.yaml"))
    parser.add_argument("--season", default=str(SEASON))
    parser.add_argument("--folds", type=int, nargs="+", default=list(range(FOLDS)))
    parser.add_argument("--seeds", type=int, default=3, help="evaluation seeds per fold")
    parser.add_argument("--set", action="append", type=parse_override, default=[])
    parser.add_argument("--models", help="save each fold's model here (DIR/foldK), or load it when already saved")
    args = parser.parse_args()
    torch.set_flush_denormal(True)

    raw = apply_overrides(yaml.safe_load(Path(args.config).read_text()), args.set)
    raw["gan"]["log"] = {**raw["gan"].get("log", {}), "verbose": False}
    cfg = validate_shot_config(raw)
    k = cfg.shots_per_chart
    shots, _ = load_shots(args.season)
    fold = fold_of(shots)
    rows = []
    for f in args.folds:
        train_shots, judged_shots = shots[fold != f], shots[fold == f]
        saved = Path(args.models) / f"fold{f}" if args.models else None
        if saved is not None and saved.exists():
            model = ShotChartModel.load(saved)
            print(f"fold {f}: model loaded from {saved}", flush=True)
        else:
            model = train(cfg, train_shots, f)
            if saved is not None:
                model.save(saved)
        train_charts = make_charts(train_shots, cfg.charts)
        weights = model.basis.weights(train_charts.charts).numpy()
        labels = np.array(train_charts.position_groups)[train_charts.labels.numpy()]
        judged_charts = make_charts(judged_shots, cfg.charts)
        judged_labels = np.array(judged_charts.position_groups)[judged_charts.labels.numpy()]
        judged_weights = {g: model.basis.weights(judged_charts.charts).numpy()[judged_labels == g] for g in GROUPS}
        train_weights = {g: weights[labels == g] for g in GROUPS}
        for seed in range(args.seeds):
            training = real_charts(train_shots, k, seed=100 + seed)
            training_feats = features_by_group(training)
            counts = {g: len(training_feats[g]) for g in GROUPS}
            many = {g: GENERATED * n for g, n in counts.items()}
            rng = np.random.default_rng(seed)
            drawn = {  # mixture weights of the sides that are drawn from a distribution, GENERATED x the count
                "bootstrap": {g: w[rng.integers(0, len(w), many[g])] for g, w in train_weights.items()},
                "density": {g: density_weights(w, many[g], seed) for g, w in train_weights.items()},
            }
            judged = features_by_group(real_charts(judged_shots, k, seed=seed))
            sides = {
                "model": features_by_group(sample_by_group(model, many, k, seed=1000 + seed)),
                "bootstrap": features_by_group(side_charts(model, drawn["bootstrap"], k, 5000 + seed)),
                "density": features_by_group(side_charts(model, drawn["density"], k, 2000 + seed)),
                "basis": features_by_group(side_charts(model, train_weights, k, 3000 + seed)),
                "replay": features_by_group(real_charts(train_shots, k, seed=200 + seed)),
                "judged": judged,
                "judged_basis": features_by_group(side_charts(model, judged_weights, k, 4000 + seed)),
            }
            side_weights = {"model": model_weights(model, counts, 1000 + seed), "basis": train_weights,
                            "judged_basis": judged_weights,
                            **{name: {g: w[: counts[g]] for g, w in d.items()} for name, d in drawn.items()}}
            for name, side in sides.items():
                extra = weight_copies(side_weights[name], train_weights) if name in side_weights else {}
                rows.append({"fold": f, "seed": seed, "side": name, **compare(judged, side, training_feats, counts), **extra})
    table = pd.DataFrame(rows)
    table.to_csv(Path(tempfile.gettempdir()) / "chart_split_quality.csv", index=False)
    report(table)


def report(table: pd.DataFrame) -> None:
    """Mean +- sd over seeds, per fold, then over folds; copies beside the judged real charts' own."""
    metrics = ("frechet", "frechet_equal", "precision", "recall", "copies", "copies_weights")
    sides = ("model", "density", "bootstrap", "basis", "replay", "judged", "judged_basis")
    for fold, part in [*table.groupby("fold"), ("all folds", table)]:
        print(f"\nfold {fold}: mean +- sd over {part['seed'].nunique()} seeds" + ("" if fold != "all folds" else " x folds"))
        print(f"{'side':<13}{'group':<6}" + "".join(f"{m:>20}" for m in metrics))
        for side in sides:
            for group in (*GROUPS, "all"):
                mine = part[part["side"] == side]
                cells = [f"{mine[f'{group}/{m}'].mean():9.4f} +- {mine[f'{group}/{m}'].std():.4f}" for m in metrics]
                print(f"{side:<13}{group:<6}" + "".join(f"{c:>20}" for c in cells))
    means = table.groupby("side").mean(numeric_only=True)
    for metric in ("frechet", "frechet_equal"):
        print(f"\n{metric}: ratio to the floor (replay), over folds and seeds: "
              + "; ".join(f"{g}: " + ", ".join(f"{side} {means.loc[side, f'{g}/{metric}'] / means.loc['replay', f'{g}/{metric}']:.2f}"
                                                for side in ("model", "density", "bootstrap", "basis")) for g in (*GROUPS, "all")))
    per_fold = table.pivot_table(index="side", columns="fold", values="all/frechet")
    print("\nfrechet overall, ratio to the floor by fold:\n" + (per_fold / per_fold.loc["replay"]).round(2).to_string())


if __name__ == "__main__":
    main()
