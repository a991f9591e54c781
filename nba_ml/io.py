"""Safe writes: a crash never leaves a half-written file or a half-replaced directory behind.

Files are written to a temporary name beside their target and renamed over it;
a directory (a saved model) is written whole beside its target and swapped in.
Both get the modes a plain open() would give (0644 files and 0755 directories
under the default umask 022), not mkstemp's private 0600. Records that several
processes update (STATUS.md, the Phase 5 index, the experiment log) are changed
under `locked(path)`, a cross-platform file lock (filelock).
"""
from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from filelock import FileLock

LOCK_TIMEOUT_S = 120  # a record update takes milliseconds; waiting longer means a stuck process


def current_umask() -> int:
    """The process umask (reading it means setting it: set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path` in one rename, with umask modes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb") as f:  # flush to disk before the rename makes it visible
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; a team shares these files
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """Yield a new empty directory beside `path`; on success it takes the place of `path` (whole, never mixed).

    An existing `path` is renamed aside first and removed after the swap, so a reader
    sees the old directory, then (after a moment with none) the new one; never a mix.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    old = None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~current_umask())
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / path.name)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


@contextmanager
def locked(path: str | Path) -> Iterator[None]:
    """Hold the cross-platform lock of `path` (a hidden `.NAME.lock` beside it) while updating it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.parent / f".{path.name}.lock"), timeout=LOCK_TIMEOUT_S):
        yield


def write_text_atomic(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def json_safe(obj: Any) -> Any:
    """obj with NaN and infinities as None, so the file is strict JSON (JavaScript, jq)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def write_json_atomic(path: str | Path, obj: Any) -> Path:
    """Strict JSON (non-finite numbers written as null), atomically."""
    text = json.dumps(json_safe(obj), indent=2, sort_keys=True, default=str, allow_nan=False)
    return write_text_atomic(path, text + "\n")


def publish_directory(staged: str | Path, target: str | Path) -> dict[Path, Path]:
    """Move every file of `staged` into `target` under target's lock, then remove `staged`.

    Each run writes its artifacts to a staging directory of its own and publishes them at
    the end: two runs with the same target never leave a mix of their files (the last
    one to publish has all its files there). Returns {staged path: published path}.
    """
    staged, target = Path(staged), Path(target)
    moved = {}
    with locked(target):
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted(p for p in staged.rglob("*") if p.is_file()):
            destination = target / path.relative_to(staged)
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, destination)
            moved[path] = destination
    shutil.rmtree(staged, ignore_errors=True)
    return moved


TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet")


def check_output(path: str | Path, kind: str = "table") -> str:
    """The format of an output file from its name (case-insensitive suffix), checked before any work."""
    from .errors import InputError

    name = str(path).lower()
    for suffix in TABLE_SUFFIXES:
        if name.endswith(suffix):
            return suffix.lstrip(".")
    raise InputError(f"{path}: unsupported output type; expected a name ending in {', '.join(TABLE_SUFFIXES)}")


def write_table(chunks, path: str | Path) -> int:
    """Write a DataFrame, or an iterable of DataFrame chunks, to a .csv, .csv.gz or .parquet file atomically,
    chunk by chunk (pyarrow); returns the rows written."""
    import gzip

    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    fmt = check_output(path)
    if isinstance(chunks, pd.DataFrame):
        chunks = [chunks]
    rows = 0
    with atomic_path(path) as tmp:
        writer, stream = None, None
        try:
            for frame in chunks:
                frame = frame.copy(deep=False)
                frame.attrs = {}
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if fmt == "parquet":
                    writer = writer or pq.ParquetWriter(tmp, table.schema)
                else:
                    if fmt == "csv.gz" and stream is None:
                        stream = gzip.open(tmp, "wb", compresslevel=6)
                    table = table.cast(pa.schema([pa.field(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type)
                                                  for f in table.schema]))
                    writer = writer or pacsv.CSVWriter(stream if stream is not None else str(tmp), table.schema)
                writer.write_table(table)
                rows += len(frame)
        finally:
            if writer is not None:
                writer.close()
            if stream is not None:
                stream.close()
        if writer is None:  # no chunk: an empty file of the format
            pd.DataFrame().to_csv(tmp, index=False) if fmt != "parquet" else pd.DataFrame().to_parquet(tmp)
    return rows
