"""Counts per key in bounded memory: exact while the keys fit, then Space-Saving.

Space-Saving (Metwally, Agrawal and El Abbadi, "Efficient Computation of Frequent and Top-k
Elements in Data Streams", ICDT 2005) keeps `capacity` counters. A key already counted adds to
its own; a new key, once every counter is taken, replaces the key with the smallest count and
starts from that count, remembering it as its error. So a count is never below the truth and at
most its `error` above it, every error is at most N / capacity (N the total counted), and every
key whose true count is above the smallest counter is held.

Counts are kept on the chosen measure (`by`: records or bytes) and on the other one alongside,
each with its own error (the evicted key's counts): both are bounds, never below the truth.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable
from dataclasses import dataclass

#: counters per sketch: 10,000 keys are counted exactly; beyond that each count may be over by
#: at most 1/10,000 of the total
CAPACITY = 10_000


@dataclass(frozen=True, slots=True)
class Count:
    """One key's counts: records and bytes, and how far above the truth each may be."""

    item: Hashable
    records: int
    bytes: int
    records_error: int = 0
    bytes_error: int = 0


class KeyCounts:
    """Records and bytes per item (a key, or a (shard, key) pair), in at most `capacity`
    counters, ranked by records or by bytes."""

    __slots__ = ("_by_bytes", "_heap", "_tick", "capacity", "entries", "evicted", "total")

    def __init__(self, capacity: int = CAPACITY, *, by: str = "records") -> None:
        if capacity < 1:
            raise ValueError("a sketch needs at least one counter")
        self.capacity = capacity
        self._by_bytes = by == "bytes"
        #: item -> [records, bytes, records_error, bytes_error]
        self.entries: dict[Hashable, list[int]] = {}
        #: (count on the ranking measure when pushed, tie-break, item); counts only grow, so a
        #: stale entry is below its item's count and is refreshed when it reaches the top
        self._heap: list[tuple[int, int, Hashable]] = []
        self._tick = 0
        #: how many keys were replaced: 0 means every count is exact
        self.evicted = 0
        #: [records, bytes] counted in all
        self.total = [0, 0]

    @property
    def exact(self) -> bool:
        return self.evicted == 0

    def add(self, item: Hashable, records: int, size: int) -> None:
        """Count `records` records of `size` bytes in all for `item`."""
        total = self.total
        total[0] += records
        total[1] += size
        entry = self.entries.get(item)
        if entry is not None:
            entry[0] += records
            entry[1] += size
            return
        if len(self.entries) < self.capacity:
            self.entries[item] = [records, size, 0, 0]
            return
        self._replace_smallest(item, records, size)

    def _replace_smallest(self, item: Hashable, records: int, size: int) -> None:
        heap = self._heap
        rank = 1 if self._by_bytes else 0
        if not heap:
            heap.extend(self._pushed(key, counts[rank]) for key, counts in self.entries.items())
            heapq.heapify(heap)
        while True:
            stored, _, key = heap[0]
            current = self.entries[key][rank]
            if current == stored:
                break
            heapq.heapreplace(heap, self._pushed(key, current))
        heapq.heappop(heap)
        old = self.entries.pop(key)
        self.evicted += 1
        entry = [old[0] + records, old[1] + size, old[0], old[1]]
        self.entries[item] = entry
        heapq.heappush(heap, self._pushed(item, entry[rank]))

    def _pushed(self, item: Hashable, count: int) -> tuple[int, int, Hashable]:
        self._tick += 1
        return (count, self._tick, item)

    def merge(self, other: KeyCounts) -> None:
        """Add another sketch's counts (its errors carried over: bounds stay bounds)."""
        for item, (records, size, records_error, bytes_error) in other.entries.items():
            self.add(item, records, size)
            entry = self.entries[item]
            entry[2] += records_error
            entry[3] += bytes_error
        self.evicted += other.evicted

    def top(self, n: int | None = None) -> list[Count]:
        """The items with the highest counts on the ranking measure, highest first (ties by the
        other measure, then by the item's text, so that output is stable)."""
        rank = 1 if self._by_bytes else 0
        ordered = sorted(
            self.entries.items(), key=lambda kv: (-kv[1][rank], -kv[1][1 - rank], str(kv[0]))
        )
        if n is not None:
            ordered = ordered[:n]
        return [Count(item, *counts) for item, counts in ordered]

    @property
    def max_error(self) -> tuple[int, int]:
        """The most any count may be above the truth: (records, bytes)."""
        if self.exact:
            return (0, 0)
        return (
            max(e[2] for e in self.entries.values()),
            max(e[3] for e in self.entries.values()),
        )
