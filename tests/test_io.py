"""nba_ml.io: outputs that never destroy what is at their path, in the format their name asks for."""
import errno
import gzip
import io
import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings, strategies as st

from nba_ml.errors import InputError, OutputError
from nba_ml.io import (SavedDirectory, atomic_directory, atomic_path, check_apart, check_output,
                       check_replaceable_directory, open_output, write_table, write_text_atomic)
from nba_ml.plots import plt, save_figure

ROOT = Path(__file__).resolve().parents[1]
TABLE = pd.DataFrame({"PLAYER_ID": [7, 9, 11], "LOC_X": [0.5, -230.0, 12.25], "ZONE": ["Paint", "Left, Corner 3", "x\ry"]})
SAVED = SavedDirectory("model", "model.yaml", ("*.pt",))
MAGIC = {"csv": b'"PLAYER_ID"', "csv.gz": b"\x1f\x8b", "parquet": b"PAR1", "png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}


def read_back(path: Path, fmt: str) -> pd.DataFrame:
    """The table as an independent reader sees it (pandas on the file's bytes, in the format given)."""
    data = path.read_bytes()
    if fmt == "parquet":
        return pd.read_parquet(io.BytesIO(data))
    return pd.read_csv(io.BytesIO(gzip.decompress(data) if fmt == "csv.gz" else data))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("name, fmt", [("t.csv", "csv"), ("t.CSV", "csv"), ("t.Csv.Gz", "csv.gz"), ("t.csv.GZ", "csv.gz"),
                                       ("t.parquet", "parquet"), ("t.PARQUET", "parquet")])
def test_a_table_is_written_in_the_format_of_its_name_in_any_case(tmp_path, name, fmt):
    path = tmp_path / name
    assert write_table(TABLE, path) == 3
    assert path.read_bytes().startswith(MAGIC[fmt])
    pd.testing.assert_frame_equal(read_back(path, fmt), TABLE, check_dtype=False)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("name, fmt", [("c.png", "png"), ("c.SVG", "svg"), ("c.Pdf", "pdf")])
def test_a_picture_is_written_in_the_format_of_its_name(tmp_path, name, fmt):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    save_figure(fig, tmp_path / name)
    plt.close(fig)
    assert (tmp_path / name).read_bytes().startswith(MAGIC[fmt])


@pytest.mark.parametrize("name, kind, message", [
    ("shots.txt", "table", r"shots.txt: unknown table format '.txt'; expected a name ending in .csv, .csv.gz or .parquet"),
    ("shots.csv.bz2", "table", r"unknown table format '.bz2'"),
    ("shots", "table", r"shots: no format suffix; expected a name ending in .csv"),
    ("chart.jpg", "picture", r"chart.jpg: unknown picture format '.jpg'; expected a name ending in .png, .svg or .pdf"),
    ("-", "picture", r"-: no format suffix; expected a name ending in .png, .svg or .pdf \(any case\)$"),
])
def test_an_unknown_suffix_is_refused_before_anything_is_written(tmp_path, name, kind, message):
    path = name if name == "-" else tmp_path / name
    with pytest.raises(OutputError, match=message):
        check_output(path, kind)
    with pytest.raises(OutputError, match=message):
        write_table(TABLE, path) if kind == "table" else open_output(path, kind).__enter__()
    assert list(tmp_path.iterdir()) == []


def test_a_directory_or_a_socket_is_refused_naming_what_it_is(tmp_path):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(OutputError, match=r"^--out .*d.csv is a directory; expected a name ending in"):
        check_output(tmp_path / "d.csv", "table", "--out")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "s.csv"))
    try:
        with pytest.raises(OutputError, match=r"s.csv is a socket"):
            write_table(TABLE, tmp_path / "s.csv")
        assert stat.S_ISSOCK(os.stat(tmp_path / "s.csv").st_mode)
    finally:
        server.close()
    assert (tmp_path / "d.csv").is_dir() and list((tmp_path / "d.csv").iterdir()) == []


def test_a_block_device_is_refused():
    devices = [entry.path for entry in os.scandir("/dev") if stat.S_ISBLK(os.stat(entry.path).st_mode)] if os.path.isdir("/dev") else []
    if not devices:
        pytest.skip("no block device on this machine")
    with pytest.raises(OutputError, match=r"is a block device"):
        check_output(devices[0], "table")


