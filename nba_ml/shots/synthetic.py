"""A synthetic league of shots, generated in-process from a seed, in the `load_shots` layout.

For tests, demos and GAN smoke runs where the real seasons must not travel:
`synthetic_league(n_players, shots_per_player, seed)` returns shots whose
pooled zone mix and field-goal % per zone match the 2022-23 regular season.

Each player belongs to an archetype (table below) and takes exactly
`shots_per_player` shots. A shot first picks its SHOT_ZONE_BASIC zone from the
player's zone weights, then a location from that zone's spatial component:

| zone | spatial component (tenths of a foot, hoop at (0, 0)) |
| --- | --- |
| Restricted Area | 10% tip-ins at (0, 0); else radius 39 * Beta(1.5, 1.8), angle N(80, 55) degrees |
| In The Paint (Non-RA) | floaters and hooks: x ~ N(0, 40), y ~ N(65, 40) |
| Mid-Range | elbows (+-95, 140), baseline (+-130, 20), top of the key (0, 185); per-player mix around 40/35/25% |
| Left / Right Corner 3 | x = -+(223 + Exp(7)), clamped to the sideline; y ~ N(15, 30) |
| Above the Break 3 | radius 241 + Gamma(2, 10) (just beyond 237.5, tail to ~29 ft); angle N(90 + player shift, 33) |

Locations are rounded to whole tenths, as the NBA records them, and redrawn
until they land in their zone (by `court.zone_of`) on the half court, so the
zone of every shot is the one its weights picked.

Archetypes: share of players, position group, and zone weights in % (RA, paint
non-RA, mid-range, left corner 3, right corner 3, above the break 3):

| archetype | players | group | RA | paint | mid | LC3 | RC3 | ATB3 |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
| rim_running_big | 8% | C | 61.1 | 25.1 | 7.4 | 0.5 | 0.4 | 5.5 |
| stretch_big | 8% | C | 29.7 | 21.0 | 12.0 | 5.0 | 4.7 | 27.6 |
| slasher_wing | 16% | F | 42.1 | 20.3 | 12.6 | 3.9 | 3.7 | 17.4 |
| three_and_d_wing | 20% | F | 20.2 | 10.9 | 7.3 | 11.5 | 9.8 | 40.3 |
| shooting_guard | 24% | G | 21.1 | 17.3 | 15.5 | 5.2 | 4.9 | 36.0 |
| playmaking_guard | 24% | G | 28.6 | 26.2 | 13.0 | 2.0 | 1.9 | 28.3 |

Calibration. The weights were set by iterative proportional fitting of a
hand-shaped table so that the player-share-weighted pool matches the 2022-23
shares of PROVENANCE.md over the six half-court zones (Backcourt, 0.19%, left
out and the rest renormalised): target 29.97 / 19.58 / 11.88 / 5.10 / 4.59 /
28.88 %, table pools to 29.97 / 19.56 / 11.87 / 5.09 / 4.59 / 28.92 %.
A player's own weights are Dirichlet around the archetype's (concentration
ZONE_WEIGHT_CONCENTRATION); the drawn players' weights are then fitted (IPF
again, column scale + row renormalisation) so that their mean is the target
exactly, which removes the players' Dirichlet noise from the league mix (about
0.4 pp per zone for 300 players) and leaves only the shots' multinomial noise:
over seeds 0-29 of a 300 x 400 league, the worst zone is off by 0.08 to 0.35 pp
(seed 0: 0.20 pp). In a very small league the fit dominates (one player gets
the league mix exactly).

Make probability per shot: the 2022-23 field-goal % of its zone (RA 66.6,
paint 44.4, mid-range 42.0, corners 38.5, above the break 35.4), shifted on the
logit scale by a per-player skill ~ N(0, 0.2); SHOT_MADE_FLAG is drawn from it.
"""

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from nba_ml.shots.court import (
    ABOVE_THE_BREAK_3,
    BASELINE_Y,
    HALF_COURT_Y,
    LEFT_CORNER_3,
    MID_RANGE,
    PAINT_NON_RA,
    RESTRICTED_AREA,
    RIGHT_CORNER_3,
    SIDELINE_X,
    zone_of,
)

