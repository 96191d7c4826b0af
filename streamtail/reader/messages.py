"""What a shard's worker tells the walker, through the walker's bounded queue."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from streamtail.model import Record, Shard


@dataclass
class Records:
    """A batch of records to hand to the caller, in the shard's order."""

    shard: str
    records: list[Record]


class Ended(StrEnum):
    """Why a shard's worker ended."""

    #: drained: a null NextShardIterator, or the end the service's rules declare
    CLOSED = "closed"
    #: caught up (`read`)
    TIP = "tip"
    #: a record after --until (its descendants hold only later records)
    UNTIL = "until"
    #: caught up after --until: children it may have are still read
    QUIET_UNTIL = "quiet-until"
    #: `read` gave up on a shard that must end (it has a child) but never did (reader/ending.py)
    UNENDED = "unended"
    #: the walk was stopped
    STOPPED = "stopped"
    #: the walker's own: a shard aged out of the stream before it was read
    GONE = "gone"


@dataclass
class Done:
    """The shard's worker ended."""

    shard: str
    reason: Ended
    #: the shard's children, when its last answer named them (ChildShards)
    children: list[Shard] | None = None


@dataclass
class Failed:
    """The shard's worker failed for good: the walker raises `error` in the caller's thread."""

    shard: str
    error: BaseException


Message = Records | Done | Failed


@dataclass(frozen=True)
class Progress:
    """What the walk has got through, as the `Walker` reports it to whoever prints (at the start,
    with every batch, at the end): what a checkpoint records besides the records printed."""

    #: shards with nothing left to read (drained, skipped as wholly before the start, gone, or
    #: finished by an earlier walk)
    finished: frozenset[str] = frozenset()
    #: the shards the stream lists (empty until the first listing)
    listed: frozenset[str] = frozenset()
