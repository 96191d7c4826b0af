"""One shard's reader: iterator, paced GetRecords loop, retries, stop rules for that shard.

Runs in its own thread, started by `Walker`; hands batches and its end to the walker's queue.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from streamtail.errors import THROTTLING_CODES, ServiceError, StreamtailError, UsageError
from streamtail.model import TRIM_HORIZON, Batch, Position, PositionKind, Record, Shard

if TYPE_CHECKING:
    from streamtail.reader import Walker

EXPIRED_ITERATOR = "ExpiredIteratorException"
#: without MillisBehindLatest, this many empty batches in a row mean the shard is at its tip
EMPTY_BATCHES_AT_TIP = 3


@dataclass
class _Records:
    shard: str
    records: list[Record]


@dataclass
class _Done:
    shard: str
    #: "closed" (drained), "tip" (caught up, `read`), "until" (a record after --until),
    #: "quiet-until" (caught up after --until: children it may have are still read), "stopped"
    reason: str
    children: list[Shard] | None = None


@dataclass
class _Failed:
    shard: str
    error: BaseException


_Message = _Records | _Done | _Failed


class ShardWorker:
    """Reads one shard from its position to its end (or the tip, or a stop)."""

    def __init__(self, walker: Walker, shard_id: str, position: Position) -> None:
        self.walker = walker
        self.shard = walker.lineage.shards[shard_id]
        self.position = position
        #: records at or below this sequence number are skipped (set when a server refuses an
        #: iterator at a sequence number that is not in this shard)
        self.floor: int | None = None
        #: records older than this are skipped: a time position on a source without AT_TIMESTAMP,
        #: and on Kinesis too, where botocore sends the Timestamp in whole seconds
        self.time_floor_ms: int | None = None
        if position.timestamp is not None:
            self.time_floor_ms = int(position.timestamp * 1000)
        #: the last record delivered (for a fresh iterator after expiry) and the last one read
        self.last_seq: str | None = None
        self.read_seq: str | None = None
        self.latest_since: float | None = None
        self.empty_streak = 0
        self.wall_at_call = 0.0
        self.closed_at_call = False
        self.next_call = 0.0
        self.last_call = 0.0
        self.failing_since: float | None = None
        self.attempt = 0

    def run(self) -> None:
        try:
            reason, children = self._walk()
        except BaseException as exc:  # handed to the caller's thread, which raises it
            self.walker.put(_Failed(self.shard.shard_id, exc))
            return
        self.walker.put(_Done(self.shard.shard_id, reason, children))

    def _walk(self) -> tuple[str, list[Shard] | None]:
        walker = self.walker
        until_ms = None if walker.plan.until is None else int(walker.plan.until * 1000)
        iterator = self._iterator()
        while iterator is not None:
            batch = self._fetch(iterator)
            if batch is None:
                return "stopped", None
            records = self._keep(batch.records)
            cut = False
            if until_ms is not None and records and records[-1].ts_ms > until_ms:
                records = [r for r in records if r.ts_ms <= until_ms]
                cut = True
            if records and not walker.put(_Records(self.shard.shard_id, records)):
                return "stopped", None
            if batch.records:
                self.read_seq = batch.records[-1].seq
                self.last_seq = records[-1].seq if records else self.last_seq
            if cut:
                return "until", None
            if batch.next_iterator is None:
                return "closed", batch.child_shards
            iterator = batch.next_iterator
            caught_up = self._caught_up(batch)
            if self.closed_at_call and ((caught_up and not batch.records) or self._past_end()):
                # Servers that never return a null iterator at a closed shard's end (moto).
                return "closed", batch.child_shards
            if caught_up and not walker.plan.follow:
                return "tip", None
            if (
                caught_up
                and walker.plan.until is not None
                and self.wall_at_call > walker.plan.until
            ):
                return "quiet-until", None
            self.empty_streak = 0 if batch.records else self.empty_streak + 1
            pause = walker.pacing.min_interval
            if caught_up and not batch.records:
                # Idle: back off from the fastest rate to about one call a second, so a shard
                # that receives a record now and then is still polled quickly after it.
                pause = min(walker.pacing.idle_interval, pause * 2 ** (self.empty_streak - 1))
            self.next_call = max(self.next_call, self.last_call + pause)
        return "closed", None

    def _caught_up(self, batch: Batch) -> bool:
        behind = batch.millis_behind
        if behind is None:
            empty_streak = 0 if batch.records else self.empty_streak + 1
            return empty_streak >= EMPTY_BATCHES_AT_TIP
        self.walker.stats.set_behind(self.shard.shard_id, behind)
        if behind != 0:
            return False
        if not batch.records:
            return True
        full = len(batch.records) >= batch.limit > 0
        return not full and batch.records[-1].ts_ms >= self.walker.started_ms

    def _past_end(self) -> bool:
        end = self.walker.lineage.shards[self.shard.shard_id].last_seq
        return end is not None and self.read_seq is not None and int(self.read_seq) >= end

    def _keep(self, records: list[Record]) -> list[Record]:
        if self.floor is not None:
            floor = self.floor
            records = [r for r in records if int(r.seq) > floor]
        if self.time_floor_ms is not None:
            time_floor = self.time_floor_ms
            records = [r for r in records if r.ts_ms >= time_floor]
        return records

    def _iterator(self) -> str | None:
        """An iterator at the start position, or after the last record delivered."""
        position = self.position
        if self.last_seq is not None:
            position = Position(PositionKind.AFTER_SEQUENCE_NUMBER, sequence=self.last_seq)
        elif position.kind is PositionKind.LATEST:
            if self.latest_since is None:
                # Remembered so that an iterator expiring before the first record is replaced
                # by one at this time, not by a new LATEST that would skip what came meanwhile
                # (a second early, for clock skew between this machine and the service).
                self.latest_since = self.walker.wall() - 1.0
            else:
                position = self._since(self.latest_since)
        while True:
            try:
                return self.walker.source.get_iterator(self.shard, position)
            except UsageError:
                if position.sequence is None or self.last_seq is not None:
                    raise
                # The server refused this sequence number for this shard: read the shard from its
                # start and skip what lies before the number instead.
                wanted = int(position.sequence)
                at = position.kind is PositionKind.AT_SEQUENCE_NUMBER
                self.floor = wanted - 1 if at else wanted
                position = TRIM_HORIZON
            except ServiceError as exc:
                if not self._backoff(exc):
                    return None

    def _since(self, moment: float) -> Position:
        if self.walker.source.supports_timestamp:
            return Position(PositionKind.AT_TIMESTAMP, timestamp=moment)
        self.time_floor_ms = int(moment * 1000)
        return TRIM_HORIZON

    def _fetch(self, iterator: str) -> Batch | None:
        """One GetRecords call, paced and retried; None once the walk stops."""
        walker = self.walker
        while True:
            if not walker.sleep(self.next_call - walker.clock()):
                return None
            self.last_call = walker.clock()
            # What the batch can be judged by is what was true when it was asked for: a listing
            # refreshed or a wall clock read after the answer could be newer than the answer.
            self.wall_at_call = walker.wall()
            self.closed_at_call = walker.is_closed(self.shard.shard_id)
            self.next_call = self.last_call + walker.pacing.min_interval
            walker.stats.count_call()
            try:
                batch = walker.source.get_records(self.shard, iterator, walker.limit)
            except ServiceError as exc:
                if exc.aws_code == EXPIRED_ITERATOR:
                    fresh = self._iterator()
                    if fresh is None:
                        return None
                    iterator = fresh
                    continue
                if not self._backoff(exc):
                    return None
                continue
            self.failing_since = None
            self.attempt = 0
            return batch

    def _backoff(self, exc: StreamtailError) -> bool:
        """Wait before retrying a failed call; raises once `read` has failed for too long."""
        walker = self.walker
        now = walker.clock()
        if self.failing_since is None:
            self.failing_since = now
        elif not walker.plan.follow and now - self.failing_since > walker.pacing.retry_window:
            raise exc
        walker.stats.count_retry(throttled=exc.aws_code in THROTTLING_CODES)
        delay = random.uniform(
            0, min(walker.pacing.retry_cap, walker.pacing.retry_base * 2**self.attempt)
        )
        self.attempt += 1
        walker.warn(f"shard {self.shard.shard_id}: {exc.message}; retrying")
        self.next_call = max(self.next_call, now + delay)
        return walker.sleep(delay)
