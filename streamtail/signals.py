"""Ctrl-C (SIGINT), SIGTERM and SIGHUP as a clean stop.

While `handled()` is in force, either signal raises `Interrupted` in the main thread, like Ctrl-C
raises KeyboardInterrupt, so `finally` blocks run (the reader stops, the checkpoint is saved).
Inside `shielded()` a signal is held back until the block ends: a batch is either printed and
recorded in the checkpoint, or neither. A second signal while one is held back is not held: a
write blocked on a stalled reader of stdout cannot keep streamtail from stopping.

cli.py maps `Interrupted` to its exit code, 128 + the signal's number as a shell reports a process
a signal ended: 130 for SIGINT (the contract), 143 for SIGTERM, 129 for SIGHUP (a closed terminal
or SSH session: the summary is still printed, the checkpoint saved and unlocked, an enhanced
fan-out consumer deregistered, all through the same `finally` blocks).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from streamtail.errors import ExitCode

_CODES = {signal.SIGINT: ExitCode.INTERRUPTED, signal.SIGTERM: ExitCode.TERMINATED}
if hasattr(signal, "SIGHUP"):  # POSIX: the terminal or SSH session closed
    _CODES[signal.SIGHUP] = ExitCode.HANGUP


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP arrived: stop cleanly and exit with `code`."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.code = _CODES.get(signal.Signals(signum), ExitCode.INTERRUPTED)


class _State:
    depth = 0
    held: int | None = None


_state = _State()


def _handler(signum: int, _frame: FrameType | None) -> None:
    if _state.depth and _state.held is None:
        _state.held = signum
        return
    _state.held = None
    raise Interrupted(signum)


@contextmanager
def handled() -> Iterator[None]:
    """Turn SIGINT, SIGTERM and SIGHUP into `Interrupted` for the duration (main thread
    only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _handler) for signum in _CODES}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _state.depth = 0
        _state.held = None


@contextmanager
def shielded() -> Iterator[None]:
    """Hold a signal back until the block ends (then raise it), unless a second one comes."""
    _state.depth += 1
    try:
        yield
    finally:
        _state.depth -= 1
    if not _state.depth and _state.held is not None:
        signum, _state.held = _state.held, None
        raise Interrupted(signum)
