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
