"""Time as a command sees it: one seam for monotonic time, wall time and waiting.

`Env.time_source` is the process's clock (`SYSTEM`); the reader takes it from there (core passes
it to the `Walker`, which hands it to its workers), so that tests can run a walk on a clock that
moves only when they say (tests/reader/fakes.py, `VirtualClock`) instead of in real time.
Standard library only: it loads for `--help`.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds that only grow, for rates, intervals and deadlines."""
        ...

    def wall(self) -> float:
        """Seconds since the epoch, for positions, `--until` and the records' arrival times."""
        ...

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Wait up to `seconds` for `event` to be set; True if it is."""
        ...


class SystemClock:
    """The process's clocks; waits are `Event.wait`."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(seconds) if seconds > 0 else event.is_set()


SYSTEM = SystemClock()

#: an event nobody sets: what `pause` waits on
_NEVER = threading.Event()


def pause(clock: Clock, seconds: float) -> None:
    """Wait `seconds` on `clock` (a backoff, an interval): real time on SYSTEM, none on a test's
    clock that moves when waited on."""
    clock.wait(_NEVER, seconds)
