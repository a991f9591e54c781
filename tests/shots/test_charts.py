"""Tests for nba_ml.shots.charts: grid cells, encoding, make_charts on hand-built frames, draw_shots, real data."""

import math

import numpy as np
import pandas as pd
import pydantic
import pytest
import torch

from tests.shots.shared_data import SHARED_DATA
from nba_ml.gan.data import dataset_to_tensors
from nba_ml.shots.charts import (
    ChartSpec,
    cell_of,
    decode_density,
    decode_make_prob,
    draw_shots,
    encode_density,
    make_charts,
)


# At grid 8 a cell is 62.5 tenths wide and 58.75 tall: (0, 0) is in row 0, column 4,
# and (-230, 10) in row 1, column 0.
GRID_8 = ChartSpec(grid=8, min_shots=1, make_prior_shots=4)
HOOP_CELL = (0, 4)
LEFT_CORNER_CELL = (1, 0)


def shots_frame(rows: list[tuple]) -> pd.DataFrame:
    """Frame in the load_shots layout from (PLAYER_ID, POSITION_GROUP, LOC_X, LOC_Y, SHOT_MADE_FLAG, GAME_ID)."""
    frame = pd.DataFrame(rows, columns=["PLAYER_ID", "POSITION_GROUP", "LOC_X", "LOC_Y", "SHOT_MADE_FLAG", "GAME_ID"])
    frame["PLAYER_ID"] = frame["PLAYER_ID"].astype("Int64")
    frame["SEASON"] = "2022-23"
    frame["TEAM_ID"] = 1610612744
    return frame


# Player 1 (G): 4 shots at the hoop (3 made) and one missed left corner three.
# Player 2 (C): 4 shots at the hoop (1 made).
TWO_PLAYERS = shots_frame(
    [(1, "G", 0, 0, 1, "g1")] * 3 + [(1, "G", 0, 0, 0, "g1"), (1, "G", -230, 10, 0, "g2")]
    + [(2, "C", 0, 0, 1, "g1")] + [(2, "C", 0, 0, 0, "g2")] * 3
)


# --- ChartSpec ------------------------------------------------------------------


def test_spec_defaults():
    spec = ChartSpec()
    assert (spec.grid, spec.unit, spec.games_per_chart, spec.min_shots, spec.channels) == (
        64, "player_season", 10, 100, "attempts+makes"
    )
    assert spec.num_channels == 2
    assert ChartSpec(channels="attempts").num_channels == 1


def test_unit_and_channel_tables_have_one_entry_per_choice():
    from typing import get_args

    from nba_ml.shots.charts import CHANNELS, UNITS, ChartChannels, ChartUnit

    assert set(UNITS) == set(get_args(ChartUnit)) and set(CHANNELS) == set(get_args(ChartChannels))
    assert [channels for channels, c in CHANNELS.items() if c.makes] == ["attempts+makes"]
    assert [(ChartSpec(channels=c).num_channels, ChartSpec(channels=c).has_makes) for c in CHANNELS] == [(1, False), (2, True)]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("grid", 48, "power of two"),
        ("grid", 4, "greater than or equal to 8"),
        ("unit", "team_season", "player_season"),
        ("min_shots", 0, "greater than or equal to 1"),
        ("channels", "makes", "attempts"),
        ("make_prior_shots", 0, "greater than 0"),
        ("colour", "red", "Extra inputs are not permitted"),
    ],
)
def test_spec_rejects_bad_fields(field, value, message):
    with pytest.raises(pydantic.ValidationError, match=message):
        ChartSpec(**{field: value})


def test_spec_is_frozen():
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        ChartSpec().grid = 32


# --- Grid and encoding ------------------------------------------------------------


def test_cells_of_known_points():
    x = np.array([-250, 250, 0, -0.1, -230, 62.5])
    y = np.array([-52.5, 417.5, 0, 6.25, 10, 6.24])
    row, column = cell_of(x, y, 8)
    assert row.tolist() == [0, 7, 0, 1, 1, 0]  # far edges fall in the last cell
    assert column.tolist() == [0, 7, 4, 3, 0, 5]