def test_a_symlink_is_followed_its_target_replaced_and_the_link_kept(tmp_path):
    (tmp_path / "data").mkdir()
    target = tmp_path / "data" / "v1.csv"
    target.write_text("old\n")
    link = tmp_path / "latest.csv"
    link.symlink_to(Path("data") / "v1.csv")
    write_table(TABLE, link)
    assert link.is_symlink() and os.readlink(link) == str(Path("data") / "v1.csv")
    pd.testing.assert_frame_equal(pd.read_csv(target), TABLE, check_dtype=False)
    dangling = tmp_path / "new.parquet"
    dangling.symlink_to(tmp_path / "data" / "made.parquet")
    write_table(TABLE, dangling)
    assert dangling.is_symlink() and len(pd.read_parquet(tmp_path / "data" / "made.parquet")) == 3
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "data") == []


def test_a_fifo_is_written_through_to_its_reader(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    check = check_output(fifo, "table")
    assert check.stream and check.format == "csv"
    write_table(TABLE, fifo)
    reader.join(timeout=10)
    pd.testing.assert_frame_equal(pd.read_csv(io.BytesIO(received[0])), TABLE, check_dtype=False)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still the FIFO, never replaced by a file


def test_a_character_device_is_written_through_and_a_full_disk_names_the_file():
    assert write_table(TABLE, "/dev/null") == 3 and stat.S_ISCHR(os.stat("/dev/null").st_mode)
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with pytest.raises(OutputError, match=r"^cannot write /dev/full: No space left on device$") as raised:
        write_table(TABLE, "/dev/full")
    assert raised.value.errno == errno.ENOSPC and stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_failed_write_names_the_file_and_leaves_the_old_one(tmp_path, monkeypatch):
    path = tmp_path / "shots.csv"
    path.write_text("old\n")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError, match=rf"^cannot write {path}: No space left on device$") as raised:
        write_table(TABLE, path)
    assert raised.value.errno == errno.ENOSPC and isinstance(raised.value, OSError)
    assert path.read_text() == "old\n" and leftovers(tmp_path) == []


def test_a_chunk_that_fails_leaves_the_old_file_and_no_temporary_one(tmp_path):
    path = tmp_path / "shots.parquet"
    write_table(TABLE, path)
    before = path.read_bytes()

    def chunks():
        yield TABLE
        raise RuntimeError("the sampler failed")
    with pytest.raises(RuntimeError, match="the sampler failed"):
        write_table(chunks(), path)
    assert path.read_bytes() == before and leftovers(tmp_path) == []


def test_a_replaced_file_keeps_its_mode_and_a_new_one_gets_the_umask(tmp_path):
    kept = tmp_path / "private.csv"
    kept.write_text("old\n")
    kept.chmod(0o600)
    write_table(TABLE, kept)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    old_mask = os.umask(0o027)
    try:
        write_table(TABLE, tmp_path / "new.csv")
    finally:
        os.umask(old_mask)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o640


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes read-only files anyway")
def test_a_read_only_file_is_refused_not_replaced(tmp_path):
    path = tmp_path / "frozen.csv"
    path.write_text("old\n")
    path.chmod(0o444)
    with pytest.raises(OutputError, match="frozen.csv: the file is read-only"):
        check_output(path, "table")
    assert path.read_text() == "old\n"


def test_chunks_are_written_one_by_one_as_row_groups(tmp_path):
    def chunks():
        for i in range(3):
            yield pd.DataFrame({"CHART_ID": [f"{i}:0", f"{i}:1"], "LOC_X": [float(i), i + 0.5]})
    for name in ("c.csv", "c.csv.gz", "c.parquet"):
        assert write_table(chunks(), tmp_path / name) == 6
    expected = pd.concat(list(chunks()), ignore_index=True)
    for name, fmt in (("c.csv", "csv"), ("c.csv.gz", "csv.gz"), ("c.parquet", "parquet")):
        pd.testing.assert_frame_equal(read_back(tmp_path / name, fmt), expected, check_dtype=False)
    assert pq.ParquetFile(tmp_path / "c.parquet").num_row_groups == 3
    whole = pa.BufferOutputStream()  # chunks encoded apart, header once: the bytes of one writer of the whole table
    pa.csv.write_csv(pa.Table.from_pandas(expected), whole, write_options=pa.csv.WriteOptions(quoting_style="needed"))
    assert (tmp_path / "c.csv").read_bytes() == whole.getvalue().to_pybytes()
    assert write_table([pa.table({"a": [1, 2]}), pa.table({"a": [3]})], tmp_path / "arrow.csv") == 3


