"""Fitting the game tables (nba_ml.shots.player.game_tables) from the records the profiles are built from.

    game, notes = fit_game(observed, records, zone_mass, cell_mass, skill, labels, position_groups)

Every shot row of the records names its shooter's team and both teams (TEAM_ABBREVIATION, HTM, VTM: the
defense is the one that is not his), its moment (PERIOD, and SECONDS_LEFT or the NBA's MINUTES_REMAINING and
SECONDS_REMAINING) and its kind (ACTION_TYPE). A part whose columns are missing is left neutral (no defenses;
every moment alike; no kinds of shot), and `notes` says which and why. The strengths below were chosen on the
game protocol's 'halves' setting and checked on 'dev' (docs/benchmarks.md, "A game's shots"); the defenses'
prior strengths are fitted on the records themselves (empirical Bayes). The kinds of shot are fitted in
game_kinds, the drift of a season ahead measured in game_drift.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.special import expit, gammaln, logit

from ...errors import counted
from ..actions import FAMILIES
from ..court import BACKCOURT_ZONE_MIN_Y, SIDELINE_X, ZONES
from ..moment import MOMENTS, bad_moments, moment_bucket, seconds_left
from . import game_drift as drift
from .game_kinds import cell_logit_of, family_make_effects, fit_kinds, make_shift_of
from .game_tables import (BANDS, CELL_ZONE, CELLS, DEFENSE_RECORD, HALF_COURT_ZONES, ZONE_GROUPS, GameTables,
                          action_cell)
from .make_model import half_court_zone

ZONE_STRENGTH = 40.0  # pseudo-shots of his chart's zone shares (halves: 10 -> -1.4551, 40 -> -1.4529, 80 -> -1.4532)
PLACEMENT_STRENGTH = 200.0  # a position group's shots within a zone: pseudo-shots of the league's
PLACEMENT_MAX = 4.0  # at most 4 times as often as the chart puts a shot in a cell
MOMENT_STRENGTH = 1.0  # pseudo-shots in each bucket's zone ratio
BACKCOURT_STRENGTH = 10.0  # a bucket's share of heaves: pseudo-shots of the records' overall share
MOMENT_MAKE_SD = 0.5  # prior sd of the moment's make offsets (logits)
BACKCOURT_PRIOR = (0.025, 20.0)  # a heave's make rate before the records' heaves: rate, pseudo-shots
TEAM_COLUMNS = ("TEAM_ABBREVIATION", "HTM", "VTM")
# How far a simulated season's players, defenses and league drift from what the records show, on top of the
# posteriors: measured between the records' two halves (by date), never below what 2022-23's first half showed
# (one season's split is noisy: 2017-18's first half showed no defensive drift, though its second half has it),
# and scaled to a season ahead: variances x DRIFT_HORIZON (a random walk's difference between adjacent
# half-seasons is twice that between the records' halves; 3 covers the protocol's intervals), the defenses'
# make drift as measured (scaled, it covered every defense's points per shot on dev: docs/benchmarks.md).
DRIFT_HORIZON = 3.0
DRIFT_FLOORS = {"share": 633.0, "defense": 0.042, "defense_make": 0.071, "zone": 0.024, "level": 0.0175}


def fit_game(observed: pd.DataFrame, records, zone_mass: np.ndarray, cell_mass: np.ndarray, skill, labels: np.ndarray,
             position_groups: tuple[str, ...]) -> tuple[GameTables, list[str]]:
    """GameTables from `observed` (the frame the records were read from), `records` (PlayerRecords, its shots'
    `source` rows), `zone_mass` (R, C, 6: each profile row's charts' zone masses; R = players + priors),
    `cell_mass` (R, CELLS: their mean chart's mass in each kind-of-shot cell),
    `skill` (SkillPosterior of the R rows, or None without a make model) and `labels` (R,) position rows."""
    notes: list[str] = []
    R = zone_mass.shape[0]
    src = records.source
    rows = records.player
    x, y = records.x, records.y
    distance = np.hypot(x, y)
    zone = half_court_zone(x, y, distance)
    feet = (distance * 0.1).astype(np.int64)
    cells = action_cell(zone, feet)
    made = records.made.astype(np.int64)
    heave = _backcourt_rows(observed)

    counts = np.zeros((R, HALF_COURT_ZONES), dtype=np.float32)
    np.add.at(counts, (rows, zone), 1)
    mass = zone_mass.astype(np.float64)
    shares = (counts + ZONE_STRENGTH * (mass / np.maximum(mass.sum(axis=2, keepdims=True), 1e-12)).mean(axis=1))
    shares = shares / shares.sum(axis=1, keepdims=True)
    p_zone = shares[rows]  # (n, 6) what each shot's shooter would take, before defense and moment

    placement = _placement(rows, cells, cell_mass, labels, len(position_groups))
    group_of_row = np.where(labels >= 0, labels, len(position_groups))
    placed = np.stack([(cell_mass * placement[group_of_row])[:, CELL_ZONE == z].sum(axis=1)
                       / np.maximum(cell_mass[:, CELL_ZONE == z].sum(axis=1), 1e-12) for z in range(HALF_COURT_ZONES)], axis=1)

    # --- defenses
    defense_names, defense = _defenses(observed, src, notes)
    D = len(defense_names)
    allowed, expected = np.zeros((D + 1, 6)), np.zeros((D + 1, 6))  # the last row: shots of no known defense
    if D:
        np.add.at(allowed, (defense, zone), 1)
        np.add.at(expected, defense, p_zone)
    allowed, expected = allowed[:D], expected[:D]
    strength = _gamma_strength(allowed, expected) if D else 0.0
    shape, rate = strength + allowed, strength + expected
    ratio = np.vstack([shape / rate, np.ones((1, 6))]) if D else np.ones((1, 6))
    shot_defense = defense if D else np.zeros(len(rows), dtype=np.int64)
    p_defended = p_zone * ratio[shot_defense]
    p_defended /= p_defended.sum(axis=1, keepdims=True)

    # --- the moment
    bucket, heave_bucket = _buckets(observed, src, heave, notes)
    moment_known = bucket is not None
    moment_zone, backcourt_share = np.zeros((MOMENTS, 6)), np.zeros(MOMENTS)
    if bucket is not None:
        overall = (len(heave_bucket) + 0.5) / (len(heave_bucket) + len(bucket) + 1.0)
        for b in range(MOMENTS):
            at = bucket == b
            seen = np.bincount(zone[at], minlength=6)
            moment_zone[b] = np.log((seen + MOMENT_STRENGTH) / (p_defended[at].sum(axis=0) + MOMENT_STRENGTH))
            heaves = int((heave_bucket == b).sum())
            backcourt_share[b] = (heaves + BACKCOURT_STRENGTH * overall) / (heaves + int(at.sum()) + BACKCOURT_STRENGTH)
    else:
        bucket = np.full(len(rows), MOMENTS - 1, dtype=np.int64)

    # --- kinds of shot
    action = observed["ACTION_TYPE"].to_numpy()[src] if "ACTION_TYPE" in observed else None
    if action is None:
        notes.append("no ACTION_TYPE: no kind of shot is drawn")
    kinds = fit_kinds(observed, records, heave, rows, cells, bucket, labels, R, position_groups, notes) if action is not None else None

    days = drift.game_days(observed)
    record_days = None if days is None else days[src]
    share_drift = drift.share_drift(rows, zone, record_days, R) if record_days is not None else np.inf
    zone_drift = drift.zone_drift(zone, p_zone, record_days) if record_days is not None else 0.0
    defense_drift = drift.defense_drift(shot_defense, zone, p_zone, record_days, D) if (D and record_days is not None) else 0.0
    if days is None:
        notes.append("no GAME_DATE: a season's drift is 2022-23's, the league's make level the records' average")

    # --- makes
    G = len(position_groups)
    make_level, level_sd, make_drift, make_prior_sd = 0.0, 0.0, 0.0, None
    family_make = np.zeros((CELLS, len(FAMILIES)), dtype=np.float32)
    make_shift = np.zeros((R, CELLS), dtype=np.float32)
    defense_make_mean, defense_make_sd = np.zeros((D, 6)), np.zeros((D, 6))
    record = np.zeros((D, 6, len(DEFENSE_RECORD)))  # what each defense allowed, and what its opponents would have
    record[..., 0], record[..., 1] = allowed, expected
    moment_make = np.zeros((MOMENTS, 3))
    heave_made = _made(observed, heave)
    prior_rate, pseudo = BACKCOURT_PRIOR
    backcourt_make = float(logit((heave_made.sum() + prior_rate * pseudo) / (len(heave_made) + pseudo)))
    with_outcome = made >= 0
    if skill is not None and with_outcome.any():
        base = skill.base_logit(rows, x, y) + skill.mean[rows, zone]
        if kinds is not None:
            family_make = family_make_effects(cells[with_outcome], kinds["family"][with_outcome], made[with_outcome])
            offsets_at_cell = skill.mean[:, np.minimum(CELL_ZONE, HALF_COURT_ZONES - 1)]  # (R, CELLS)
            cell_logit = cell_logit_of(cells[with_outcome], made[with_outcome])
            make_shift = make_shift_of(kinds, labels, cell_logit[None, :] + offsets_at_cell, family_make).astype(np.float32)
            base = base + family_make[cells, kinds["family"]] - make_shift[rows, cells]
        logit_now, y_now = base[with_outcome], made[with_outcome].astype(np.float64)
        if D:
            groups = shot_defense[with_outcome] * 6 + zone[with_outcome]
            for k, weights in ((2, None), (3, y_now), (4, expit(logit_now))):  # at his spots, against the league's
                record[..., k] = np.bincount(groups, weights, minlength=(D + 1) * 6)[:D * 6].reshape(D, 6)
            split = drift.halves(record_days[with_outcome]) if record_days is not None else None
            mean, sd, tau, make_drift = _normal_offsets(logit_now, y_now, groups, (D + 1) * 6, split)
            mean[D * 6:] = 0.0  # shots of no known defense: the league's
            defense_make_mean, defense_make_sd = mean[:D * 6].reshape(D, 6), sd[:D * 6].reshape(D, 6)
            logit_now = logit_now + mean[groups]
            make_prior_sd = np.round(np.atleast_1d(tau)[:6], 4).tolist()
        groups = bucket[with_outcome] * 3 + ZONE_GROUPS[zone[with_outcome]]
        moment_make = _map_offsets(logit_now, y_now, groups, MOMENTS * 3, MOMENT_MAKE_SD).reshape(MOMENTS, 3)
        if record_days is not None:
            logit_now = logit_now + moment_make.ravel()[groups]
            make_level, level_sd = drift.make_level(logit_now, y_now, record_days[with_outcome])

    tables = GameTables(
        zone_counts=counts, chart_zone_mass=zone_mass.astype(np.float32), zone_strength=ZONE_STRENGTH,
        moment_zone=moment_zone, backcourt_share=backcourt_share, moment_make=moment_make,
        moment_action=kinds["moment"] if kinds else np.zeros((MOMENTS, len(FAMILIES))),
        action_table=kinds["table"] if kinds else np.full((G + 1, CELLS, len(FAMILIES)), 1 / len(FAMILIES), np.float32),
        action_tilt=kinds["tilt"] if kinds else np.zeros((R, len(FAMILIES)), np.float32),
        action_taken=kinds["taken"] if kinds else np.zeros((R, len(FAMILIES)), np.float32),
        action_expected=kinds["expected"] if kinds else np.zeros((R, len(FAMILIES)), np.float32),
        action_band_tilt=kinds["band_tilt"] if kinds else np.zeros((R, BANDS, len(FAMILIES)), np.float32),
        type_table=kinds["type_table"] if kinds else np.ones((len(FAMILIES), len(ZONES), 1), np.float32),
        family_make=family_make, make_shift=make_shift, placement=placement,
        placement_mean=np.where(placed > 0, placed, 1.0).astype(np.float32), backcourt_make=backcourt_make,
        backcourt_xy=_backcourt_locations(observed, heave), defense_record=record,
        defense_shape=shape, defense_rate=rate, defense_make_mean=defense_make_mean, defense_make_sd=defense_make_sd,
        share_drift=min(share_drift, DRIFT_FLOORS["share"]) / DRIFT_HORIZON,
        defense_drift=max(defense_drift, DRIFT_FLOORS["defense"]) * DRIFT_HORIZON ** 0.5,
        defense_make_drift=max(make_drift, DRIFT_FLOORS["defense_make"]),  # not scaled: x sqrt(3) covered all of dev
        zone_drift=max(zone_drift, DRIFT_FLOORS["zone"]) * DRIFT_HORIZON ** 0.5, make_level=float(make_level),
        level_sd=max(level_sd, DRIFT_FLOORS["level"]) * DRIFT_HORIZON ** 0.5, defenses=tuple(defense_names),
        action_types=kinds["types"] if kinds else (),
        settings={"zone_strength": ZONE_STRENGTH, "defense_strength": float(strength),
                  "measured_drift": {"share": float(share_drift), "defense": float(defense_drift),
                                     "defense_make": float(make_drift), "zone": float(zone_drift), "level": float(level_sd)},
                  "backcourt_shots": int(heave.sum()),
                  "backcourt_with_id": int((heave & observed["PLAYER_ID"].notna().to_numpy()).sum()) if moment_known else 0,
                  "defense_make_prior_sd": make_prior_sd})
    if "TEAM_ABBREVIATION" not in observed and not moment_known and action is None:
        notes = [NOTHING_OF_A_GAME]  # no part of a game: one short line (its other notes are these parts' own)
    return tables, notes


# --- parts ------------------------------------------------------------------------------------------

def _placement(rows: np.ndarray, cells: np.ndarray, cell_mass: np.ndarray, labels: np.ndarray, G: int) -> np.ndarray:
    """(G + 1, CELLS) per position group (the league's last), how much more often its records' shots fall in each
    cell of a zone (whole feet from the hoop) than its players' charts put them there: the charts are smoother
    than the shots (fewer at the rim's first foot). Normalised so that, under the group's charts, a zone keeps
    its share. The group's records give its shots (PLACEMENT_STRENGTH pseudo-shots of the league's mix)."""
    shot_group = np.where(labels[rows] >= 0, labels[rows], G)
    shots = np.zeros((G + 1, CELLS))
    np.add.at(shots, (shot_group, cells), 1)
    shots[G] = shots.sum(axis=0)
    weight = np.bincount(rows, minlength=len(cell_mass)).astype(np.float64)  # each row by its shots
    row_group = np.where(labels >= 0, labels, G)
    charts = np.zeros((G + 1, CELLS))
    np.add.at(charts, row_group, cell_mass * weight[:, None])
    charts[G] = charts.sum(axis=0)
    zone = CELL_ZONE
    league = _within_zone(shots[G])
    ratio = np.ones((G + 1, CELLS))
    for g in range(G + 1):
        if charts[g].sum() <= 0:
            continue
        target = _within_zone(shots[g] + PLACEMENT_STRENGTH * league * np.bincount(zone, shots[g], len(ZONES))[zone]
                              / np.maximum(np.bincount(zone, shots[g], len(ZONES))[zone], 1))
        chart = _within_zone(charts[g])
        ratio[g] = np.where(chart > 1e-9, target / np.maximum(chart, 1e-9), 1.0)
        kept = np.bincount(zone, chart * ratio[g], len(ZONES))  # the zone's mass under the chart after the ratio
        ratio[g] /= np.where(kept[zone] > 0, kept[zone], 1.0)
    return np.clip(ratio, 0.0, PLACEMENT_MAX).astype(np.float32)


def _within_zone(mass: np.ndarray) -> np.ndarray:
    """Each cell's share of its zone's mass."""
    total = np.bincount(CELL_ZONE, mass, len(ZONES))[CELL_ZONE]
    return np.where(total > 0, mass / np.maximum(total, 1e-300), 0.0)


def _backcourt_rows(observed: pd.DataFrame) -> np.ndarray:
    """Rows of `observed` that are backcourt shots (beyond the half-court zone line, inside the sidelines)."""
    x = pd.to_numeric(observed["LOC_X"], errors="coerce").to_numpy(np.float64)
    y = pd.to_numeric(observed["LOC_Y"], errors="coerce").to_numpy(np.float64)
    with np.errstate(invalid="ignore"):
        return (y >= BACKCOURT_ZONE_MIN_Y) & (y <= 2 * 470) & (np.abs(x) <= SIDELINE_X)


def _made(observed: pd.DataFrame, at: np.ndarray) -> np.ndarray:
    if "SHOT_MADE_FLAG" not in observed:
        return np.zeros(0)
    flag = pd.to_numeric(observed["SHOT_MADE_FLAG"], errors="coerce").to_numpy(np.float64)[at]
    return flag[(flag == 0) | (flag == 1)]


def _backcourt_locations(observed: pd.DataFrame, heave: np.ndarray) -> np.ndarray:
    if not heave.any():  # none seen: the middle of the far half, where heaves come from
        return np.array([[0.0, 600.0]], dtype=np.float32)
    x = pd.to_numeric(observed["LOC_X"], errors="coerce").to_numpy(np.float32)[heave]
    y = pd.to_numeric(observed["LOC_Y"], errors="coerce").to_numpy(np.float32)[heave]
    return np.column_stack([x, y])


def _defenses(observed: pd.DataFrame, src: np.ndarray, notes: list[str]) -> tuple[list[str], np.ndarray]:
    missing = [c for c in TEAM_COLUMNS if c not in observed]
    if missing:
        notes.append(f"no {', '.join(missing)}: defenses need HTM, VTM and TEAM_ABBREVIATION (every defense is the "
                     "league's)")
        return [], np.zeros(0, dtype=np.int64)
    team, home, away = (observed[c].astype("string").to_numpy()[src] for c in TEAM_COLUMNS)
    defense = np.where(team == home, away, np.where(team == away, home, None))
    known = pd.notna(pd.Series(defense, dtype=object)).to_numpy()
    if not known.all():
        notes.append(f"{counted(int((~known).sum()), 'record shot')} whose TEAM_ABBREVIATION is neither HTM nor VTM: "
                     "their defense is the league's")
    names = sorted({str(d) for d in defense[known]})
    row = {name: i for i, name in enumerate(names)}
    return names, np.array([row[str(d)] if k else len(names) for d, k in zip(defense, known)], dtype=np.int64)


def _buckets(observed: pd.DataFrame, src: np.ndarray, heave: np.ndarray, notes: list[str]):
    seconds = seconds_left(observed)
    if "PERIOD" not in observed or seconds is None:
        notes.append("no PERIOD and SECONDS_LEFT (or MINUTES_REMAINING and SECONDS_REMAINING): every moment is alike "
                     "and no backcourt heave is drawn")
        return None, None
    period = pd.to_numeric(observed["PERIOD"], errors="coerce").to_numpy(np.float64)
    seconds = seconds.to_numpy(np.float64)
    bad = bad_moments(period, seconds)
    unusable = bad["PERIOD"] | bad["SECONDS_LEFT"]
    if unusable[src].any() or unusable[heave].any():
        notes.append(f"{counted(int(unusable[src].sum() + unusable[heave].sum()), 'record shot')} with no usable "
                     "PERIOD or SECONDS_LEFT: counted in the rest of the period")
    bucket = moment_bucket(np.where(unusable, 10 ** 6, seconds)).astype(np.int64)
    return bucket[src], bucket[heave]


def _gamma_strength(allowed: np.ndarray, expected: np.ndarray) -> float:
    """The prior strength m of the defenses' zone ratios r ~ Gamma(m, m) that best explains the allowed counts
    (allowed ~ Poisson(r x expected), r marginalised: a negative binomial), by maximum marginal likelihood."""
    a, e = allowed.ravel(), np.maximum(expected.ravel(), 1e-9)

    def minus_log_likelihood(log_m: float) -> float:
        m = np.exp(log_m)
        return -float((gammaln(a + m) - gammaln(m) + m * np.log(m / (m + e)) + a * np.log(e / (m + e))).sum())

    return float(np.exp(minimize_scalar(minus_log_likelihood, bounds=(0.0, np.log(1e6)), method="bounded").x))


def _normal_offsets(logits: np.ndarray, made: np.ndarray, groups: np.ndarray, n: int, split=None, kinds: int = 6):
    """Per group, the Gaussian posterior (mean, sd) of a logit offset with the N(0, tau^2) prior, and tau: with
    `split` (masks of the records' two halves), tau^2 is the mean product of the groups' one-step estimates
    in the two halves (the part of an effect that persists from one half to the other; their luck is
    independent), else the tau whose prior best explains the groups' estimates (empirical Bayes)."""
    def one_step(at):
        p = expit(logits[at])
        information = np.bincount(groups[at], p * (1 - p), n)
        return np.bincount(groups[at], made[at] - p, n) / np.maximum(information, 1e-9), information

    drift = 0.0
    if split is not None:  # one tau per kind (group % kinds: a zone), rim protection persisting more than others
        (first, information1), (second, information2) = one_step(split[0]), one_step(split[1])
        seen = (information1 > 0) & (information2 > 0)
        kind = np.arange(n) % kinds
        count = np.maximum(np.bincount(kind[seen], None, kinds), 1)
        product = np.bincount(kind[seen], first[seen] * second[seen], kinds) / count
        tau = np.sqrt(np.maximum(product, 1e-8))[kind]
        # what does not persist: the halves' difference beyond their luck, half of it from each half
        excess = ((first - second) ** 2 - 1 / np.maximum(information1, 1e-9) - 1 / np.maximum(information2, 1e-9))[seen]
        drift = float(np.sqrt(max(excess.mean() / 2, 0.0)))
    else:
        estimate, information = one_step(np.ones(len(logits), dtype=bool))
        variance, seen = 1 / np.maximum(information, 1e-9), information > 0

        def minus_log_likelihood(log_tau: float) -> float:
            total = np.exp(2 * log_tau) + variance[seen]
            return float((np.log(total) + estimate[seen] ** 2 / total).sum())

        tau = float(np.exp(minimize_scalar(minus_log_likelihood, bounds=(np.log(1e-4), np.log(2.0)), method="bounded").x))
    mean = _map_offsets(logits, made, groups, n, tau)
    p = expit(logits + mean[groups])
    sd = 1 / np.sqrt(np.bincount(groups, p * (1 - p), n) + tau ** -2)
    return mean, sd, tau, drift


def _map_offsets(logits: np.ndarray, made: np.ndarray, groups: np.ndarray, n: int, sd) -> np.ndarray:
    """Per group, the posterior mode of a logit offset with the prior N(0, sd^2) (Newton; sd one per group, or
    one for all)."""
    offset = np.zeros(n)
    for _ in range(12):
        p = expit(logits + offset[groups])
        gradient = np.bincount(groups, made - p, n) - offset / sd ** 2
        offset += gradient / (np.bincount(groups, p * (1 - p), n) + 1 / sd ** 2)
    return offset


NOTHING_OF_A_GAME = ("the records name no teams, moments or kinds of shot (HTM, VTM and TEAM_ABBREVIATION; PERIOD and "
                     "SECONDS_LEFT; ACTION_TYPE): defenses need HTM, VTM and TEAM_ABBREVIATION, and draw gives every "
                     "shot against the league's defense, at an ordinary moment, with no ACTION_TYPE")


def warn_notes(notes: list[str]) -> None:
    """What the game tables could not fit (fit_game's notes), in one warning."""
    if notes:
        warnings.warn(notes[0] if notes == [NOTHING_OF_A_GAME] else "the records of these profiles have " + "; ".join(notes),
                      stacklevel=3)
