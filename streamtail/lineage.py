"""The shard tree: parents, children, selection and parents-before-children order."""

from __future__ import annotations

import re
from collections.abc import Iterable

from streamtail.errors import UsageError
from streamtail.model import Shard


class Lineage:
    """Shards by id with their children; grows as resharding adds shards."""

    def __init__(self, shards: Iterable[Shard] = ()) -> None:
        self.shards: dict[str, Shard] = {}
        self.children: dict[str, list[str]] = {}
        self.update(shards)

    def update(self, shards: Iterable[Shard]) -> list[Shard]:
        """Add or refresh shards; returns the ones not seen before."""
        new: list[Shard] = []
        for shard in shards:
            old = self.shards.get(shard.shard_id)
            if old is None:
                new.append(shard)
                for parent in shard.parents:
                    self.children.setdefault(parent, []).append(shard.shard_id)
            if old is None or _richer(shard, old):
                self.shards[shard.shard_id] = shard
        return new

    def named(self, text: str) -> list[str]:
        """The shards `text` names: its exact id, else every shard whose short id it is."""
        if text in self.shards:
            return [text]
        return sorted(s for s in self.shards if short_id(s) == text)

    def resolve(self, text: str, stream: str) -> str:
        """A `--shard` value: a shard id, or the short id the table shows (`7` for
        shardId-000000000007, `1` for YDS's shard-000001); UsageError when it names none or
        several."""
        found = self.named(text)
        if len(found) == 1:
            return found[0]
        if found:
            raise UsageError(
                f"--shard {text} is ambiguous in stream {stream!r}: {', '.join(found)}",
                hint="give the whole shard id",
            )
        raise UsageError(
            f"no shard {text} in stream {stream!r}", hint="`streamtail shards STREAM` lists them"
        )

    def __contains__(self, shard_id: object) -> bool:
        return shard_id in self.shards

    def roots(self) -> list[str]:
        """Shards none of whose parents is listed (their parents aged out, or they are original)."""
        return [s.shard_id for s in self.ordered() if not any(p in self for p in s.parents)]

    def descendants(self, shard_ids: Iterable[str]) -> set[str]:
        """The given shards and every shard descended from them."""
        seen: set[str] = set()
        todo = list(shard_ids)
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            todo.extend(self.children.get(current, ()))
        return seen

    def ordered(self) -> list[Shard]:
        """Every shard, parents before children, otherwise in id order (stable, deterministic)."""
        result: list[Shard] = []
        placed: set[str] = set()
        pending = sorted(self.shards.values(), key=lambda s: s.shard_id)
        while pending:
            rest: list[Shard] = []
            for shard in pending:
                if all(p in placed or p not in self for p in shard.parents):
                    result.append(shard)
                    placed.add(shard.shard_id)
                else:
                    rest.append(shard)
            if len(rest) == len(pending):  # a cycle cannot happen in Kinesis; never loop forever
                result.extend(rest)
                break
            pending = rest
        return result

    def depth(self, shard_id: str) -> int:
        shard = self.shards.get(shard_id)
        if shard is None:
            return 0
        listed = [p for p in shard.parents if p in self]
        return 1 + max((self.depth(p) for p in listed), default=-1)


def _richer(new: Shard, old: Shard) -> bool:
    """A listing entry says more than a ChildShards entry (sequence range), or the shard closed."""
    return (new.closed and not old.closed) or (new.start_seq is not None and old.start_seq is None)


#: shard id prefixes whose number is the short id: AWS and its look-alikes, and YDS
#: (ydb/services/lib/sharding/sharding.cpp, `GetShardName`: "shard-%06d")
_NUMBERED = ("shardId-", "shard-")


def short_id(shard_id: str, width: int = 8) -> str:
    """`shardId-000000000007` -> `7`, `shard-000001` -> `1`; other forms keep their tail (the
    table's SHARD column shows this, and `--shard` takes it)."""
    for prefix in _NUMBERED:
        body = shard_id.removeprefix(prefix)
        if body != shard_id and body.isascii() and body.isdigit():
            return body.lstrip("0") or "0"
    return shard_id[-width:]


#: DynamoDB Streams' shard ids: `shardId-<20-digit creation time in epoch ms>-<8 hex>`
#: (the dynamodb-streams-kinesis-adapter reads the creation time out of them too)
_CREATED = re.compile(r"^shardId-(\d{20})-[0-9a-f]{8}$")


def created_ms(shard_id: str) -> int | None:
    """When a DynamoDB Streams shard was created (epoch ms), from its id; None for other ids."""
    found = _CREATED.match(shard_id)
    return int(found.group(1)) if found else None
