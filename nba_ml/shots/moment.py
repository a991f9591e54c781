"""The moment of a shot: the period and the seconds left in it, as the buckets the game model tells apart.

    seconds = seconds_left(frame)          # SECONDS_LEFT, or MINUTES_REMAINING * 60 + SECONDS_REMAINING
    bucket = moment_bucket(seconds)        # 0: the last second of a period ... len(MOMENT_EDGES): the rest

The end of a period is a different game: 2% of shots come in its last 3 seconds and go in at 30% against
48% before, the backcourt heaves among them. The buckets split the last 24 seconds where the shares of the
zones and the make rates move (MOMENT_EDGES, upper bounds in seconds, inclusive); the rest of a period is
one bucket.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

MOMENT_EDGES = (1, 2, 3, 5, 8, 12, 24)  # seconds left, inclusive upper bounds of the buckets before the last
MOMENTS = len(MOMENT_EDGES) + 1
PERIOD_SECONDS, OVERTIME_SECONDS = 720, 300  # a quarter, an overtime period


def moment_bucket(seconds: np.ndarray) -> np.ndarray:
    """The bucket (int8) of each number of seconds left in the period."""
    return np.searchsorted(np.asarray(MOMENT_EDGES, dtype=np.float64), np.asarray(seconds, dtype=np.float64),
                           side="left").astype(np.int8)


def seconds_left(frame: pd.DataFrame) -> pd.Series | None:
    """SECONDS_LEFT of each row (numbers; NaN where missing), from SECONDS_LEFT or from the NBA's
    MINUTES_REMAINING and SECONDS_REMAINING; None when the frame has neither."""
    if "SECONDS_LEFT" in frame:
        return pd.to_numeric(frame["SECONDS_LEFT"], errors="coerce")
    if "MINUTES_REMAINING" in frame and "SECONDS_REMAINING" in frame:
        return (pd.to_numeric(frame["MINUTES_REMAINING"], errors="coerce") * 60
                + pd.to_numeric(frame["SECONDS_REMAINING"], errors="coerce"))
    return None


def bad_moments(period: np.ndarray, seconds: np.ndarray) -> dict[str, np.ndarray]:
    """Rows (a boolean mask per problem) whose PERIOD is not a whole number from 1, or whose SECONDS_LEFT is
    missing or outside 0-720 (0-300 in overtime)."""
    period, seconds = np.asarray(period, dtype=np.float64), np.asarray(seconds, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad_period = ~(np.isfinite(period) & (period >= 1) & (period == np.floor(period)))
        limit = np.where(period > 4, OVERTIME_SECONDS, PERIOD_SECONDS)
        bad_seconds = ~(np.isfinite(seconds) & (seconds >= 0) & (seconds <= limit))
    return {"PERIOD": bad_period, "SECONDS_LEFT": bad_seconds & ~bad_period}
