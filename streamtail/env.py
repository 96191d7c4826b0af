"""The environment a command runs in: its streams, terminal facts, clocks.

All I/O and time go through an `Env`, so tests pass one with byte buffers and a fake clock
(see tests/fakes.py) instead of patching globals.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO


def _color_wanted(isatty: bool, no_color_flag: bool) -> bool:
    # https://no-color.org and FORCE_COLOR: an explicit flag wins, then NO_COLOR, then FORCE_COLOR.
    if no_color_flag or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return isatty and os.environ.get("TERM") != "dumb"


@dataclass
class Env:
    """Streams, terminal facts and clocks for one command."""

    stdout: BinaryIO
    stderr: TextIO
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    color: bool = False
    width: int | None = None
    #: monotonic seconds, for rates and intervals
    clock: Callable[[], float] = time.monotonic
    #: wall-clock seconds since the epoch, for positions and `--until`
    wall: Callable[[], float] = time.time
    debug: bool = False
    #: standard input, as bytes (`put` reads it)
    stdin: BinaryIO | None = None
    stdin_isatty: bool = False
    _warned: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_process(cls, *, no_color: bool = False, debug: bool = False) -> Env:
        out = sys.stdout
        stdout_tty = out.isatty()
        return cls(
            stdout=out.buffer,
            stderr=sys.stderr,
            stdout_isatty=stdout_tty,
            stderr_isatty=sys.stderr.isatty(),
            color=_color_wanted(stdout_tty, no_color),
            debug=debug,
            stdin=sys.stdin.buffer if sys.stdin is not None else None,
            stdin_isatty=sys.stdin is not None and sys.stdin.isatty(),
        )

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
            self.stderr.write(f"streamtail: warning: {message}\n")
            self.stderr.flush()
