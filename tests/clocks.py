"""A clock for tests of code that takes `clock` and `sleep` callables: sleeping moves it on."""

from __future__ import annotations


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
