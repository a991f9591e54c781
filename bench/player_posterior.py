"""Shots for a given player: the posterior sampler against the fixed player-level protocol.

    python bench/player_posterior.py seasons --model DIR      # setting 1: a model trained on 2017-18, judged on 2022-23
    python bench/player_posterior.py split --folds 3           # setting 2: 2022-23 split by players, a model per fold
    python bench/player_posterior.py tau --model DIR           # choose tau on the training season's own players

The protocol, its baselines and its scorer are ../shared/bench/player_protocol.py (imported, not copied):
players with >= 300 half-court shots in the judged season, shots in game order; observed = a
player's first n shots (n = 0, 10, 30, 100), target = his shots from index 100 on. Scores (means over
players): log-likelihood per target shot on 2.5 ft cells from 5,000 predictive samples; L1 between
zone + distance shares; 90% coverage of the zone shares of 200-shot posterior charts. Baselines:
the position group's pooled training shots, the observed counts shrunk toward it, and the same
after a Gaussian blur, with beta and blur tuned on the players being judged (`tune_baselines`).

Setting 1 also writes gen_n{0,10,30,100}.csv into --out, so that the protocol's own
`python ../shared/bench/player_protocol.py score DIR` scores the same draws.
Setting 2 also prints the population figures of each fold's model (Frechet, precision, recall
overall and per position group) against the real-vs-real floor of the same split.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from nba_ml.cli import apply_overrides, parse_override
from nba_ml.gan.config import read_yaml_mapping
from nba_ml.shots import load_shots
from nba_ml.shots.model import ShotChartModel, validate_shot_config
from nba_ml.shots.quality import evaluate_shot_model
from nba_ml.shots.training import train_shot_model
from nba_ml.shots.player.chart_posterior import DEFAULT_CONCENTRATION, DEFAULT_SATURATION, DEFAULT_TAU
from nba_ml.shots.quality import quality_floor, real_charts

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(SHARED / "bench"))
import player_protocol as protocol  # noqa: E402

CHARTS, SHOTS_PER_CHART = 200, 200  # posterior charts per player and n; shots per chart (coverage uses 200)
TAU_GRID = [(1.0, float("inf")), (0.5, float("inf")), (0.5, 300.0), (0.5, 100.0), (0.5, 30.0), (1.0, 30.0)]
TUNE_GRID = [(beta, bw) for beta in (10, 30, 100, 200, 400, 800, 1600, 3200) for bw in (0, 1.0, 1.5, 2.0, 3.0)]


def season_frame(season: dict, players) -> pd.DataFrame:
    """protocol season dict -> shots frame (PLAYER_ID, POSITION_GROUP, LOC_X, LOC_Y) in game order."""
    parts = [pd.DataFrame({"PLAYER_ID": pid, "POSITION_GROUP": season[pid]["pos"] or None,
                           "LOC_X": season[pid]["xy"][:, 0], "LOC_Y": season[pid]["xy"][:, 1]}) for pid in players]
    return pd.concat(parts, ignore_index=True)


def generate(model: ShotChartModel, season: dict, players: list, tau: float, saturation: float, seed: int = 0,
             ns=protocol.NS, concentration: float = DEFAULT_CONCENTRATION) -> dict:
    """n -> {player: list of (shots_per_chart, 2) arrays}, and n -> diagnostics frame."""
    out, diagnostics = {}, {}
    for n in ns:
        observed = season_frame(season, players)
        observed = observed.groupby("PLAYER_ID", sort=False).head(n) if n else observed.iloc[:0]
        known = pd.DataFrame({"PLAYER_ID": players, "POSITION_GROUP": [season[p]["pos"] for p in players]})
        started = time.perf_counter()
        shots = model.sample_player_shots(observed, CHARTS, SHOTS_PER_CHART, players=known, seed=seed + n, tau=tau,
                                           saturation=saturation, concentration=concentration)
        seconds = time.perf_counter() - started
        xy = shots[["LOC_X", "LOC_Y"]].to_numpy().reshape(len(players), CHARTS, SHOTS_PER_CHART, 2)
        order = {p: i for i, p in enumerate(shots["PLAYER_ID"].iloc[::CHARTS * SHOTS_PER_CHART])}
        out[n] = {p: list(xy[order[p]]) for p in players}
        diagnostics[n] = shots.attrs["posterior"].assign(seconds=seconds)
    return out, diagnostics


def score(generated: dict, season: dict, players: list, train: dict, tuned: dict, seed: int = 0) -> dict:
    """Scores of the method and the baselines, as the protocol's `score` computes them."""
    res = protocol.run_baselines(train, season, players, tuned, seed=seed)
    coverage = {}
    crng = np.random.default_rng(1)
    for n, charts_by_player in generated.items():
        rows, hits, total = [], 0, 0
        for pid in players:
            charts = charts_by_player[pid]
            target = season[pid]["xy"][protocol.HOLD:]
            xy = np.concatenate(charts)
            if len(xy) > protocol.S:
                xy = xy[crng.choice(len(xy), protocol.S, replace=False)]
            rows.append(protocol.score_samples(xy, target))
            shares = np.array([protocol.features(c[:200])[:6] for c in charts])
            lo, hi = np.percentile(shares, 5, axis=0), np.percentile(shares, 95, axis=0)
            real = protocol.features(target[crng.choice(len(target), 200, replace=False)])[:6]
            hits += int(((real >= lo - 1e-9) & (real <= hi + 1e-9)).sum())
            total += 6
        res[("model", n)] = np.array(rows)
        coverage[n] = hits / total
    return res, coverage