def test_density_encoding_round_trips():
    density = torch.distributions.Dirichlet(torch.full((64,), 0.3)).sample((5,)).reshape(5, 1, 8, 8)
    encoded = encode_density(density)
    assert encoded.min() >= -1 and encoded.max() <= 1
    assert torch.allclose(decode_density(encoded), density[:, 0], atol=1e-6)


def test_decode_density_accepts_any_generator_output():
    raw = torch.randn(4, 2, 16, 16, generator=torch.Generator().manual_seed(0)) * 3
    raw[1] = -1.0  # no mass at all
    raw[2] = 0.0  # every cell the same
    raw[3, 0, 0, 0] = float("nan")
    density = decode_density(raw)
    assert density.shape == (4, 16, 16)
    assert (density >= 0).all() and torch.isfinite(density).all()
    assert density.sum(dim=(1, 2)).tolist() == pytest.approx([1.0] * 4, abs=1e-5)
    assert torch.allclose(density[1], torch.full((16, 16), 1 / 256))
    assert torch.allclose(density[2], torch.full((16, 16), 1 / 256))
    assert density[3, 0, 0] == 0  # NaN carries no mass


def test_decode_make_prob_clamps_to_unit_interval():
    charts = torch.tensor([-5.0, -1.0, 0.0, 0.5, 7.0]).reshape(1, 1, 1, 5).expand(1, 2, 5, 5).clone()
    assert decode_make_prob(charts)[0, 0].tolist() == [0.0, 0.0, 0.5, 0.75, 1.0]


def test_decoders_reject_bad_shapes():
    with pytest.raises(ValueError, match=r"charts must be a tensor of shape \(N, C, S, S\)"):
        decode_density(torch.zeros(3, 8, 8))
    with pytest.raises(ValueError, match="channel 1"):
        decode_make_prob(torch.zeros(3, 1, 8, 8))


# --- make_charts ----------------------------------------------------------------------


def test_attempt_density_lands_in_known_cells():
    charts = make_charts(TWO_PLAYERS, GRID_8)
    density = decode_density(charts.charts)
    expected = torch.zeros(2, 8, 8)
    expected[0][HOOP_CELL], expected[0][LEFT_CORNER_CELL], expected[1][HOOP_CELL] = 0.8, 0.2, 1.0
    assert torch.allclose(density, expected, atol=1e-6)
    assert charts.charts[0, 0][HOOP_CELL].item() == pytest.approx(2 * math.sqrt(0.8) - 1)
    assert charts.charts[0, 0, 7, 7].item() == -1.0  # an empty cell
    assert charts.charts.dtype == torch.float32 and charts.charts.shape == (2, 2, 8, 8)


def test_chart_metadata():
    charts = make_charts(TWO_PLAYERS, GRID_8)
    assert charts.units == ["1/2022-23", "2/2022-23"]
    assert charts.seasons == ["2022-23", "2022-23"]
    assert charts.labels.tolist() == [0, 2]  # G, C
    assert charts.position_groups == ("G", "F", "C")
    assert charts.shot_counts.tolist() == [5, 4]
    assert len(charts) == 2


def test_make_probability_is_shrunk_toward_the_league():
    # League: 8 hoop shots, 4 made, and the corner miss. Zone rates by cell centre:
    # Restricted Area 4/8, Mid-Range 0/1 (the corner cell's centre is at x=-218.75,
    # inside the corner line); zones nobody shot from get the overall 4/9.
    # With 4 pseudo-attempts: player 1 hoop (3 + 4 * 0.5) / (4 + 4) = 0.625,
    # player 2 hoop (1 + 2) / 8 = 0.375.
    charts = make_charts(TWO_PLAYERS, GRID_8)
    make_prob = decode_make_prob(charts.charts)
    assert make_prob[:, 0, 4].tolist() == pytest.approx([0.625, 0.375])
    assert make_prob[:, 1, 0].tolist() == pytest.approx([0.0, 0.0])
    assert make_prob[:, 7, 4].tolist() == pytest.approx([4 / 9, 4 / 9])  # above the break, no attempts
    assert charts.league_make_prob[HOOP_CELL].item() == pytest.approx(0.5)


