"""Load shot files in the stats.nba.com `shotchartdetail` layout.

`load_shots` reads a .csv, .csv.gz or .parquet file of field-goal attempts,
normalises column names and dtypes, drops rows a half-court shot model cannot
use, and returns the frame with a `LoadReport` that accounts for every row.
Anything wrong with the file itself is raised as `ShotDataError`, never as a raw
pandas or pyarrow error.
"""

import io
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from nba_ml.errors import InputError, counted
from nba_ml.shots.court import BASELINE_Y, HALF_COURT_Y, SIDELINE_X

REQUIRED_COLUMNS = ("LOC_X", "LOC_Y")
GAME_ID_LENGTH = 10  # stats.nba.com ids look like 0021700001

UNITS_TENTHS = "tenths_of_feet"
UNITS_FEET_CONVERTED = "feet (converted x10)"

# Drop reasons, in the order they are checked: a row is counted under the first
# reason that applies, so the counts add up to the rows dropped.
MISSING_COORDINATES = "missing_or_non_numeric_coordinates"
BEYOND_HALF_COURT = "beyond_half_court"
INVALID_MADE_FLAG = "invalid_made_flag"
DROP_REASONS = (MISSING_COORDINATES, BEYOND_HALF_COURT, INVALID_MADE_FLAG)

# Feet-vs-tenths heuristic (see `_looks_like_feet`). In tenths, a real sample has
# a 99th percentile of |LOC_X| near 230 and of LOC_Y near 280, and every value is
# an integer; in feet the same shots give about 23 and 28, mostly with decimals.
FEET_MAX_P99_ABS_X = 30.0
FEET_MAX_P99_Y = 50.0
FEET_MIN_NON_INTEGER_SHARE = 0.25


class ShotDataError(InputError):
    """A shot file cannot be read, or (in strict mode) holds rows we would drop."""


@dataclass(frozen=True)
class LoadReport:
    """What `load_shots` did to a file: rows_read == rows_kept + sum(dropped)."""

    path: str
    rows_read: int
    rows_kept: int
    dropped: dict[str, int]
    units: str
    warnings: list[str]

    def __str__(self) -> str:
        dropped = ", ".join(f"{reason}={count:,}" for reason, count in self.dropped.items())
        lines = [
            f"LoadReport for {self.path}",
            f"  rows read: {self.rows_read:,}",
            f"  rows kept: {self.rows_kept:,}",
            f"  dropped:   {sum(self.dropped.values()):,} ({dropped})",
            f"  units:     {self.units}",
        ]
        lines += [f"  warning:   {warning}" for warning in self.warnings]
        return "\n".join(lines)


