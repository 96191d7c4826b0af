"""Where a shard's reading starts on a given source: the one place that decides what a time
position becomes where the service has no AT_TIMESTAMP.

A source only declares `supports_timestamp` (DynamoDB Streams: False; asking it for an
AT_TIMESTAMP iterator is a programming error). Here a time position becomes the position to ask
for and a time floor: records that arrived before the time are skipped by the reader. Kinesis
gets the floor too: botocore sends the Timestamp in whole seconds, so the service can return
records up to a second older than asked for.
"""

from __future__ import annotations

from typing import NamedTuple

from streamtail.model import TRIM_HORIZON, Position
from streamtail.sources.base import Source


class Start(NamedTuple):
    #: the position to ask the source for
    position: Position
    #: epoch milliseconds: records that arrived before it are skipped (None: nothing skipped)
    time_floor_ms: int | None


def skips_by_time(position: Position, source: Source) -> bool:
    """A time position on a source without AT_TIMESTAMP: read from the trim horizon, records
    older than the time skipped (the caller says so once on stderr)."""
    return position.timestamp is not None and not source.supports_timestamp


def start_for(position: Position, source: Source) -> Start:
    """The position to ask `source` for, and the time floor of a time position."""
    if position.timestamp is None:
        return Start(position, None)
    floor = int(position.timestamp * 1000)
    return Start(TRIM_HORIZON if skips_by_time(position, source) else position, floor)
