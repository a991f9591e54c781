"""Saved profiles: written only where nothing else is lost, checked field by field when loaded, and every
PlayerProfiles argument refused in one line of the package's own errors."""
import errno
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nba_ml.errors import InputError, ModelFileError, OutputError, ResourceError
from nba_ml.shots.player.profiles import PlayerProfiles
from nba_ml.shots.player.profiles_file import META_FILE, TENSORS, TENSORS_FILE
from nba_ml.shots.synthetic import synthetic_league
from nba_ml.shots.training import train_shot_model
from tests.shots.player.conftest import TINY

FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                HealthCheck.function_scoped_fixture], database=None)


@pytest.fixture(scope="module")
def profiles(model):
    return model.player_profiles(synthetic_league(3, 40, seed=7), seed=3, charts=6)


@pytest.fixture(scope="module")
def saved(profiles, tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved") / "p"
    profiles.save(folder)
    return folder


def tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): None if p.is_dir() and not p.is_symlink() else
            (os.readlink(p) if p.is_symlink() else p.read_bytes()) for p in sorted(folder.rglob("*"))}


def edited(saved: Path, into: Path, meta=None, tensors=None) -> Path:
    """A copy of the saved profiles with profiles.json and/or profiles.pt changed by the functions given."""
    shutil.copytree(saved, into)
    if meta is not None:
        raw = json.loads((into / META_FILE).read_text())
        meta(raw)
        (into / META_FILE).write_text(json.dumps(raw))
    if tensors is not None:
        raw = torch.load(into / TENSORS_FILE, weights_only=True)
        tensors(raw)
        torch.save(raw, into / TENSORS_FILE)
    return into


def setter(key, value):
    return lambda raw: raw.__setitem__(key, value)


def tensor_set(name, index, value):
    def change(raw):
        flat = raw[name].reshape(-1).clone()
        put = value  # an index tensor takes the nearest integer, a huge one for NaN and infinities
        if not flat.is_floating_point():
            put = int(value) if np.isfinite(value) and abs(value) < 2 ** 62 else 2 ** 40
        elif flat.dtype == torch.float32:  # 1e300 is an infinity in float32, as a file would hold it
            with np.errstate(over="ignore"):
                put = float(np.float32(value))
        flat[index] = put
        raw[name] = flat.reshape(raw[name].shape)
    return change


# A simulator loads profiles and draws from them without the GAN or any training code (profiles.py promises it).
LOAD_AND_DRAW = """
import sys
from nba_ml.shots.player.profiles import PlayerProfiles
p = PlayerProfiles.load(sys.argv[1])
p.sample(5, draws=2, seed=0); p.make_prob(p.player_ids[:1], [0.0], [10.0], draws=2, seed=0); p.table()
print(" ".join(sorted(m for m in sys.modules if m.split(".")[:2] == ["nba_ml", "gan"] or m.endswith(".training"))))
"""


def test_loading_and_drawing_from_profiles_imports_no_gan_and_no_training_code(saved):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", LOAD_AND_DRAW, str(saved)], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).parents[3])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [], f"imported: {done.stdout.strip()}"


# --- what load refuses: one line naming the file and the field ---------------------------------------------

META_EDITS = {
    "two equal ids": (lambda m: m.__setitem__("player_ids", [m["player_ids"][0]] * len(m["player_ids"])),
                      r"profiles.json: invalid profiles file: player_ids: Value error, must be distinct, got \[1\] more than once \(got \[1, 1, 1\]\)$"),
    "an id dropped": (lambda m: m["player_ids"].pop(), r"player_ids: Value error, 2 ids for 3 players"),
    "a NaN id": (lambda m: m["player_ids"].__setitem__(0, None), r"player_ids\.0\.int: Input should be a valid integer"),
    "an id past int64": (lambda m: m["player_ids"].__setitem__(0, 2 ** 70), r"must be 64-bit integers or non-empty text"),
    "a seed of text": (setter("seed", "abc"), r"seed: Input should be a valid integer \(got 'abc'\)"),
    "a negative count": (lambda m: m["players"][0].__setitem__("SHOTS", -4), r"players\.0\.SHOTS: Input should be greater than or equal to 0"),
    "an unknown group": (lambda m: m["players"][0].__setitem__("POSITION_GROUP", "PG"), r"players: Value error, POSITION_GROUP \['PG'\] is not among position_groups"),
    "a group twice": (setter("position_groups", ["G", "G", "C"]), r"position_groups: Value error, must be distinct names"),
    "a negative blur": (setter("blur", -1), r"blur: Input should be greater than or equal to 0"),
    "a blur wider than the court": (setter("blur", 1e9), r"blur: expected at most the grid's 16 cells .*got 1000000000\.0"),
    "an unknown field": (setter("extra", 1), r"extra: Extra inputs are not permitted"),
    "another format": (setter("format", 1), r"not player profiles of format 3 \(format: 1\); build them again"),
}