def test_every_dropped_shot_and_chart_is_counted():
    shots = pd.concat([
        TWO_PLAYERS,
        shots_frame([(3, None, 0, 0, 1, "g1")] * 3),  # no known position group
        shots_frame([(4, "F", 0, 100, 1, "g1")]),  # below min_shots
        shots_frame([(1, "G", 0, 500, 0, "g1"), (1, "G", 260, 0, 0, "g1")]),  # off the half court
        shots_frame([(None, "G", 0, 0, 1, "g1")]),  # no player id
    ], ignore_index=True)
    charts = make_charts(shots, GRID_8.model_copy(update={"min_shots": 2}))
    assert charts.units == ["1/2022-23", "2/2022-23"]
    assert charts.dropped == {
        "shots/off_grid": 2,
        "shots/missing_unit_key": 1,
        "shots/in_dropped_charts": 4,
        "charts/partial_game_block": 0,
        "charts/unknown_position_group": 1,
        "charts/below_min_shots": 1,
    }
    shot_drops = sum(count for reason, count in charts.dropped.items() if reason.startswith("shots/"))
    assert int(charts.shot_counts.sum()) + shot_drops == len(shots)


def test_label_is_the_most_common_known_group():
    shots = shots_frame([(7, "F", 0, 0, 1, "g1")] * 2 + [(7, "G", 0, 0, 1, "g1"), (7, None, 0, 0, 1, "g1")])
    assert make_charts(shots, GRID_8).labels.tolist() == [1]


def test_player_games_blocks_drop_the_partial_block():
    games = [f"00222000{n:02d}" for n in range(1, 6)]
    shots = shots_frame([(1, "G", 0, 0, 1, game) for game in games])
    charts = make_charts(shots, GRID_8.model_copy(update={"unit": "player_games", "games_per_chart": 2}))
    assert charts.units == ["1/2022-23/games01-02", "1/2022-23/games03-04"]
    assert charts.dropped["charts/partial_game_block"] == 1
    assert charts.dropped["shots/in_dropped_charts"] == 1


def test_team_game_units():
    charts = make_charts(TWO_PLAYERS, GRID_8.model_copy(update={"unit": "team_game"}))
    assert charts.units == ["1610612744/g1", "1610612744/g2"]
    assert charts.shot_counts.tolist() == [5, 4]
    assert charts.labels.tolist() == [0, 2]  # g1: 4 G shots and 1 C; g2: 3 C and 1 G


def test_attempts_only_needs_no_made_flag():
    charts = make_charts(TWO_PLAYERS.drop(columns="SHOT_MADE_FLAG"), GRID_8.model_copy(update={"channels": "attempts"}))
    assert charts.charts.shape == (2, 1, 8, 8)
    assert charts.league_make_prob is None
    assert "MAKE_PROB" not in draw_shots(charts.charts, 3, seed=0)


@pytest.mark.parametrize(
    ("column", "spec"),
    [("LOC_X", GRID_8), ("SHOT_MADE_FLAG", GRID_8), ("GAME_ID", GRID_8.model_copy(update={"unit": "player_games"}))],
)
def test_missing_column_is_named(column, spec):
    with pytest.raises(ValueError, match=f"missing column\\(s\\) \\['{column}'\\]"):
        make_charts(TWO_PLAYERS.drop(columns=column), spec)


def test_bad_made_flag_is_rejected():
    shots = TWO_PLAYERS.assign(SHOT_MADE_FLAG=[2] + [0] * (len(TWO_PLAYERS) - 1))
    with pytest.raises(ValueError, match="SHOT_MADE_FLAG'\\] must be 0 or 1"):
        make_charts(shots, GRID_8)


def test_dataset_feeds_the_gan():
    charts = make_charts(TWO_PLAYERS, GRID_8)
    chart, label = charts.dataset()[1]
    assert chart.shape == (2, 8, 8) and int(label) == 2
    samples, labels = dataset_to_tensors(charts.dataset())
    assert torch.equal(samples, charts.charts) and labels.tolist() == [0, 2]


# --- draw_shots -------------------------------------------------------------------------


def one_cell_chart(row: int, column: int, make_value: float = 0.2) -> torch.Tensor:
    """A (1, 2, 8, 8) chart with every attempt in one cell."""
    chart = torch.full((1, 2, 8, 8), -1.0)
    chart[0, 0, row, column] = 1.0
    chart[0, 1] = make_value
    return chart


