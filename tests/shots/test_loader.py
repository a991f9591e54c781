"""Tests for nba_ml.shots.loader.load_shots on small hand-written files and the shared seasons."""

import dataclasses
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.shots.shared_data import SHARED_DATA
from nba_ml.shots.loader import ShotDataError, load_shots


# Nine rows, mixed-case header: 4 kept (one an exact duplicate) and 5 dropped.
MIXED_CSV = """game_id,Player_ID,loc_x,Loc_Y,shot_made_flag,GAME_DATE,SHOT_ZONE_BASIC
21700001,201939,0,0,1,20171017,Restricted Area
0021700001,201939,-230,10,0,20171017,Left Corner 3
21700001,201939,-230,10,0,20171017,Left Corner 3
21700002,2544,,50,1,20171018,Mid-Range
21700002,2544,10,abc,1,20171018,Mid-Range
21700002,2544,10,500,0,20171018,Backcourt
21700002,2544,0,418,0,20171018,Backcourt
21700003,2544,5,5,2,20171019,Restricted Area
21700003,2544,,5,,20171019,Restricted Area
"""
MIXED_DROPPED = {
    "missing_or_non_numeric_coordinates": 3,  # the last row also has no flag: first reason only
    "beyond_half_court": 2,
    "invalid_made_flag": 1,
}


