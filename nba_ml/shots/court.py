"""Half-court geometry and the NBA's SHOT_ZONE_BASIC zones.

Units are the stats.nba.com shot-chart units: tenths of a foot, hoop centre at
(0, 0), LOC_Y growing from the baseline towards half court, negative LOC_X on the
side the NBA calls "Left".

`zone_of` reproduces the NBA's recorded SHOT_ZONE_BASIC label from (LOC_X, LOC_Y).
Its boundary rules were tuned against every recorded label of the 2017-18 and
2022-23 regular seasons (428,927 shots) and agree with all of them; run
`python bench/zone_agreement.py` to re-check. Where the labels put a boundary
between two integer coordinates that the drawn court line does not explain, the
split is placed halfway between them (the *_ZONE_* constants below), so that
float coordinates from a simulator land on the side the labels imply.
"""

import math

import numpy as np
import numpy.typing as npt

# --- Court lines (tenths of a foot) -------------------------------------------

HOOP_X = 0.0  # origin of the frame: hoop centre
HOOP_Y = 0.0
BASELINE_Y = -52.5  # hoop centre sits 5.25 ft in front of the baseline
HALF_COURT_Y = 417.5  # half-court line, 47 ft from the baseline
SIDELINE_X = 250.0  # court is 50 ft wide; the NBA clamps LOC_X to +-250
THREE_POINT_ARC_RADIUS = 237.5  # arc is 23.75 ft from the hoop centre
CORNER_THREE_X = 220.0  # straight corner lines are 22 ft from the hoop centre
# y where the arc meets the straight corner lines (about 89.5).
ARC_MEETS_CORNER_Y = math.sqrt(THREE_POINT_ARC_RADIUS**2 - CORNER_THREE_X**2)
PAINT_HALF_WIDTH = 80.0  # the lane is 16 ft wide, centred on the hoop
FREE_THROW_LINE_Y = 190.0 + BASELINE_Y  # 19 ft from the baseline: 137.5
RESTRICTED_AREA_RADIUS = 40.0  # 4 ft arc around the hoop centre

# --- Zone boundaries as the NBA's labels draw them ----------------------------

# Corner-three zones end 14 ft from the baseline (y = 87.5), a little short of
# ARC_MEETS_CORNER_Y: (220, 88) and (220, 89) are labelled Mid-Range although
# they are outside the corner line.
CORNER_ZONE_MAX_Y = 140.0 + BASELINE_Y
# Labels keep LOC_Y 138 in the paint and put 139 in Mid-Range (both seasons, no
# exception), one tenth past the drawn free-throw line.
PAINT_ZONE_MAX_Y = 138.5
# Labels call LOC_Y up to 419 "Above the Break 3" and 420 on "Backcourt", so the
# zone starts about two tenths past the half-court line, not on it.
BACKCOURT_ZONE_MIN_Y = 419.5

# --- Zone names, spelled as the NBA spells SHOT_ZONE_BASIC --------------------

RESTRICTED_AREA = "Restricted Area"
PAINT_NON_RA = "In The Paint (Non-RA)"
MID_RANGE = "Mid-Range"
LEFT_CORNER_3 = "Left Corner 3"
RIGHT_CORNER_3 = "Right Corner 3"
ABOVE_THE_BREAK_3 = "Above the Break 3"
BACKCOURT = "Backcourt"
ZONES = (
    RESTRICTED_AREA,
    PAINT_NON_RA,
    MID_RANGE,
    LEFT_CORNER_3,
    RIGHT_CORNER_3,
    ABOVE_THE_BREAK_3,
    BACKCOURT,
)


def zone_of(loc_x: npt.ArrayLike, loc_y: npt.ArrayLike) -> np.ndarray:
    """Return the SHOT_ZONE_BASIC name of each shot location.

    `loc_x` and `loc_y` are arrays or scalars in tenths of a foot (broadcast
    against each other). The result is a numpy array of str with the broadcast
    shape (0-d for two scalars; use `.item()` for a plain str).

    Boundary rules, each matching every recorded label of both shared seasons:
    - Backcourt: LOC_Y >= 419.5 (see BACKCOURT_ZONE_MIN_Y).
    - Restricted Area: distance from the hoop < 40, strictly (exactly 40 is paint).
    - In The Paint (Non-RA): |LOC_X| <= 80 (inclusive) and LOC_Y <= 138.5.
    - Left / Right Corner 3: |LOC_X| >= 220 (inclusive) and LOC_Y <= 87.5;
      negative LOC_X is Left.
    - Above the Break 3: LOC_Y > 87.5 and distance > 237.5.
    - Mid-Range: everything else.

    Raises ValueError for NaN or infinite coordinates, which have no zone.
    """
    return np.asarray(ZONES)[zone_index(loc_x, loc_y)]


THREE_POINT_ZONES = (3, 4, 5)  # indices into ZONES of the zones worth 3 (Backcourt aside)


def zone_index(loc_x: npt.ArrayLike, loc_y: npt.ArrayLike, distance: np.ndarray | None = None) -> np.ndarray:
    """The index into ZONES of each location's zone (zone_of's rules), as int8; `distance` (from the hoop,
    np.hypot(x, y)) when the caller has it already."""
    x, y = np.broadcast_arrays(np.asarray(loc_x, dtype=float), np.asarray(loc_y, dtype=float))
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("zone_of needs finite coordinates; got NaN or infinity")
    distance = np.hypot(x, y) if distance is None else distance
    in_corner = (np.abs(x) >= CORNER_THREE_X) & (y <= CORNER_ZONE_MAX_Y)
    # np.select takes the first matching condition, so order sets precedence.
    conditions = [
        y >= BACKCOURT_ZONE_MIN_Y,
        distance < RESTRICTED_AREA_RADIUS,
        (np.abs(x) <= PAINT_HALF_WIDTH) & (y <= PAINT_ZONE_MAX_Y),
        in_corner & (x < 0),
        in_corner & (x > 0),
        (y > CORNER_ZONE_MAX_Y) & (distance > THREE_POINT_ARC_RADIUS),
    ]
    choices = [ZONES.index(zone) for zone in (BACKCOURT, RESTRICTED_AREA, PAINT_NON_RA, LEFT_CORNER_3,
                                              RIGHT_CORNER_3, ABOVE_THE_BREAK_3)]
    return np.select(conditions, choices, default=ZONES.index(MID_RANGE)).astype(np.int8)