def test_chunks_must_share_their_columns(tmp_path):
    with pytest.raises(ValueError, match=r"chunk 1 of the table has columns \['b'\], the first chunk \['a'\]"):
        write_table([pd.DataFrame({"a": [1]}), pd.DataFrame({"b": [1]})], tmp_path / "x.csv")
    with pytest.raises(ValueError, match="write_table got no table"):
        write_table([], tmp_path / "x.csv")
    assert leftovers(tmp_path) == [] and not (tmp_path / "x.csv").exists()


def test_attrs_never_break_a_write_and_mixed_ids_are_written_as_text(tmp_path):
    frame = pd.DataFrame({"PLAYER_ID": pd.Series([203078, "P203078", None], dtype=object), "LOC_X": [1.0, 2.0, 3.0]})
    frame.attrs["posterior"] = pd.DataFrame({"SHOTS": [1]})  # not JSON: pandas' own to_parquet put it in the metadata
    frame.attrs["dropped"] = {"off_court": 1}
    write_table(frame, tmp_path / "x.parquet")
    back = pd.read_parquet(tmp_path / "x.parquet")
    assert back["PLAYER_ID"].tolist()[:2] == ["203078", "P203078"] and pd.isna(back["PLAYER_ID"][2])
    assert frame.attrs["dropped"] == {"off_court": 1}  # the caller's frame keeps its attrs


def test_standard_output_is_written_through_its_descriptor(tmp_path):
    """`-` appends to what a `>>` redirection holds: the descriptor is written, never the file reopened."""
    target = tmp_path / "log.csv"
    target.write_text("kept\n")
    code = "import pandas as pd, sys; from nba_ml.io import write_table; write_table(pd.DataFrame({'a': [1, 2]}), sys.argv[1])"
    for name in ("-", "/dev/stdout"):
        with open(target, "ab") as out:
            subprocess.run([sys.executable, "-c", code, name], stdout=out, check=True, cwd=ROOT)
    assert target.read_text().replace('"', "") == "kept\na\n1\n2\na\n1\n2\n"


def test_every_atomic_write_follows_a_symlink(tmp_path):
    """STATUS.md, checkpoints, summaries: written through atomic_path, which keeps a link and replaces its target."""
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "STATUS.md").write_text("old")
    (tmp_path / "STATUS.md").symlink_to(tmp_path / "shared" / "STATUS.md")
    write_text_atomic(tmp_path / "STATUS.md", "new")
    assert (tmp_path / "STATUS.md").is_symlink() and (tmp_path / "shared" / "STATUS.md").read_text() == "new"
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "shared") == []


def test_atomic_path_refuses_what_is_not_a_regular_file(tmp_path):
    (tmp_path / "STATUS.md").mkdir()
    with pytest.raises(OutputError, match="STATUS.md: it is a directory"):
        with atomic_path(tmp_path / "STATUS.md") as tmp:
            tmp.write_text("x")
    assert (tmp_path / "STATUS.md").is_dir() and leftovers(tmp_path) == []


def test_atomic_directory_never_replaces_a_file_and_follows_a_link(tmp_path):
    (tmp_path / "model").write_text("a file, not a model")
    with pytest.raises(OutputError, match="model: it is a file, not a directory; refusing to replace it with one"):
        with atomic_directory(tmp_path / "model", SAVED):
            pass
    assert (tmp_path / "model").read_text() == "a file, not a model"
    (tmp_path / "v2").mkdir()
    (tmp_path / "current").symlink_to("v2")
    with atomic_directory(tmp_path / "current", SAVED) as tmp:
        (tmp / "model.yaml").write_text("new")
    assert (tmp_path / "current").is_symlink() and (tmp_path / "v2" / "model.yaml").read_text() == "new"
    assert leftovers(tmp_path) == []


def test_output_errors_are_input_errors_the_cli_prints_in_one_line(tmp_path):
    with pytest.raises(InputError):
        check_output(tmp_path, "table")


def test_a_table_goes_to_the_raw_file_whole_even_when_the_file_takes_a_few_bytes_at_a_time(tmp_path):
    """The pyarrow writers write to the raw file under Python's buffer (they buffer on their own); a raw write
    may take fewer bytes than given, and the rest is written after it."""
    from nba_ml.io import _write_csv, check_output

    class Stingy(io.FileIO):
        def write(self, data):
            return super().write(bytes(memoryview(data)[:3]))

    frame = pd.DataFrame({"A": range(1000), "B": ["x, y"] * 1000})
    path = tmp_path / "t.csv"
    with io.BufferedWriter(Stingy(path, "wb")) as stream:
        assert _write_csv(iter([pa.Table.from_pandas(frame)]), stream, check_output(path, "table")) == 1000
    pd.testing.assert_frame_equal(pd.read_csv(path), frame)