TENSOR_EDITS = {
    "a NaN make surface": (tensor_set("surface", 5, float("nan")), r"surface: holds NaN or infinite values"),
    "a record share of 5": (tensor_set("record_share", 0, 5.0), r"record_share: values outside \[0, 1\] \(e.g. 5\)"),
    "a negative weight": (tensor_set("weights", 0, -0.5), r"weights: values outside \[0, 1\]"),
    "weights not summing to 1": (tensor_set("weights", 0, 0.0), r"weights: a chart's weights must sum to 1"),
    "a label past the groups": (tensor_set("labels", 0, 7), r"labels: values outside \[0, 2\] \(e.g. 7\)"),
    "a record cell off the grid": (tensor_set("record_cells", 0, 10 ** 6), r"record_cells: values outside \[0, 255\]"),
    "offsets that do not split the cells": (tensor_set("record_offsets", 1, 10 ** 6), r"record_offsets: must rise from 0"),
    "a covariance that is none": (tensor_set("skill_cov", 0, -5.0), r"skill_cov: a covariance must be (symmetric|positive definite)"),
    "a make row past the surface": (tensor_set("group", 0, 9), r"group: values outside \[0, 3\]"),
    "a league FG% of 2": (tensor_set("league_fg", 0, 2.0), r"league_fg: values outside \[0, 1\]"),
    "another dtype": (lambda t: t.__setitem__("weights", t["weights"].double()), r"weights: expected float32 of shape \(7, 6, 4\) \(3 players and 4 priors in profiles.json\)"),
    "another shape": (lambda t: t.__setitem__("labels", t["labels"][:2]), r"labels: expected int64 of shape \(7, 6\) .* got int64 of shape \(2, 6\)"),
    "a tensor missing": (lambda t: t.pop("skill_cov"), r"missing tensor\(s\) \['skill_cov'\] \(a make model needs all of"),
    "a tensor unknown": (lambda t: t.__setitem__("extra", torch.zeros(1)), r"unknown tensor\(s\) \['extra'\]"),
    "not a mapping": (lambda t: t.clear() or t.__setitem__("maps", [1]), r"maps: expected a tensor, got list|missing tensor"),
}


EDITS = {**{name: (META_FILE, {"meta": edit}, message) for name, (edit, message) in META_EDITS.items()},
         **{name: (TENSORS_FILE, {"tensors": edit}, message) for name, (edit, message) in TENSOR_EDITS.items()}}


@pytest.mark.parametrize("file, edit, message", EDITS.values(), ids=list(EDITS))
def test_an_edited_profiles_file_is_refused_naming_the_file_and_field(saved, tmp_path, file, edit, message):
    folder = edited(saved, tmp_path / "p", **edit)
    with pytest.raises(ModelFileError, match=message) as raised:
        PlayerProfiles.load(folder)
    assert "\n" not in str(raised.value) and str(folder / file) in str(raised.value)


VALUES = st.sampled_from([float("nan"), float("inf"), -1.0, 5.0, 1e300, -2.0 ** 40, 0.0, 0.5, 1.0, 3.0])


