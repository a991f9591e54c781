"""Writes that never destroy: every file the package writes goes through here.

    out = check_output(args.out, "table", "--out")   # first thing, before any work: refuses a bad path in one line
    ...                                               # the work
    rows = write_table(chunks, out)                   # a DataFrame, a pyarrow Table, or an iterable of them

    with open_output("chart.svg", "picture") as stream:   # pictures: nba_ml.plots.save_figure does this
        fig.savefig(stream, format="svg")

What is at an output path decides how it is written:

- nothing, or a regular file: to a temporary file beside it, renamed over it at the end (a reader sees the
  old file or the new one, never a mix); the file keeps its mode (a new one gets the umask's, 0644 under 022);
- a symlink: followed: its target is replaced so, and the link is kept;
- `-` or /dev/stdout (standard output, by its descriptor: a `>>` redirection is appended to), a character
  device (/dev/null), a FIFO: written through, with no temporary file;
- a directory, a socket, a block device: refused (OutputError, naming the path and what it is).

The format comes from the final name's suffix, in any case (FORMATS): tables .csv, .csv.gz, .parquet;
pictures .png, .svg, .pdf; a stream named without a suffix (`-`, /dev/stdout, /dev/null) takes CSV. An
unknown suffix is refused. The temporary file is removed on every way out, SIGTERM included (an atomic
write turns a SIGTERM that would end the process at once into nba_ml.interrupts.Interrupted); a failed
write (a full disk) is an OutputError naming the file. Tables are written chunk by chunk with pyarrow
(Parquet row groups, CSV batches, gzip as a stream), so a caller can stream millions of rows.

A directory (a saved model, player profiles) is written whole beside its target and swapped in
(atomic_directory). It replaces only a directory that holds an earlier output of its kind and nothing else
(SavedDirectory): a folder with other files, the working directory (in any spelling) or one above it, or a
mount point is refused before anything is written, in one line naming it (check_replaceable_directory).
Two outputs that are one file, or an output that is one of the inputs (the same path, a symlink, a hard
link), are refused by check_apart. Records
several processes update (STATUS.md, the Phase 5 index, the experiment log) are changed under
`locked(path)`, a cross-platform file lock (filelock). Tensors are written by `save_tensors` and read back
by `read_tensors` (tensors and plain containers only: nothing pickled is run).
"""
from __future__ import annotations

import fnmatch
import gzip
import itertools
import json
import math
import os
import pickle
import re
import shutil
import stat
import tempfile
import warnings
from collections import deque
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Mapping, Optional

from filelock import FileLock

from .errors import OutputError, counted
from .interrupts import terminate_raises

LOCK_TIMEOUT_S = 120  # a record update takes milliseconds; waiting longer means a stuck process

# kind of output -> {suffix (lower case): format}; the longest suffix that a name ends with decides.
FORMATS: dict[str, dict[str, str]] = {
    "table": {".csv": "csv", ".csv.gz": "csv.gz", ".parquet": "parquet"},
    "picture": {".png": "png", ".svg": "svg", ".pdf": "pdf"},
}
STREAM_FORMAT = {"table": "csv"}  # a stream named without a suffix (`-`, /dev/stdout, /dev/null)
# Names of an open descriptor: written to a duplicate of it, never reopened (which would truncate a file).
_DESCRIPTOR_NAMES = {"-": 1, "/dev/stdout": 1, "/dev/stderr": 2}
_DESCRIPTOR_PATH = re.compile(r"/(?:dev/fd|proc/self/fd)/(\d+)")
_NOT_WRITABLE = {stat.S_IFDIR: "a directory", stat.S_IFSOCK: "a socket", stat.S_IFBLK: "a block device"}