def tune_baselines(train: dict, season: dict, players: list) -> dict:
    """The protocol's tune(): best (beta, blur) per kind and n by exact log-likelihood on these players."""
    best = {}
    for beta, bw in TUNE_GRID:
        r = protocol.run_baselines(train, season, players, (beta, bw), exact=True)
        for kind in ("shrunk", "kde"):
            if kind == "shrunk" and bw > 0:
                continue
            for n in protocol.NS[1:]:
                ll = r[(kind, n)][:, 0].mean()
                if f"{kind}:{n}" not in best or ll > best[f"{kind}:{n}"]["mean_ll"]:
                    best[f"{kind}:{n}"] = dict(mean_ll=float(ll), beta=beta, bw_ft=bw)
    return best


def report(res: dict, coverage: dict, diagnostics: dict, title: str) -> bool:
    """Print the protocol's table, the gains over the best baseline, coverage and sampler diagnostics."""
    print(protocol.table(res, title))
    ok = True
    for n in protocol.NS:
        kinds = ("position",) if n == 0 else ("position", "shrunk", "kde")
        best_ll = max(res[(k, n)][:, 0].mean() for k in kinds)
        best_l1 = min(res[(k, n)][:, 1].mean() for k in kinds)
        gain_ll, gain_l1 = res[("model", n)][:, 0].mean() - best_ll, best_l1 - res[("model", n)][:, 1].mean()
        met = (gain_ll > -0.005 if n == 0 else gain_ll > 0 and gain_l1 > 0) and 0.85 <= coverage[n] <= 0.95
        ok &= met
        d = diagnostics[n]
        print(f"n={n:<3} ll gain {gain_ll:+.4f}  L1 gain {gain_l1:+.4f}  coverage {coverage[n]:.3f}  "
              f"{'ok' if met else 'MISSED'} | stages median {d['stages'].median():.0f} max {d['stages'].max()}, "
              f"min ESS share median {d['min_ess_share'].median():.2f}, accept {d['accept_rate'].median():.2f}, "
              f"distinct charts median {d['distinct_charts'].median():.0f} of {CHARTS}; {d['seconds'].iloc[0]:.1f} s "
              f"for {len(d)} players")
    return ok


