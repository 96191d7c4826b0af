"""The shard walk: every shard read in sequence order, parents before children, politely paced.

One worker thread per running shard calls the source; the caller's thread receives batches through
a bounded queue (backpressure: a slow consumer stalls the workers, memory stays flat) and decides
which shards start next. Nothing here prints: warnings go to a callback.

Stop rules (documented in README, "How read and follow end"):
- a shard is drained when NextShardIterator comes back null, or, for servers that never return
  null (moto), when the listing says it is closed and either a batch comes back empty at the tip
  or the records up to its EndingSequenceNumber have been read;
- an open shard is at the tip when a batch is empty with MillisBehindLatest 0, or when a batch
  that is not full brings records that arrived after the walk began with MillisBehindLatest 0 (the
  tip as it stood then has been passed: this ends `read` on a stream that is written continuously).
  An empty batch with MillisBehindLatest > 0 is not the tip: more records lie ahead.
- sources that report no MillisBehindLatest (DynamoDB Streams) are at the tip after
  `EMPTY_BATCHES_AT_TIP` empty batches in a row, polled without the idle pause in between.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

from streamtail.errors import ServiceError, StreamtailError, UsageError
from streamtail.lineage import Lineage
from streamtail.model import (
    TRIM_HORIZON,
    Batch,
    Position,
    PositionKind,
    Record,
    Shard,
)
from streamtail.sources.base import Source

EXPIRED_ITERATOR = "ExpiredIteratorException"
#: without MillisBehindLatest, this many empty batches in a row mean the shard is at its tip
EMPTY_BATCHES_AT_TIP = 3


@dataclass(frozen=True)
class Pacing:
    """Polling manners. The defaults keep the contract's ceiling of 5 GetRecords calls a second."""

    #: least time between two GetRecords calls on one shard (5/s; a hair over 0.2 s for jitter)
    min_interval: float = 0.205
    #: time between calls on an idle shard (about one a second)
    idle_interval: float = 1.0
    #: `follow`: how often the shard listing is refreshed to find resharding
    relist_interval: float = 10.0
    #: backoff after a failed call: full jitter, doubling from base up to cap
    retry_base: float = 0.2
    retry_cap: float = 5.0
    #: `read` gives up on a shard that has failed without a break for this long (exit 1)
    retry_window: float = 180.0


@dataclass(frozen=True)
class WalkPlan:
    """What to read: where to start, whether to keep following, when to stop."""

    position: Position
    follow: bool = False
    #: epoch seconds; records that arrived after it end the walk
    until: float | None = None
    #: `follow`: stop after this many seconds without a record
    idle_exit: float | None = None
    #: read only these shards and their descendants
    shards: frozenset[str] = frozenset()
    #: of those, read only the shards this accepts (e.g. the hash ranges that can hold a key);
    #: a parent it rejects is not waited for, so its children start when their other parent ends
    accept: Callable[[Shard], bool] | None = None
    #: GetRecords Limit; None means the source's largest
    limit: int | None = None


@dataclass
class _Records:
    shard: str
    records: list[Record]


@dataclass
class _Done:
    shard: str
    #: "closed" (drained), "tip" (caught up, `read`), "until", "stopped"
    reason: str
    children: list[Shard] | None = None


@dataclass
class _Failed:
    shard: str
    error: BaseException


_Message = _Records | _Done | _Failed


@dataclass
class WalkStats:
    """Counters a status line or a test can read."""

    records: int = 0
    calls: int = 0
    retries: int = 0
    behind_ms: dict[str, int] = field(default_factory=dict)