@dataclass(frozen=True)
class Output:
    """An output path, checked (check_output): where and in which format it is written."""

    path: str  # as given, for messages
    kind: str  # a key of FORMATS
    format: str  # a value of FORMATS[kind]
    target: Optional[Path]  # the regular file replaced atomically (a symlink's target); None: written through
    descriptor: Optional[int] = None  # written through this open descriptor (standard output), not by name
    label: str = ""  # how messages name it, e.g. '--out shots.csv'

    @property
    def stream(self) -> bool:
        """Written through (standard output, a device, a FIFO), not to a temporary file."""
        return self.target is None

    @property
    def name(self) -> str:
        return self.label or self.path


def current_umask() -> int:
    """The process umask (reading it means setting it: set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# --- checking an output ---------------------------------------------------------

def check_output(path: str | Path | Output, kind: str, label: Optional[str] = None) -> Output:
    """What writing `kind` ('table' or 'picture') to `path` means (see the module docstring), or OutputError.

    Cheap and read-only: call it first thing, before any work. `label` names the path in messages
    (e.g. '--out' gives '--out x.txt: ...').
    """
    if isinstance(path, Output):
        return path
    if kind not in FORMATS:
        raise ValueError(f"kind must be one of {sorted(FORMATS)}, got {kind!r}")
    text = os.fspath(path)
    name = f"{label} {text}" if label else text
    if not text:
        raise OutputError(f"{label or 'the output path'} is empty; expected {_expected(kind)}")
    descriptor = _descriptor(text)
    if descriptor is not None:
        return Output(text, kind, output_format(text, kind, name, stream=True), None, descriptor, name)
    try:
        found = os.stat(text)  # follows symlinks: what is written is what the link points to
    except FileNotFoundError:
        found = None  # a new file (a dangling symlink: its target is created)
    except OSError as err:  # a part of the path that is a file, a symlink loop, no permission
        raise OutputError(f"cannot write {name}: {err.strerror or err}", err.errno) from None
    if found is not None and (stat.S_ISCHR(found.st_mode) or stat.S_ISFIFO(found.st_mode)):
        if not os.access(text, os.W_OK):
            raise OutputError(f"cannot write {name}: permission denied")
        return Output(text, kind, output_format(text, kind, name, stream=True), None, None, name)
    if found is not None and not stat.S_ISREG(found.st_mode):
        what = _NOT_WRITABLE.get(stat.S_IFMT(found.st_mode), "not a regular file")
        raise OutputError(f"{name} is {what}; expected {_expected(kind)}")
    fmt = output_format(text, kind, name)
    target = Path(os.path.realpath(text))
    _check_writable(target, found is not None, name)
    return Output(text, kind, fmt, target, None, name)


def check_directory(path: str | Path, label: Optional[str] = None) -> Path:
    """OutputError unless `path` is a directory (or a symlink to one) this process may write in, or can be
    made one (the nearest folder that exists lets us create it). Cheap: call it before any work."""
    path = Path(path)
    name = f"{label} {path}" if label else str(path)
    if path.exists() and not path.is_dir():
        mode = os.stat(path).st_mode
        raise OutputError(f"{name} is {_NOT_WRITABLE.get(stat.S_IFMT(mode), 'a file')}, not a directory")
    _check_folder(path, f"cannot make the directory {name}", f"cannot write in {name}")
    return path


@dataclass(frozen=True)
class SavedDirectory:
    """A kind of directory the package writes whole (atomic_directory): it holds `marker` and files matching
    `files` (fnmatch patterns), nothing else. Only a directory holding such an output, or an empty one, is
    replaced by a new one."""

    what: str  # how messages name its files: 'profiles' ('profiles files')
    marker: str  # the file every such directory holds
    files: tuple[str, ...]  # patterns of the other files it may hold

    def foreign(self, folder: Path) -> list[str]:
        """The entries of `folder` that are not this kind's (all of them when the marker is missing)."""
        entries = sorted(os.listdir(folder))
        own = [e for e in entries if (folder / e).is_file() and not (folder / e).is_symlink()
               and (e == self.marker or any(fnmatch.fnmatchcase(e, pattern) for pattern in self.files))]
        if entries and self.marker not in own:
            return entries
        return [e for e in entries if e not in own]