HALF_COURT_ZONES = (RESTRICTED_AREA, PAINT_NON_RA, MID_RANGE, LEFT_CORNER_3, RIGHT_CORNER_3, ABOVE_THE_BREAK_3)

# 2022-23 share of shots per zone (PROVENANCE.md), renormalised without Backcourt.
TARGET_ZONE_SHARES_2022_23 = dict(zip(HALF_COURT_ZONES, np.array([29.92, 19.54, 11.86, 5.09, 4.58, 28.83]) / 99.82))
# 2022-23 field-goal % per zone (PROVENANCE.md).
ZONE_FG_PCT_2022_23 = dict(zip(HALF_COURT_ZONES, (0.666, 0.444, 0.420, 0.385, 0.385, 0.354)))

# name -> (share of players, position group, zone weights in HALF_COURT_ZONES order); see the docstring.
ARCHETYPES: dict[str, tuple[float, str, tuple[float, ...]]] = {
    "rim_running_big": (0.08, "C", (0.611, 0.251, 0.074, 0.005, 0.004, 0.055)),
    "stretch_big": (0.08, "C", (0.297, 0.210, 0.120, 0.050, 0.047, 0.276)),
    "slasher_wing": (0.16, "F", (0.421, 0.203, 0.126, 0.039, 0.037, 0.174)),
    "three_and_d_wing": (0.20, "F", (0.202, 0.109, 0.073, 0.115, 0.098, 0.403)),
    "shooting_guard": (0.24, "G", (0.211, 0.173, 0.155, 0.052, 0.049, 0.360)),
    "playmaking_guard": (0.24, "G", (0.286, 0.262, 0.130, 0.020, 0.019, 0.283)),
}

ZONE_WEIGHT_CONCENTRATION = 40.0  # Dirichlet concentration of a player's zone weights around the archetype's
SKILL_LOGIT_SD = 0.2  # spread of per-player shooting skill on the logit scale
ARC_ANGLE_SHIFT_SD = 10.0  # degrees; some players favour one wing above the break
MID_RANGE_SPOTS = np.array([[95.0, 140.0], [130.0, 20.0], [0.0, 185.0]])  # elbow, baseline, top of the key (x mirrored)
MID_RANGE_SPOT_SD = np.array([[25.0, 25.0], [25.0, 35.0], [35.0, 20.0]])
MID_RANGE_STYLE = np.array([0.40, 0.35, 0.25])  # league mix of elbow / baseline / top, varied per player
TIP_IN_SHARE = 0.10  # of restricted-area shots, recorded at exactly (0, 0)
GAMES_PER_SEASON = 82
IPF_ROUNDS = 50  # fitting the players' mean zone mix to the target converges to ~1e-6 well before this
MAX_REDRAWS = 100  # rejection rounds; each keeps most candidates, so this is never reached in practice


def pooled_zone_shares() -> dict[str, float]:
    """League zone mix the archetype table implies: player-share-weighted mean of the zone weights."""
    shares = np.array([share for share, _, _ in ARCHETYPES.values()])
    weights = np.array([zone_weights for _, _, zone_weights in ARCHETYPES.values()])
    return dict(zip(HALF_COURT_ZONES, shares @ weights / shares.sum()))


