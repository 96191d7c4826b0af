"""Where a shard's reading starts on a given source: the one place that decides what a time
position becomes where the service has no AT_TIMESTAMP, and where each shard listed at the start
of a walk begins (`initial_position`).

A source only declares `supports_timestamp` (DynamoDB Streams: False; asking it for an
AT_TIMESTAMP iterator is a programming error). Here a time position becomes the position to ask
for and a time floor: records that arrived before the time are skipped by the reader. Kinesis
gets the floor too: botocore sends the Timestamp in whole seconds, so the service can return
records up to a second older than asked for.
"""

from __future__ import annotations

from typing import NamedTuple

from streamtail.errors import UsageError
from streamtail.lineage import Lineage, created_ms
from streamtail.model import TRIM_HORIZON, Position, PositionKind, Shard, seq_value
from streamtail.reader.plan import WalkPlan
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


def check_sequences_span_shards(plan: WalkPlan, source: Source) -> None:
    """A `--from at:|after:SEQ` without `--shard` where sequence numbers count within each shard
    (YDS) says nothing about the other shards: a usage error, unless resuming."""
    service = source.service
    if service.shard_sequences and not plan.resume:
        at = plan.position.kind is PositionKind.AT_SEQUENCE_NUMBER
        raise UsageError(
            f"on {service.name} sequence numbers count within each shard: --from "
            f"{'at' if at else 'after'}:SEQ needs the shard it belongs to",
            hint="add --shard ID (`streamtail shards STREAM` lists them)",
        )


def initial_position(
    shard: Shard, plan: WalkPlan, source: Source, lineage: Lineage, named: set[str]
) -> Position | None:
    """Where a shard listed at the start begins, or None when it has nothing to give (`named`:
    the shards `--shard` named)."""
    if shard.shard_id in plan.finished:
        return None
    if shard.shard_id in plan.resume:
        return plan.position  # the worker starts after the resume record
    position = plan.position
    if position.kind is PositionKind.LATEST:
        return None if shard.closed else position
    if _ended_before(shard.shard_id, position, source, lineage):
        return None  # every record it holds is older than the time
    if position.sequence is not None and source.service.shard_sequences:
        # A number of the named shard's own: its descendants are read whole.
        return position if shard.shard_id in named else TRIM_HORIZON
    wanted = seq_value(position.sequence)
    if wanted is not None:
        end = shard.last_seq
        if end is not None and end < wanted:
            return None  # the whole shard lies before the sequence number
        start = seq_value(shard.start_seq)
        if start is not None and start > wanted:
            return TRIM_HORIZON  # the whole shard lies after it
    return position


def _ended_before(shard_id: str, position: Position, source: Source, lineage: Lineage) -> bool:
    """A time start on a service without AT_TIMESTAMP (read from the trim horizon, skipping
    by time): the shard rolled over before the time, so it holds nothing at or after it and
    is not read. Its children's ids say when they were created (lineage.created_ms); a minute
    of margin covers timestamps rounded up (whole seconds on AWS, the minute on DynamoDB
    Local)."""
    if position.timestamp is None or source.supports_timestamp:
        return False
    children = lineage.children.get(shard_id)
    created = [created_ms(child) for child in children or ()]
    if not created or None in created:
        return False
    return max(c for c in created if c is not None) < position.timestamp * 1000 - 60_000
