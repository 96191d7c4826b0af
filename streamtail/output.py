"""stdout written whole, or a clear failure: the one place that writes to file descriptor 1.

A `write(2)` may write fewer bytes than it was given (a disk that fills up mid-write, a signal,
a pipe with less room than the data) and then fail on the rest. Python's unbuffered stdout
(`python -u`, PYTHONUNBUFFERED=1) is a raw FileIO whose `write` makes one such call and returns
the count, which callers of a file object rarely look at: the rest of the batch was then lost
while the checkpoint recorded it as printed. So every command writes through `Stdout`: a
buffered writer over `WholeWriter`, whose `write` returns only when every byte is written and
raises otherwise.

- A reader of a pipe gone (EPIPE) is `BrokenPipeError`, the quiet end (exit 0) it always was.
- Any other failure (ENOSPC, EIO, EBADF, EFBIG, EDQUOT...) is `OutputError`, one line
  "cannot write to stdout: ..." and exit 1, for every command.
- A descriptor left non-blocking by another process (EAGAIN) is waited on, not failed.

Because a failed write raises before the caller goes on, whatever is recorded after a write
(`printing.Printing`: the checkpoint) names only what was written whole.
"""

from __future__ import annotations

import errno
import io
import os
import select
import sys
import weakref
from typing import IO, Any, BinaryIO

from streamtail.errors import StreamtailError

#: the buffer between a renderer's writes and write(2): rich writes a table row in many pieces
BUFFER = 64 * 1024


class OutputError(StreamtailError):
    """stdout cannot be written to (a full disk, an I/O error, a closed descriptor): exit 1."""

    def __init__(self, exc: OSError) -> None:
        reason = exc.strerror or str(exc)
        super().__init__(f"cannot write to stdout: {reason}")
        self.errno = exc.errno


def output_error(exc: OSError) -> BaseException:
    """What a failed write to stdout becomes: a closed pipe stays a BrokenPipeError (the quiet
    end of `| head`), anything else an `OutputError`."""
    if isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE:
        return exc if isinstance(exc, BrokenPipeError) else BrokenPipeError(*exc.args)
    return OutputError(exc)


class WholeWriter(io.RawIOBase):
    """A raw writer on a descriptor whose `write` writes every byte or raises."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.fd

    def isatty(self) -> bool:
        return os.isatty(self.fd)

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        total = len(view)
        while view:
            try:
                written = os.write(self.fd, view)
            except BlockingIOError:
                select.select([], [self.fd], [])  # non-blocking descriptor: wait for room
                continue
            except OSError as exc:
                raise output_error(exc) from None
            view = view[written:]
        return total


def open_stdout(stream: IO[Any] | None) -> BinaryIO:
    """The binary stdout a command writes to: whole writes on the stream's descriptor, or the
    stream's own buffer where it has no descriptor (an embedding program's in-memory stdout)."""
    buffer: Any = getattr(stream, "buffer", stream)
    try:
        fd = stream.fileno() if stream is not None else None
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        fd = None
    if fd is None:
        return buffer  # type: ignore[no-any-return]
    if stream is not None:
        # Anything already written through sys.stdout goes out first, in order.
        stream.flush()
    writer = io.BufferedWriter(WholeWriter(fd), BUFFER)
    _OPENED.add(writer)
    return writer


#: every stdout `open_stdout` made that is still alive: flushed at the end (`flush_all`)
_OPENED: weakref.WeakSet[BinaryIO] = weakref.WeakSet()


def flush_all() -> None:
    """Flush every stdout `open_stdout` made, then Python's stdout and stderr (what Python
    itself would flush as the process ends); raises what a flush raises."""
    for writer in list(_OPENED):
        if not writer.closed:
            writer.flush()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