def load_shots(
    path: str | Path, *, strict: bool = False, keep_backcourt: bool = False, allow_empty: bool = False,
    keep_rows: bool = False,
) -> tuple[pd.DataFrame, LoadReport]:
    """Read a shot file and return (shots, report).

    Column names are matched case-insensitively and returned in UPPER case.
    LOC_X and LOC_Y are required and returned as float64 in tenths of a foot.
    A column named twice (in any case, with any spaces) is refused.
    When present, SHOT_MADE_FLAG becomes int8 (0/1), PLAYER_ID and TEAM_ID
    nullable Int64, or text as written when some id is not a 64-bit integer ('P203078', 203078.5,
    2**70: kept, never taken for a missing id), GAME_ID a 10-character string (zero-padded when the leading
    zeros were lost), GAME_DATE datetime64, and PLAYER_NAME, SEASON, POSITION,
    POSITION_GROUP and SHOT_ZONE_BASIC strings. Other columns are kept as read.

    Rows are dropped, first matching reason only, for: missing or non-numeric
    coordinates; LOC_Y beyond the half-court line (backcourt heaves; kept when
    `keep_backcourt=True`, e.g. to compare zones over whole seasons); a
    SHOT_MADE_FLAG column holding something other than 0/1. Exact duplicate
    rows are kept (they are real attempts, such as repeated tip-ins) and counted
    in the report's warnings.

    Units: the file is taken to be in feet, not tenths, when the 99th percentile
    of |LOC_X| is below 30, that of LOC_Y below 50, and at least a quarter of the
    coordinate values are non-integers. Real tenths data are integers spread over
    the whole half court, so they never pass all three tests; a handful of rim
    shots in tenths stays tenths because they are integers. Feet are multiplied
    by 10, with units='feet (converted x10)' and a warning.

    With `strict=True`, feet coordinates and any row that would be dropped raise
    ShotDataError instead (the message gives the count per reason).

    With `allow_empty=True`, a file with a header and no rows (a record of no shots) is an empty frame,
    not an error (its columns still need LOC_X and LOC_Y).

    With `keep_rows=True`, no row is dropped: the rows above are counted in the report's warnings and kept,
    non-numeric coordinates as NaN and a SHOT_MADE_FLAG other than 0/1 as read (NaN where not a number). For
    given players' records (nba-ml profile, makes, sample --observed), whose code keeps every player, even one
    whose every row is unusable, and counts what it cannot use (nba_ml.shots.player.records).

    Raises ShotDataError for a missing, unreadable or empty file, an unsupported
    extension, or missing LOC_X / LOC_Y columns.
    """
    path = Path(path)
    raw = read_table(path)
    rows_read = len(raw)
    if rows_read == 0 and not allow_empty:
        raise ShotDataError(f"{path}: the file has a header but no rows")
    shots = _normalise_column_names(raw, path)
    if rows_read == 0:
        return shots, LoadReport(path=str(path), rows_read=0, rows_kept=0, dropped={r: 0 for r in DROP_REASONS},
                                 units=UNITS_TENTHS, warnings=[])
    warnings: list[str] = []

    x, y, units = _coordinates_in_tenths(shots, path, strict)
    shots["LOC_X"], shots["LOC_Y"] = x, y
    if units == UNITS_FEET_CONVERTED:
        warnings.append("coordinates looked like feet and were multiplied by 10")
    has_coordinates = (x.notna() & y.notna()).to_numpy()

    made_flag = _made_flag(shots)
    no_row = np.zeros(rows_read, bool)
    drop_masks = {
        MISSING_COORDINATES: ~has_coordinates,
        BEYOND_HALF_COURT: no_row if keep_backcourt else (y > HALF_COURT_Y).to_numpy(),
        INVALID_MADE_FLAG: no_row if made_flag is None else ~made_flag.isin([0, 1]).to_numpy(),
    }
    keep, dropped = _apply_drop_reasons(drop_masks, rows_read)
    counts = ", ".join(f"{reason}={count:,}" for reason, count in dropped.items() if count)
    if keep_rows:  # counted, not dropped: the player-level code counts and keeps (the docstring)
        if counts:
            warnings.append(f"{counted(sum(dropped.values()), 'row')} kept that a shot file would drop ({counts}): "
                            "the player-level code counts what it cannot use")
        keep, dropped = np.ones(rows_read, bool), {reason: 0 for reason in dropped}
    if strict and sum(dropped.values()):
        raise ShotDataError(f"{path}: strict mode, {counted(sum(dropped.values()), 'row')} would be dropped: {counts}")
    if not keep.any():
        every_row = "the one row was" if rows_read == 1 else f"all {rows_read:,} rows were"
        raise ShotDataError(f"{path}: no usable rows: {every_row} dropped ({counts}); "
                            "LOC_X and LOC_Y must be finite numbers (tenths of a foot) within the half court")

    shots = shots.loc[keep].reset_index(drop=True)
    if made_flag is not None:
        flags = made_flag[keep]
        shots["SHOT_MADE_FLAG"] = flags.to_numpy().astype("int8") if flags.isin([0, 1]).all() else flags.to_numpy()
    warnings += _normalise_known_columns(shots)
    warnings += _data_warnings(shots, keep_backcourt)
    report = LoadReport(
        path=str(path),
        rows_read=rows_read,
        rows_kept=len(shots),
        dropped=dropped,
        units=units,
        warnings=warnings,
    )
    return shots, report