@pytest.mark.parametrize("name", ["c.csv", "c.parquet"])
def test_a_chunk_is_written_while_the_next_one_is_made_and_a_failed_write_still_names_the_file(tmp_path, monkeypatch, name):
    """The file takes chunk 0 only once chunk 1 is being made: written one after the other, this would time out.
    A write that fails in the writing thread is raised as the file's OutputError, and the old file stays."""
    import nba_ml.io as nba_io

    making_next, fail = threading.Event(), threading.Event()

    class Gated:
        def __init__(self, raw):
            self.raw = raw

        def write(self, data):
            if len(data) >= 64:  # chunk data, not a format's magic bytes
                if not making_next.wait(10):
                    raise TimeoutError("chunk 0 was written before chunk 1 was asked for")
                if fail.is_set():
                    fail.clear()  # once: the writer's close after it succeeds (else pyarrow retries it when collected)
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.raw.write(data)

        def flush(self):
            self.raw.flush()

        @property
        def closed(self):
            return self.raw.closed

    unbuffered = nba_io._unbuffered
    monkeypatch.setattr(nba_io, "_unbuffered", lambda stream: Gated(unbuffered(stream)))
    frame = pd.DataFrame({"A": range(1000), "B": ["x, y"] * 1000})

    def chunks():
        yield frame
        making_next.set()
        yield frame
    path = tmp_path / name
    assert write_table(chunks(), path) == 2000
    pd.testing.assert_frame_equal(read_back(path, name.split(".", 1)[1]), pd.concat([frame, frame], ignore_index=True))
    before = path.read_bytes()
    fail.set()
    with pytest.raises(OutputError, match=rf"^cannot write {path}: No space left on device$"):
        write_table([frame, frame], path)
    assert path.read_bytes() == before and leftovers(tmp_path) == []


def tree(folder: Path) -> dict:
    """Every path under `folder` with its bytes (None for a folder): what must survive a refused write."""
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes() for p in sorted(folder.rglob("*"))}


def test_a_directory_holding_anything_but_its_own_output_is_never_replaced(tmp_path, monkeypatch):
    own = tmp_path / "model"
    own.mkdir()
    (own / "model.yaml").write_text("old")
    (own / "generator.pt").write_text("old")
    with atomic_directory(own, SAVED) as tmp:  # an earlier output of its kind: replaced whole
        (tmp / "model.yaml").write_text("new")
    assert tree(own) == {"model.yaml": b"new"}
    mine = tmp_path / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "notes.txt").write_text("keep me")
    (mine / "model.yaml").write_text("looks like one")
    before = tree(tmp_path)
    with pytest.raises(OutputError, match=r"mine holds 2 entries that are not model files \('notes.txt', 'sub'\): it "
                                          r"would be replaced whole, and only an empty directory or one holding model "
                                          r"files alone is; give a new or empty directory$"):
        with atomic_directory(mine, SAVED) as tmp:
            (tmp / "model.yaml").write_text("new")
    (tmp_path / "only.pt").mkdir()
    (tmp_path / "only.pt" / "x.pt").write_text("a .pt without model.yaml is no model")
    with pytest.raises(OutputError, match="only.pt holds 1 entry that is not model files"):
        check_replaceable_directory(tmp_path / "only.pt", SAVED)
    (tmp_path / "link").symlink_to(mine)
    with pytest.raises(OutputError, match="link holds 2 entries"):  # through a symlink: its target is what counts
        check_replaceable_directory(tmp_path / "link", SAVED, "--out")
    assert tree(mine) == {k.removeprefix("mine/"): v for k, v in before.items() if k.startswith("mine/")}
    (tmp_path / "empty").mkdir()
    assert check_replaceable_directory(tmp_path / "empty", SAVED) == tmp_path / "empty"


