"""Record filters (`--key`, `--grep`, `--event`, `--where`), applied after decoding and before
`--limit` counts, and the shard narrowing that `--key` and `--hash-key` allow.

Any command that shows records can attach the same filter: `RecordFilter.build(...)` checks the
options before any call, and `seeing(view)` gives `--where` the object each record is shown as
(where.py; jmespath is imported only when --where is given).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from streamtail.decode import Item, text_of
from streamtail.errors import UsageError
from streamtail.model import Shard, SourceKind

if TYPE_CHECKING:
    from streamtail.where import Where

EVENTS = frozenset({"INSERT", "MODIFY", "REMOVE"})
#: Kinesis partition keys are 1 to 256 Unicode characters
MAX_KEY_CHARS = 256
#: hash keys are 128-bit: 0 to 2^128 - 1, written in decimal (PutRecord's ExplicitHashKey)
MAX_HASH_KEY = 2**128 - 1


def partition_hash(key: str) -> int:
    """The 128-bit hash key Kinesis maps a partition key to: MD5 of its UTF-8 bytes, read as an
    unsigned big-endian integer (the shard whose HashKeyRange holds it gets the record)."""
    return int.from_bytes(hashlib.md5(key.encode("utf-8")).digest(), "big")


def key_shards(key: str) -> Callable[[Shard], bool]:
    """A shard predicate: True for shards whose hash-key range can hold `key`.

    Records written with an ExplicitHashKey are routed by that instead of their partition key and
    can sit in other shards; `--key` does not see those (`--hash-key` does).
    """
    return hash_shards(partition_hash(key))


def hash_shards(point: int) -> Callable[[Shard], bool]:
    """A shard predicate: True for shards whose hash-key range holds the hash key `point`.

    A shard without a listed range (a ChildShards entry from a server that leaves it out) is kept.
    """

    def holds(shard: Shard) -> bool:
        if shard.hash_start is None or shard.hash_end is None:
            return True
        return shard.hash_start <= point <= shard.hash_end

    return holds


def parse_hash_key(text: str) -> int:
    """`--hash-key HASH`: a decimal 128-bit hash key, as PutRecord's ExplicitHashKey takes it."""
    value = text.strip()
    if not value.isdecimal() or not value.isascii() or int(value) > MAX_HASH_KEY:
        raise UsageError(
            f"invalid --hash-key {text!r}: a hash key is a decimal number from 0 to "
            f"{MAX_HASH_KEY} (2^128 - 1)"
        )
    return int(value)


def shards_for(key: str | None, hash_key: int | None) -> Callable[[Shard], bool] | None:
    """The shards to read: a record lives in the shard whose hash-key range holds its
    ExplicitHashKey if it was written with one (--hash-key), else the MD5 of its partition key
    (--key). With both, the hash key routes and --key still filters the records."""
    if hash_key is not None:
        return hash_shards(hash_key)
    return None if key is None else key_shards(key)


def check_filters(record_filter: RecordFilter, kind: SourceKind, *, hash_key: bool) -> None:
    """Filters that cannot match on this kind of stream are a usage error, not silence."""
    if record_filter.events and kind is not SourceKind.DYNAMODB:
        raise UsageError("--event applies to DynamoDB streams only (ddb:TABLE)")
    if hash_key and kind is not SourceKind.KINESIS:
        raise UsageError("--hash-key applies to Kinesis streams only")
    if record_filter.key is not None and kind is not SourceKind.KINESIS:
        raise UsageError(
            "--key applies to Kinesis streams only", hint="use --grep to match DynamoDB keys"
        )


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
    #: --where EXPR (JMESPath on the record's schema-v1 object)
    where: Where | None = None

    @classmethod
    def build(
        cls,
        key: str | None,
        grep: str | None,
        events: tuple[str, ...] = (),
        where: str | None = None,
    ) -> RecordFilter:
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
        expression = None
        if where is not None:
            from streamtail.where import Where

            expression = Where(where)
        key = None if key is None else check_key(key)
        return cls(key=key, grep=pattern, events=wanted, where=expression)

    def seeing(self, view: Callable[[Item], dict[str, Any]]) -> RecordFilter:
        """This filter with --where asking its expression of `view(item)` (the schema-v1 object
        the command shows the record as)."""
        if self.where is None:
            return self
        return replace(self, where=self.where.seeing(view))

    def cautions(self) -> list[str]:
        """What --where likely does not mean, to say before reading."""
        return [] if self.where is None else self.where.cautions()

    def report(self, warn: Callable[[str], None]) -> None:
        """The records --where failed on, in one warning (at the end of a read)."""
        if self.where is not None:
            self.where.report(warn)

    @property
    def active(self) -> bool:
        return (
            self.key is not None
            or self.grep is not None
            or bool(self.events)
            or self.where is not None
        )

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
        if self.grep is not None and self.grep.search(text_of(decoded)) is None:
            return False
        return self.where is None or self.where.keep(item)
