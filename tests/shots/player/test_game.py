"""A game's shots: defenses, the moment and the kind of shot, built with the profiles and drawn per situation.

The records are the synthetic league with what a season file has on top, and effects planted in them: the
defense WAL lets its opponents take half their restricted-area shots elsewhere (mid-range), dunks go in 90%
and layups 45%, and the last two seconds of a period hold backcourt heaves."""
import warnings

import numpy as np
import pandas as pd
import pytest

from nba_ml.errors import InputError, ModelFileError
from nba_ml.shots.actions import FAMILIES, family_of
from nba_ml.shots.court import ZONES, zone_of
from nba_ml.shots.player.profiles import PlayerProfiles
from nba_ml.shots.player.records import OFF_COURT
from nba_ml.shots.synthetic import synthetic_league

TEAMS = ("AAA", "BBB", "CCC", "WAL")
HEAVES = 120


def season_file(players: int = 12, shots: int = 300, seed: int = 5) -> pd.DataFrame:
    """The synthetic league as a season file: teams, games, dates, the clock, ACTION_TYPE; the effects above."""
    rng = np.random.default_rng(seed)
    league = synthetic_league(players, shots, seed=seed).reset_index(drop=True)
    league["SHOT_MADE_FLAG"] = league["SHOT_MADE_FLAG"].astype(int)
    team = np.array(TEAMS)[(league["PLAYER_ID"].to_numpy() - 1) % 3]  # WAL only defends
    defense = np.array(TEAMS)[rng.integers(0, 4, len(league))]
    defense = np.where(defense == team, "WAL", defense)
    at_rim = league["SHOT_ZONE_BASIC"].eq("Restricted Area").to_numpy()
    moved = at_rim & (defense == "WAL") & (rng.random(len(league)) < 0.5)  # WAL keeps them out: to 15 ft
    league.loc[moved, "LOC_Y"] = 150.0
    league.loc[moved, "LOC_X"] = 0.0
    league["SHOT_ZONE_BASIC"] = zone_of(league["LOC_X"], league["LOC_Y"])
    league["SHOT_DISTANCE"] = (np.hypot(league["LOC_X"], league["LOC_Y"]) // 10).astype(int)
    home = rng.random(len(league)) < 0.5
    league["TEAM_ABBREVIATION"] = team
    league["HTM"], league["VTM"] = np.where(home, team, defense), np.where(home, defense, team)
    league["PERIOD"] = rng.integers(1, 5, len(league))
    league["MINUTES_REMAINING"], league["SECONDS_REMAINING"] = np.divmod(rng.integers(3, 721, len(league)), 60)
    close = league["SHOT_DISTANCE"].to_numpy() <= 3
    dunk = close & (rng.random(len(league)) < 0.4)
    league["ACTION_TYPE"] = np.where(dunk, "Dunk Shot", np.where(close, "Driving Layup Shot", "Jump Shot"))
    league.loc[close, "SHOT_MADE_FLAG"] = (rng.random(int(close.sum())) < np.where(dunk[close], 0.9, 0.45)).astype(int)
    league["GAME_DATE"] = 20230101 + (league.index.to_numpy() % 28)
    heaves = league.sample(HEAVES, random_state=seed).copy()
    heaves["LOC_X"], heaves["LOC_Y"] = rng.integers(-200, 200, HEAVES).astype(float), rng.integers(600, 800, HEAVES).astype(float)
    heaves["SHOT_ZONE_BASIC"], heaves["ACTION_TYPE"] = "Backcourt", "Jump Shot"
    heaves["MINUTES_REMAINING"], heaves["SECONDS_REMAINING"] = 0, rng.integers(0, 2, HEAVES)
    heaves["SHOT_MADE_FLAG"] = (rng.random(HEAVES) < 0.03).astype(int)
    return pd.concat([league, heaves], ignore_index=True)


@pytest.fixture(scope="module")
def records():
    return season_file()


@pytest.fixture(scope="module")
def profiles(model, records):
    return model.player_profiles(records, seed=3, charts=20)


def situations(n: int, **columns) -> pd.DataFrame:
    frame = {"PLAYER_ID": [1] * n, "DEFENSE": ["AAA"] * n, "PERIOD": [2] * n, "SECONDS_LEFT": [300] * n}
    return pd.DataFrame(frame | {k: v if isinstance(v, list) else [v] * n for k, v in columns.items()})


def test_draw_gives_one_shot_per_situation_in_order_with_every_column_and_the_situations_kept(profiles):
    asked = situations(500, PLAYER_ID=[1, 2, 3, 4, 5] * 100, GAME="g1").set_index(pd.RangeIndex(100, 600))
    shots = profiles.draw(asked, season=2, seed=0)
    assert shots.index.equals(asked.index) and shots["GAME"].eq("g1").all()
    assert list(shots.columns) == [*asked.columns, "LOC_X", "LOC_Y", "SHOT_ZONE_BASIC", "SHOT_DISTANCE", "SHOT_VALUE",
                                   "ACTION_TYPE", "ACTION_FAMILY", "MAKE_PROB", "MADE"]
    assert shots["PLAYER_ID"].tolist() == asked["PLAYER_ID"].tolist()
    assert (shots["SHOT_ZONE_BASIC"].astype(str) == zone_of(shots["LOC_X"], shots["LOC_Y"])).all()
    assert (shots["SHOT_DISTANCE"] == np.floor(np.hypot(shots["LOC_X"], shots["LOC_Y"]) / 10)).all()
    three = shots["SHOT_ZONE_BASIC"].astype(str).str.contains("3") | shots["SHOT_ZONE_BASIC"].eq("Backcourt")
    assert (shots["SHOT_VALUE"] == np.where(three, 3, 2)).all()
    assert [FAMILIES[family_of(a)] for a in shots["ACTION_TYPE"]] == shots["ACTION_FAMILY"].astype(str).tolist()
    assert set(shots["ACTION_TYPE"].astype(str)) <= {"Dunk Shot", "Driving Layup Shot", "Jump Shot"}
    assert set(shots["MADE"]) <= {0, 1} and shots["MAKE_PROB"].between(0, 1).all()


def test_a_players_shots_depend_on_his_own_rows_alone_and_the_season_and_seed_decide_them(profiles):
    mixed = situations(300, PLAYER_ID=[1, 7, 3] * 100)
    alone = mixed[mixed["PLAYER_ID"] == 7]
    both, one = profiles.draw(mixed, season=4, seed=9), profiles.draw(alone, season=4, seed=9)
    pd.testing.assert_frame_equal(both[both["PLAYER_ID"] == 7], one, check_categorical=False)
    pd.testing.assert_frame_equal(one, profiles.draw(alone, season=4, seed=9))
    assert not one["LOC_X"].equals(profiles.draw(alone, season=4, seed=10)["LOC_X"])
    assert not one["LOC_X"].equals(profiles.draw(alone, season=5, seed=9)["LOC_X"])
    generator = np.random.default_rng(1)
    assert not profiles.draw(alone, seed=generator)["LOC_X"].equals(profiles.draw(alone, seed=generator)["LOC_X"])


@pytest.mark.parametrize("seconds", [300, 1])
def test_the_zones_drawn_follow_the_zone_probabilities(profiles, seconds):
    """The rejection sampler is exact: 40,000 shots of one situation (at the posterior mean, as zone_probabilities
    is) against the probabilities it accepts by; a period's last second is mostly heaves."""
    asked = situations(40_000, PLAYER_ID=4, DEFENSE="WAL", SECONDS_LEFT=seconds)
    drawn = profiles.draw(asked, season=None, seed=2)["SHOT_ZONE_BASIC"].astype(str).value_counts(normalize=True)
    expected = profiles.zone_probabilities(asked.iloc[:1]).iloc[0]
    assert expected.sum() == pytest.approx(1.0) and (expected["Backcourt"] > 0.5) == (seconds == 1)
    assert 0.5 * (drawn.reindex(ZONES, fill_value=0) - expected).abs().sum() < 0.01  # sampling noise ~0.004


def test_the_planted_effects_are_found(profiles):
    defenses = profiles.defenses
    wall = defenses[defenses["DEFENSE"] == "WAL"].set_index("SHOT_ZONE_BASIC")
    assert wall.loc["Restricted Area", "RATIO_HI"] < 1 < wall.loc["Mid-Range", "RATIO_LO"]
    assert sorted(defenses["DEFENSE"].unique()) == sorted(TEAMS)
    p = profiles.zone_probabilities(situations(2, DEFENSE=["WAL", "AAA"]))
    assert p.loc[0, "Restricted Area"] < 0.8 * p.loc[1, "Restricted Area"]
    late = profiles.zone_probabilities(situations(2, SECONDS_LEFT=[1, 300]))
    assert late.loc[0, "Backcourt"] > 0.05 > 100 * late.loc[1, "Backcourt"]
    rim = situations(2, LOC_X=0.0, LOC_Y=5.0, ACTION_FAMILY=["dunk", "layup"])
    made = profiles.make_probabilities(rim)
    assert made[0] > made[1] + 0.2
    kinds = profiles.action_probabilities(rim.iloc[:1])
    assert list(kinds.columns) == list(FAMILIES) and kinds.iloc[0][["dunk", "layup"]].sum() > 0.95


def test_over_his_kinds_of_shot_his_make_probability_at_a_spot_is_the_make_models(profiles):
    spot = situations(len(FAMILIES), LOC_X=0.0, LOC_Y=15.0, ACTION_FAMILY=list(FAMILIES), DEFENSE="")
    kinds = profiles.action_probabilities(spot.iloc[:1]).iloc[0].to_numpy()
    over_kinds = float((kinds * profiles.make_probabilities(spot).to_numpy()).sum())
    game = profiles.game
    level = np.exp(game.make_level + game.moment_make[-1, 0])  # the league's level now and an ordinary moment
    alone = profiles.make_prob([1], [0.0], [15.0])[0]
    assert over_kinds / (1 - over_kinds) == pytest.approx(alone / (1 - alone) * level, rel=0.03)


def test_saved_profiles_draw_the_same_shots_and_keep_every_table(profiles, tmp_path):
    profiles.save(tmp_path / "p")
    loaded = PlayerProfiles.load(tmp_path / "p")
    asked = situations(200, PLAYER_ID=[1, 2, 99] * 66 + [1, 2], POSITION_GROUP="G")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pd.testing.assert_frame_equal(profiles.draw(asked, season=1, seed=5), loaded.draw(asked, season=1, seed=5))
    pd.testing.assert_frame_equal(profiles.defenses, loaded.defenses)
    assert loaded.game.action_types == profiles.game.action_types and loaded.priors == profiles.priors


def test_an_edited_game_table_is_refused_at_load_naming_it(profiles, tmp_path):
    import torch

    profiles.save(tmp_path / "p")
    saved = torch.load(tmp_path / "p" / "profiles.pt")
    saved["game.defense_rate"] = -saved["game.defense_rate"]
    torch.save(saved, tmp_path / "p" / "profiles.pt")
    with pytest.raises(ModelFileError, match=r"profiles.pt: game.defense_rate: values outside"):
        PlayerProfiles.load(tmp_path / "p")


def test_players_and_defenses_the_profiles_do_not_hold_are_answered_and_counted_in_one_warning(profiles):
    asked = situations(4, PLAYER_ID=[1, 555, 556, 555], POSITION_GROUP=["", "C", "", "C"], DEFENSE=["AAA", "ZZZ", "", "AAA"])
    with pytest.warns(UserWarning) as said:
        shots = profiles.draw(asked, seed=0)
    assert len(said) == 1 and str(said[0].message) == (
        "3 situations of 2 players the profiles do not hold (e.g. 555): his position's profile, the league's without a "
        "POSITION_GROUP; 1 situation against 1 defense the profiles do not hold (e.g. 'ZZZ'): the league's defense")
    assert len(shots) == 4
    center = profiles.zone_probabilities(situations(1, PLAYER_ID=555, POSITION_GROUP="C", DEFENSE=""))
    league = profiles.zone_probabilities(situations(1, PLAYER_ID=556, DEFENSE=""))
    assert not np.allclose(center.to_numpy(), league.to_numpy())


BAD_SITUATIONS = {
    "no PLAYER_ID column": (pd.DataFrame({"PERIOD": [1]}), r"situations: missing column\(s\) \['PLAYER_ID'\]"),
    "a missing PLAYER_ID": (situations(3, PLAYER_ID=[1, None, np.nan]),
                            r"situations: PLAYER_ID: expected a player id; 2 rows without \(positions 1, 2\)"),
    "period 0": (situations(2, PERIOD=[0, 1]), r"situations: PERIOD: expected a whole number from 1; 1 row without \(positions 0\)"),
    "a fractional period": (situations(1, PERIOD=1.5), r"PERIOD: expected a whole number from 1"),
    "800 seconds": (situations(1, SECONDS_LEFT=800), r"SECONDS_LEFT: expected seconds left in the period: 0-720, 0-300 in overtime"),
    "400 seconds of overtime": (situations(1, PERIOD=5, SECONDS_LEFT=400), r"SECONDS_LEFT: expected .* 0-300 in overtime"),
    "missing seconds": (situations(2, SECONDS_LEFT=[np.nan, 10]), r"SECONDS_LEFT: .* 1 row without \(positions 0\)"),
    "a period without seconds": (situations(1).drop(columns="SECONDS_LEFT"), r"PERIOD without SECONDS_LEFT; give both, or neither"),
    "an unknown group": (situations(1, POSITION_GROUP="X"), r"POSITION_GROUP \['X'\] is not among the profiles' groups"),
    "not a frame": ([1, 2], r"situations must be a pandas DataFrame \(or a dict of columns\), got list"),
}


@pytest.mark.parametrize("case", list(BAD_SITUATIONS))
def test_bad_situations_are_refused_in_one_line_naming_the_column_and_rows(profiles, case):
    frame, message = BAD_SITUATIONS[case]
    with pytest.raises(InputError, match=message) as raised:
        profiles.draw(frame)
    assert "\n" not in str(raised.value)
    with pytest.raises(InputError, match=r"season must be a non-negative integer or None, got -1"):
        profiles.draw(situations(1), season=-1)


def test_records_without_the_game_columns_give_player_profiles_and_one_line_saying_what_is_missing(model, records):
    with pytest.warns(UserWarning) as said:
        plain = model.player_profiles(records[["PLAYER_ID", "POSITION_GROUP", "LOC_X", "LOC_Y", "SHOT_MADE_FLAG"]],
                                      seed=3, charts=20)
    assert len(said) == 1 and str(said[0].message) == (
        "the records name no teams, moments or kinds of shot (HTM, VTM and TEAM_ABBREVIATION; PERIOD and SECONDS_LEFT; "
        "ACTION_TYPE): defenses need HTM, VTM and TEAM_ABBREVIATION, and draw gives every shot against the league's "
        "defense, at an ordinary moment, with no ACTION_TYPE")
    with pytest.warns(UserWarning, match=r"^the records of these profiles have no HTM: defenses need HTM, VTM and "
                      r"TEAM_ABBREVIATION \(every defense is the league's\)$"):
        model.player_profiles(records.drop(columns=["HTM"]), seed=3, charts=20)
    assert plain.defenses.empty and not plain.game.has_actions
    shots = plain.draw(situations(50, DEFENSE="AAA"), seed=0)
    assert "ACTION_TYPE" not in shots and (shots["SHOT_ZONE_BASIC"] != "Backcourt").all()
    assert plain.dropped[OFF_COURT] == HEAVES  # the heaves are not used without the clock: dropped, counted


def test_the_heaves_are_kept_as_such_and_unknown_kinds_counted_as_jump_shots(model, records):
    odd = records.copy()
    odd.loc[odd.index[:7], "ACTION_TYPE"] = "Sky Hook Wonder"  # a hook, by the rules
    odd.loc[odd.index[7:10], "ACTION_TYPE"] = "Heave of Hope"  # no rule names it: a jump shot
    with pytest.warns(UserWarning, match=r"1 ACTION_TYPE string no family rule names \(e.g. 'Heave of Hope'\): kept as jump shots"):
        profiles = model.player_profiles(odd, seed=3, charts=20)
    assert profiles.dropped[OFF_COURT] == 0 and profiles.game.settings["backcourt_shots"] == HEAVES
    assert {"Sky Hook Wonder", "Heave of Hope"} <= set(profiles.game.action_types)


def test_sample_against_a_defense_draws_each_players_shots_through_draw(profiles):
    shots = profiles.sample({1: 300, 2: 200}, draws=2, seed=4, defense="WAL")
    assert len(shots) == 2 * 500 and list(shots.columns[:2]) == ["PLAYER_ID", "DRAW"]
    assert shots["PLAYER_ID"].tolist() == [1] * 600 + [2] * 400 and shots["DRAW"].tolist()[:601] == [0] * 300 + [1] * 300 + [0]
    assert (shots["DEFENSE"] == "WAL").all() and "ACTION_TYPE" in shots
    against = profiles.sample({1: 4000}, seed=4, defense="WAL")["SHOT_ZONE_BASIC"].eq("Restricted Area").mean()
    assert against < profiles.sample({1: 4000}, seed=4, defense="AAA")["SHOT_ZONE_BASIC"].eq("Restricted Area").mean()
    with pytest.raises(InputError, match=r"defense must be one of the profiles' defenses \['AAA', 'BBB', 'CCC', 'WAL'\], got 'ZZZ'"):
        profiles.sample(10, defense="ZZZ")


def test_nba_ml_draw_writes_one_shot_per_situation_and_refuses_bad_ones_in_one_line(profiles, tmp_path, capsys):
    from nba_ml.cli import main

    profiles.save(tmp_path / "p")
    situations(30, PLAYER_ID=[1, 2, 3] * 10, GAME="g7").to_csv(tmp_path / "s.csv", index=False)
    assert main(["draw", "--profiles", str(tmp_path / "p"), "--situations", str(tmp_path / "s.csv"),
                 "--out", str(tmp_path / "shots.parquet"), "--season", "3", "--seed", "1"]) == 0
    shots = pd.read_parquet(tmp_path / "shots.parquet")
    assert len(shots) == 30 and shots["GAME"].eq("g7").all() and {"ACTION_TYPE", "MADE"} <= set(shots.columns)
    assert "wrote 30 shots of 3 players to" in capsys.readouterr().out
    situations(2, PERIOD=[1, 0]).to_csv(tmp_path / "bad.csv", index=False)
    assert main(["draw", "--profiles", str(tmp_path / "p"), "--situations", str(tmp_path / "bad.csv"),
                 "--out", str(tmp_path / "o.csv")]) == 2
    said = capsys.readouterr().err
    assert said == ("nba-ml draw: situations: PERIOD: expected a whole number from 1; 1 row without (positions 1)\n")
    assert not (tmp_path / "o.csv").exists()
    assert main(["draw", "--profiles", str(tmp_path / "p"), "--situations", str(tmp_path / "s.csv"),
                 "--out", str(tmp_path / "s.csv")]) == 2  # an output over its input: refused before any work


def test_the_defense_table_counts_what_each_defense_allowed_and_finds_the_planted_ones(model, records):
    """CCC's opponents miss two thirds of their mid-range makes (WAL keeps shots from the rim, above)."""
    from nba_ml.shots.player.make_model import half_court_zone

    planted = records.copy()
    zone = pd.Series(ZONES)[half_court_zone(planted["LOC_X"].to_numpy(), planted["LOC_Y"].to_numpy())].to_numpy()
    defense = np.where(planted["TEAM_ABBREVIATION"] == planted["HTM"], planted["VTM"], planted["HTM"])
    missed = (defense == "CCC") & (zone == "Mid-Range") & (np.random.default_rng(0).random(len(planted)) < 2 / 3)
    planted.loc[missed, "SHOT_MADE_FLAG"] = 0
    table = model.player_profiles(planted, seed=3, charts=10).defenses.set_index(["DEFENSE", "SHOT_ZONE_BASIC"])
    half = planted[planted["SHOT_ZONE_BASIC"] != "Backcourt"].assign(DEFENSE=defense[planted["SHOT_ZONE_BASIC"] != "Backcourt"])
    seen = half.groupby(["DEFENSE", "SHOT_ZONE_BASIC"])["SHOT_MADE_FLAG"].agg(["size", "mean"])
    assert table["SHOTS"].to_dict() == {k: int(v) for k, v in seen["size"].reindex(table.index, fill_value=0).items()}
    assert np.allclose(table["FG"].dropna(), seen["mean"].reindex(table["FG"].dropna().index))
    by_defense = table.groupby(level="DEFENSE")
    assert np.allclose(by_defense["SHARE"].sum(), 1) and np.allclose(by_defense["SHARE_EXPECTED"].sum(), 1)
    assert np.allclose(by_defense["SHARE_ALLOWED"].sum(), 1)
    for low, mid, high in (("SHARE_LO", "SHARE_ALLOWED", "SHARE_HI"), ("FG_LO", "FG_ALLOWED", "FG_HI"),
                           ("RATIO_LO", "RATIO", "RATIO_HI")):
        assert ((table[low] <= table[mid]) & (table[mid] <= table[high])).all()
    wall, ccc = table.loc["WAL"], table.loc["CCC"]
    assert wall.loc["Restricted Area", "SHARE_HI"] < wall.loc["Restricted Area", "SHARE_EXPECTED"]
    assert wall.loc["Mid-Range", "SHARE_LO"] > wall.loc["Mid-Range", "SHARE_EXPECTED"]
    assert ccc.loc["Mid-Range", "FG_HI"] < ccc.loc["Mid-Range", "FG_EXPECTED"]
    gap = (table["FG_ALLOWED"] - table["FG_EXPECTED"]).xs("Mid-Range", level="SHOT_ZONE_BASIC")
    assert gap.idxmin() == "CCC" and gap.drop("CCC").min() > gap["CCC"] + 0.1


def test_nba_ml_profile_writes_the_defense_table_and_card_and_refuses_bad_ones_in_one_line(model, records, tmp_path, capsys):
    from nba_ml.cli import main
    from nba_ml.shots.pictures import plot_defense_card

    model.save(tmp_path / "model")
    records.to_csv(tmp_path / "r.csv", index=False)
    assert main(["profile", "--checkpoint", str(tmp_path / "model"), "--observed", str(tmp_path / "r.csv"), "--out",
                 str(tmp_path / "p"), "--plot", str(tmp_path / "cards.png"), "--charts", "10", "--seed", "3"]) == 0
    said = capsys.readouterr().out
    assert f"(and {tmp_path}/p/table.csv and {tmp_path}/p/defenses.csv)" in said
    assert f"wrote {tmp_path}/cards.defenses.png (the defense card)" in said
    written = pd.read_csv(tmp_path / "p" / "defenses.csv")
    pd.testing.assert_frame_equal(written, PlayerProfiles.load(tmp_path / "p").defenses, check_dtype=False)
    assert len(written) == len(TEAMS) * 6 and (tmp_path / "cards.defenses.png").stat().st_size > 20_000
    (tmp_path / "x.defenses.png").mkdir()  # the card's place is taken: refused before any work, as --plot is
    for plot, message in ((tmp_path / "x.png", f"--plot's defense card {tmp_path}/x.defenses.png"),
                          (tmp_path / "cards.gif", f"--plot {tmp_path}/cards.gif")):
        assert main(["profile", "--checkpoint", str(tmp_path / "model"), "--observed", str(tmp_path / "r.csv"),
                     "--out", str(tmp_path / "q"), "--plot", str(plot)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"nba-ml profile: {message}") and err.count("\n") == 1 and not (tmp_path / "q").exists()
    bad = written.assign(FG="high")
    with pytest.raises(InputError, match=r"^defenses: column FG holds text; expected numbers"):
        plot_defense_card(bad, tmp_path / "d.png")
    with pytest.raises(InputError, match=r"^defenses has 6 rows of a \(DEFENSE, SHOT_ZONE_BASIC\) already given"):
        plot_defense_card(pd.concat([written, written.head(6)]), tmp_path / "d.png")
    assert not (tmp_path / "d.png").exists()
