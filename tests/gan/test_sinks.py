"""nba_ml.gan.sinks: each sink stores the flat metric dicts unchanged."""
import json
import math
import struct
import sys

import pytest

from nba_ml.gan.sinks import CHART_GROUPS, JsonlSink, TensorBoardSink, WandbSink, read_jsonl

ROWS = [
    {"step": 2.0, "loss/critic": 1.5, "wdist": 0.25, "quality/pixvar": 0.5},
    {"step": 4.0, "loss/critic": -0.75, "wdist": 0.5, "stability/dg_ratio": math.inf},
]


def feed(sink, rows=ROWS):
    for row in rows:
        assert sink(None, None) is None  # not a logged step: nothing written
        assert sink(None, row) is None  # sinks add no metrics
    sink.close()


def test_jsonl_writes_one_object_per_logged_step(tmp_path):
    path = tmp_path / "metrics.jsonl"
    feed(JsonlSink(path))
    assert path.read_text() == (
        '{"step": 2.0, "loss/critic": 1.5, "wdist": 0.25, "quality/pixvar": 0.5}\n'
        '{"step": 4.0, "loss/critic": -0.75, "wdist": 0.5, "stability/dg_ratio": Infinity}\n'
    )
    assert read_jsonl(path) == ROWS


def test_jsonl_appends_across_sinks_and_skips_a_torn_last_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    feed(JsonlSink(path), ROWS[:1])
    feed(JsonlSink(path), ROWS[1:])
    with open(path, "a") as f:
        f.write('{"step": 6.0, "loss/cri')  # a crash mid-line
    assert read_jsonl(path) == ROWS
    path.write_text('{"step": 2\n{"step": 4.0}\n')
    with pytest.raises(ValueError, match="line 1 is not valid JSON"):
        read_jsonl(path)


def test_tensorboard_events_hold_every_key_as_a_tag(tmp_path):
    pytest.importorskip("tensorboard", reason="tensorboard not installed (pip install nba_ml[tensorboard])")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    feed(TensorBoardSink(tmp_path / "tb"))
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    assert set(events.Tags()["scalars"]) == {"loss/critic", "wdist", "quality/pixvar", "stability/dg_ratio"}
    assert [(e.step, e.value) for e in events.Scalars("loss/critic")] == [(2, 1.5), (4, -0.75)]


def test_missing_tensorboard_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ImportError, match=r"pip install nba_ml\[tensorboard\]"):
        TensorBoardSink(tmp_path)


def test_missing_wandb_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "wandb", None)
    with pytest.raises(ImportError, match=r"pip install nba_ml\[wandb\]"):
        WandbSink("nba_ml", "run", {}, dir=tmp_path)


def wandb_records(path):
    """The records of a W&B transaction log (.wandb): LevelDB log format, 32 KiB blocks, 7-byte headers."""
    from wandb.proto import wandb_internal_pb2

    raw, pos, block, chunks, records = path.read_bytes(), 7, 32768, b"", []
    while pos + 7 <= len(raw):
        if block - pos % block < 7:  # block trailer padding
            pos += block - pos % block
            continue
        _, length, kind = struct.unpack("<IHB", raw[pos:pos + 7])
        chunks, pos = chunks + raw[pos + 7:pos + 7 + length], pos + 7 + length
        if kind in (1, 4):  # FULL or LAST chunk ends a record
            record = wandb_internal_pb2.Record()
            record.ParseFromString(chunks)
            records.append(record)
            chunks = b""
    return records


def test_wandb_offline_run_logs_the_history_and_the_chart_axes(monkeypatch, tmp_path):
    pytest.importorskip("wandb", reason="wandb not installed (pip install nba_ml[wandb])")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    feed(WandbSink("nba_ml", "tiny-run", {"loss": {"kind": "wgan-gp"}}, dir=tmp_path))
    # run.finish() only informs W&B's service process, which writes and closes the transaction
    # log on its own schedule (read too early on a loaded machine: no history at all, one run in
    # several). wandb.teardown() waits for that process to end, so the log is whole.
    import wandb
    wandb.teardown()

    (run_dir,) = (tmp_path / "wandb").glob("offline-run-*")
    (log,) = run_dir.glob("run-*.wandb")
    records = wandb_records(log)
    assert "exit" in [r.WhichOneof("record_type") for r in records]  # the log is whole
    history = [{item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in r.history.item}
               for r in records if r.WhichOneof("record_type") == "history"]
    assert [{k: v for k, v in row.items() if not k.startswith("_")} for row in history] == ROWS
    axes = {r.metric.glob_name or r.metric.name: r.metric.step_metric
            for r in records if r.WhichOneof("record_type") == "metric"}
    assert axes == {"step": "", **{p: "step" for patterns in CHART_GROUPS.values() for p in patterns}}
    (run,) = [r.run for r in records if r.WhichOneof("record_type") == "run"]
    assert run.display_name == "tiny-run" and run.project == "nba_ml"