def check_replaceable_directory(path: str | Path, kind: SavedDirectory, label: Optional[str] = None) -> Path:
    """The directory that writing `kind` to `path` replaces (a symlink's target), or OutputError naming it:
    an empty path, a file, the working directory or a directory above it (in any spelling), a mount point, a
    directory holding anything but an earlier output of this kind, or a folder we may not write in. Read-only
    and cheap: call it before any work."""
    text = os.fspath(path)
    name = f"{label} {text}" if label else text
    if not text:
        raise OutputError(f"{label or 'the output directory'} is empty; expected a directory for the {kind.what}")
    target = _replaceable(Path(text), directory=True, name=name)
    real, here = Path(os.path.realpath(target)), Path(os.path.realpath(os.getcwd()))
    if real == here or real in here.parents:
        where = "is the working directory" if real == here else f"holds the working directory ({here})"
        raise OutputError(f"{name} {where}: it would be replaced whole; give a new or empty directory")
    if real.is_dir():
        if os.path.ismount(real):
            raise OutputError(f"{name} is a mount point: it cannot be replaced; give a directory inside it")
        try:
            foreign = kind.foreign(real)
        except OSError as err:
            raise OutputError(f"cannot write {name}: {err.strerror or err}", err.errno) from None
        if foreign:
            shown = ", ".join(repr(e) for e in foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise OutputError(f"{name} holds {counted(len(foreign), 'entry', 'entries')} that {'is' if len(foreign) == 1 else 'are'} "
                              f"not {kind.what} files ({shown}): it would be replaced whole, and only an empty directory "
                              f"or one holding {kind.what} files alone is; give a new or empty directory")
    _check_folder(real.parent, f"cannot make the directory {name}", f"cannot write {name}")
    return real


def check_apart(outputs: Mapping[str, Any], inputs: Optional[Mapping[str, Any]] = None,
                directories: Iterable[str] = ()) -> None:
    """OutputError, before any work, when two outputs are one file, an output is one of the inputs, or a file
    lies inside an output directory (`directories`: the labels of `outputs` that are directories replaced
    whole): the same path, a symlink to it or a hard link. `outputs` and `inputs` map a label ('--out') to a
    path, an Output, or None (not given); standard output and devices are never compared."""
    def where(value) -> Optional[tuple[str, Path]]:
        if isinstance(value, Output):
            return None if value.target is None else (value.path, value.target)
        text = "" if value is None else os.fspath(value)
        if text in ("", "-"):
            return None
        try:
            mode = os.stat(text).st_mode
        except OSError:
            mode = None
        if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            return None  # a device or a FIFO: written through, never replaced
        return text, Path(os.path.realpath(text))

    named = {label: found for label, value in outputs.items() if (found := where(value)) is not None}
    given = {label: found for label, value in (inputs or {}).items() if (found := where(value)) is not None}
    folders = set(directories)
    labels = list(named)
    for i, label in enumerate(labels):
        text, real = named[label]
        for other in labels[i + 1:]:
            if _same(real, named[other][1]):
                raise OutputError(f"{label} {text} and {other} {named[other][0]} are the same file: each output needs "
                                  "its own")
        for source, (source_text, source_real) in given.items():
            if _same(real, source_real):
                raise OutputError(f"{label} {text} is the {source} file {source_text}: refusing to write over an input; "
                                  "name another output")
        if label in folders:
            for other, (other_text, other_real) in list(given.items()) + [(o, named[o]) for o in labels if o != label]:
                if real in other_real.parents:
                    raise OutputError(f"{label} {text} holds {other} {other_text}, and is replaced whole: name "
                                      "another directory")


def _same(a: Path, b: Path) -> bool:
    """One file: the same resolved path, or (both existing) the same inode (a hard link)."""
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def output_format(path: str | Path, kind: str, label: Optional[str] = None, *, stream: bool = False) -> str:
    """The format of FORMATS[kind] that the final name's suffix (any case) names, or OutputError; a stream
    named without any suffix takes STREAM_FORMAT[kind]."""
    name = Path(os.fspath(path)).name.lower() or os.fspath(path)
    for suffix, fmt in sorted(FORMATS[kind].items(), key=lambda item: -len(item[0])):
        if name.endswith(suffix):
            return fmt
    suffix = Path(name).suffix
    if stream and not suffix and kind in STREAM_FORMAT:
        return STREAM_FORMAT[kind]
    found = f"unknown {kind} format {suffix!r}" if suffix else "no format suffix"
    raise OutputError(f"{label or os.fspath(path)}: {found}; expected {_expected(kind)}")


def _expected(kind: str) -> str:
    suffixes = list(FORMATS[kind])
    text = f"a name ending in {', '.join(suffixes[:-1])} or {suffixes[-1]} (any case)"
    return text + (" or - for standard output" if kind in STREAM_FORMAT else "")


def _descriptor(text: str) -> Optional[int]:
    if text in _DESCRIPTOR_NAMES:
        return _DESCRIPTOR_NAMES[text]
    match = _DESCRIPTOR_PATH.fullmatch(text)
    return int(match.group(1)) if match else None


def _check_writable(target: Path, exists: bool, name: str) -> None:
    """OutputError unless `target` can be written: a read-only file is not replaced, and its folder (or the
    nearest one that exists, where the missing ones are created) must let us create files."""
    if exists and not os.access(target, os.W_OK):
        raise OutputError(f"cannot write {name}: the file is read-only")
    _check_folder(target.parent, f"cannot write {name}", f"cannot write {name}")


def _check_folder(start: Path, not_a_folder: str, denied: str) -> None:
    """OutputError unless the nearest folder that exists at or above `start` (where the missing ones would be
    created) is a directory this process may create files in; the messages start with the two prefixes."""
    folder = start
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"{not_a_folder}: {folder} is not a directory")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{denied}: permission denied in {folder}")