def read_table(path: Path) -> pd.DataFrame:
    """Read the file by extension (a stream, such as - or a pipe: by its first bytes); every read failure
    becomes ShotDataError."""
    if _is_stream(path):
        return _read_stream(path)
    if path.is_dir():
        raise ShotDataError(f"{path}: is a directory; expected a shot file (.csv, .csv.gz or .parquet)")
    if not path.is_file():
        raise ShotDataError(f"{path}: no such file")
    name = path.name.lower()
    if not name.endswith((".csv", ".csv.gz", ".parquet")):
        raise ShotDataError(f"{path}: unsupported file type; expected .csv, .csv.gz or .parquet")
    if path.stat().st_size == 0:
        raise ShotDataError(f"{path}: the file is empty")
    try:
        if name.endswith(".parquet"):
            return _read_parquet(path, path)
        return _read_csv(path, path)
    except ShotDataError:
        raise
    except Exception as error:  # any parser/decompressor failure means the same thing here
        raise ShotDataError(f"{path}: could not read the file ({type(error).__name__}: {error})") from error


STREAM_NAMES = re.compile(r"-|/dev/stdin|/dev/fd/\d+|/proc/self/fd/\d+")  # standard input and open descriptors


def _is_stream(path: Path) -> bool:
    """Standard input (-, /dev/stdin), a descriptor, a pipe (FIFO) or a character device: read once, whole."""
    if STREAM_NAMES.fullmatch(str(path)):
        return True
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def _read_stream(path: Path) -> pd.DataFrame:
    """A shot file from a stream, read whole once: Parquet or gzip by their first bytes, else CSV."""
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as error:
        raise ShotDataError(f"{path}: cannot read it ({error.strerror or error})") from None
    if not data:
        raise ShotDataError(f"{path}: the stream is empty")
    try:
        if data[:4] == b"PAR1":
            return _read_parquet(path, io.BytesIO(data))
        return _read_csv(path, data, compression="gzip" if data[:2] == b"\x1f\x8b" else None)
    except ShotDataError:
        raise
    except Exception as error:
        raise ShotDataError(f"{path}: could not read the stream ({type(error).__name__}: {error})") from error


def _read_parquet(path: Path, source) -> pd.DataFrame:
    """A Parquet file (`source`: its path or a buffer); a column named twice (in any case) is refused."""
    import pyarrow.parquet as parquet

    _refuse_repeated_columns(parquet.read_schema(source).names, path)
    return pd.read_parquet(source)


def _read_csv(path: Path, source, compression: Optional[str] = "infer") -> pd.DataFrame:
    """Read a (possibly gzipped) CSV (`source`: its path, or its bytes), keeping GAME_ID and the ids as text, as
    written (GAME_ID's leading zeros, an id past int64); a header naming a column twice (in any case) is
    refused."""
    def opened():
        return io.BytesIO(source) if isinstance(source, bytes) else source

    try:
        header = pd.read_csv(opened(), nrows=1, header=None, dtype=str, compression=compression)  # names as written
    except pd.errors.EmptyDataError as error:
        raise ShotDataError(f"{path}: the file is empty (no header, no rows)") from error
    names = ["" if pd.isna(name) else str(name) for name in header.iloc[0]] if len(header) else []
    _refuse_repeated_columns(names, path)  # pandas would rename a repeated one to NAME.1 and read on
    text_columns = {name: "str" for name in names if name.strip().upper() in TEXT_COLUMNS}
    return pd.read_csv(opened(), dtype=text_columns, low_memory=False, compression=compression)


TEXT_COLUMNS = ("GAME_ID", "PLAYER_ID", "TEAM_ID")  # read as text from CSV: their spelling decides their type


def _refuse_repeated_columns(names, path) -> None:
    """ShotDataError naming the columns that appear more than once once case and spaces are ignored."""
    normal = [str(name).strip().upper() for name in names]
    repeated = {name: [n for n, k in zip(names, normal) if k == name] for name in dict.fromkeys(normal) if normal.count(name) > 1}
    if repeated:
        shown = "; ".join(f"{name} {len(spelled)} times (as {', '.join(repr(n) for n in spelled)})"
                          for name, spelled in repeated.items())
        raise ShotDataError(f"{path}: a column appears more than once (case and spaces ignored): {shown}; "
                            "expected each column once")