def seasons_setting(args) -> bool:
    train, season = protocol.read_season(protocol.SEASONS["2017-18"]), protocol.read_season(protocol.SEASONS["2022-23"])
    players, n_elig = protocol.eval_players(season)
    model = ShotChartModel.load(args.model)
    generated, diagnostics = generate(model, season, players, args.tau, args.saturation, concentration=args.concentration)
    if args.out:
        write_generated(generated, Path(args.out))
    res, coverage = score(generated, season, players, train, protocol.load_tuned())
    return report(res, coverage, diagnostics, f"setting 1: train 2017-18, judge 2022-23, {len(players)} of {n_elig} "
                  f"eligible players, tau {args.tau}, saturation {args.saturation}: mean log-lik per target shot / zone+dist L1")


def write_generated(generated: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for n, charts_by_player in generated.items():
        rows = [(pid, c, x, y) for pid, charts in charts_by_player.items() for c, chart in enumerate(charts) for x, y in chart]
        pd.DataFrame(rows, columns=["PLAYER_ID", "CHART_ID", "LOC_X", "LOC_Y"]).to_csv(
            out / f"gen_n{n}.csv", index=False, float_format="%.1f")


def season_split(name: str, folds: int):
    """(shots frame, protocol season dict, player -> fold): a season's players in `folds` random folds."""
    shots, _ = load_shots(protocol.SEASONS[name])
    everyone = np.array(sorted(shots["PLAYER_ID"].dropna().astype(str).unique()))
    fold_of = dict(zip(everyone, np.random.default_rng(0).permutation(len(everyone)) % folds))
    return shots, protocol.read_season(protocol.SEASONS[name]), fold_of


def fold_model(args, shots: pd.DataFrame, fold_of: dict, fold: int, season: str):
    """The config's model trained on the players outside `fold` (loaded from --models DIR when saved there
    before, else trained and saved there); (model, held-out mask)."""
    held = (shots["PLAYER_ID"].astype(str).map(fold_of) == fold).to_numpy()
    saved = Path(args.models) / f"{season}_fold{fold}" if args.models else None
    if saved is not None and saved.exists():
        print(f"\nfold {fold}: model loaded from {saved}")
        return ShotChartModel.load(saved), held
    cfg = validate_shot_config(apply_overrides(read_yaml_mapping(args.config), args.set))
    started = time.perf_counter()
    model, _, charts = train_shot_model(cfg, shots[~held])
    print(f"\nfold {fold}: trained on {len(charts)} charts of {(~held).sum():,} shots in {time.perf_counter() - started:.0f} s")
    if saved is not None:
        model.save(saved)
    return model, held


def judged_players(season: dict, fold_of: dict, fold: int) -> tuple[dict, list]:
    """(training players' season dict, the fold's eligible players)."""
    train = {p: v for p, v in season.items() if fold_of.get(p) != fold}
    judged = sorted(p for p, v in season.items() if fold_of.get(p) == fold and len(v["xy"]) >= protocol.MIN_SHOTS
                    and v["pos"] in ("G", "F", "C"))
    return train, judged


def split_setting(args) -> bool:
    """2022-23 split by players into folds: a model per fold trained on the other players' charts."""
    shots, season, fold_of = season_split("2022-23", args.folds)
    ok = True
    for fold in args.fold or range(args.folds):
        model, held = fold_model(args, shots, fold_of, fold, "2022-23")
        population(model, shots[held], shots[~held])
        if args.population_only:
            continue
        train, judged = judged_players(season, fold_of, fold)
        generated, diagnostics = generate(model, season, judged, args.tau, args.saturation, concentration=args.concentration)
        res, coverage = score(generated, season, judged, train, tune_baselines(train, season, judged))
        ok &= report(res, coverage, diagnostics, f"fold {fold}: {len(judged)} held-out players, tau {args.tau}, saturation {args.saturation}")
    return ok


def tau_setting(args) -> bool:
    """Choose tau and saturation on the training season's own players (2017-18, fold 0 of 3 held out):
    the judged season (2022-23) plays no part."""
    shots, season, fold_of = season_split("2017-18", 3)
    model, _ = fold_model(args, shots, fold_of, 0, "2017-18")
    train, judged = judged_players(season, fold_of, 0)
    print(f"{len(judged)} held-out 2017-18 players; log-lik per target shot and 90% coverage at n = 10 / 30 / 100")
    for tau, saturation, *kappa in args.grid or TAU_GRID:
        kappa = kappa[0] if kappa else args.concentration
        generated, _ = generate(model, season, judged, tau, saturation, ns=protocol.NS[1:], concentration=kappa)
        res, coverage = score(generated, season, judged, train, (100, 1.5))
        print(f"tau {tau:<5} saturation {saturation:<6} kappa {kappa:<5g} ll " + " / ".join(f"{res[('model', n)][:, 0].mean():.4f}" for n in generated)
              + "  coverage " + " / ".join(f"{coverage[n]:.3f}" for n in generated), flush=True)
    return True


def population(model: ShotChartModel, held_out: pd.DataFrame, training: pd.DataFrame) -> None:
    """Model charts against the held-out players' real charts, beside the real-vs-real floor of the split: the
    training players' real charts against the same held-out ones. The model draws as many charts per group as
    the training players have, so both figures compare the same numbers of charts."""
    k = model.config.shots_per_chart
    counts = real_charts(training, k, seed=1).groupby("CHART_ID")["POSITION_GROUP"].first().value_counts()
    metrics = evaluate_shot_model(model, held_out, seed=0, counts=counts.to_dict())
    floor = quality_floor(held_out, training, k, by="POSITION_GROUP")
    for group in ("", "G/", "F/", "C/"):
        f, fl = metrics[f"shots/{group}frechet"], floor[f"shots/{group}frechet"]
        print(f"  {(group[:-1] or 'all'):<4} frechet {f:.4f} (floor {fl:.4f}, {f / fl:4.1f}x)  precision "
              f"{metrics[f'shots/{group}precision']:.3f} ({floor[f'shots/{group}precision']:.3f})  recall "
              f"{metrics[f'shots/{group}recall']:.3f} ({floor[f'shots/{group}recall']:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("setting", choices=["seasons", "split", "tau"])
    parser.add_argument("--model", help="setting 1: a shot model trained on 2017-18 (nba-ml train ... --out DIR)")
    parser.add_argument("--config", default=str(REPO / "nba_ml" / "configs" / "shot_charts.yaml"))
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--models", help="split, tau: save each fold's model here, or load it when already saved")
    parser.add_argument("--tau", type=float, default=DEFAULT_TAU)
    parser.add_argument("--saturation", type=float, default=DEFAULT_SATURATION)
    parser.add_argument("--concentration", type=float, default=DEFAULT_CONCENTRATION, help="kappa (inf: the GAN's charts alone)")
    parser.add_argument("--grid", type=lambda text: [tuple(map(float, pair.split(":"))) for pair in text.split(",")],
                        help="tau: the (tau, saturation[, concentration]) to try, e.g. 0.5:100,0.25:30:10 (default TAU_GRID, "
                             "at --concentration)")
    parser.add_argument("--set", action="append", type=parse_override, default=[], help="split: config override")
    parser.add_argument("--fold", type=int, action="append", help="split: only this fold (repeatable; default: all)")
    parser.add_argument("--population-only", action="store_true", help="split: only the population figures")
    parser.add_argument("--out", help="setting 1: write gen_n*.csv here for the protocol's own scorer")
    args = parser.parse_args()
    ok = {"seasons": seasons_setting, "split": split_setting, "tau": tau_setting}[args.setting](args)
    print("PASS" if ok else "FAIL")


if __name__ == "__main__":
    main()
