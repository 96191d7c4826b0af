"""`put`'s standard input: read from its descriptor in bounded pieces, by a thread a stop ends.

Two things went wrong with reading `sys.stdin.buffer` line by line on the input thread:

- A line is kept whole before anything looks at it, so one line of 1 GB without a newline grew
  the process by gigabytes before it was refused. `lines()` keeps at most `limit` bytes of a
  line: past that it reads on to the next newline without keeping anything, and yields
  `TooLong` for that line (its length counted), which `put` names and skips.
- A thread blocked in `BufferedReader.read` holds the reader's lock; when Ctrl-C, SIGTERM or
  SIGHUP end `put` while stdin is idle (`tail -f app.log | streamtail put logs`), the
  interpreter's exit then takes that lock to flush stdin and aborts ("Fatal Python error:
  _enter_buffered_busy", exit 134). `Input` never uses Python's buffered reader: it waits with
  poll(2) for the descriptor to be readable, a tenth of a second at a time, looking at its stop
  event in between, then reads with os.read. Setting the event ends the thread promptly, and a
  thread still in os.read holds no lock anybody needs.

A stream without a descriptor (tests' byte buffers) is read directly.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Iterator
from typing import Any, BinaryIO, NamedTuple

from streamtail.hangup import descriptor

#: how much is asked of read(2) at a time
READ_SIZE = 64 * 1024
#: how often a wait for input looks at the stop event
_WAKE_MS = 100


class Stopped(Exception):
    """The run stopped while the input thread waited for input."""


class TooLong(NamedTuple):
    """A line longer than the limit: how many bytes it held (its line ending not counted)."""

    length: int


class Input:
    """A binary stream read from its descriptor; `stop` ends a wait for input (`Stopped`)."""

    def __init__(self, stream: BinaryIO | Any, stop: threading.Event | None = None) -> None:
        self.stream = stream
        self.stop = stop or threading.Event()
        self.fd = descriptor(stream)
        self._poller: Any = None
        if self.fd is not None and hasattr(select, "poll"):
            self._poller = select.poll()
            self._poller.register(self.fd, select.POLLIN | select.POLLPRI)

    def read(self, size: int = READ_SIZE) -> bytes:
        """Up to `size` bytes, as soon as some are there; b"" at the end of the input."""
        if self.fd is None:
            data: bytes = self.stream.read(size)
            return data
        while self._poller is not None and not self._poller.poll(_WAKE_MS):
            if self.stop.is_set():
                raise Stopped
        if self.stop.is_set():
            raise Stopped
        return os.read(self.fd, size)

    def read_exact(self, size: int) -> bytes:
        """`size` bytes, fewer only at the end of the input."""
        parts: list[bytes] = []
        wanted = size
        while wanted:
            data = self.read(min(wanted, max(READ_SIZE, wanted)))
            if not data:
                break
            parts.append(data)
            wanted -= len(data)
        return b"".join(parts)


def lines(source: Input, limit: int) -> Iterator[bytes | TooLong]:
    """The input's lines, each with its ending as read; a line whose content (without \\n or
    \\r\\n) is longer than `limit` bytes is `TooLong`, and at most `limit` + 1 bytes of it are
    ever held."""
    pending = bytearray()
    skipped: int | None = None  # bytes of a too-long line read so far, while it is skipped
    while chunk := source.read():
        start = 0
        while start < len(chunk):
            end = chunk.find(b"\n", start)
            stop = len(chunk) if end < 0 else end + 1
            if skipped is not None:
                skipped += stop - start
            else:
                pending += chunk[start:stop]
                if len(_content(pending)) > limit or (end < 0 and len(pending) > limit + 1):
                    skipped, pending = len(pending), bytearray()
            if end >= 0:
                if skipped is not None:
                    yield TooLong(skipped - (2 if chunk[stop - 2 : stop] == b"\r\n" else 1))
                    skipped = None
                else:
                    yield bytes(pending)
                    pending.clear()
            start = stop
    if skipped is not None:
        yield TooLong(skipped)
    elif pending:
        yield bytes(pending)


def _content(line: bytearray) -> bytes | bytearray:
    if line.endswith(b"\n"):
        return line[:-2] if line.endswith(b"\r\n") else line[:-1]
    return line
