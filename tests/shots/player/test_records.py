"""Players' records: every player in, ids as given, positions resolved by the documented rule, seasons."""
import warnings

import numpy as np
import pandas as pd
import pytest

from nba_ml.shots.player.records import BAD_MADE_FLAG, NO_PLAYER_ID, OFF_COURT, normalise_ids, player_records, season_age

GROUPS = ("G", "F", "C")


def shots(ids, x=0.0, y=10.0, made=1, **columns) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({"PLAYER_ID": ids, "LOC_X": np.broadcast_to(x, n).copy(), "LOC_Y": np.broadcast_to(y, n).copy(),
                         "SHOT_MADE_FLAG": np.broadcast_to(made, n).copy(), **columns})


def test_ids_keep_their_type_and_spelling():
    ids = normalise_ids(pd.Series([203078, 1630162.0, "P203078", " ", None, np.nan, "203078"], dtype=object))
    assert ids.tolist() == [203078, 1630162, "P203078", None, None, None, "203078"]
    assert type(ids[1]) is int


def test_every_player_is_a_row_whatever_became_of_his_shots():
    frame = shots(["a", "a", "b", "c", "d", None], x=[0.0, 0.0, np.nan, 900.0, 0.0, 0.0], made=[1, 0, 1, 1, 7, 1],
                  POSITION_GROUP=["G", "G", "F", "C", "", "G"])
    records = player_records(frame, GROUPS, players=pd.DataFrame({"PLAYER_ID": ["e"], "POSITION_GROUP": ["C"]}))
    table = records.table
    assert table["PLAYER_ID"].tolist() == ["a", "b", "c", "d", "e"]
    assert table["SHOTS"].tolist() == [2, 0, 0, 1, 0] and table["OUTCOMES"].tolist() == [2, 0, 0, 0, 0]
    assert table["POSITION_GROUP"].tolist() == ["G", "F", "C", None, "C"] and table["LABEL"].tolist() == [0, 1, 2, -1, 2]
    assert records.dropped == {NO_PLAYER_ID: 1, OFF_COURT: 2, BAD_MADE_FLAG: 1}
    notes = dict(zip(table["PLAYER_ID"], table["NOTE"]))
    assert notes["a"] == "" and "his one shot row is not on the half court" in notes["b"] and "no 0/1 SHOT_MADE_FLAG" in notes["d"]
    assert notes["e"] == "no shots on record: his position's prior"
    assert records.made.tolist() == [1, 0, -1] and records.player.tolist() == [0, 0, 3]


def test_a_player_under_two_positions_gets_the_one_most_rows_give_with_one_warning():
    frame = shots([7, 7, 7, 8, 8], POSITION_GROUP=["F", "C", "C", "G", "F"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = player_records(frame, GROUPS).table
    assert table["POSITION_GROUP"].tolist() == ["C", "G"]  # 8: a tie, the first of G, F, C
    assert len(caught) == 2 and "player 7 is listed under 2 position groups" in str(caught[0].message)


def test_seasons_give_each_shot_its_age_and_the_newest_is_the_default_target():
    frame = shots([1, 1, 1], SEASON=["2017-18", "2022-23", "2021-22"])
    records = player_records(frame, GROUPS)
    assert records.target_season == "2022-23" and records.age.tolist() == [5, 0, 1]
    assert season_age("synthetic", "synthetic") == 0 and season_age("a", "b") == 1 and season_age("2019", "2022-23") == 3


@pytest.mark.parametrize("frame,match", [
    (pd.DataFrame({"LOC_X": [0.0], "LOC_Y": [0.0]}), r"observed is missing column\(s\) \['PLAYER_ID'\]"),
    ([1, 2], "observed must be a pandas DataFrame, got list"),
    (shots([1], POSITION_GROUP=["PG"]), "POSITION_GROUP has unknown value"),
])
def test_bad_frames_are_refused_naming_the_problem(frame, match):
    with pytest.raises(ValueError, match=match):
        player_records(frame, GROUPS)