class Walker:
    """Walks a stream's shards and yields batches of records, in order within each shard."""

    def __init__(
        self,
        source: Source,
        plan: WalkPlan,
        *,
        pacing: Pacing | None = None,
        warn: Callable[[str], None] | None = None,
        wall: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
        queue_size: int = 16,
    ) -> None:
        self.source = source
        self.plan = plan
        self.pacing = pacing or Pacing()
        self.warn = warn or (lambda _message: None)
        self.wall = wall
        self.clock = clock
        self.limit = plan.limit or source.max_limit
        self.lineage = Lineage()
        self.stats = WalkStats()
        self._queue: queue.Queue[_Message] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        #: shards in the plan's scope (`shards` and descendants), and those of them to read
        self._scope: set[str] = set()
        self._selected: set[str] = set()
        self._pending: dict[str, Position] = {}
        self._running: dict[str, threading.Thread] = {}
        self._done: set[str] = set()
        self._until_cut: set[str] = set()
        self._relist_due = 0.0
        self.started_ms = 0

    # -- the caller's side ------------------------------------------------------------------

    def batches(self) -> Generator[list[Record], None, None]:
        """Yield batches until the plan's stop rule holds; closing the iterator stops the walk."""
        self.started_ms = int(self.wall() * 1000)
        try:
            self._start()
            yield from self._loop()
        finally:
            self._stop.set()

    def _start(self) -> None:
        self.lineage.update(self.source.list_shards())
        wanted = self.plan.shards
        missing = sorted(wanted - set(self.lineage.shards))
        if missing:
            raise UsageError(
                f"no shard {missing[0]} in stream {self.source.ref.display!r}",
                hint="`streamtail shards STREAM` lists them",
            )
        self._scope = self.lineage.descendants(wanted) if wanted else set(self.lineage.shards)
        self._selected = {s for s in self._scope if self._accepts(s)}
        for shard in self.lineage.ordered():
            if shard.shard_id in self._selected:
                position = self._initial_position(shard)
                if position is None:
                    self._done.add(shard.shard_id)
                else:
                    self._pending[shard.shard_id] = position
        self._relist_due = self.clock() + self.pacing.relist_interval
        self._schedule()

    def _initial_position(self, shard: Shard) -> Position | None:
        """Where a shard listed at the start begins, or None when it has nothing to give."""
        position = self.plan.position
        if position.kind is PositionKind.LATEST:
            return None if shard.closed else position
        if position.sequence is not None:
            wanted = int(position.sequence)
            if shard.end_seq is not None and int(shard.end_seq) < wanted:
                return None  # the whole shard lies before the sequence number
            if shard.start_seq is not None and int(shard.start_seq) > wanted:
                return TRIM_HORIZON  # the whole shard lies after it
        return position

    def _loop(self) -> Generator[list[Record], None, None]:
        last_record = self.clock()
        while True:
            if not self._running and not self._pending and self._finished():
                return
            timeout = self._relist_due - self.clock() if self.plan.follow else 1.0
            if self.plan.idle_exit is not None:
                timeout = min(timeout, last_record + self.plan.idle_exit - self.clock())
            try:
                message = self._queue.get(timeout=max(timeout, 0.0))
            except queue.Empty:
                message = None
            if isinstance(message, _Records):
                last_record = self.clock()
                self.stats.records += len(message.records)
                yield message.records
            elif isinstance(message, _Done):
                self._finish(message)
            elif isinstance(message, _Failed):
                raise message.error
            if (
                self.plan.idle_exit is not None
                and self.clock() - last_record >= self.plan.idle_exit
            ):
                return
            if self.plan.follow and self.clock() >= self._relist_due:
                self._relist()

    def _finished(self) -> bool:
        if not self.plan.follow:
            return True
        return self.plan.until is not None and self.wall() > self.plan.until

    def _finish(self, message: _Done) -> None:
        shard_id = message.shard
        self._running.pop(shard_id, None)
        self._done.add(shard_id)
        if message.reason == "until":
            # Records after --until in a parent mean its children hold only later records.
            for descendant in self.lineage.descendants([shard_id]):
                self._pending.pop(descendant, None)
                self._done.add(descendant)
            return
        if message.children:
            self._adopt(message.children)
        if message.reason == "closed" and not self.lineage.children.get(shard_id):
            self._relist()  # the shard closed and nothing says where its records went on
        self._schedule()

    def _relist(self) -> None:
        self._relist_due = self.clock() + self.pacing.relist_interval
        try:
            shards = self.source.list_shards()
        except ServiceError as exc:
            self.warn(f"could not refresh the shard list, will retry: {exc.message}")
            return
        self._adopt(shards)
        self._schedule()

    def _adopt(self, shards: list[Shard]) -> None:
        """Take in shards found after the start: new ones are read from their beginning."""
        for shard in self.lineage.update(shards):
            if self.plan.shards and not any(p in self._scope for p in shard.parents):
                continue
            self._scope.add(shard.shard_id)
            if self._accepts(shard.shard_id):
                self._selected.add(shard.shard_id)
                if shard.shard_id not in self._done:
                    self._pending[shard.shard_id] = TRIM_HORIZON

    def _accepts(self, shard_id: str) -> bool:
        accept = self.plan.accept
        return accept is None or accept(self.lineage.shards[shard_id])

    def _schedule(self) -> None:
        """Start every pending shard whose selected parents are all done."""
        for shard in self.lineage.ordered():
            shard_id = shard.shard_id
            if shard_id not in self._pending:
                continue
            if all(p in self._done or p not in self._selected for p in shard.parents):
                position = self._pending.pop(shard_id)
                worker = _ShardWorker(self, shard_id, position)
                thread = threading.Thread(target=worker.run, name=f"shard:{shard_id}", daemon=True)
                self._running[shard_id] = thread
                thread.start()

    # -- the workers' side ------------------------------------------------------------------

    def put(self, message: _Message) -> bool:
        """Hand a message to the caller, waiting while the queue is full; False once stopped."""
        while not self._stop.is_set():
            try:
                self._queue.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def sleep(self, seconds: float) -> bool:
        """Wait, waking early when the walk stops; False once stopped."""
        if seconds > 0:
            self._stop.wait(seconds)
        return not self._stop.is_set()

    def is_closed(self, shard_id: str) -> bool:
        shard = self.lineage.shards.get(shard_id)
        return shard is not None and shard.closed


