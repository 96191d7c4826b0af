"""Records into counts: each record's shard, key, arrival second and size, added to its shard's
`Timeline` and to the `Tally` of its slot of time.

What a record weighs is what AWS counts against a shard's write limit: its data as stored plus
its partition key, in bytes (PutRecords: "the data blob ... and the partition key ... count
towards the 1 MiB" per shard and second). A KPL aggregate is one record of its own size and key:
that is what was written. A DynamoDB change weighs its SizeBytes, keyed by its Keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson

from streamtail.model import Record
from streamtail.top.sketch import CAPACITY
from streamtail.top.tally import Tally, Timeline

#: (key, size in bytes) of a record; None leaves the record out of the key counts (a --group-by
#: field it lacks) while its shard still counts it
KeyOf = Callable[[Record], tuple[str | None, int]]


def kinesis_key(record: Record) -> tuple[str | None, int]:
    key = record.key
    return key, len(record.data) + (len(key) if key.isascii() else len(key.encode("utf-8")))


def dynamodb_key(record: Record) -> tuple[str | None, int]:
    """A change's Keys as compact JSON (`{"pk":"user#1"}`), its size its StreamRecord's SizeBytes
    (the item's size in the stream record, both images included)."""
    from streamtail.typed_json import plain_item

    change = record.change
    keys = plain_item(change.keys) if change is not None else None
    size = ((record.extra or {}).get("dynamodb") or {}).get("SizeBytes") or 0
    text = orjson.dumps(keys, option=orjson.OPT_SORT_KEYS).decode() if keys else ""
    return text, int(size)


def event_of(record: Record) -> str | None:
    change = record.change
    if change is None:
        return None
    return "TTL" if change.ttl else change.event


class Counter:
    """Counts records per shard and second (timelines) and per slot of `slot` seconds of arrival
    (tallies of shards and keys; `slot` None: one slot for all time)."""

    def __init__(
        self,
        *,
        slot: int | None = None,
        capacity: int = CAPACITY,
        by: str = "records",
        key_of: KeyOf = kinesis_key,
    ) -> None:
        self.slot = slot
        self.capacity = capacity
        self.by = by
        self.key_of = key_of
        self.timelines: dict[str, Timeline] = {}
        #: slot index (arrival second // slot; 0 when slot is None) -> its tally
        self.slots: dict[int, Tally] = {}
        #: the earliest and latest arrival second counted
        self.first: int | None = None
        self.last: int | None = None

    def timeline(self, shard_id: str) -> Timeline:
        timeline = self.timelines.get(shard_id)
        if timeline is None:
            timeline = self.timelines[shard_id] = Timeline()
        return timeline

    def tally(self, index: int) -> Tally:
        tally = self.slots.get(index)
        if tally is None:
            tally = self.slots[index] = Tally(self.capacity, by=self.by)
        return tally

    def add(
        self, records: Sequence[Record], keys: Iterable[tuple[str | None, int]] | None = None
    ) -> None:
        """Count a batch (the hot path: one call per batch, a few dict updates per record);
        `keys`: each record's (key, size) when the caller worked them out (--group-by)."""
        slot = self.slot
        shard_id = None
        timeline = tally = totals = None
        index = -1
        first, last = self.first, self.last
        keyed = map(self.key_of, records) if keys is None else keys
        for record, (key, size) in zip(records, keyed, strict=True):
            if record.shard != shard_id:
                shard_id = record.shard
                timeline = self.timeline(shard_id)
                index = -1
            second = record.ts_ms // 1000
            timeline.add(second, 1, size, key)  # type: ignore[union-attr]
            here = 0 if slot is None else second // slot
            if here != index:
                index = here
                tally = self.tally(here)
                totals = tally.shard(shard_id)
            totals.records += 1  # type: ignore[union-attr]
            totals.bytes += size  # type: ignore[union-attr]
            if record.change is not None:
                event = event_of(record) or "?"
                totals.events[event] = totals.events.get(event, 0) + 1  # type: ignore[union-attr]
            if key is not None:
                tally.keys.add((shard_id, key), 1, size)  # type: ignore[union-attr]
            if first is None or second < first:
                first = second
            if last is None or second > last:
                last = second
        self.first, self.last = first, last

    def span(self, start: int, end: int) -> Tally:
        """The slots whose index is in [start, end), merged into one tally."""
        merged = Tally(self.capacity, by=self.by)
        for index in sorted(self.slots):
            if start <= index < end:
                merged.merge(self.slots[index])
        return merged

    def drop_before(self, index: int) -> dict[int, Tally]:
        """Take out the slots before `index` (the ones that are done), oldest first."""
        return {i: self.slots.pop(i) for i in sorted(self.slots) if i < index}


def group_key(path: tuple[str, ...], decoded_value: Any) -> str | None:
    """`--group-by PATH`: the field at the dotted path of a decoded JSON payload, as text (as
    `put --key-field` reads it); None when the payload has no such field."""
    from streamtail.entries import key_text
    from streamtail.paths import value_at

    return key_text(value_at(decoded_value, path))