def synthetic_league(n_players: int = 300, shots_per_player: int = 400, seed: int = 0) -> pd.DataFrame:
    """Shots of a synthetic league, one row per shot, in the `load_shots` layout; same seed = same frame.

    Columns: GAME_ID (the player's game number as a 10-character id), PLAYER_ID
    (1..n_players), PLAYER_NAME, POSITION_GROUP, ARCHETYPE, SEASON='synthetic',
    LOC_X, LOC_Y (float64, whole tenths of a foot), SHOT_ZONE_BASIC,
    SHOT_DISTANCE, SHOT_MADE_FLAG (int8). Rows are sorted by player then game.
    """
    if not isinstance(n_players, (int, np.integer)) or n_players < 1:
        raise ValueError(f"n_players must be a positive integer, got {n_players!r}")
    if not isinstance(shots_per_player, (int, np.integer)) or shots_per_player < 1:
        raise ValueError(f"shots_per_player must be a positive integer, got {shots_per_player!r}")
    rng = np.random.default_rng(seed)

    archetype = _allocate_archetypes(n_players, rng)
    players = _player_traits(archetype, rng)
    player = np.repeat(np.arange(n_players), shots_per_player)
    zone = _draw_zones(players["zone_weights"], shots_per_player, rng)
    loc_x, loc_y = _draw_locations(zone, player, players, rng)

    fg_pct = np.array([ZONE_FG_PCT_2022_23[name] for name in HALF_COURT_ZONES])[zone]
    make_prob = expit(logit(fg_pct) + players["skill"][player])
    made = rng.random(len(player)) < make_prob
    game = rng.integers(1, GAMES_PER_SEASON + 1, size=len(player))
    return _as_frame(player, archetype, game, loc_x, loc_y, made)


def _allocate_archetypes(n_players: int, rng: np.random.Generator) -> np.ndarray:
    """Archetype index per player, in the table's proportions (largest remainder), shuffled."""
    shares = np.array([share for share, _, _ in ARCHETYPES.values()])
    exact = shares / shares.sum() * n_players
    counts = np.floor(exact).astype(int)
    counts[np.argsort(counts - exact)[: n_players - counts.sum()]] += 1  # largest remainders first
    return rng.permutation(np.repeat(np.arange(len(shares)), counts))