def _replaceable(path: Path, directory: bool = False, name: Optional[str] = None) -> Path:
    """The file (or, with directory=True, the folder) that a write to `path` replaces: a symlink's target,
    which must be of that kind when it exists; OutputError otherwise (naming `name`, else the path)."""
    name = name or str(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    except OSError as err:
        raise OutputError(f"cannot write {name}: {err.strerror or err}", err.errno) from None
    if directory and not stat.S_ISDIR(mode):
        raise OutputError(f"cannot write {name}: it is {_NOT_WRITABLE.get(stat.S_IFMT(mode), 'a file')}, "
                          "not a directory; refusing to replace it with one")
    if not directory and not stat.S_ISREG(mode):
        raise OutputError(f"cannot write {name}: it is {_NOT_WRITABLE.get(stat.S_IFMT(mode), 'not a regular file')}")
    return target


# --- writing ------------------------------------------------------------------------

@contextmanager
def atomic_path(path: str | Path, label: Optional[str] = None) -> Iterator[Path]:
    """Yield a temporary path beside `path` (beside its target, for a symlink); on success it replaces that
    file in one rename, keeping the file's mode (a new file: the umask's). The temporary file is removed on
    every way out, SIGTERM included; an OSError of the write (disk full) is an OutputError naming `path`."""
    path = Path(path)
    name = label or str(path)
    target = _replaceable(path)
    with terminate_raises():
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            mode = os.stat(target).st_mode & 0o7777 if target.exists() else 0o666 & ~current_umask()
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            os.close(fd)
        except OSError as err:
            raise OutputError(f"cannot write {name}: {err.strerror or err}", err.errno) from None
        try:
            yield Path(tmp)
            with open(tmp, "rb") as f:  # flush to disk before the rename makes it visible
                os.fsync(f.fileno())
            os.chmod(tmp, mode)  # mkstemp makes 0600; a team shares these files
            os.replace(tmp, target)
        except OutputError:
            raise
        except OSError as err:
            raise OutputError(f"cannot write {name}: {err.strerror or err}", err.errno) from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


@contextmanager
def open_output(path: str | Path | Output, kind: Optional[str] = None) -> Iterator[BinaryIO]:
    """A binary file to write an output to (`path` checked by check_output, or an Output it gave): a temporary
    file renamed over the target at the end (atomic_path), or the stream itself. OutputError naming the path
    when the write fails."""
    out = path if isinstance(path, Output) else check_output(path, kind or "table")
    if out.target is not None:
        with atomic_path(out.target, out.name) as tmp, open(tmp, "wb") as stream:
            yield stream
        return
    try:
        stream = os.fdopen(os.dup(out.descriptor), "wb") if out.descriptor is not None else open(out.path, "wb")
    except OSError as err:
        raise OutputError(f"cannot write {out.name}: {err.strerror or err}", err.errno) from None
    try:
        yield stream
        stream.flush()
    except OSError as err:
        raise OutputError(f"cannot write {out.name}: {err.strerror or err}", err.errno) from None
    finally:
        try:
            stream.close()
        except OSError:
            pass  # the failure that matters was raised above


Table = Any  # a pandas DataFrame or a pyarrow Table


def write_table(table: Table | Iterable[Table], path: str | Path | Output) -> int:
    """Write a DataFrame or pyarrow Table, or an iterable of them (chunks, e.g. a generator: one chunk in
    memory at a time), to `path` in the format of its suffix (check_output); returns the rows written.

    Every chunk has the first one's columns (types are cast to the first chunk's). The index and a
    frame's `attrs` are not written; an object column of mixed types is written as text.
    """
    import pandas as pd
    import pyarrow as pa

    out = check_output(path, "table")
    chunks = iter([table] if isinstance(table, (pd.DataFrame, pa.Table)) else table)
    first = next(chunks, None)
    if first is None:
        raise ValueError("write_table got no table: give at least one (possibly empty) DataFrame")
    with open_output(out) as stream:
        return TABLE_WRITERS[out.format](_arrow_chunks(first, chunks), stream, out)


def _arrow_chunks(first: Table, rest: Iterator[Table]) -> Iterator[Any]:
    """The chunks as pyarrow Tables of the first one's schema."""
    import pyarrow as pa

    schema = None
    for i, chunk in enumerate(itertools.chain([first], rest)):
        table = _arrow(chunk)
        if schema is None:
            schema = table.schema
        elif not table.schema.equals(schema, check_metadata=False):
            if table.schema.names != schema.names:
                raise ValueError(f"chunk {i} of the table has columns {table.schema.names}, the first chunk {schema.names}")
            try:
                table = table.cast(schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                found = {f.name: f.type for f in table.schema}
                columns = [f"{f.name} ({found[f.name]}, the first chunk's {f.type})" for f in schema if found[f.name] != f.type]
                raise ValueError(f"chunk {i} of the table has other column types than the first chunk: "
                                 + ", ".join(columns)) from None
        yield table


def _arrow(chunk: Table) -> Any:
    import pandas as pd
    import pyarrow as pa

    if isinstance(chunk, pa.Table):
        return chunk
    if not isinstance(chunk, pd.DataFrame):
        raise TypeError(f"write_table takes DataFrames or pyarrow Tables, got {type(chunk).__name__}")
    frame = chunk.copy(deep=False)
    frame.attrs = {}  # diagnostics riding on the frame are no part of the table (and need not be JSON)
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # an object column of mixed types (ids 7 and 'P7'): as text
        mixed = {c: frame[c].map(lambda v: None if _missing(v) else str(v)) for c in frame.columns if frame[c].dtype == object}
        return pa.Table.from_pandas(frame.assign(**mixed), preserve_index=False)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


CSV_ROWS_PER_TEXT = 1 << 17


def _write_csv(chunks: Iterator[Any], stream: BinaryIO, out: Output) -> int:
    """Each chunk is made into CSV text in one of two threads while the next chunks are made, and written in
    order (the same bytes as one pyarrow CSVWriter: the header with the first chunk)."""
    import pyarrow as pa
    import pyarrow.csv as csv

    def encode(i: int, table: Any) -> tuple[list, int]:
        texts = []
        for start in range(0, max(table.num_rows, 1), CSV_ROWS_PER_TEXT):  # small texts: a growing buffer doubles
            text = pa.BufferOutputStream()
            header = i == 0 and start == 0
            csv.write_csv(table.slice(start, CSV_ROWS_PER_TEXT), text,
                          write_options=csv.WriteOptions(include_header=header, quoting_style="needed"))
            texts.append(text.getvalue())
        return texts, table.num_rows

    sink, rows = _unbuffered(stream), 0
    with closing(_in_threads(encode, chunks, workers=2)) as encoded:
        for texts, n in encoded:
            for text in texts:
                sink.write(text)
            rows += n
    return rows


class _WholeWrites:
    """A raw (unbuffered) binary file whose write() writes all it is given: pyarrow's writers buffer on their
    own, and a Python buffer in between costs about 40% of a CSV's writing time; a raw write may be partial."""

    def __init__(self, raw: Any):
        self.raw = raw

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        while view:
            view = view[self.raw.write(view) or 0:]
        return len(data)

    def flush(self) -> None:
        self.raw.flush()

    @property
    def closed(self) -> bool:
        return self.raw.closed


def _unbuffered(stream: BinaryIO) -> Any:
    """The raw file under an (empty) Python buffered writer, as _WholeWrites; any other stream as it is."""
    import io

    if isinstance(stream, io.BufferedWriter):
        stream.flush()
        return _WholeWrites(stream.raw)
    return stream


def _write_csv_gz(chunks: Iterator[Any], stream: BinaryIO, out: Output) -> int:
    # mtime 0: the same rows give the same bytes; the name inside is the final file's, never the temporary one's
    with gzip.GzipFile(filename=Path(out.path).name, mode="wb", fileobj=stream, compresslevel=6, mtime=0) as packed:
        return _write_csv(chunks, packed, out)


def _write_parquet(chunks: Iterator[Any], stream: BinaryIO, out: Output) -> int:
    """One pyarrow ParquetWriter (opened on the first chunk's schema), a chunk one row group or more, each
    written in a thread of its own while the next chunk is made."""
    import pyarrow.parquet as parquet

    sink, writer = _unbuffered(stream), []

    def write(i: int, table: Any) -> int:
        if not writer:
            writer.append(parquet.ParquetWriter(sink, table.schema))
        writer[0].write_table(table)
        return table.num_rows

    try:
        with closing(_in_threads(write, chunks, workers=1)) as written:
            rows = sum(written)
    except BaseException:
        if writer:
            try:
                writer[0].close()  # now, not in a destructor that would complain; the file is dropped anyway
            except Exception:
                pass
        raise
    writer[0].close()
    return rows


def _in_threads(work: Callable[[int, Any], Any], chunks: Iterator[Any], *, workers: int) -> Iterator[Any]:
    """work(i, chunk) for each chunk in a pool of `workers` threads, at most that many chunks at a time, while
    the next chunks are made (pyarrow lets go of the GIL: making and writing the chunks of `nba-ml sample`
    overlap); the results in the chunks' order."""
    from concurrent.futures import ThreadPoolExecutor, wait

    pending: deque = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="write_table") as pool:
        try:
            for i, chunk in enumerate(chunks):
                if len(pending) == workers:
                    yield pending.popleft().result()
                pending.append(pool.submit(work, i, chunk))
            while pending:
                yield pending.popleft().result()
        finally:
            wait(pending)  # nothing is left writing when this ends
            # a future holds its exception, whose traceback holds this frame: a cycle, left to a later collection
            # (one inside a parse tripped CPython 3.11's AST recursion check in the tests)
            pending.clear()


TABLE_WRITERS: dict[str, Callable[[Iterator[Any], BinaryIO, Output], int]] = {
    "csv": _write_csv, "csv.gz": _write_csv_gz, "parquet": _write_parquet}


@contextmanager
def atomic_directory(path: str | Path, kind: SavedDirectory, label: Optional[str] = None) -> Iterator[Path]:
    """Yield a new empty directory beside `path`; on success it takes the place of `path` (whole, never mixed).

    Only an empty directory, or one holding an earlier output of `kind` and nothing else, is replaced
    (check_replaceable_directory, first). An existing `path` is renamed aside first and removed after the
    swap, so a reader sees the old directory, then (after a moment with none) the new one; never a mix.
    A symlink is followed (the directory it points to is replaced, the link kept); a file at `path` is
    refused (OutputError), never replaced by a directory. A write that fails in the body (a full disk) is an
    OutputError naming `path`, and leaves the old directory as it was.
    """
    name = f"{label} {os.fspath(path)}" if label else os.fspath(path)
    path = check_replaceable_directory(path, kind, label)
    with terminate_raises():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        except OSError as err:
            raise OutputError(f"cannot write {name}: {err.strerror or err}", err.errno) from None
        old = None
        try:
            try:
                yield tmp
                os.chmod(tmp, 0o777 & ~current_umask())
                if path.exists():
                    check_replaceable_directory(path, kind, label)  # as it is now, after the work
                    old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
                    os.replace(path, old / path.name)
                os.replace(tmp, path)
            except OutputError:
                raise
            except OSError as err:
                if old is not None and not path.exists():  # put the old directory back
                    os.replace(old / path.name, path)
                raise OutputError(f"cannot write {name}: {err.strerror or err}", err.errno) from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)


