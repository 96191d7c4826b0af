"""Noticing that the reader of stdout went away, without writing to it.

`streamtail follow STREAM | head -1` on a stream that then goes quiet: `head` exits after one
line, but a write is the usual way to learn that (EPIPE), and an idle stream gives nothing to
write, so streamtail would poll on (and keep an enhanced fan-out consumer registered) for as long
as the stream stays idle. Instead a small thread waits in poll(2) on stdout's descriptor asking
for no event at all: the kernel reports POLLERR and POLLHUP whatever was asked for, and nothing
else. What that reports, measured on Linux:

- a pipe whose read end is closed: POLLERR (fs/pipe.c, pipe_poll: `if (!pipe->readers)
  mask |= EPOLLERR` for the write end);
- a socket whose peer closed both directions: POLLHUP;
- a pseudo-terminal whose master side is gone (the terminal closed): POLLERR | POLLHUP;
- a regular file, /dev/null, an open pipe, a live terminal: nothing, ever.

So the watch never fires while someone can still read what is written. Where poll(2) is missing
(Windows) or stdout has no descriptor (tests' byte buffers), nothing is watched and a closed pipe
is noticed at the next write, as before.

`watch_reader()` is the one place that knows this: the polling reader and the push-based
(enhanced fan-out) reader both stop through the callback it is given.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

#: how often the watching thread polls again: a descriptor closed under a poll(2) in progress
#: is only reported (POLLNVAL) by the next one. Leaving the `with` block wakes it at once.
_REPOLL = 0.25
GONE = select.POLLERR | select.POLLHUP if hasattr(select, "poll") else 0


class ReaderWatch:
    """A thread waiting for the reader of one descriptor to go away; `gone` once it has.

    The thread waits in poll(2) on the descriptor and on a pipe of its own: `stop` writes to the
    pipe, which ends the wait at once (a run that ends does not wait for a poll timeout)."""

    def __init__(self, fd: int | None, on_gone: Callable[[], None]) -> None:
        self.fd = fd
        self.on_gone = on_gone
        self.gone = False
        self._thread: threading.Thread | None = None
        self._wake: tuple[int, int] | None = None

    def start(self) -> ReaderWatch:
        if self.fd is not None and hasattr(select, "poll"):
            self._wake = os.pipe()
            self._thread = threading.Thread(target=self._run, name="stdout-watch", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is None or self._wake is None:
            return
        wake_read, wake_write = self._wake
        os.write(wake_write, b"x")
        self._thread.join()
        os.close(wake_read)
        os.close(wake_write)
        self._wake = None

    def _run(self) -> None:
        assert self.fd is not None and self._wake is not None
        woken = self._wake[0]
        poller = select.poll()
        poller.register(self.fd, 0)
        poller.register(woken, select.POLLIN)
        while True:
            try:
                events = poller.poll(int(_REPOLL * 1000))
            except OSError:  # pragma: no cover - the descriptor was closed under us
                return
            if any(fd == woken for fd, _ in events):
                return  # stopped
            if any(mask & GONE for _, mask in events):
                self.gone = True
                self.on_gone()
                return
            if any(mask & select.POLLNVAL for _, mask in events):
                return  # not an open descriptor (any more): nothing to watch, and no busy loop


def descriptor(stream: IO[Any] | Any) -> int | None:
    """The file descriptor behind a stream, or None (an in-memory buffer)."""
    fileno = getattr(stream, "fileno", None)
    if not callable(fileno):
        return None
    try:
        fd = fileno()
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        return None
    return fd if isinstance(fd, int) else None


@contextmanager
def watch_reader(stream: IO[Any] | Any, on_gone: Callable[[], None]) -> Iterator[ReaderWatch]:
    """Call `on_gone` (from another thread) as soon as nobody reads `stream` any more, while the
    block runs; the watch's `gone` tells afterwards whether that happened."""
    watch = ReaderWatch(descriptor(stream), on_gone).start()
    try:
        yield watch
    finally:
        watch.stop()
