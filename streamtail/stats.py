"""Counters of a shard walk, written by the walker's threads and read by the status line."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class WalkStats:
    """Counters a status line or a test can read (from any thread: take a `snapshot()`)."""

    #: records read (after the position floors, before any output filter)
    records: int = 0
    calls: int = 0
    #: failed calls retried after a backoff, and how many of them were throttling
    retries: int = 0
    throttled: int = 0
    #: shards being read now, and shards read to their end (closed and drained)
    open_shards: int = 0
    closed_shards: int = 0
    #: the last MillisBehindLatest per shard (sources that report it); None while a shard's
    #: distance to the tip is unknown (a service whose MillisBehindLatest is the data's age)
    behind_ms: dict[str, int | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count_call(self) -> None:
        with self._lock:
            self.calls += 1

    def count_retry(self, *, throttled: bool) -> None:
        with self._lock:
            self.retries += 1
            if throttled:
                self.throttled += 1

    def set_behind(self, shard_id: str, millis: int | None) -> None:
        with self._lock:
            self.behind_ms[shard_id] = millis

    def snapshot(self) -> WalkStats:
        """A consistent copy, safe to read while the walk goes on."""
        with self._lock:
            return WalkStats(
                records=self.records,
                calls=self.calls,
                retries=self.retries,
                throttled=self.throttled,
                open_shards=self.open_shards,
                closed_shards=self.closed_shards,
                behind_ms=dict(self.behind_ms),
            )

    def shard_finished(self, shard_id: str, *, drained: bool, still_open: int) -> None:
        """A shard's worker ended; a finished shard no longer counts in "how far behind"."""
        with self._lock:
            self.behind_ms.pop(shard_id, None)
            self.open_shards = still_open
            if drained:
                self.closed_shards += 1

    def most_behind(self) -> tuple[str, int] | None:
        """The shard furthest behind the tip and its MillisBehindLatest, if any reported; None
        while any shard's distance to the tip is unknown (nothing is better than a wrong lag)."""
        with self._lock:
            known = {s: m for s, m in self.behind_ms.items() if m is not None}
            if not known or len(known) < len(self.behind_ms):
                return None
            shard = max(known, key=lambda s: (known[s], s))
            return shard, known[shard]