@FUZZ
@given(st.sampled_from(list(TENSORS)), st.integers(0, 10 ** 6), VALUES)
@example("record_share", 0, 5.0)
@example("skill_cov", 1, 0.5)
def test_any_changed_value_is_refused_at_load_or_gives_finite_answers(saved, name, index, value):
    """A value changed in profiles.pt with its shape kept: refused at load naming the file and tensor, or the
    profiles load and answer every call with finite probabilities and shares (never a raw error, a NaN, or a
    FG% of -2.6e305)."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = torch.load(saved / TENSORS_FILE, weights_only=True)
        index %= raw[name].numel()
        folder = edited(saved, Path(tmp) / "p", tensors=tensor_set(name, index, value))
        try:
            loaded = PlayerProfiles.load(folder)
        except ModelFileError as err:
            assert "\n" not in str(err) and f"{folder / TENSORS_FILE}: {name}:" in str(err)
            return
    shots = loaded.sample(20, draws=2, seed=0)
    assert shots["MAKE_PROB"].between(0, 1).all() and np.isfinite(shots[["LOC_X", "LOC_Y"]].to_numpy()).all()
    table = loaded.table()
    numbers = table[["SHARE", "FG", "PPS", "SHARE_LO", "FG_HI"]]
    assert np.isfinite(numbers.to_numpy()).all() and table["FG"].between(0, 1).all() and table["SHARE"].between(0, 1).all()
    probability = loaded.make_prob(loaded.player_ids, [0.0] * 3, [10.0] * 3, draws=3, seed=0)
    assert np.isfinite(probability).all() and ((probability >= 0) & (probability <= 1)).all()


@FUZZ
@given(st.sampled_from(["format", "position_groups", "blur", "target_season", "seed", "dropped", "players", "player_ids"]),
       st.one_of(st.none(), st.booleans(), st.integers(-(2 ** 70), 2 ** 70), st.floats(allow_subnormal=False), st.text(max_size=4),
                 st.lists(st.one_of(st.integers(-3, 3), st.text(max_size=2), st.none()), max_size=4),
                 st.dictionaries(st.text(max_size=3), st.integers(-3, 3), max_size=2)))
@example(field="blur", value=1_777_555_718)  # found by this test: a 79.5 GiB kernel when drawing
def test_any_changed_field_of_profiles_json_is_refused_or_loads_whole(saved, field, value):
    with tempfile.TemporaryDirectory() as tmp:
        folder = edited(saved, Path(tmp) / "p", meta=setter(field, value))
        try:
            loaded = PlayerProfiles.load(folder)
        except ModelFileError as err:
            assert "\n" not in str(err) and str(folder / META_FILE) in str(err)
            return
    assert len(loaded.player_ids) == len(set(map(repr, loaded.player_ids))) == 3
    loaded.sample(5, seed=0)


# --- where save writes -------------------------------------------------------------------------------------

PLACES = ["new", "empty", "earlier", "with_files", "with_sub", "cwd", "cwd_dot", "cwd_parent_spelling", "parent_of_cwd",
          "input_folder", "link_to_with_files", "link_to_earlier", "a_file", "empty_string"]


def place(kind: str, root: Path, saved: Path) -> str:
    """The path given to save for each kind of place (the working directory is root/w, holding mine.csv)."""
    work = root / "w"
    if kind == "new":
        return str(root / "fresh" / "p")
    if kind == "empty":
        (root / "empty").mkdir()
        return str(root / "empty")
    if kind == "earlier":
        shutil.copytree(saved, root / "earlier")
        return str(root / "earlier")
    if kind in ("with_files", "link_to_with_files"):
        (root / "mine" / "sub").mkdir(parents=True)
        (root / "mine" / "notes.txt").write_text("keep")
        (root / "mine" / META_FILE).write_text("{}")
        if kind == "with_files":
            return str(root / "mine")
        (root / "link").symlink_to(root / "mine")
        return str(root / "link")
    if kind == "with_sub":
        shutil.copytree(saved, root / "nested")
        (root / "nested" / "sub").mkdir()
        return str(root / "nested")
    if kind == "link_to_earlier":
        shutil.copytree(saved, root / "earlier")
        (root / "link").symlink_to(root / "earlier")
        return str(root / "link")
    if kind == "a_file":
        (root / "f").write_text("a file")
        return str(root / "f")
    return {"cwd": str(work), "cwd_dot": ".", "cwd_parent_spelling": "../w", "parent_of_cwd": "..",
            "input_folder": str(work), "empty_string": ""}[kind]


@FUZZ
@given(st.sampled_from(PLACES), st.booleans())
def test_save_replaces_only_an_empty_or_earlier_profiles_directory(profiles, saved, kind, trailing_slash):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "w").mkdir()
        (root / "w" / "mine.csv").write_text("PLAYER_ID,LOC_X,LOC_Y\n1,0,10\n")
        here = os.getcwd()
        os.chdir(root / "w")
        try:
            path = place(kind, root, saved)
            path = path + "/" if trailing_slash and path else path
            before = tree(root)
            try:
                profiles.save(path)
            except OutputError as err:
                assert "\n" not in str(err) and tree(root) == before  # refused: nothing touched
                assert kind not in ("new", "empty", "earlier", "link_to_earlier")
                return
        finally:
            os.chdir(here)
        assert kind in ("new", "empty", "earlier", "link_to_earlier")
        target = Path(os.path.realpath(path))
        assert sorted(os.listdir(target)) == ["profiles.json", "profiles.pt", "table.csv"]
        if kind == "link_to_earlier":
            assert (root / "link").is_symlink()
        after, written = tree(root), target.relative_to(root)
        outside = lambda entries: {k: v for k, v in entries.items()  # noqa: E731 (the target and the folders made for it)
                                   if not (Path(k) == written or written in Path(k).parents or Path(k) in written.parents)}
        assert outside(after) == outside(before)
        assert not [k for k in after if k.endswith((".tmp", ".old"))]


def test_a_full_disk_is_refused_before_the_table_is_made_and_a_failed_write_leaves_the_old_profiles(profiles, saved,
                                                                                                    tmp_path, monkeypatch):
    made = []
    monkeypatch.setattr(PlayerProfiles, "table", lambda self, **kw: made.append(1) or pd.DataFrame())
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: shutil._ntuple_diskusage(10 ** 9, 10 ** 9, 0))
    with pytest.raises(OutputError, match=r"^cannot write .*p: it needs at least 3.87 MB and .* has 0 MB free$"):
        profiles.save(tmp_path / "p")
    assert made == [] and not (tmp_path / "p").exists()
    monkeypatch.undo()
    folder = tmp_path / "old"
    shutil.copytree(saved, folder)
    before = tree(folder)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(OutputError, match=r"^cannot write .*old: No space left on device$") as raised:
        profiles.save(folder)
    assert raised.value.errno == errno.ENOSPC and tree(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]  # no temporary directory left


@pytest.mark.parametrize("room", ["none", "the tensors alone"])
def test_a_real_full_disk_ends_in_one_line_and_leaves_nothing(profiles, tmp_path, room):
    """On a small tmpfs (mounting one needs root: skipped elsewhere). With no room the save is refused before
    anything is written; with room for the tensors alone, the write itself fails, in one line, and nothing is
    left on the disk."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    tensors = sum(t.numel() * t.element_size() for name in TENSORS if (t := getattr(profiles, name)) is not None)
    tensors += sum(array.nbytes for array in profiles.game.arrays().values())
    size = 64 * 1024 if room == "none" else (tensors // 4096 + 1) * 4096
    if os.geteuid() != 0 or os.system(f"mount -t tmpfs -o size={size} tmpfs {mount} 2>/dev/null") != 0:
        pytest.skip("cannot mount a small tmpfs here (not root, or no mount permission)")
    try:
        expected = r"it needs at least .* MB free$" if room == "none" else r"No space left on device$"
        with pytest.raises(OutputError, match=rf"^cannot write {mount}/p: {expected}") as raised:
            profiles.save(mount / "p")
        assert os.listdir(mount) == [] and (room == "none" or raised.value.errno == errno.ENOSPC)
    finally:
        os.system(f"umount {mount}")


# --- the Python arguments ----------------------------------------------------------------------------------

ARGUMENTS = {
    "a location of text": (lambda p: p.make_prob([1], ["a"], [10]), InputError, r"loc_x and loc_y must be numbers"),
    "draws that would not fit": (lambda p: p.make_prob([1], [0], [10], draws=10 ** 9), ResourceError,
                                 r"1,000,000,000 draws of the make probability at 1 location need about 32 GB"),
    "fractional draws": (lambda p: p.make_prob([1], [0], [10], draws=2.5), InputError, r"draws must be 0 \(the posterior mean\)"),
    "a level of text": (lambda p: p.table(level="x"), InputError, r"level must be a number in \(0, 1\), got 'x'"),
    "no level": (lambda p: p.table(level=None), InputError, r"level must be a number in \(0, 1\), got None"),
    "an unknown player": (lambda p: p.table(players=["nobody"]), InputError, r"no profile for player\(s\) \['nobody'\]"),
    "a seed of text": (lambda p: p.sample(3, seed="x"), InputError, r"seed must be a non-negative integer or None, got 'x'"),
    "chunks of 0 rows": (lambda p: p.sample_chunks(3, rows_per_chunk=0), InputError, r"rows_per_chunk must be a positive"),
    "a draw that would not fit": (lambda p: p.sample(10 ** 6, draws=10 ** 6), ResourceError, r"drawing 1,000,000,000,000 shots"),
    "save to ''": (lambda p: p.save(""), OutputError, r"^directory is empty"),
    "save to a number": (lambda p: p.save(5), InputError, r"directory must be a path"),
    "load from ''": (lambda p: PlayerProfiles.load(""), InputError, r"^directory is empty"),
    "load from None": (lambda p: PlayerProfiles.load(None), InputError, r"directory must be a path"),
}


@pytest.mark.parametrize("call, error, message", ARGUMENTS.values(), ids=list(ARGUMENTS))
def test_every_argument_is_checked_where_it_enters(profiles, call, error, message):
    with pytest.raises(error, match=message) as raised:
        call(profiles)
    assert "\n" not in str(raised.value)


def test_make_prob_counts_locations_past_the_court_and_answers_the_rest(profiles):
    ids = profiles.player_ids[:1] * 4
    with pytest.warns(UserWarning, match=r"^3 locations of 4 are off the half court .*: not answered, NaN$"):
        answered = profiles.make_prob(ids, [0.0, 0.0, 0.0, 300.0], [10.0, 880.0, 1e6, 10.0])
    assert np.isnan(answered[1:]).all() and answered[0] == profiles.make_prob(ids[:1], [0.0], [10.0])[0]
    with pytest.warns(UserWarning, match="1 location of 2 is off"):
        draws = profiles.make_prob(ids[:2], [0.0, 0.0], [10.0, -100.0], draws=4, seed=1)
    assert draws.shape == (4, 2) and np.isnan(draws[:, 1]).all() and np.isfinite(draws[:, 0]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(draws[:, 0], profiles.make_prob(ids[:1], [0.0], [10.0], draws=4, seed=1)[:, 0])


def test_ids_that_are_no_64_bit_integers_are_kept_as_text_and_drawn(tmp_path):
    model, _, _ = train_shot_model(TINY, synthetic_league(30, 120, seed=0))
    observed = synthetic_league(3, 30, seed=1)
    observed["PLAYER_ID"] = observed["PLAYER_ID"].map({1: 203078.5, 2: 2 ** 70, 3: np.uint64(2 ** 63 + 5)}).astype(object)
    profiles = model.player_profiles(observed, seed=0, charts=4)
    expected = ["203078.5", str(2 ** 70), str(2 ** 63 + 5)]
    assert profiles.player_ids == expected and profiles.dropped["shots/missing_player_id"] == 0
    profiles.save(tmp_path / "p")
    assert json.loads((tmp_path / "p" / META_FILE).read_text())["player_ids"] == expected
    assert sorted(set(pd.read_csv(tmp_path / "p" / "table.csv", dtype=str)["PLAYER_ID"])) == sorted(expected)
    assert set(PlayerProfiles.load(tmp_path / "p").sample(2, seed=0)["PLAYER_ID"].astype(str)) == set(expected)
    assert profiles.make_prob([203078.5], [0.0], [10.0]).shape == (1,)  # asked for as written, found