@pytest.mark.parametrize("spelling", [".", "./", "", "$PWD", "../w", "..", "/"])
def test_the_working_directory_in_any_spelling_is_refused(tmp_path, monkeypatch, spelling):
    work = tmp_path / "w"
    work.mkdir()
    (work / "mine.csv").write_text("x")
    monkeypatch.chdir(work)
    path = spelling.replace("$PWD", str(work))
    expected = {"": "--out is empty", "..": "holds the working directory", "/": "holds the working directory"}
    with pytest.raises(OutputError, match=expected.get(spelling, "is the working directory: it would be replaced whole")):
        check_replaceable_directory(path, SAVED, "--out")
    assert tree(tmp_path) == {"w": None, "w/mine.csv": b"x"}


def test_a_failed_write_inside_a_directory_names_it_and_leaves_the_old_one(tmp_path):
    own = tmp_path / "model"
    own.mkdir()
    (own / "model.yaml").write_text("old")
    with pytest.raises(OutputError, match=r"^cannot write --out .*model: No space left on device$") as raised:
        with atomic_directory(own, SAVED, "--out") as tmp:
            (tmp / "model.yaml").write_text("half")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert raised.value.errno == errno.ENOSPC and tree(own) == {"model.yaml": b"old"} and leftovers(tmp_path) == []


def test_outputs_that_are_one_file_or_an_input_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("q.csv").write_text("x")
    os.link("q.csv", "hard.csv")
    Path("soft.csv").symlink_to(tmp_path / "q.csv")
    for out in ("q.csv", "hard.csv", "soft.csv", "./q.csv", str(tmp_path / "q.csv")):
        with pytest.raises(OutputError, match=rf"^--out {out} is the --queries file q.csv: refusing to write over an "
                                              "input; name another output$"):
            check_apart({"--out": out}, {"--queries": "q.csv"})
    with pytest.raises(OutputError, match="^--out p.csv and --zones-out ./p.csv are the same file: each output needs its own$"):
        check_apart({"--out": check_output("p.csv", "table"), "--zones-out": "./p.csv"})
    with pytest.raises(OutputError, match=r"^--out . holds --observed hard.csv, and is replaced whole"):
        check_apart({"--out": "."}, {"--observed": "hard.csv"}, directories=["--out"])
    with pytest.raises(OutputError, match=r"^--out d holds --plot d/cards.png, and is replaced whole"):
        check_apart({"--out": "d", "--plot": "d/cards.png"}, directories=["--out"])
    check_apart({"--out": "-", "--zones-out": "/dev/null"}, {"--queries": "/dev/null"})  # streams are never compared
    check_apart({"--out": "a.csv", "--zones-out": "b.csv"}, {"--queries": "q.csv", "--observed": None})


SPELLINGS = {  # ways to name the input q.csv (in the working directory w) or another file
    "plain": "q.csv", "dotted": "./q.csv", "absolute": "{w}/q.csv", "round_trip": "../w/q.csv", "doubled": ".//q.csv",
    "through_sub": "sub/../q.csv", "symlink": "soft.csv", "hard_link": "hard.csv", "link_to_link": "softer.csv",
    "linked_folder": "lw/q.csv", "other": "other.csv", "new": "new.csv", "new_in_sub": "sub/q.csv",
}
SAME = {"plain", "dotted", "absolute", "round_trip", "doubled", "through_sub", "symlink", "hard_link", "link_to_link",
        "linked_folder"}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(SPELLINGS)), st.sampled_from(sorted(SPELLINGS)), st.booleans())
def test_any_spelling_of_an_input_or_of_the_other_output_is_refused_and_nothing_else(out, zones, as_input):
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "w"
        (work / "sub").mkdir(parents=True)
        for name in ("q.csv", "other.csv"):
            (work / name).write_text(name)
        os.link(work / "q.csv", work / "hard.csv")
        (work / "soft.csv").symlink_to(work / "q.csv")
        (work / "softer.csv").symlink_to(work / "soft.csv")
        (work / "lw").symlink_to(work)
        here = os.getcwd()
        os.chdir(work)
        try:
            before = tree(Path(tmp))
            out_path, zones_path = (SPELLINGS[k].format(w=work) for k in (out, zones))
            try:
                if as_input:  # --out against the input --queries q.csv
                    check_apart({"--out": out_path}, {"--queries": zones_path})
                else:  # two outputs
                    check_apart({"--out": out_path, "--zones-out": zones_path})
            except OutputError as err:
                assert "\n" not in str(err)
                refused = True
            else:
                refused = False
            assert tree(Path(tmp)) == before
        finally:
            os.chdir(here)
    one_file = (out in SAME and zones in SAME) or out == zones
    assert refused == one_file
