"""Tests for nba_ml.shots.court: constants, zone_of on hand-picked points, real labels."""


import numpy as np
import pandas as pd
import pytest

from tests.shots.shared_data import SHARED_DATA
from nba_ml.shots.court import (
    ARC_MEETS_CORNER_Y,
    FREE_THROW_LINE_Y,
    ZONES,
    zone_of,
)

SEASONS = ("2017-18", "2022-23")


def test_derived_constants():
    assert FREE_THROW_LINE_Y == 137.5
    assert ARC_MEETS_CORNER_Y == pytest.approx(89.4777, abs=1e-4)


@pytest.mark.parametrize(
    ("x", "y", "zone"),
    [
        (0, 0, "Restricted Area"),
        (0, 39, "Restricted Area"),
        (0, 40, "In The Paint (Non-RA)"),  # radius 40 exactly is outside the restricted area
        (24, 32, "In The Paint (Non-RA)"),  # also exactly 40 from the hoop
        (-80, 100, "In The Paint (Non-RA)"),  # lane edge is inclusive
        (81, 100, "Mid-Range"),
        (0, 138, "In The Paint (Non-RA)"),  # labels keep 138 in the paint
        (0, 139, "Mid-Range"),
        (-230, 0, "Left Corner 3"),  # negative x is Left
        (230, 0, "Right Corner 3"),
        (-220, 87, "Left Corner 3"),  # corner line is inclusive
        (219, 0, "Mid-Range"),
        (250, -52, "Right Corner 3"),
        (220, 88, "Mid-Range"),  # past the corner zone's end, inside the arc
        (221, 88, "Above the Break 3"),
        (0, 237, "Mid-Range"),
        (0, 238, "Above the Break 3"),
        (-168, 168, "Above the Break 3"),  # 237.6 from the hoop
        (0, 419, "Above the Break 3"),  # just past half court is still front court
        (0, 420, "Backcourt"),
        (-250, 800, "Backcourt"),
    ],
)
def test_zone_of_hand_picked_points(x, y, zone):
    assert zone_of(x, y).item() == zone


def test_zone_of_vectorised_and_broadcast():
    zones = zone_of(np.array([-230.0, 230.0, 0.0]), np.array([0, 0, 300]))
    assert zones.tolist() == ["Left Corner 3", "Right Corner 3", "Above the Break 3"]
    assert zone_of(0, [10, 50, 200]).tolist() == ["Restricted Area", "In The Paint (Non-RA)", "Mid-Range"]
    assert zone_of(0.0, 0.0).shape == ()
    assert zones.dtype.kind == "U"


def test_zone_of_rejects_nan():
    with pytest.raises(ValueError, match="finite"):
        zone_of([0.0, np.nan], [0.0, 0.0])


@pytest.mark.parametrize("season", SEASONS)
def test_agreement_with_recorded_labels(season):
    path = SHARED_DATA / f"nba_shots_{season}_regular_season.csv.gz"
    if not path.is_file():
        pytest.skip(f"shared shot data not found at {path}")
    # Every 10th row of the raw file, backcourt heaves included, keeps this fast.
    shots = pd.read_csv(path, usecols=["LOC_X", "LOC_Y", "SHOT_ZONE_BASIC"]).iloc[::10]
    assert set(shots["SHOT_ZONE_BASIC"]) == set(ZONES)
    predicted = zone_of(shots["LOC_X"].to_numpy(), shots["LOC_Y"].to_numpy())
    agreement = np.mean(predicted == shots["SHOT_ZONE_BASIC"].to_numpy())
    assert agreement >= 0.995
