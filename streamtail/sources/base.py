"""The interface every stream backend implements. The reader knows only this."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from streamtail.errors import UnsupportedError
from streamtail.model import Batch, Position, Shard, StreamRef

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLI = timedelta(milliseconds=1)


def epoch_ms(moment: Any) -> int:
    """An API timestamp in epoch milliseconds: epoch seconds as the lean parser keeps them
    (float or int), or a datetime as botocore parses them; 0 when absent."""
    if isinstance(moment, datetime):
        return (moment - _EPOCH) // _MILLI
    if isinstance(moment, int | float):
        return round(moment * 1000)
    return 0


class Lag(StrEnum):
    """What a GetRecords answer's MillisBehindLatest means."""

    #: how far the batch's last record is behind the shard's tip; 0 means caught up (AWS)
    TIP = "tip"
    #: now minus the last returned record's arrival, 0 on an empty batch: the data's age, not a
    #: distance to the tip (Yandex Data Streams)
    AGE = "age"
    #: not reported (DynamoDB Streams)
    NONE = "none"


#: Kinesis' read budget of a shard (`Service.read_rate`): 2 MiB a second
READ_RATE = 2 * 1024 * 1024


@dataclass(frozen=True)
class Service:
    """What a stream service supports and how it answers, declared by its source.

    The reader and the commands consult this instead of asking which service they talk to.
    """

    name: str = "Kinesis Data Streams"
    lag: Lag = Lag.TIP
    #: API operations the service does not implement: never called; a command that needs one
    #: stops with a one-line error (`require`)
    lacks: frozenset[str] = frozenset()
    #: the service takes StreamARN in place of StreamName
    stream_arn: bool = True
    #: ListShards tells parents (ParentShardId) and real hash-key ranges; when False the shard
    #: tree comes from DescribeStream
    listing_has_lineage: bool = True
    #: sequence numbers count within each shard (partition offsets), so one says nothing about
    #: another shard's records; AWS's grow across the stream's shards
    shard_sequences: bool = False
    #: records are pushed to the reader (enhanced fan-out's SubscribeToShard): GetRecords is the
    #: next event, so the walk polls without pauses and the service sets the cadence
    pushed: bool = False
    #: GetRecords answers a null NextShardIterator at a closed shard's end, as the API reference
    #: says ("If set to null, the shard has been closed"): then only that, or reading the record
    #: at the listed EndingSequenceNumber, ends a closed shard, and empty batches never do (AWS
    #: answers empty batches inside a shard's data). False where the service keeps handing out
    #: iterators past a closed shard's end (moto, YDS): there an empty batch at the tip of a shard
    #: the listing says is closed ends it too (`reader/ending.py`).
    null_iterator_at_end: bool = True
    #: GetRecords' records say how each payload was compressed by its writer (a `Codec`
    #: field): the source turns it into `Record.codec`
    record_codecs: bool = False
    #: the bytes a shard serves GetRecords a second, all its readers together: AWS's "each
    #: shard can support up to a maximum total data read rate of 2 MiB per second", where "if a
    #: call returns 10 MiB of data, subsequent calls made within the next 5 seconds throw
    #: ProvisionedThroughputExceededException" (Kinesis API reference, GetRecords). The reader
    #: waits out what a batch spent before its next call (`CallBudget.paid`). None where the
    #: service states no such budget: only calls are paced, and a throttled call retried.
    read_rate: int | None = READ_RATE

    def require(self, operation: str, purpose: str) -> None:
        """Raise UnsupportedError (exit 2) when the service lacks `operation`."""
        if operation in self.lacks:
            raise UnsupportedError(
                f"{self.name} does not implement {operation}, which {purpose} needs",
                aws_code="InvalidAction",
            )


KINESIS = Service()


class Source(Protocol):
    """A stream API: list shards, get an iterator, get records.

    Errors are raised as `StreamtailError`s; a `ServiceError` carries the AWS error code so the
    reader can tell throttling, expired iterators and transient faults from fatal ones.
    """

    ref: StreamRef

    @property
    def service(self) -> Service:
        """What the service supports and how it answers (may be refined by the first listing)."""
        ...

    #: the largest Limit GetRecords accepts
    max_limit: int
    #: False when the API has no AT_TIMESTAMP (DynamoDB Streams): the reader then starts at the
    #: trim horizon and skips records older than the time (reader/start.py), and never asks
    #: `get_iterator` for an AT_TIMESTAMP
    supports_timestamp: bool

    def list_shards(self) -> list[Shard]:
        """Every shard the service still lists, open and closed."""
        ...

    def get_iterator(self, shard: Shard, position: Position) -> str:
        """A shard iterator at `position`."""
        ...

    def get_records(self, shard: Shard, iterator: str, limit: int) -> Batch:
        """One GetRecords call."""
        ...

    def identity(self) -> dict[str, str]:
        """What tells this stream from another of the same name (one that was deleted and
        created again, or lives in another account or region), for `--checkpoint`: at most one
        call, made once per run."""
        ...

    def close(self) -> None:
        """The walk is over: let go of what the source holds (subscriptions); `open_source`
        calls it on the way out."""
        ...


@runtime_checkable
class ListsChildren(Protocol):
    """A source that can list one shard's children without listing the stream (DynamoDB
    Streams' DescribeStream ShardFilter CHILD_SHARDS)."""

    def list_children(self, shard_id: str) -> list[Shard] | None:
        """The shard's children; None when the service turned the filter down (the caller then
        lists the whole stream)."""
        ...
