"""nba_ml.frames: the one DataFrame-and-columns check."""
import pandas as pd
import pytest

from nba_ml.errors import InputError
from nba_ml.frames import require_columns


def test_a_frame_with_the_columns_passes():
    require_columns(pd.DataFrame({"LOC_X": [1.0], "LOC_Y": [2.0], "PLAYER_ID": [7]}), ("LOC_X", "LOC_Y"), "observed")


def test_missing_columns_are_named_with_the_frame_and_the_columns_found():
    frame = pd.DataFrame({"LOC_X": [1.0], "SHOT_ZONE": ["Paint"]})
    with pytest.raises(InputError, match=r"^observed is missing column\(s\) \['LOC_Y', 'PLAYER_ID'\]; "
                                         r"columns found: \['LOC_X', 'SHOT_ZONE'\]$"):
        require_columns(frame, ("LOC_X", "LOC_Y", "PLAYER_ID"), "observed")


def test_anything_but_a_frame_is_refused_by_its_type():
    with pytest.raises(InputError, match=r"^shots must be a pandas DataFrame, got dict$"):
        require_columns({"LOC_X": [1.0]}, ("LOC_X",), "shots")


def test_a_frame_fingerprint_covers_the_columns_named_and_nothing_else():
    from nba_ml.frames import frame_fingerprint

    shots = pd.DataFrame({"LOC_X": [0.0, 10.0, -5.0], "LOC_Y": [5.0, 0.0, 40.0], "PLAYER_ID": [7, 7, 9]})
    base = frame_fingerprint(shots, ["LOC_X", "LOC_Y", "PLAYER_ID", "SEASON"])
    assert base["rows"] == 3 and base["columns"] == ["LOC_X", "LOC_Y", "PLAYER_ID"]  # SEASON: not in the frame
    assert frame_fingerprint(shots.assign(NOTE="x"), ["LOC_X", "LOC_Y", "PLAYER_ID", "SEASON"]) == base
    assert frame_fingerprint(shots.copy(), ["LOC_X", "LOC_Y", "PLAYER_ID"]) == base
    for changed in (shots.assign(LOC_X=[0.0, 10.0, -5.5]), shots.iloc[::-1], shots.assign(PLAYER_ID=["7", "7", "9"])):
        assert frame_fingerprint(changed, ["LOC_X", "LOC_Y", "PLAYER_ID"])["sha256"] != base["sha256"]
    with pytest.raises(InputError, match="shots must be a pandas DataFrame, got list"):
        frame_fingerprint([1, 2], ["LOC_X"], "shots")
