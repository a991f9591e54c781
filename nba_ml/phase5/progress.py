"""What `nba-ml phase5` shows while it works: a line as each stage starts, a bar per training run.

    progress = Progress(enabled=True)
    progress.stage("rec_115: data: synthetic league")   # [12:00:01] rec_115: data: synthetic league
    callback = progress.bar(total=3000, desc="rec_115 wgan_gp")  # a train() callback

Everything goes to stderr (stdout keeps the summary), through tqdm.write so a bar stays whole.
A stage that runs long without a bar (a floor, an evaluation) gets a "still ..." line every
HEARTBEAT_S seconds, so a terminal is never silent for long. Disabled, it prints nothing.
"""
from __future__ import annotations

import sys
import threading
import time
from datetime import datetime
from typing import Optional, TextIO

from tqdm import tqdm

HEARTBEAT_S = 8.0  # at most this long without output while a stage runs (the issue asks for about 10 s)


class Progress:
    def __init__(self, enabled: bool = True, file: Optional[TextIO] = None):
        self.enabled = enabled
        self.file = file
        self.current: Optional[str] = None  # the stage running, for the heartbeat line
        self.started = self.last_output = time.monotonic()
        self.bar_open = False
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def stage(self, text: str) -> None:
        """A line saying what starts now."""
        if not self.enabled:
            return
        self.current, self.started, self.bar_open = text, time.monotonic(), False  # a new stage: any bar has ended
        self._write(f"[{datetime.now():%H:%M:%S}] {text}")
        if self._thread is None:
            self._thread = threading.Thread(target=self._heartbeat, daemon=True)
            self._thread.start()

    def bar(self, total: int, desc: str):
        """A train() callback drawing a bar over the run's generator steps (follows rollbacks too)."""
        if not self.enabled:
            return lambda state, metrics: None
        holder: dict = {}

        def update(state, metrics):
            if "bar" not in holder:
                holder["bar"] = tqdm(total=total, initial=state.step - 1, desc=desc, unit="step", file=self.file or sys.stderr,
                                     dynamic_ncols=True, leave=True, mininterval=0.5)
                self.bar_open = True
            bar = holder["bar"]
            bar.update(state.step - bar.n)
            self.last_output = time.monotonic()
            if state.step >= total:
                bar.close()
                self.bar_open = False
        return update

    def close(self) -> None:
        self._stop.set()
        self.bar_open = False

    def _write(self, line: str) -> None:
        tqdm.write(line, file=self.file or sys.stderr)
        self.last_output = time.monotonic()

    def _heartbeat(self) -> None:
        while not self._stop.wait(0.5):
            if not self.bar_open and self.current and time.monotonic() - self.last_output > HEARTBEAT_S:
                self._write(f"[{datetime.now():%H:%M:%S}]   still {self.current} ({time.monotonic() - self.started:.0f} s)")


QUIET = Progress(enabled=False)