def _player_traits(archetype: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-player zone weights, shooting skill, arc-angle shift and mid-range style."""
    n = len(archetype)
    base = np.array([zone_weights for _, _, zone_weights in ARCHETYPES.values()])[archetype]
    return {
        "zone_weights": _fit_league_mix(_dirichlet_rows(ZONE_WEIGHT_CONCENTRATION * base, rng)),
        "skill": rng.normal(0.0, SKILL_LOGIT_SD, n),
        "arc_shift": rng.normal(0.0, ARC_ANGLE_SHIFT_SD, n),
        "mid_range_style": _dirichlet_rows(np.tile(5.0 * MID_RANGE_STYLE, (n, 1)), rng),
    }


def _dirichlet_rows(alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One Dirichlet draw per row of alpha, vectorised through normalised gammas."""
    draws = rng.gamma(alpha)
    return draws / draws.sum(axis=1, keepdims=True)


def _fit_league_mix(zone_weights: np.ndarray) -> np.ndarray:
    """Nudge the drawn players' zone weights so that their mean is the 2022-23 mix exactly.

    Without this the league mix wanders by the players' Dirichlet noise (about
    0.4 pp per zone for 300 players, over 1 pp for 1 seed in 15); iterative
    proportional fitting scales each zone's column and renormalises each
    player's row, which leaves every player's shape almost as drawn.
    """
    target = np.array([TARGET_ZONE_SHARES_2022_23[zone] for zone in HALF_COURT_ZONES])
    for _ in range(IPF_ROUNDS):
        zone_weights = zone_weights * (target / zone_weights.mean(axis=0))
        zone_weights /= zone_weights.sum(axis=1, keepdims=True)
    return zone_weights


def _draw_zones(zone_weights: np.ndarray, shots_per_player: int, rng: np.random.Generator) -> np.ndarray:
    """Zone index per shot, player by player, shuffled within each player."""
    counts = rng.multinomial(shots_per_player, zone_weights)  # (players, zones)
    zones = np.repeat(np.tile(np.arange(len(HALF_COURT_ZONES)), len(zone_weights)), counts.ravel())
    return rng.permuted(zones.reshape(len(zone_weights), shots_per_player), axis=1).ravel()


def _draw_locations(zone: np.ndarray, player: np.ndarray, players: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Whole-tenth (x, y) per shot inside its zone, redrawing candidates that fall outside it."""
    loc_x, loc_y = np.empty(len(zone)), np.empty(len(zone))
    pending = np.arange(len(zone))
    for _ in range(MAX_REDRAWS):
        if len(pending) == 0:
            return loc_x, loc_y
        x, y = np.empty(len(pending)), np.empty(len(pending))
        for index, sampler in enumerate(_ZONE_SAMPLERS):
            here = zone[pending] == index
            x[here], y[here] = sampler(player[pending[here]], players, rng)
        x, y = np.round(np.clip(x, -SIDELINE_X, SIDELINE_X)), np.round(y)  # NBA clamps x to the sidelines
        on_half_court = (y >= BASELINE_Y) & (y <= HALF_COURT_Y)
        landed = on_half_court & (zone_of(x, y) == np.array(HALF_COURT_ZONES)[zone[pending]])
        loc_x[pending[landed]], loc_y[pending[landed]] = x[landed], y[landed]
        pending = pending[~landed]
    raise RuntimeError(f"{len(pending)} synthetic shots did not land in their zone after {MAX_REDRAWS} redraws")


# --- Spatial components, one per zone: (player index per shot) -> candidate (x, y) ---


def _restricted_area(player: np.ndarray, players: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    radius = 39.0 * rng.beta(1.5, 1.8, len(player)) * (rng.random(len(player)) >= TIP_IN_SHARE)
    angle = np.radians(rng.normal(80.0, 55.0, len(player)))
    return radius * np.cos(angle), radius * np.sin(angle)


def _paint(player: np.ndarray, players: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.normal(0.0, 40.0, len(player)), rng.normal(65.0, 40.0, len(player))


def _mid_range(player: np.ndarray, players: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    style = players["mid_range_style"][player]
    spot = (rng.random(len(player))[:, None] > np.cumsum(style, axis=1)).sum(axis=1).clip(max=len(MID_RANGE_SPOTS) - 1)
    side = rng.choice([-1.0, 1.0], len(player))
    centre, spread = MID_RANGE_SPOTS[spot], MID_RANGE_SPOT_SD[spot]
    xy = centre + spread * rng.standard_normal((len(player), 2))
    return side * xy[:, 0], xy[:, 1]


def _corner(sign: float):
    def sample(player: np.ndarray, players: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return sign * (223.0 + rng.exponential(7.0, len(player))), rng.normal(15.0, 30.0, len(player))

    return sample


def _above_the_break(player: np.ndarray, players: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    radius = 241.0 + rng.gamma(2.0, 10.0, len(player))  # the arc is at 237.5; shooters stand just beyond it
    angle = np.radians(rng.normal(90.0 + players["arc_shift"][player], 33.0))
    return radius * np.cos(angle), radius * np.sin(angle)


_ZONE_SAMPLERS = (_restricted_area, _paint, _mid_range, _corner(-1.0), _corner(1.0), _above_the_break)  # HALF_COURT_ZONES order



def _as_frame(player, archetype, game, loc_x, loc_y, made) -> pd.DataFrame:
    """Assemble the `load_shots` layout, sorted by player then game."""
    names = np.array(list(ARCHETYPES))
    groups = np.array([group for _, group, _ in ARCHETYPES.values()])
    frame = pd.DataFrame({
        "GAME_ID": pd.Series([f"00299{g:05d}" for g in game], dtype="str"),
        "PLAYER_ID": pd.Series(player + 1, dtype="Int64"),
        "PLAYER_NAME": pd.Series([f"Synthetic Player {p + 1:03d}" for p in player], dtype="str"),
        "POSITION_GROUP": pd.Series(groups[archetype][player], dtype="str"),
        "ARCHETYPE": pd.Series(names[archetype][player], dtype="str"),
        "SEASON": pd.Series(["synthetic"] * len(player), dtype="str"),
        "LOC_X": loc_x,
        "LOC_Y": loc_y,
        "SHOT_ZONE_BASIC": pd.Series(zone_of(loc_x, loc_y), dtype="str"),
        "SHOT_DISTANCE": np.floor(np.hypot(loc_x, loc_y) / 10).astype(np.int64),
        "SHOT_MADE_FLAG": made.astype(np.int8),
    })
    return frame.sort_values(["PLAYER_ID", "GAME_ID"], kind="stable", ignore_index=True)
