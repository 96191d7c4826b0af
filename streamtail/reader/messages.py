"""What a shard's worker tells the walker, through the walker's bounded queue."""

from __future__ import annotations

from dataclasses import dataclass

from streamtail.model import Record, Shard


@dataclass
class Records:
    """A batch of records to hand to the caller, in the shard's order."""

    shard: str
    records: list[Record]


@dataclass
class Done:
    """The shard's worker ended."""

    shard: str
    #: "closed" (drained), "tip" (caught up, `read`), "until" (a record after --until),
    #: "quiet-until" (caught up after --until: children it may have are still read), "stopped",
    #: and "gone" (the walker's own: a shard aged out of the stream before it was read)
    reason: str
    #: the shard's children, when its last answer named them (ChildShards)
    children: list[Shard] | None = None


@dataclass
class Failed:
    """The shard's worker failed for good: the walker raises `error` in the caller's thread."""

    shard: str
    error: BaseException


Message = Records | Done | Failed
