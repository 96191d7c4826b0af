"""The shard walk: every shard read in sequence order, parents before children, politely paced.

One worker thread per running shard calls the source; the caller's thread receives batches through
a bounded queue (backpressure: a slow consumer stalls the workers, memory stays flat) and decides
which shards start next. Nothing here prints: warnings go to a callback.

Stop rules (documented in README, "How read and follow end"; how a shard ends is decided in
reader/ending.py):
- a shard is drained when NextShardIterator comes back null, or when the record at its listed
  EndingSequenceNumber has been read; on a service that never returns a null iterator there
  (moto, YDS: `Service.null_iterator_at_end`), also when the listing says it is closed and a
  batch comes back empty at the tip. Empty batches never end a closed shard elsewhere;
- a shard that must end (listed closed, or the parent of a listed child) is never at its tip:
  `read` reads on until it ends, and its children wait; after `Pacing.close_wait` of empty
  batches at its tip `read` names it on stderr, leaves its descendants unread, and exits 1;
- an open shard is at the tip when a batch is empty with MillisBehindLatest 0, or when a batch
  that is not full brings records that arrived after the walk began with MillisBehindLatest 0 (the
  tip as it stood then has been passed: this ends `read` on a stream that is written continuously).
  An empty batch with MillisBehindLatest > 0 is not the tip: more records lie ahead. A batch of
  older records with MillisBehindLatest 0 is not the tip either: the service may return fewer
  records than asked for, and MillisBehindLatest counts whole milliseconds, so records written in
  the same millisecond as the batch's last one can still lie ahead.
- sources that report no MillisBehindLatest (DynamoDB Streams) are at the tip after
  `EMPTY_BATCHES_AT_TIP` empty batches in a row, polled without the idle pause in between.

Resuming (a checkpoint): `WalkPlan.resume` gives shards a record to resume after, and
`WalkPlan.finished` shards that have nothing left to read; `Walker.finished` tells which shards
have nothing left now, so that a checkpoint can say so in turn.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Generator

from streamtail.clock import SYSTEM, Clock
from streamtail.errors import NotFoundError, ServiceError, UsageError
from streamtail.lineage import Lineage, created_ms
from streamtail.model import (
    TRIM_HORIZON,
    Position,
    PositionKind,
    Record,
    Shard,
    seq_value,
)
from streamtail.positions import format_ts
from streamtail.reader.messages import Done, Failed, Message, Records
from streamtail.reader.plan import Pacing, WalkPlan
from streamtail.reader.retry import Backoff, Notices
from streamtail.reader.shard import ShardWorker
from streamtail.sources.base import ListsChildren, Source
from streamtail.stats import WalkStats

__all__ = ["Pacing", "WalkPlan", "WalkStats", "Walker"]


class Walker:
    """Walks a stream's shards and yields batches of records, in order within each shard."""

    def __init__(
        self,
        source: Source,
        plan: WalkPlan,
        *,
        pacing: Pacing | None = None,
        warn: Callable[[str], None] | None = None,
        clock: Clock = SYSTEM,
        queue_size: int = 4,
        record_budget: int = 30_000,
        on_start: Callable[[], None] | None = None,
    ) -> None:
        self.source = source
        #: called once the stream has been listed and its shards started, before any batch
        self.on_start = on_start
        self.plan = plan
        self.pacing = pacing or Pacing()
        self.warn = warn or (lambda _message: None)
        #: every wait and every reading of the time goes through it (streamtail/clock.py)
        self.time_source = clock
        self.wall = clock.wall
        self.clock = clock.monotonic
        self._queue_size = queue_size
        self._record_budget = record_budget
        self.lineage = Lineage()
        self.stats = WalkStats()
        self._queue: queue.Queue[Message] = queue.Queue(maxsize=queue_size)
        #: set by each message put and by `stop`: what the caller's thread waits on
        self._wake = threading.Event()
        self._stop = threading.Event()
        #: shards in the plan's scope (`shards` and descendants), and those of them to read
        self._scope: set[str] = set()
        #: the shards `--shard` named (their descendants are in scope too)
        self._named: set[str] = set()
        self._selected: set[str] = set()
        self._pending: dict[str, Position] = {}
        self._running: dict[str, threading.Thread] = {}
        self._done: set[str] = set()
        self._exhausted: set[str] = set()
        self._relist_due = 0.0
        self._relist_owed = False
        self.give_up_after = self._give_up_after()
        self._relist_backoff = Backoff(
            self.pacing.retry_base, self.pacing.retry_cap, self.give_up_after
        )
        self.notices = Notices(
            self.warn,
            self.clock,
            give_up_after=self.give_up_after,
            interval=self.pacing.notice_interval,
        )
        self.started_ms = 0
        #: shards `read` gave up on before they ended (reader/ending.py): the read is incomplete
        self.unended: list[str] = []

    def _give_up_after(self) -> float | None:
        timeout = self.plan.retry_timeout
        if timeout is None:
            return None if self.plan.follow else self.pacing.retry_window
        return None if timeout == float("inf") else timeout

    @property
    def finished(self) -> frozenset[str]:
        """Shards with nothing left to read: drained to their end, skipped as wholly before the
        start position, gone from the stream, or finished by an earlier walk."""
        return frozenset(self._exhausted)

    # -- the caller's side ------------------------------------------------------------------

    def batches(self) -> Generator[list[Record], None, None]:
        """Yield batches until the plan's stop rule holds; closing the iterator stops the walk."""
        self.started_ms = int(self.wall() * 1000)
        try:
            self._start()
            if self.on_start is not None:
                self.on_start()
            yield from self._loop()
        finally:
            self._stop.set()

    def stop(self) -> None:
        """End the walk from any thread: `batches()` returns at once (woken if it waits)."""
        self._stop.set()
        self._wake.set()

    def _start(self) -> None:
        self.lineage.update(self.source.list_shards())
        stream = self.source.ref.display
        wanted = {self.lineage.resolve(text, stream) for text in sorted(self.plan.shards)}
        self._named = wanted
        if self.plan.position.sequence is not None and not wanted:
            self._check_sequences_span_shards()
        self._scope = self.lineage.descendants(wanted) if wanted else set(self.lineage.shards)
        self._selected = {s for s in self._scope if self._accepts(s)}
        self._forget_unlisted()
        for shard in self.lineage.ordered():
            if shard.shard_id in self._selected:
                position = self._initial_position(shard)
                if position is None:
                    self._done.add(shard.shard_id)
                    self._exhausted.add(shard.shard_id)
                else:
                    self._pending[shard.shard_id] = position
        self._relist_due = self.clock() + self._relist_every()
        self._schedule()

    def _check_sequences_span_shards(self) -> None:
        service = self.source.service
        if service.shard_sequences and not self.plan.resume:
            raise UsageError(
                f"on {service.name} sequence numbers count within each shard: --from "
                f"{'at' if self.plan.position.kind is PositionKind.AT_SEQUENCE_NUMBER else 'after'}"
                ":SEQ needs the shard it belongs to",
                hint="add --shard ID (`streamtail shards STREAM` lists them)",
            )

    def _forget_unlisted(self) -> None:
        """Shards to resume that the stream no longer lists: closed, and aged out since."""
        for shard_id, resume in sorted(self.plan.resume.items()):
            if shard_id not in self.lineage and shard_id not in self.plan.finished:
                arrived = f" (arrived {format_ts(resume.ts_ms)})" if resume.ts_ms else ""
                self.warn(
                    f"shard {shard_id} is no longer in the stream: its records after seq "
                    f"{resume.seq}{arrived} were trimmed (past the stream's retention) before "
                    "they could be read"
                )

    def _initial_position(self, shard: Shard) -> Position | None:
        """Where a shard listed at the start begins, or None when it has nothing to give."""
        if shard.shard_id in self.plan.finished:
            return None
        if shard.shard_id in self.plan.resume:
            return self.plan.position  # the worker starts after the resume record
        position = self.plan.position
        if position.kind is PositionKind.LATEST:
            return None if shard.closed else position
        if self._ended_before(shard.shard_id, position):
            return None  # every record it holds is older than the time
        if position.sequence is not None and self.source.service.shard_sequences:
            # A number of the named shard's own: its descendants are read whole.
            return position if shard.shard_id in self._named else TRIM_HORIZON
        wanted = seq_value(position.sequence)
        if wanted is not None:
            end = shard.last_seq
            if end is not None and end < wanted:
                return None  # the whole shard lies before the sequence number
            start = seq_value(shard.start_seq)
            if start is not None and start > wanted:
                return TRIM_HORIZON  # the whole shard lies after it
        return position

    def _ended_before(self, shard_id: str, position: Position) -> bool:
        """A time start on a service without AT_TIMESTAMP (read from the trim horizon, skipping
        by time): the shard rolled over before the time, so it holds nothing at or after it and
        is not read. Its children's ids say when they were created (lineage.created_ms); a minute
        of margin covers timestamps rounded up (whole seconds on AWS, the minute on DynamoDB
        Local)."""
        if position.timestamp is None or self.source.supports_timestamp:
            return False
        children = self.lineage.children.get(shard_id)
        created = [created_ms(child) for child in children or ()]
        if not created or None in created:
            return False
        return max(c for c in created if c is not None) < position.timestamp * 1000 - 60_000

    def _loop(self) -> Generator[list[Record], None, None]:
        last_record = self.clock()
        while not self._stop.is_set():
            idle = not self._running and not self._pending and not self._relist_owed
            if idle and self._finished():
                return
            relisting = self.plan.follow or self._relist_owed
            timeout = self._relist_due - self.clock() if relisting else 1.0
            if self.plan.idle_exit is not None:
                timeout = min(timeout, last_record + self.plan.idle_exit - self.clock())
            message = self._next_message(timeout)
            if self._stop.is_set():
                return
            if isinstance(message, Records):
                last_record = self.clock()
                self.stats.records += len(message.records)
                yield message.records
            elif isinstance(message, Done):
                self._finish(message)
            elif isinstance(message, Failed):
                self._failed(message)
            if (
                self.plan.idle_exit is not None
                and self.clock() - last_record >= self.plan.idle_exit
            ):
                return
            if (self.plan.follow or self._relist_owed) and self.clock() >= self._relist_due:
                self._relist()

    def _next_message(self, timeout: float) -> Message | None:
        """A worker's next message, waiting up to `timeout` seconds for one (on the walk's
        clock); None when none came, or when `stop` woke the wait."""
        with contextlib.suppress(queue.Empty):
            return self._queue.get_nowait()
        self._wake.clear()
        with contextlib.suppress(queue.Empty):  # put between the first look and the clear
            return self._queue.get_nowait()
        self.time_source.wait(self._wake, max(timeout, 0.0))
        with contextlib.suppress(queue.Empty):
            return self._queue.get_nowait()
        return None

    def _finished(self) -> bool:
        if not self.plan.follow:
            return True
        return self.plan.until is not None and self.wall() > self.plan.until

    def _failed(self, message: Failed) -> None:
        """A worker failed for good. A shard the service says is not found may have aged out
        (it is skipped) or the stream may have been deleted (exit 3): the listing tells."""
        error = message.error
        if not isinstance(error, NotFoundError):
            raise error
        try:
            listed = {shard.shard_id for shard in self.source.list_shards()}
        except NotFoundError as exc:
            raise self._deleted(exc) from exc
        except ServiceError:
            raise error from None
        if message.shard in listed:
            raise error
        self.warn(
            f"shard {message.shard} is no longer in the stream (past its retention) before it "
            "was read to its end: its remaining records are gone"
        )
        self._finish(Done(message.shard, "gone"))

    def _deleted(self, exc: NotFoundError) -> NotFoundError:
        return NotFoundError(
            f"stream {self.source.ref.display!r} no longer exists: it was deleted while being "
            f"read ({exc.message})",
            aws_code=exc.aws_code,
        )

    def _finish(self, message: Done) -> None:
        shard_id = message.shard
        self._running.pop(shard_id, None)
        self._done.add(shard_id)
        if message.reason in {"closed", "gone"}:
            self._exhausted.add(shard_id)
        self.stats.shard_finished(
            shard_id, drained=message.reason == "closed", still_open=len(self._running)
        )
        if message.reason in {"until", "unended"}:
            # Records after --until in a parent mean its children hold only later records; a
            # parent that did not end leaves its children unread (they come after it).
            if message.reason == "unended":
                self.unended.append(shard_id)
                self.warn(
                    f"shard {shard_id} did not end: it must (it is listed closed, or a child of it "
                    f"is listed) but answered only empty batches for {self.pacing.close_wait:g} s; "
                    "read stopped there, its child shards unread"
                )
            for descendant in self.lineage.descendants([shard_id]):
                self._pending.pop(descendant, None)
                self._done.add(descendant)
            return
        if message.children:
            self._adopt(message.children)
        elif message.reason in {"closed", "quiet-until"} and not self.lineage.children.get(
            shard_id
        ):
            self._adopt(self._children_of(shard_id))
        unknown_parent = any(
            p not in self.lineage for child in message.children or () for p in child.parents
        )
        if unknown_parent or (
            message.reason in {"closed", "quiet-until", "gone"}
            and not self.lineage.children.get(shard_id)
        ):
            # Nothing says where the shard's records went on, or a merged child names a parent
            # this walk has not seen yet (that parent must be read first): list again.
            self._relist()
        self._schedule()

    def _relist_every(self) -> float:
        """`follow`'s listing interval: longer where a closed shard's children are asked for by
        themselves (every new shard is a child of one the walk reads, found when it ends), so a
        stream of hundreds of shards is not listed whole every few seconds."""
        if isinstance(self.source, ListsChildren):
            return max(self.pacing.relist_interval, self.pacing.relist_interval_children)
        return self.pacing.relist_interval

    def _children_of(self, shard_id: str) -> list[Shard]:
        """A closed shard's children, asked for alone where the source can (DynamoDB Streams'
        ShardFilter CHILD_SHARDS); none found (or not asked) leaves the whole listing to do."""
        if not isinstance(self.source, ListsChildren):
            return []
        try:
            return self.source.list_children(shard_id) or []
        except NotFoundError as exc:
            raise self._deleted(exc) from exc
        except ServiceError:
            return []

    def _relist(self) -> None:
        now = self.clock()
        self._relist_due = now + self._relist_every()
        try:
            shards = self.source.list_shards()
        except NotFoundError as exc:
            raise self._deleted(exc) from exc
        except ServiceError as exc:
            # A listing owed after a shard closed must happen, in `read` too, or its children
            # would be missed: retry soon, and give up (exit 1) only after the retry timeout.
            self._relist_backoff.failed(exc, now)
            self.notices.failure(None, exc)
            self._relist_owed = True
            self._relist_due = now + min(self.pacing.retry_cap, self.pacing.relist_interval)
            return
        self._relist_owed = False
        lasted = self._relist_backoff.succeeded(now)
        if lasted is not None:
            self.notices.recovered(None, lasted)
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
                if shard.shard_id in self.plan.finished:
                    self._done.add(shard.shard_id)
                    self._exhausted.add(shard.shard_id)
                elif shard.shard_id not in self._done:
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
                worker = ShardWorker(self, shard_id, position, self.plan.resume.get(shard_id))
                thread = threading.Thread(target=worker.run, name=f"shard:{shard_id}", daemon=True)
                self._running[shard_id] = thread
                thread.start()
        self.stats.open_shards = len(self._running)

    # -- the workers' side ------------------------------------------------------------------

    def put(self, message: Message) -> bool:
        """Hand a message to the caller, waiting while the queue is full; False once stopped."""
        while not self._stop.is_set():
            try:
                self._queue.put(message, timeout=0.1)
            except queue.Full:
                continue
            self._wake.set()
            return True
        return False

    def sleep(self, seconds: float) -> bool:
        """Wait, waking early when the walk stops; False once stopped."""
        if seconds > 0:
            self.time_source.wait(self._stop, seconds)
        return not self._stop.is_set()

    @property
    def limit(self) -> int:
        """The GetRecords Limit: the largest the source takes, unless many shards run at once.

        Batches waiting in the queue plus one batch in hand per running shard are all that is
        held in memory; the Limit shrinks with the number of running shards so that this stays
        within `record_budget` records however wide the stream (64 shards: ~880 a call).
        """
        if self.plan.limit is not None:
            return self.plan.limit
        share = self._record_budget // (self._queue_size + max(len(self._running), 1))
        return max(100, min(self.source.max_limit, share))

    def shard(self, shard_id: str) -> Shard:
        return self.lineage.shards[shard_id]

    def has_children(self, shard_id: str) -> bool:
        return bool(self.lineage.children.get(shard_id))

    def is_closed(self, shard_id: str) -> bool:
        shard = self.lineage.shards.get(shard_id)
        return shard is not None and shard.closed
