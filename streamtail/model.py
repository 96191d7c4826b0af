"""Value types shared by sources, the reader and renderers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple


class SourceKind(StrEnum):
    KINESIS = "kinesis"
    DYNAMODB = "dynamodb"


@dataclass(frozen=True)
class StreamRef:
    """A resolved stream name: what the user typed and how to address it in the API."""

    kind: SourceKind
    #: the name to show and print in records (`stream` field)
    display: str
    #: the Kinesis StreamName, when the stream is addressed by name
    name: str | None = None
    #: the stream ARN, when the stream is addressed by ARN
    arn: str | None = None
    #: a region taken from an ARN, used unless --region says otherwise
    region: str | None = None
    #: a region the name suggests (a Yandex path's), used when nothing else names one
    default_region: str | None = None


@dataclass(frozen=True)
class Shard:
    """One shard from the listing, open or closed."""

    shard_id: str
    parent: str | None = None
    adjacent_parent: str | None = None
    hash_start: int | None = None
    hash_end: int | None = None
    start_seq: str | None = None
    #: set when the shard is closed (it was split or merged)
    end_seq: str | None = None
    #: closed, though the listing gives no EndingSequenceNumber: a parent of listed shards on a
    #: service that leaves the end out (Yandex Data Streams, sources/yds.py)
    sealed: bool = False

    @property
    def closed(self) -> bool:
        return self.end_seq is not None or self.sealed

    @property
    def last_seq(self) -> int | None:
        """The closed shard's EndingSequenceNumber as a number, when it is a real bound.

        kinesis-mock reports 9223372036854775807 for every closed shard, below the shard's own
        (AWS-sized) sequence numbers; such an end says nothing and is ignored.
        """
        end = seq_value(self.end_seq)
        if end is None:
            return None
        start = seq_value(self.start_seq)
        if start is not None and end < start:
            return None
        return end

    @property
    def parents(self) -> tuple[str, ...]:
        return tuple(p for p in (self.parent, self.adjacent_parent) if p)


def seq_value(seq: str | None) -> int | None:
    """A sequence number as a number, to order records of one shard; None when it is not one.

    Sequence numbers are opaque strings to streamtail: AWS's are 56-digit decimals, YDS's are
    partition offsets ("0", "1", ...), and a service may use any form. Decimal ones order
    numerically within a shard; anything else is never compared (and never crashes a read).
    """
    if seq is None or not (seq.isascii() and seq.isdigit()):
        return None
    return int(seq)


class PositionKind(StrEnum):
    TRIM_HORIZON = "TRIM_HORIZON"
    LATEST = "LATEST"
    AT_SEQUENCE_NUMBER = "AT_SEQUENCE_NUMBER"
    AFTER_SEQUENCE_NUMBER = "AFTER_SEQUENCE_NUMBER"
    AT_TIMESTAMP = "AT_TIMESTAMP"


@dataclass(frozen=True)
class Position:
    """Where to start reading a shard. `timestamp` is epoch seconds for AT_TIMESTAMP."""

    kind: PositionKind
    sequence: str | None = None
    timestamp: float | None = None

    def __str__(self) -> str:
        if self.sequence is not None:
            return f"{self.kind.value} {self.sequence}"
        if self.timestamp is not None:
            return f"{self.kind.value} {self.timestamp}"
        return self.kind.value


TRIM_HORIZON = Position(PositionKind.TRIM_HORIZON)
LATEST = Position(PositionKind.LATEST)


@dataclass(frozen=True)
class Resume:
    """Where a shard resumes: right after this record of it (from a checkpoint)."""

    seq: str
    #: the record's arrival time (epoch ms), to tell how far the stream moved on if it is trimmed
    ts_ms: int | None = None
    #: set when --limit cut the record short after this many of its output records (the user
    #: records of a KPL aggregate, the events of a log envelope): it is read again, and the
    #: rest of it printed
    part: int | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """What a DynamoDB stream record says changed (attribute maps still in typed JSON)."""

    event: str
    event_id: str
    keys: dict[str, Any]
    new: dict[str, Any] | None = None
    old: dict[str, Any] | None = None
    #: a deletion made by Time to Live
    ttl: bool = False


class Record(NamedTuple):
    """One record as read from a shard; the payload is still bytes.

    A NamedTuple rather than a frozen dataclass: it is built once per record on the hot path,
    and a tuple is several times cheaper to construct.
    """

    shard: str
    seq: str
    key: str
    #: ApproximateArrivalTimestamp in epoch milliseconds
    ts_ms: int
    data: bytes
    #: API fields beyond the ones above (e.g. EncryptionType), kept for `-o aws`; for a
    #: DynamoDB record, the whole record as the API returned it
    extra: dict[str, Any] | None = None
    #: set for DynamoDB stream records (`data` is then empty)
    change: Change | None = None
    #: the index of a user record unpacked from a KPL aggregate (`seq` is the aggregate's)
    subseq: int | None = None
    #: the compression the service says `data` was written with ("gzip", "zstd", "lzop", or
    #: "codec N" for one it names by number only): a Yandex Data Streams record's `Codec`
    #: (sources/yds.py); None when the service says nothing, or that it is not compressed
    codec: str | None = None


@dataclass(frozen=True)
class Batch:
    """One GetRecords response, normalised across sources."""

    records: list[Record]
    next_iterator: str | None
    #: None when the source does not report it
    millis_behind: int | None = None
    #: ChildShards of a closed shard's last response, when the server sends them
    child_shards: list[Shard] | None = None
    #: the Limit the request asked for, so the reader can tell a full batch
    limit: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class PutEntry(NamedTuple):
    """One record for PutRecords."""

    data: bytes
    key: str
    #: the input line (or binary chunk) it came from, counted from 1
    origin: int

    @property
    def size(self) -> int:
        """Data and partition key together, as Kinesis counts a record against its limits."""
        return len(self.data) + len(self.key.encode("utf-8"))


class PutResult(NamedTuple):
    """The outcome of one entry of a PutRecords call."""

    error_code: str | None = None
    error_message: str | None = None
    shard: str | None = None
    seq: str | None = None