class _ShardWorker:
    """Reads one shard from its position to its end (or the tip, or a stop)."""

    def __init__(self, walker: Walker, shard_id: str, position: Position) -> None:
        self.walker = walker
        self.shard = walker.lineage.shards[shard_id]
        self.position = position
        #: records at or below this sequence number are skipped (set when a server refuses an
        #: iterator at a sequence number that is not in this shard)
        self.floor: int | None = None
        #: records older than this are skipped (a time position on a source without AT_TIMESTAMP)
        self.time_floor_ms: int | None = None
        if position.timestamp is not None and not walker.source.supports_timestamp:
            self.time_floor_ms = int(position.timestamp * 1000)
        #: the last record delivered (for a fresh iterator after expiry) and the last one read
        self.last_seq: str | None = None
        self.read_seq: str | None = None
        self.empty_streak = 0
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
            if walker.is_closed(self.shard.shard_id) and (
                (caught_up and not batch.records) or self._past_end()
            ):
                # Servers that never return a null iterator at a closed shard's end (moto).
                return "closed", batch.child_shards
            if caught_up and not walker.plan.follow:
                return "tip", None
            if caught_up and walker.plan.until is not None and walker.wall() > walker.plan.until:
                return "until", None
            idle = caught_up and not batch.records
            pause = walker.pacing.idle_interval if idle else walker.pacing.min_interval
            self.next_call = max(self.next_call, self.last_call + pause)
        return "closed", None

    def _caught_up(self, batch: Batch) -> bool:
        behind = batch.millis_behind
        if behind is None:
            self.empty_streak = 0 if batch.records else self.empty_streak + 1
            return self.empty_streak >= EMPTY_BATCHES_AT_TIP
        self.walker.stats.behind_ms[self.shard.shard_id] = behind
        if behind != 0:
            return False
        if not batch.records:
            return True
        full = len(batch.records) >= batch.limit > 0
        return not full and batch.records[-1].ts_ms >= self.walker.started_ms

    def _past_end(self) -> bool:
        end = self.walker.lineage.shards[self.shard.shard_id].end_seq
        return end is not None and self.read_seq is not None and int(self.read_seq) >= int(end)

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

    def _fetch(self, iterator: str) -> Batch | None:
        """One GetRecords call, paced and retried; None once the walk stops."""
        walker = self.walker
        while True:
            if not walker.sleep(self.next_call - walker.clock()):
                return None
            self.last_call = walker.clock()
            self.next_call = self.last_call + walker.pacing.min_interval
            walker.stats.calls += 1
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
        walker.stats.retries += 1
        delay = random.uniform(
            0, min(walker.pacing.retry_cap, walker.pacing.retry_base * 2**self.attempt)
        )
        self.attempt += 1
        walker.warn(f"shard {self.shard.shard_id}: {exc.message}; retrying")
        self.next_call = max(self.next_call, now + delay)
        return walker.sleep(delay)
