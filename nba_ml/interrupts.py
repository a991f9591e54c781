"""SIGINT and SIGTERM as an exception, so that every `finally` runs: no temporary file, no staging folder
is left behind, and a training run stops at the end of a step with a checkpoint.

    with interrupts.raised():        # the command line, for the whole command: a signal raises Interrupted
        ...
    with interrupts.deferred():      # the training loop: a signal is noted, and taken at the end of the step
        ... interrupts.take_pending() ...   # (nba_ml.gan.guard); a second signal stops at once

Without raised() (the package used from Python), SIGINT stays Python's KeyboardInterrupt and deferred()
changes nothing; an atomic write (nba_ml.io) still turns a SIGTERM that arrives while it writes into
Interrupted, so that its temporary file is removed.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator, Optional

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """The process got SIGINT or SIGTERM (`signum`); a training run says at which `step` it stopped."""

    def __init__(self, signum: int, message: Optional[str] = None, step: Optional[int] = None):
        self.signum, self.step = signum, step
        super().__init__(message or f"interrupted by {signal_name(signum)}")

    @property
    def exit_status(self) -> int:
        """128 + the signal number (130 for SIGINT, 143 for SIGTERM), as a shell reports a process the signal ended."""
        return 128 + self.signum

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


_pending: Optional[int] = None  # a signal noted while deferring, not yet taken
_deferring = 0  # open deferred() blocks


def _raise_or_defer(signum: int, frame) -> None:
    global _pending
    if _deferring and _pending is None:
        _pending = signum  # taken at the end of the step; a second signal raises at once
        return
    raise Interrupted(signum)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()  # only the main thread may set handlers


@contextmanager
def raised() -> Iterator[None]:
    """While the block runs, SIGINT and SIGTERM raise Interrupted (deferred inside deferred()); the handlers
    before it are restored after."""
    if not _main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _raise_or_defer) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def deferred() -> Iterator[None]:
    """Inside raised(): a first signal is only noted (take_pending() gets it); one still untaken when the
    block ends is raised then. Outside raised(), nothing changes."""
    global _deferring, _pending
    if not _main_thread() or signal.getsignal(signal.SIGINT) is not _raise_or_defer:
        yield
        return
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if not _deferring and _pending is not None:
            signum, _pending = _pending, None
            raise Interrupted(signum)


def take_pending() -> Optional[int]:
    """The signal noted inside deferred(), if any, now taken (the caller stops)."""
    global _pending
    signum, _pending = _pending, None
    return signum


@contextmanager
def terminate_raises() -> Iterator[None]:
    """While the block runs, a SIGTERM left at its default (which ends the process at once, running no
    `finally`) raises Interrupted instead; any other handler is left alone."""
    if not _main_thread() or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _raise_or_defer)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
