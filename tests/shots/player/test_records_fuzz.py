"""Fuzzing players' records: any frame a feed could send gives a clear InputError or every player, accounted for."""
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nba_ml.errors import InputError
from nba_ml.shots.loader import load_shots
from nba_ml.shots.player.make_model import MakeConfig, MakeModel, player_makes, skill_posterior
from nba_ml.shots.player.records import normalise_ids, player_records

GROUPS = ("G", "F", "C")
# no subnormal floats: training sets flush-denormal process-wide, and hypothesis then refuses to draw them
IDS = st.one_of(st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=False),
                st.text(max_size=6), st.none(), st.booleans(), st.sampled_from(["P203078", " 7 ", "203078", "", "nan"]))
POSITIONS = st.one_of(st.none(), st.sampled_from(["G", "F", "C", "", " G", np.nan]))
COORDINATES = st.one_of(st.floats(-300, 1000, allow_subnormal=False), st.sampled_from([np.nan, np.inf, -np.inf, 250.0, -52.5, 417.5, 1e308]))
OUTCOMES = st.one_of(st.sampled_from([0, 1, 0.0, 1.0, 2, -1, np.nan, True, False, "1", "x", None]))


@st.composite
def records(draw):
    n = draw(st.integers(0, 12))
    frame = pd.DataFrame({"PLAYER_ID": pd.Series(draw(st.lists(IDS, min_size=n, max_size=n)), dtype=object),
                          "LOC_X": draw(st.lists(COORDINATES, min_size=n, max_size=n)),
                          "LOC_Y": draw(st.lists(COORDINATES, min_size=n, max_size=n)),
                          "SHOT_MADE_FLAG": pd.Series(draw(st.lists(OUTCOMES, min_size=n, max_size=n)), dtype=object)})
    if draw(st.booleans()):
        frame["POSITION_GROUP"] = pd.Series(draw(st.lists(POSITIONS, min_size=n, max_size=n)), dtype=object)
    return frame


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records())
def test_any_record_keeps_every_player_and_counts_every_row_or_is_refused_in_one_line(frame):
    try:
        result = player_records(frame, GROUPS)
    except InputError as err:
        assert "\n" not in str(err) and ("POSITION_GROUP" in str(err) or "observed" in str(err))
        return
    ids = normalise_ids(frame["PLAYER_ID"])
    assert result.table["PLAYER_ID"].tolist() == list(dict.fromkeys(i for i in ids if i is not None))
    for player_id in result.table["PLAYER_ID"]:  # strings stay strings, integers integers
        assert isinstance(player_id, (str, int, float)) and not isinstance(player_id, bool)
    used = int(result.table["SHOTS"].sum())
    assert used + result.dropped["shots/missing_player_id"] + result.dropped["shots/off_grid_or_non_finite"] == len(frame)
    assert int(result.table["OUTCOMES"].sum()) + result.dropped["makes/invalid_made_flag"] == used
    assert np.isfinite(result.x).all() and np.isfinite(result.y).all() and set(result.made.tolist()) <= {-1, 0, 1}


def flat_model() -> MakeModel:
    from nba_ml.shots.player.make_model import TABLE_SHAPE

    import torch
    surface = torch.zeros((4, *TABLE_SHAPE), dtype=torch.float32)
    return MakeModel(MakeConfig(), GROUPS, surface, surface.clone(), torch.eye(6, dtype=torch.float64) * 0.04,
                     torch.zeros(5, 6, dtype=torch.float64), torch.full((4, 6), 1 / 6, dtype=torch.float64), 20.0,
                     torch.full((6,), 0.5, dtype=torch.float64), ())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records(), records())
def test_any_queries_are_answered_or_counted_with_finite_probabilities(observed, queries):
    try:
        pred, zones, summary = player_makes(flat_model(), observed, queries, GROUPS, seed=0)
    except InputError as err:
        assert "\n" not in str(err)
        return
    assert pred["MAKE_PROB"].between(0, 1).all() and np.isfinite(pred["MAKE_PROB"]).all()
    printed = summary.split("queries not used: ")[1].split("; season")[0]  # the counts it printed
    not_used = {} if printed == "none" else eval(printed)
    assert len(pred) + sum(not_used.values()) == len(queries)
    answered = zones["ATTEMPTS"] > 0  # a player with no usable query: one row without a zone, and a NOTE
    assert ((zones["FG_LO"] <= zones["FG_HI"]) & zones["FG_LO"].between(0, 1))[answered].all()
    assert zones.loc[~answered, "SHOT_ZONE_BASIC"].isna().all() and (zones.loc[~answered, "NOTE"] != "").all()
    named = set(normalise_ids(queries["PLAYER_ID"]).dropna()) if "PLAYER_ID" in queries else set()
    assert set(zones["PLAYER_ID"]) == named  # every player the queries name, answered or not
    assert summary.startswith(f"{len(named):,} player")


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "utf-16"])
def test_a_record_file_in_any_encoding_loads_or_is_refused_in_one_line(tmp_path, encoding):
    path = tmp_path / "record.csv"
    pd.DataFrame({"PLAYER_ID": ["José", "P2"], "LOC_X": [0, 10], "LOC_Y": [5, 50],
                  "SHOT_MADE_FLAG": [1, 0]}).to_csv(path, index=False, encoding=encoding)
    try:
        shots, _ = load_shots(path)
    except InputError as err:
        assert "\n" not in str(err) and str(path) in str(err)
        return
    posterior = skill_posterior(flat_model(), player_records(shots, GROUPS))
    assert posterior.mean.shape == (2, 6) and not math.isnan(float(posterior.mean.sum()))