def test_drawn_shots_stay_inside_their_cell():
    shots = draw_shots(one_cell_chart(*LEFT_CORNER_CELL), 500, seed=1)
    assert list(shots.columns) == ["CHART_ID", "LOC_X", "LOC_Y", "SHOT_ZONE_BASIC", "SHOT_DISTANCE", "MAKE_PROB"]
    assert shots["LOC_X"].between(-250, -187.5).all() and shots["LOC_Y"].between(6.25, 65.0).all()
    assert set(shots["SHOT_ZONE_BASIC"]) == {"Left Corner 3", "Mid-Range"}  # the cell straddles x = -220
    distance = np.floor(np.hypot(shots["LOC_X"], shots["LOC_Y"]) / 10)
    assert (shots["SHOT_DISTANCE"] == distance).all()
    assert shots["MAKE_PROB"].to_numpy() == pytest.approx(np.full(500, 0.6))


def test_draws_follow_the_density():
    charts = make_charts(TWO_PLAYERS, GRID_8)
    shots = draw_shots(charts.charts, 20_000, seed=0, chart_ids=charts.units)
    first = shots[shots["CHART_ID"] == "1/2022-23"]
    assert len(first) == 20_000
    assert (first["LOC_X"] < -187.5).mean() == pytest.approx(0.2, abs=0.01)  # the corner cell holds 1 shot in 5


def test_same_seed_same_shots():
    charts = torch.randn(3, 2, 16, 16, generator=torch.Generator().manual_seed(0))
    pd.testing.assert_frame_equal(draw_shots(charts, 50, seed=7), draw_shots(charts, 50, seed=7))
    assert not draw_shots(charts, 50, seed=7).equals(draw_shots(charts, 50, seed=8))


def test_draw_rejects_bad_arguments():
    charts = one_cell_chart(0, 0)
    with pytest.raises(ValueError, match="shots_per_chart must be a positive integer"):
        draw_shots(charts, 0)
    with pytest.raises(ValueError, match="chart_ids has 2 ids for 1 charts"):
        draw_shots(charts, 5, chart_ids=["a", "b"])


# --- Real data ----------------------------------------------------------------------------


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"shared data folder {SHARED_DATA} is absent")
def test_real_season_round_trip_keeps_zone_shares():
    """Rasterise 2022-23, draw 200 shots per chart: pooled zone shares stay within 1 pp.

    The reference weighs each charted player equally, as pooling 200 draws per
    chart does (python bench/chart_roundtrip.py prints both seasons, both weightings).
    """
    from nba_ml.shots.loader import load_shots

    shots, _ = load_shots(SHARED_DATA / "nba_shots_2022-23_regular_season.csv.gz")
    charts = make_charts(shots, ChartSpec())
    drawn = draw_shots(charts.charts, 200, seed=0, chart_ids=charts.units)

    charted_players = [int(unit.split("/")[0]) for unit in charts.units]  # one season: PLAYER_ID is the unit
    charted = shots[shots["PLAYER_ID"].isin(charted_players)]
    real = charted.groupby("PLAYER_ID")["SHOT_ZONE_BASIC"].value_counts(normalize=True).unstack(fill_value=0).mean()
    round_trip = drawn["SHOT_ZONE_BASIC"].value_counts(normalize=True).reindex(real.index, fill_value=0)
    assert len(charts) == 397
    assert (round_trip - real).abs().max() < 0.01


def test_blur_keeps_a_density_and_spreads_a_point_symmetrically():
    from nba_ml.shots.charts import blur_density

    density = torch.zeros(1, 9, 9)
    density[0, 4, 4] = 1.0
    blurred = blur_density(density, 1.0)
    assert blurred.sum().item() == pytest.approx(1.0)
    assert blurred[0, 4, 4] < 1.0 and blurred[0, 4, 5].item() == pytest.approx(blurred[0, 5, 4].item())
    assert blurred[0, 4, 3].item() == pytest.approx(blurred[0, 4, 5].item())
    assert torch.equal(blur_density(density, 0.0), density)