def save_tensors(obj: Any, path: str | Path) -> None:
    """torch.save(obj) to `path` through a Python file, so that a write that fails (a full disk) is the OSError it
    is: torch's zip writer, handed a path, fails in its C++ serializer, and handed a file it raises a
    RuntimeError while the OSError is being handled; here that OSError is raised."""
    import torch

    with open(path, "wb") as stream:
        try:
            torch.save(obj, stream)
        except RuntimeError as err:
            if isinstance(err.__context__, OSError):
                raise err.__context__ from None
            raise


def read_tensors(path: str | Path, error: type[ValueError]) -> Any:
    """torch.load(path, weights_only=True): tensors and plain containers only; any failure is `error` naming the file."""
    import torch

    try:
        with warnings.catch_warnings():  # e.g. "Detected pickle protocol 4": the failure below says it better
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        # torch names what the safe unpickler met: "Unsupported global: GLOBAL print ..." for
        # an object, "Unsupported operand ..." for bytes that are no pickle at all.
        reason = str(err).split("WeightsUnpickler error:")[-1].strip().splitlines()[0].split(". ")[0]
        if "Unsupported global" in reason:
            raise error(f"{path} holds objects other than tensors and plain containers; "
                        f"refusing to unpickle them ({reason})") from None
        raise error(f"{path} is not a readable checkpoint ({reason})") from None
    except OSError as err:
        raise error(f"{path}: cannot read it ({err.strerror or err})") from None
    except Exception as err:  # a damaged file: torch raises RuntimeError, KeyError, EOFError, IndexError, ...
        first = str(err).strip().splitlines()[0].split(". ")[0] if str(err).strip() else ""
        raise error(f"{path} is not a readable checkpoint ({type(err).__name__}: {first})") from None


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
