"""The live status line: one line on stderr, redrawn a few times a second while records flow.

    orders  1,204 records  38/s  shards 4 open, 2 closed  behind 3.2s shardId-000000000007

Only when stderr is a terminal and `--quiet` is not given. It lives on stderr and is erased
(carriage return, erase-line) before anything else is written to the terminal: records on stdout
when stdout is the same terminal, warnings and debug lines on stderr. On exit it erases itself, so
the terminal is left as if it had never been there. It reads the walker's `WalkStats` and a count
of records printed; it never touches stdout.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TextIO

from streamtail.env import Env
from streamtail.render.safe import inert
from streamtail.stats import WalkStats

#: seconds between redraws
INTERVAL = 0.25
#: the records/s figure is the rate over this many trailing seconds
RATE_WINDOW = 5.0
_ERASE = "\r\x1b[2K"
_DIM, _RESET = "\x1b[2m", "\x1b[0m"


@dataclass(frozen=True)
class Figures:
    """What one status line shows."""

    stream: str
    shown: int
    read: int
    rate: float
    open_shards: int
    closed_shards: int
    behind: tuple[str, int] | None
    retries: int
    throttled: int


def _behind(millis: int) -> str:
    if millis < 1_000:
        return f"{millis}ms"
    seconds = millis / 1000
    if seconds < 120:
        return f"{seconds:.1f}s"
    if seconds < 7_200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def format_status(figures: Figures, width: int) -> str:
    """The status line for `figures`, cut to `width` columns (no newline, no escapes)."""
    parts = [inert(figures.stream), f"{figures.shown:,} records"]
    if figures.read != figures.shown:
        parts[-1] = f"{figures.shown:,} printed of {figures.read:,} read"
    parts.append(f"{figures.rate:,.0f}/s" if figures.rate >= 10 else f"{figures.rate:.1f}/s")
    parts.append(f"shards {figures.open_shards} open, {figures.closed_shards} closed")
    if figures.behind is not None:
        shard, millis = figures.behind
        parts.append("caught up" if millis == 0 else f"behind {_behind(millis)} {inert(shard)}")
    if figures.retries:
        parts.append(f"{figures.throttled} throttled, {figures.retries} retries")
    line = "  ".join(parts)
    if len(line) > width:
        line = line[: max(width - 1, 0)] + "…"
    return line


class Rate:
    """Records a second over a trailing window."""

    def __init__(self, clock: Callable[[], float], window: float = RATE_WINDOW) -> None:
        self.clock = clock
        self.window = window
        self._samples: deque[tuple[float, int]] = deque()

    def update(self, count: int) -> float:
        now = self.clock()
        samples = self._samples
        samples.append((now, count))
        while len(samples) > 2 and now - samples[1][0] >= self.window:
            samples.popleft()
        first_time, first_count = samples[0]
        elapsed = now - first_time
        return (count - first_count) / elapsed if elapsed > 0 else 0.0


def _columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (OSError, ValueError, AttributeError):
        return 80


class StatusLine:
    """Draws `Figures` on `env.stderr` from its own thread until closed."""

    def __init__(
        self,
        env: Env,
        stats: WalkStats,
        stream: str,
        shown: Callable[[], int],
        *,
        interval: float = INTERVAL,
    ) -> None:
        self.env = env
        self.stats = stats
        self.stream = stream
        self.shown = shown
        self.interval = interval
        self.rate = Rate(env.clock)
        self._drawn = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="status-line", daemon=True)

    def figures(self) -> Figures:
        stats = self.stats.snapshot()
        return Figures(
            stream=self.stream,
            shown=self.shown(),
            read=stats.records,
            rate=self.rate.update(stats.records),
            open_shards=stats.open_shards,
            closed_shards=stats.closed_shards,
            behind=self.stats.most_behind(),
            retries=stats.retries,
            throttled=stats.throttled,
        )

    def draw(self) -> None:
        env = self.env
        line = format_status(self.figures(), _columns(env.stderr) - 1)
        if env.stderr_color:
            line = f"{_DIM}{line}{_RESET}"
        with env.terminal_lock:
            env.stderr.write(_ERASE + line)
            env.stderr.flush()
            self._drawn = True

    def erase(self) -> None:
        """Take the line off the terminal (the caller holds the terminal lock)."""
        if self._drawn:
            self.env.stderr.write(_ERASE)
            self.env.stderr.flush()
            self._drawn = False

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.draw()
            except (OSError, ValueError):  # the terminal went away: stop drawing, quietly
                return

    def start(self) -> None:
        self.rate.update(self.stats.snapshot().records)  # the rate counts from now
        self.env.set_status_eraser(self.erase)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        with self.env.terminal_lock:
            self.env.set_status_eraser(None)
            with suppress(OSError, ValueError):
                self.erase()


@contextmanager
def status_line(
    env: Env, stats: WalkStats, stream: str, shown: Callable[[], int]
) -> Iterator[StatusLine | None]:
    """A running status line when stderr is a terminal and `--quiet` is off, else None."""
    if env.quiet or not env.stderr_isatty:
        yield None
        return
    line = StatusLine(env, stats, stream, shown)
    line.start()
    try:
        yield line
    finally:
        line.close()
