"""Counting records by arrival time: per shard and second (`Timeline`), and per span of time with
its keys (`Tally`).

Everything is bucketed by each record's ApproximateArrivalTimestamp (the second the service took
it), not by when streamtail read it: a shard's write limit applies to arrivals, and reading late
(a past window, a slow poll) must not move a record to another second.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from streamtail.top.sketch import CAPACITY, KeyCounts

#: a Kinesis shard takes at most 1,000 records or 1 MiB of writes a second (data and partition
#: key), whichever comes first ("Quotas and limits", Kinesis Data Streams developer guide); an
#: on-demand stream's shards too
RECORDS_LIMIT = 1000
BYTES_LIMIT = 1024 * 1024
#: seconds of per-second counts kept per shard: the last minute, its sparkline, and slack for
#: records of a second that are read late
KEEP_SECONDS = 150
#: calendar minutes kept per shard before the oldest is folded into the busiest minute
KEEP_MINUTES = 3
#: the most recent seconds whose keys a shard keeps; then only the busiest second's stay
KEY_SECONDS = 3
#: key counters per shard and second: a shard takes at most 1,000 records a second, so its keys
#: in a second are counted exactly on AWS (a local server that takes more gets estimates)
SECOND_KEYS = 2000


def limit_pct(records: int, size: int, seconds: float = 1.0) -> float:
    """Load as a percentage of a shard's write limit: the higher of records and bytes."""
    if seconds <= 0:
        return 0.0
    return max(records / RECORDS_LIMIT, size / BYTES_LIMIT) * 100.0 / seconds


@dataclass(frozen=True)
class Peak:
    """A shard's busiest second or minute: when it started (epoch seconds) and what it took."""

    start: int
    records: int
    bytes: int

    def pct(self, seconds: float) -> float:
        return limit_pct(self.records, self.bytes, seconds)


def _busier(a: Peak | None, start: int, counts: list[int], seconds: int) -> Peak:
    candidate = Peak(start, counts[0], counts[1])
    if a is None or candidate.pct(seconds) > a.pct(seconds):
        return candidate
    return a


class Timeline:
    """One shard's counts per second of arrival (the recent ones), per calendar minute, and its
    busiest second and minute so far. Memory is bounded: older seconds and minutes are folded
    into the busiest ones as newer ones arrive."""

    __slots__ = (
        "_peak_minute",
        "_peak_second",
        "hot",
        "minutes",
        "newest",
        "second_keys",
        "seconds",
    )

    def __init__(self) -> None:
        #: epoch second -> [records, bytes]
        self.seconds: dict[int, list[int]] = {}
        #: epoch minute (seconds // 60) -> [records, bytes]
        self.minutes: dict[int, list[int]] = {}
        self.newest = 0
        self._peak_second: Peak | None = None
        self._peak_minute: Peak | None = None
        #: epoch second -> its keys, for the last KEY_SECONDS seconds
        self.second_keys: dict[int, KeyCounts] = {}
        #: the busiest second among those whose keys were let go, and its keys
        self.hot: tuple[Peak, KeyCounts] | None = None

    def add(self, second: int, records: int, size: int, key: str | None = None) -> None:
        if key is not None:
            keys = self.second_keys.get(second)
            if keys is None:
                keys = self.second_keys[second] = KeyCounts(SECOND_KEYS)
                if len(self.second_keys) > KEY_SECONDS:
                    self._settle_keys()
            keys.add(key, records, size)
        counts = self.seconds.get(second)
        if counts is None:
            counts = self.seconds[second] = [0, 0]
            if second > self.newest:
                self.newest = second
                self._fold()
        counts[0] += records
        counts[1] += size
        minute = self.minutes.get(second // 60)
        if minute is None:
            minute = self.minutes[second // 60] = [0, 0]
        minute[0] += records
        minute[1] += size

    def _fold(self) -> None:
        oldest = self.newest - KEEP_SECONDS
        if len(self.seconds) > KEEP_SECONDS:
            for second in [s for s in self.seconds if s <= oldest]:
                self._peak_second = _busier(self._peak_second, second, self.seconds.pop(second), 1)
        if len(self.minutes) > KEEP_MINUTES:
            last = self.newest // 60 - KEEP_MINUTES
            for minute in [m for m in self.minutes if m <= last]:
                counts = self.minutes.pop(minute)
                self._peak_minute = _busier(self._peak_minute, minute * 60, counts, 60)

    def _settle_keys(self) -> None:
        """Keep the keys of the busiest second only, once newer seconds have come."""
        newest = max(self.second_keys)
        for second in [s for s in self.second_keys if s <= newest - KEY_SECONDS]:
            keys = self.second_keys.pop(second)
            peak = Peak(second, keys.total[0], keys.total[1])
            if self.hot is None or peak.pct(1) > self.hot[0].pct(1):
                self.hot = (peak, keys)

    def keys_at(self, second: int) -> KeyCounts | None:
        """The keys of that second, if it is recent or the busiest one whose keys were kept."""
        keys = self.second_keys.get(second)
        if keys is None and self.hot is not None and self.hot[0].start == second:
            keys = self.hot[1]
        return keys

    def window(self, end: int, seconds: int) -> list[tuple[int, int]]:
        """(records, bytes) of each of the `seconds` seconds before `end` (oldest first)."""
        got = self.seconds.get
        return [tuple(got(s, (0, 0))) for s in range(end - seconds, end)]  # type: ignore[misc]

    def peak_second(self, before: int | None = None) -> Peak | None:
        """The busiest second (by load), among those before `before` if given."""
        best = self._peak_second
        for second, counts in self.seconds.items():
            if before is None or second < before:
                best = _busier(best, second, counts, 1)
        return best

    def peak_minute(self) -> Peak | None:
        best = self._peak_minute
        for minute, counts in self.minutes.items():
            best = _busier(best, minute * 60, counts, 60)
        return best


@dataclass
class ShardTotals:
    """One shard's records and bytes over a span, and for DynamoDB the kinds of change."""

    records: int = 0
    bytes: int = 0
    #: INSERT, MODIFY, REMOVE and TTL (a REMOVE by Time to Live) -> changes
    events: dict[str, int] = field(default_factory=dict)


class Tally:
    """Counts over one span of arrival time: totals per shard and a sketch of (shard, key)."""

    __slots__ = ("keys", "shards")

    def __init__(self, capacity: int = CAPACITY, *, by: str = "records") -> None:
        self.shards: dict[str, ShardTotals] = {}
        self.keys = KeyCounts(capacity, by=by)

    def shard(self, shard_id: str) -> ShardTotals:
        totals = self.shards.get(shard_id)
        if totals is None:
            totals = self.shards[shard_id] = ShardTotals()
        return totals

    def merge(self, other: Tally) -> None:
        for shard_id, theirs in other.shards.items():
            mine = self.shard(shard_id)
            mine.records += theirs.records
            mine.bytes += theirs.bytes
            for event, count in theirs.events.items():
                mine.events[event] = mine.events.get(event, 0) + count
        self.keys.merge(other.keys)
