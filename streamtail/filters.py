"""Record filters (`--key`, `--grep`), applied after decoding and before `--limit` counts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from streamtail.decode import text_of
from streamtail.errors import UsageError
from streamtail.render import Item

EVENTS = frozenset({"INSERT", "MODIFY", "REMOVE"})


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
        return cls(key=key, grep=pattern, events=wanted)

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
