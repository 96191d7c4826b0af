"""The interface every stream backend implements. The reader knows only this."""

from __future__ import annotations

from typing import Protocol

from streamtail.model import Batch, Position, Shard, StreamRef


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
