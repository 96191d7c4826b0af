"""The interface every stream backend implements. The reader knows only this."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

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


class Source(Protocol):
    """A stream API: list shards, get an iterator, get records.

    Errors are raised as `StreamtailError`s; a `ServiceError` carries the AWS error code so the
    reader can tell throttling, expired iterators and transient faults from fatal ones.
    """

    ref: StreamRef
    #: the largest Limit GetRecords accepts
    max_limit: int
    #: False when the API has no AT_TIMESTAMP: the reader then starts at the trim horizon and
    #: skips records older than the time (DynamoDB Streams)
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
