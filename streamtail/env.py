"""The environment a command runs in: its streams, terminal facts, clocks.

All I/O and time go through an `Env`, so tests pass one with byte buffers and a fake clock
instead of patching globals (tests/unit/conftest.py's `make_env`; a `time_source` such as
tests/reader/fakes.py's `VirtualClock`).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO, TextIO

from streamtail.clock import SYSTEM, Clock

if TYPE_CHECKING:
    from streamtail.hangup import ReaderWatch


def color_wanted(isatty: bool, no_color_flag: bool, environ: Mapping[str, str]) -> bool:
    """Whether to colour a stream, in this order of precedence:

    1. `--no-color`: never;
    2. NO_COLOR set and not empty (https://no-color.org): never;
    3. FORCE_COLOR set and not empty (https://force-color.org), whatever its value: always,
       even into a pipe;
    4. otherwise only on a terminal that is not `TERM=dumb`.
    """
    if no_color_flag or environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    return isatty and environ.get("TERM") != "dumb"


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):  # a closed stream
        return False


@dataclass
class Env:
    """Streams, terminal facts and clocks for one command."""

    stdout: BinaryIO
    stderr: TextIO
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    color: bool = False
    width: int | None = None
    #: monotonic and wall time, and waiting (streamtail/clock.py): the reader runs on it too
    time_source: Clock = SYSTEM
    debug: bool = False
    #: `--quiet`: no live status line
    quiet: bool = False
    #: colour for what goes to stderr (the status line), by the same rules as `color`
    stderr_color: bool = False
    #: standard input, as bytes (`put` reads it)
    stdin: BinaryIO | None = None
    stdin_isatty: bool = False
    _warned: dict[str, float] = field(default_factory=dict)
    #: held while anything is written to stderr, so lines never interleave mid-line
    _lock: threading.RLock = field(default_factory=threading.RLock)
    #: the live status line's eraser, set while one is shown (see status.py)
    _erase_status: Callable[[], None] | None = None

    @classmethod
    def from_process(
        cls, *, no_color: bool = False, debug: bool = False, quiet: bool = False
    ) -> Env:
        from streamtail.output import open_stdout

        out, err = sys.stdout, sys.stderr
        stdout_tty, stderr_tty = _isatty(out), _isatty(err)
        return cls(
            # every byte written whole, or a clear error (output.py)
            stdout=open_stdout(out),
            stderr=err,
            stdout_isatty=stdout_tty,
            stderr_isatty=stderr_tty,
            color=color_wanted(stdout_tty, no_color, os.environ),
            stderr_color=color_wanted(stderr_tty, no_color, os.environ),
            debug=debug,
            quiet=quiet,
            stdin=sys.stdin.buffer if sys.stdin is not None else None,
            stdin_isatty=sys.stdin is not None and sys.stdin.isatty(),
        )

    @property
    def clock(self) -> Callable[[], float]:
        """Monotonic seconds, for rates and intervals."""
        return self.time_source.monotonic

    @property
    def wall(self) -> Callable[[], float]:
        """Wall-clock seconds since the epoch, for positions and `--until`."""
        return self.time_source.wall

    @property
    def terminal_lock(self) -> threading.RLock:
        """The lock every writer of stderr (and of stdout on a terminal) holds."""
        return self._lock

    def set_status_eraser(self, erase: Callable[[], None] | None) -> None:
        """Register (or with None, remove) the live status line's eraser."""
        with self._lock:
            self._erase_status = erase

    def erase_status(self) -> None:
        """Take the status line off the terminal before something else is written there."""
        with self._lock:
            if self._erase_status is not None:
                self._erase_status()

    def watch_reader(self, on_gone: Callable[[], None]) -> AbstractContextManager[ReaderWatch]:
        """While the block runs, call `on_gone` (from another thread) as soon as nobody reads
        stdout any more (`| head` exited), idle or not; `watch.gone` tells afterwards. Readers
        stop through it and then raise BrokenPipeError, the closed pipe's usual end (exit 0)."""
        from streamtail.hangup import watch_reader

        return watch_reader(self.stdout, on_gone)

    def line(self, text: str) -> None:
        """One line on stderr that is not a warning (debug logs, notes), status line erased."""
        with self._lock:
            self.erase_status()
            self.stderr.write(text + "\n")
            self.stderr.flush()

    def warn(self, message: str, *, once: str | None = None, every: float | None = None) -> None:
        """One line on stderr (from any thread).

        With `once`, only the first time that key is used; with `every`, the same message at
        most once in that many seconds (retry warnings would otherwise flood the terminal).
        """
        with self._lock:
            now = self.clock()
            key = once if once is not None else message
            last = self._warned.get(key)
            if last is not None and (once is not None or every is None or now - last < every):
                return
            if once is not None or every is not None:
                self._warned[key] = now
            from streamtail.redact import scrub_urls  # a warning can quote the endpoint URL

            self.line(f"streamtail: warning: {scrub_urls(message)}")