def _normalise_column_names(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Upper-case column names and check the required ones are there."""
    _refuse_repeated_columns(list(frame.columns), path)
    names = [str(name).strip().upper() for name in frame.columns]
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise ShotDataError(f"{path}: missing required column(s) {missing}; columns found: {list(frame.columns)}")
    # A fresh RangeIndex keeps row masks and column assignments aligned.
    return frame.set_axis(names, axis="columns").reset_index(drop=True)


def _coordinates_in_tenths(shots: pd.DataFrame, path: Path, strict: bool) -> tuple[pd.Series, pd.Series, str]:
    """LOC_X and LOC_Y as float64 tenths of a foot (NaN where not numeric), and their units."""
    # Text, NaN and infinities all become NaN: counted under missing_or_non_numeric_coordinates.
    x = _finite_or_nan(pd.to_numeric(shots["LOC_X"], errors="coerce"))
    y = _finite_or_nan(pd.to_numeric(shots["LOC_Y"], errors="coerce"))
    known = (x.notna() & y.notna()).to_numpy()
    if not _looks_like_feet(x[known].to_numpy(), y[known].to_numpy()):
        return x, y, UNITS_TENTHS
    if strict:
        raise ShotDataError(
            f"{path}: LOC_X/LOC_Y look like feet, not tenths of a foot "
            "(small spread, mostly non-integers); convert them or load with strict=False"
        )
    return x * 10, y * 10, UNITS_FEET_CONVERTED


def _finite_or_nan(values: pd.Series) -> pd.Series:
    values = values.astype("float64")
    return values.where(np.isfinite(values))


def _looks_like_feet(x: np.ndarray, y: np.ndarray) -> bool:
    """True when the coordinates are small and fractional, as feet would be."""
    if len(x) == 0:
        return False
    values = np.concatenate([x, y])
    non_integer_share = np.mean(values != np.round(values))
    return bool(
        np.percentile(np.abs(x), 99) < FEET_MAX_P99_ABS_X
        and np.percentile(y, 99) < FEET_MAX_P99_Y
        and non_integer_share >= FEET_MIN_NON_INTEGER_SHARE
    )


def _made_flag(shots: pd.DataFrame) -> pd.Series | None:
    """SHOT_MADE_FLAG as numbers (NaN where not numeric), or None when absent."""
    if "SHOT_MADE_FLAG" not in shots:
        return None
    flag = shots["SHOT_MADE_FLAG"]
    if flag.dtype == bool:
        return flag.astype("int8")
    return pd.to_numeric(flag, errors="coerce")


def _apply_drop_reasons(masks: dict[str, np.ndarray], rows: int) -> tuple[np.ndarray, dict[str, int]]:
    """Return rows to keep and counts per reason, each row under its first reason."""
    already_dropped = np.zeros(rows, bool)
    dropped = {}
    for reason in DROP_REASONS:
        newly_dropped = masks[reason] & ~already_dropped
        dropped[reason] = int(newly_dropped.sum())
        already_dropped |= newly_dropped
    return ~already_dropped, dropped


def _normalise_known_columns(shots: pd.DataFrame) -> list[str]:
    """Give the known shotchartdetail columns sane dtypes; return warnings."""
    warnings = []
    for column in ("PLAYER_ID", "TEAM_ID"):
        if column in shots:
            shots[column] = _as_ids(shots[column])
    for column in ("PLAYER_NAME", "SEASON", "POSITION", "POSITION_GROUP", "SHOT_ZONE_BASIC"):
        if column in shots:
            shots[column] = _as_text(shots[column])
    if "GAME_ID" in shots:
        shots["GAME_ID"], padded = _padded_game_ids(shots["GAME_ID"])
        if padded:
            warnings.append(f"{padded:,} GAME_IDs had lost their leading zeros and were padded to 10 digits")
    if "GAME_DATE" in shots:
        shots["GAME_DATE"], unparsed = parse_game_dates(shots["GAME_DATE"])
        if unparsed:
            warnings.append(f"{unparsed:,} GAME_DATE values could not be parsed and are NaT")
    return warnings


def _as_text(values: pd.Series) -> pd.Series:
    """Values as strings, missing ones left missing (pandas 2 would write 'nan')."""
    return values.astype("str").where(values.notna())


def _as_ids(ids: pd.Series) -> pd.Series:
    """Ids as nullable Int64 when every given value is a 64-bit integer (1630162.0 counts as one: a CSV column
    with gaps reads so); otherwise (ids such as 'P203078', 203078.5 or 2**70) every id as text, as written
    (a number read from a Parquet file: its integer, or its float's shortest spelling). A given id is never
    taken for a missing one."""
    text = ids if pd.api.types.is_string_dtype(ids) else ids.map(_spelled, na_action="ignore")
    text = _as_text(text).str.strip()
    text = text.where(text != "")
    codes, distinct = pd.factorize(text, use_na_sentinel=True)
    integers = [_integer(value) for value in distinct]
    if any(value is None for value in integers):
        return text
    return pd.Series(pd.array(np.array(integers + [None], dtype=object)[codes], dtype="Int64"), index=ids.index)


def _spelled(value) -> str:
    """A number as written: an integer's digits (1630162.0 too), a float's shortest spelling (203078.5)."""
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _integer(text: str):
    """The 64-bit integer a spelling names ('203078', '1630162.0'), else None."""
    if re.fullmatch(r"[+-]?\d+", text):
        value = int(text)
    else:
        try:
            number = float(text)
        except ValueError:
            return None
        if not (np.isfinite(number) and number.is_integer()):
            return None
        value = int(number)
    return value if -(2 ** 63) <= value < 2 ** 63 else None


def _as_integer_ids(ids: pd.Series) -> pd.Series:
    """Numeric ids as nullable Int64; non-numeric, fractional, infinite or out-of-int64 values become <NA>."""
    numbers = pd.to_numeric(ids, errors="coerce")
    if pd.api.types.is_signed_integer_dtype(numbers):
        return numbers.astype("Int64")
    if pd.api.types.is_unsigned_integer_dtype(numbers):  # read as uint64: values past int64 become <NA>
        fits = numbers <= np.iinfo(np.int64).max
        out = pd.Series(pd.NA, index=numbers.index, dtype="Int64")
        out[fits] = numbers[fits].astype("int64")
        return out
    numbers = numbers.astype("float64")
    whole = np.isfinite(numbers) & (numbers.abs() < 2.0**63) & (numbers == np.round(numbers))
    return numbers.where(whole).astype("Int64")


def _padded_game_ids(game_ids: pd.Series) -> tuple[pd.Series, int]:
    """GAME_ID as text, left-padded with zeros to 10 digits; also the count padded."""
    if pd.api.types.is_numeric_dtype(game_ids):
        game_ids = _as_integer_ids(game_ids)  # avoid '21700001.0' from float columns
    text = _as_text(game_ids).str.strip()
    needs_padding = text.str.fullmatch(r"\d+", na=False) & (text.str.len() < GAME_ID_LENGTH)
    padded = text.where(~needs_padding, text.str.zfill(GAME_ID_LENGTH))
    return padded, int(needs_padding.sum())


def parse_game_dates(dates: pd.Series) -> tuple[pd.Series, int]:
    """Parse YYYYMMDD (shotchartdetail) or ISO dates; also count values that failed."""
    if pd.api.types.is_datetime64_any_dtype(dates):
        return dates, 0
    text = _as_text(dates).str.strip()
    compact = text.str.fullmatch(r"\d{8}", na=False)
    parsed = pd.to_datetime(text.where(compact), format="%Y%m%d", errors="coerce")
    parsed = parsed.fillna(pd.to_datetime(text.where(~compact), format="ISO8601", errors="coerce"))
    unparsed = int((parsed.isna() & dates.notna()).sum())
    return parsed, unparsed


def _data_warnings(shots: pd.DataFrame, keep_backcourt: bool) -> list[str]:
    """Things worth knowing about the kept rows that are not reasons to drop them."""
    warnings = []
    duplicates = int(shots.duplicated().sum())
    if duplicates:
        warnings.append(
            f"{counted(duplicates, 'row')} {'is an exact duplicate' if duplicates == 1 else 'are exact duplicates'} of "
            "an earlier row; kept, as such rows are usually separate attempts (tip-ins) that a missing GAME_EVENT_ID "
            "would tell apart"
        )
    outside = int(((shots["LOC_X"].abs() > SIDELINE_X) | (shots["LOC_Y"] < BASELINE_Y)).sum())
    if outside:
        warnings.append(f"{counted(outside, 'row')} outside the sidelines or behind the baseline; kept")
    if keep_backcourt:
        beyond = int((shots["LOC_Y"] > HALF_COURT_Y).sum())
        warnings.append(f"{counted(beyond, 'row')} beyond half court kept (keep_backcourt=True)")
    return warnings
