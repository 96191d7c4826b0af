"""Record filters (`--key`, `--grep`, `--event`), applied after decoding and before `--limit`
counts, and the shard narrowing that `--key` allows."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from streamtail.decode import Item, text_of
from streamtail.errors import UsageError
from streamtail.model import Shard

EVENTS = frozenset({"INSERT", "MODIFY", "REMOVE"})
#: Kinesis partition keys are 1 to 256 Unicode characters
MAX_KEY_CHARS = 256


def partition_hash(key: str) -> int:
    """The 128-bit hash key Kinesis maps a partition key to: MD5 of its UTF-8 bytes, read as an
    unsigned big-endian integer (the shard whose HashKeyRange holds it gets the record)."""
    return int.from_bytes(hashlib.md5(key.encode("utf-8")).digest(), "big")


def key_shards(key: str) -> Callable[[Shard], bool]:
    """A shard predicate: True for shards whose hash-key range can hold `key`.

    A shard without a listed range (a ChildShards entry from a server that leaves it out) is kept.
    Records written with an ExplicitHashKey are routed by that instead of their partition key and
    can sit in other shards; `--key` does not see those.
    """
    point = partition_hash(key)

    def holds(shard: Shard) -> bool:
        if shard.hash_start is None or shard.hash_end is None:
            return True
        return shard.hash_start <= point <= shard.hash_end

    return holds


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_CHARS:
        raise UsageError(f"invalid --key {key!r}: partition keys are 1 to 256 characters")
    return key


@dataclass(frozen=True)
class RecordFilter:
    key: str | None = None
    grep: re.Pattern[str] | None = None
    #: DynamoDB event names to keep (INSERT, MODIFY, REMOVE)
    events: frozenset[str] = frozenset()

    @classmethod
    def build(cls, key: str | None, grep: str | None, events: tuple[str, ...] = ()) -> RecordFilter:
        unknown = [e for e in events if e.upper() not in EVENTS]
        if unknown:
            raise UsageError(f"invalid --event {unknown[0]!r}: choose INSERT, MODIFY or REMOVE")
        wanted = frozenset(e.upper() for e in events)
        pattern = None
        if grep is not None:
            try:
                pattern = re.compile(grep)
            except re.error as exc:
                raise UsageError(f"invalid --grep {grep!r}: {exc}") from exc
        return cls(key=None if key is None else check_key(key), grep=pattern, events=wanted)

    @property
    def active(self) -> bool:
        return self.key is not None or self.grep is not None or bool(self.events)

    def apply(self, items: Sequence[Item]) -> Sequence[Item]:
        if not self.active:
            return items
        return [item for item in items if self.keep(item)]

    def keep(self, item: Item) -> bool:
        record, decoded = item
        if self.key is not None and record.key != self.key:
            return False
        if self.events and (record.change is None or record.change.event not in self.events):
            return False
        return self.grep is None or self.grep.search(text_of(decoded)) is not None
