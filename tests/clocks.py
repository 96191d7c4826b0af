"""Clocks for tests: time that moves only when the test (or a wait) says.

`SleepingClock` serves code that takes `clock` and `sleep` callables, and code that takes a
`streamtail.clock.Clock` (`monotonic`, `wall`, `wait`): sleeping or waiting moves it on, at once.
"""

from __future__ import annotations

import threading


class SleepingClock:
    """`clock()` reads `now`; `sleep(s)` records `s` and moves `now` on by it, at once."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    # -- streamtail.clock.Clock ------------------------------------------------------------------

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now

    def wait(self, event: threading.Event, seconds: float) -> bool:
        if not event.is_set() and seconds > 0:
            self.sleep(seconds)
        return event.is_set()