def write_csv(tmp_path: Path, text: str, name: str = "shots.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def write_as(tmp_path: Path, text: str, suffix: str) -> Path:
    """Write the CSV text as .csv, .csv.gz or .parquet (parquet columns all text)."""
    path = tmp_path / f"shots{suffix}"
    if suffix == ".csv":
        path.write_text(text)
    elif suffix == ".csv.gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        frame = pd.read_csv(write_csv(tmp_path, text, "source.csv"), dtype=str, keep_default_na=False)
        frame.to_parquet(path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_row_accounting_is_exact(tmp_path, suffix):
    shots, report = load_shots(write_as(tmp_path, MIXED_CSV, suffix))
    assert report.rows_read == 9
    assert report.rows_kept == 3 == len(shots)
    assert report.dropped == MIXED_DROPPED
    assert report.rows_read == report.rows_kept + sum(report.dropped.values())
    assert report.units == "tenths_of_feet"
    assert shots["LOC_X"].tolist() == [0.0, -230.0, -230.0]
    assert any("1 row is an exact duplicate of an earlier row" in warning for warning in report.warnings)


def test_columns_are_upper_case_with_sane_dtypes(tmp_path):
    shots, _ = load_shots(write_csv(tmp_path, MIXED_CSV))
    assert list(shots.columns) == [
        "GAME_ID", "PLAYER_ID", "LOC_X", "LOC_Y", "SHOT_MADE_FLAG", "GAME_DATE", "SHOT_ZONE_BASIC"
    ]
    assert shots["LOC_X"].dtype == np.float64 and shots["LOC_Y"].dtype == np.float64
    assert shots["SHOT_MADE_FLAG"].dtype == np.int8
    assert shots["SHOT_MADE_FLAG"].tolist() == [1, 0, 0]
    assert shots["PLAYER_ID"].dtype == "Int64"
    assert shots["GAME_DATE"].tolist() == [pd.Timestamp("2017-10-17")] * 3


def test_game_id_is_padded_to_ten_digits(tmp_path):
    shots, report = load_shots(write_csv(tmp_path, MIXED_CSV))
    assert shots["GAME_ID"].tolist() == ["0021700001"] * 3
    assert any("2 GAME_IDs had lost their leading zeros" in warning for warning in report.warnings)


def test_numeric_game_id_in_parquet_is_padded(tmp_path):
    path = tmp_path / "shots.parquet"
    pd.DataFrame({"GAME_ID": [21700001, 22200004], "LOC_X": [0, 10], "LOC_Y": [0, 10]}).to_parquet(path)
    shots, _ = load_shots(path)
    assert shots["GAME_ID"].tolist() == ["0021700001", "0022200004"]


def test_without_made_flag_nothing_is_invalid(tmp_path):
    shots, report = load_shots(write_csv(tmp_path, "LOC_X,LOC_Y\n0,0\n5,600\n"))
    assert report.dropped == {
        "missing_or_non_numeric_coordinates": 0,
        "beyond_half_court": 1,
        "invalid_made_flag": 0,
    }
    assert "SHOT_MADE_FLAG" not in shots


def test_keep_backcourt_keeps_heaves(tmp_path):
    shots, report = load_shots(write_csv(tmp_path, "LOC_X,LOC_Y\n0,0\n5,600\n"), keep_backcourt=True)
    assert report.rows_kept == 2 and report.dropped["beyond_half_court"] == 0
    assert shots["LOC_Y"].tolist() == [0.0, 600.0]


def test_missing_required_column_is_named(tmp_path):
    path = write_csv(tmp_path, "loc_x,SHOT_MADE_FLAG\n0,1\n")
    with pytest.raises(ShotDataError, match=r"missing required column\(s\) \['LOC_Y'\].*found: \['loc_x', 'SHOT_MADE_FLAG'\]"):
        load_shots(path)


def test_zero_byte_file_is_empty(tmp_path):
    with pytest.raises(ShotDataError, match="empty"):
        load_shots(write_csv(tmp_path, ""))


def test_header_only_file_has_no_rows(tmp_path):
    with pytest.raises(ShotDataError, match="no rows"):
        load_shots(write_csv(tmp_path, "LOC_X,LOC_Y\n"))


def test_counts_in_messages_agree_with_their_nouns(tmp_path):
    with pytest.raises(ShotDataError, match="no usable rows: the one row was dropped"):
        load_shots(write_csv(tmp_path, "LOC_X,LOC_Y\nx,1\n"))
    with pytest.raises(ShotDataError, match="strict mode, 1 row would be dropped"):
        load_shots(write_csv(tmp_path, "LOC_X,LOC_Y\n0,10\nx,1\n"), strict=True)
    _, report = load_shots(write_csv(tmp_path, "LOC_X,LOC_Y\n0,10\n300,10\n301,10\n"))
    assert "2 rows outside the sidelines or behind the baseline; kept" in report.warnings


def test_keep_rows_counts_what_a_shot_file_would_drop_and_keeps_it(tmp_path):
    path = write_csv(tmp_path, "PLAYER_ID,LOC_X,LOC_Y,SHOT_MADE_FLAG\n1,0,10,1\n2,0,900,0\n3,x,5,1\n4,0,10,7\n")
    shots, report = load_shots(path, keep_rows=True)
    assert len(shots) == report.rows_kept == 4 and sum(report.dropped.values()) == 0
    assert any("3 rows kept that a shot file would drop (missing_or_non_numeric_coordinates=1, beyond_half_court=1, "
               "invalid_made_flag=1)" in warning for warning in report.warnings)
    assert np.isnan(shots.loc[2, "LOC_X"]) and shots["SHOT_MADE_FLAG"].tolist() == [1, 0, 1, 7]
    assert load_shots(path)[1].rows_kept == 1  # without it, a shot file's rule


def test_empty_parquet_has_no_rows(tmp_path):
    path = tmp_path / "shots.parquet"
    pd.DataFrame({"LOC_X": pd.Series([], dtype=float), "LOC_Y": pd.Series([], dtype=float)}).to_parquet(path)
    with pytest.raises(ShotDataError, match="no rows"):
        load_shots(path)


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_garbage_bytes_raise_chained_shot_data_error(tmp_path, suffix):
    path = tmp_path / f"garbage{suffix}"
    path.write_bytes(bytes(range(128, 256)) * 16)  # not UTF-8, not gzip, not parquet
    with pytest.raises(ShotDataError, match="could not read the file") as caught:
        load_shots(path)
    assert caught.value.__cause__ is not None


def test_truncated_gzip_is_reported_as_unreadable(tmp_path):
    path = tmp_path / "shots.csv.gz"
    rows = "".join(f"{i},{i}\n" for i in range(2000))
    path.write_bytes(gzip.compress(f"LOC_X,LOC_Y\n{rows}".encode())[:200])
    with pytest.raises(ShotDataError, match="could not read the file"):
        load_shots(path)


def test_unsupported_extension(tmp_path):
    with pytest.raises(ShotDataError, match="unsupported file type"):
        load_shots(write_csv(tmp_path, "LOC_X,LOC_Y\n0,0\n", "shots.json"))


def test_missing_file(tmp_path):
    with pytest.raises(ShotDataError, match="no such file"):
        load_shots(tmp_path / "nope.csv")


def feet_csv(tmp_path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """100 shots spread over the half court, in feet with one decimal."""
    x = np.round(np.linspace(-23.7, 23.3, 100), 1)
    y = np.round(np.linspace(-4.1, 27.9, 100), 1)
    rows = "".join(f"{a},{b}\n" for a, b in zip(x, y))
    return write_csv(tmp_path, f"LOC_X,LOC_Y\n{rows}"), x, y


def test_feet_are_converted_when_not_strict(tmp_path):
    path, x, y = feet_csv(tmp_path)
    shots, report = load_shots(path)
    assert report.units == "feet (converted x10)"
    assert any("feet" in warning for warning in report.warnings)
    np.testing.assert_allclose(shots["LOC_X"], x * 10)
    np.testing.assert_allclose(shots["LOC_Y"], y * 10)


def test_feet_raise_in_strict_mode(tmp_path):
    path, _, _ = feet_csv(tmp_path)
    with pytest.raises(ShotDataError, match="look like feet"):
        load_shots(path, strict=True)


def test_rim_shots_in_tenths_are_not_mistaken_for_feet(tmp_path):
    _, report = load_shots(write_csv(tmp_path, "LOC_X,LOC_Y\n0,0\n3,-2\n-5,8\n"), strict=True)
    assert report.units == "tenths_of_feet"


def test_strict_mode_raises_with_counts_per_reason(tmp_path):
    with pytest.raises(ShotDataError, match="6 rows would be dropped") as caught:
        load_shots(write_csv(tmp_path, MIXED_CSV), strict=True)
    assert "missing_or_non_numeric_coordinates=3, beyond_half_court=2, invalid_made_flag=1" in str(caught.value)


def test_strict_mode_accepts_a_clean_file(tmp_path):
    shots, report = load_shots(write_csv(tmp_path, "LOC_X,LOC_Y,SHOT_MADE_FLAG\n0,0,1\n-230,10,0\n"), strict=True)
    assert report.rows_kept == 2 and sum(report.dropped.values()) == 0


def test_report_is_frozen_and_prints_its_counts(tmp_path):
    _, report = load_shots(write_csv(tmp_path, MIXED_CSV))
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.rows_kept = 0
    text = str(report)
    assert "rows read: 9" in text and "rows kept: 3" in text and "beyond_half_court=2" in text


@pytest.mark.parametrize(
    ("season", "rows_read", "beyond_half_court", "duplicates"),
    [("2017-18", 211_707, 525, 14), ("2022-23", 217_220, 412, 13)],
)
def test_shared_season_row_accounting(season, rows_read, beyond_half_court, duplicates):
    path = SHARED_DATA / f"nba_shots_{season}_regular_season.csv.gz"
    if not path.is_file():
        pytest.skip(f"shared shot data not found at {path}")
    shots, report = load_shots(path, strict=False)
    assert report.rows_read == rows_read
    assert report.dropped == {
        "missing_or_non_numeric_coordinates": 0,
        "beyond_half_court": beyond_half_court,
        "invalid_made_flag": 0,
    }
    assert report.rows_kept == rows_read - beyond_half_court == len(shots)
    assert report.units == "tenths_of_feet"
    assert any(f"{duplicates} rows are exact duplicates of an earlier row" in warning for warning in report.warnings)
    assert shots["GAME_ID"].str.fullmatch(r"002\d{7}").all()
    assert shots["LOC_Y"].max() <= 417.5


def test_missing_text_values_stay_missing(tmp_path):
    shots, _ = load_shots(write_csv(tmp_path, "GAME_ID,POSITION,LOC_X,LOC_Y\n,NA,0,0\n21700001,PG,0,0\n"))
    assert shots["GAME_ID"].isna().tolist() == [True, False]
    assert shots["POSITION"].isna().tolist() == [True, False]


def test_columns_differing_only_by_case_are_rejected(tmp_path):
    with pytest.raises(ShotDataError, match=r"a column appears more than once \(case and spaces ignored\): LOC_X 2 "
                                            r"times \(as 'LOC_X', 'loc_x'\); expected each column once$"):
        load_shots(write_csv(tmp_path, "LOC_X,loc_x,LOC_Y\n0,0,0\n"))


@pytest.mark.parametrize("header", ["PLAYER_ID,LOC_X,LOC_Y,LOC_X", "PLAYER_ID,LOC_X,LOC_Y, loc_x "])
def test_a_column_named_twice_is_refused_not_renamed_and_read(tmp_path, header):
    """pandas renames a repeated name to LOC_X.1 and reads on: the second LOC_X (a renamed TEAM_ID) would go unseen."""
    with pytest.raises(ShotDataError, match=r"a column appears more than once .*: LOC_X 2 times"):
        load_shots(write_csv(tmp_path, header + "\n1,0,10,1610612737\n"))
    path = tmp_path / "twice.parquet"
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    pq.write_table(pa.table([[1], [0.0], [10.0], [1610612737]], names=header.split(",")), path)
    with pytest.raises(ShotDataError, match=r"LOC_X 2 times"):
        load_shots(path)


@pytest.mark.parametrize("spelled, kept", [("203078.5", "203078.5"), (str(2 ** 70), str(2 ** 70)),
                                           (str(2 ** 63 + 5), str(2 ** 63 + 5))])
def test_an_id_that_is_no_64_bit_integer_is_kept_as_written_never_missing(tmp_path, spelled, kept):
    shots, report = load_shots(write_csv(tmp_path, f"PLAYER_ID,LOC_X,LOC_Y\n203954,0,10\n{spelled},5,20\n"))
    assert shots["PLAYER_ID"].tolist() == ["203954", kept] and report.rows_kept == 2  # the column is text, as written
    shots, _ = load_shots(write_csv(tmp_path, "PLAYER_ID,LOC_X,LOC_Y\n203954,0,10\n1630162.0,5,20\n,1,1\n"))
    assert shots["PLAYER_ID"].dtype == "Int64" and shots["PLAYER_ID"].tolist()[:2] == [203954, 1630162]


def test_a_shot_file_is_read_from_a_pipe_as_from_a_file(tmp_path):
    import subprocess
    import sys

    text = "PLAYER_ID,LOC_X,LOC_Y\n7,0,10\n8,5,20\n"
    code = "from nba_ml.shots import load_shots; s, r = load_shots('{}'); print(s['PLAYER_ID'].tolist(), r.rows_kept)"
    for name in ("-", "/dev/stdin"):
        done = subprocess.run([sys.executable, "-c", code.format(name)], input=text.encode(), capture_output=True,
                              timeout=120)
        assert done.returncode == 0 and done.stdout.decode().strip() == "[7, 8] 2", done.stderr.decode()
    done = subprocess.run([sys.executable, "-c", code.format("-")], input=b"", capture_output=True, timeout=120)
    assert b"ShotDataError: -: the stream is empty" in done.stderr
