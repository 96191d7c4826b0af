"""One shard's reader: iterator, paced GetRecords loop, retries, stop rules for that shard.

Runs in its own thread, started by `Walker`; sees of the walk only its `ShardContext`
(reader/context.py), and hands batches and its end to it as messages (reader/messages.py).

Where a shard resumes is always right after the last record read from it (`after`): a renewed
iterator (ExpiredIteratorException) starts there, and so does a shard resumed from a checkpoint.
When the service no longer holds that position (the records after it were trimmed: past the
stream's retention), the shard moves on to its trim horizon and says on stderr how far the
stream moved on meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from streamtail.errors import ServiceError, UsageError
from streamtail.model import (
    TRIM_HORIZON,
    Batch,
    Position,
    PositionKind,
    Record,
    Resume,
    Shard,
    seq_value,
)
from streamtail.positions import format_duration, format_ts, now_position
from streamtail.reader.calls import ShardCalls, at_tip
from streamtail.reader.ending import ends_here, must_end
from streamtail.reader.messages import Done, Ended, Failed, Records
from streamtail.reader.retry import Backoff, Stall
from streamtail.reader.start import skips_by_time, start_for
from streamtail.sources.base import Lag

if TYPE_CHECKING:
    from streamtail.reader.context import ShardContext

EXPIRED_ITERATOR = "ExpiredIteratorException"
#: DynamoDB Streams: the position asked for lies before the oldest record kept (trimmed)
TRIMMED = "TrimmedDataAccessException"


@dataclass
class _Trimmed:
    """A jump to the trim horizon, reported once the first batch after it shows where it landed."""

    #: the last record read before the jump (None: the start position itself was trimmed)
    seq: str | None
    ts_ms: int | None
    #: the jump was taken on a stall (empty batches far behind), not on the service's word
    stalled: bool = False


class ShardWorker:
    """Reads one shard from its position to its end (or the tip, or a stop)."""

    def __init__(
        self, ctx: ShardContext, shard_id: str, position: Position, resume: Resume | None = None
    ) -> None:
        self.ctx = ctx
        self.shard = ctx.shard(shard_id)
        #: records at or below this sequence number are skipped (set when a server refuses an
        #: iterator at a sequence number, and the shard is read from its trim horizon instead)
        self.floor: int | None = None
        #: records older than this are skipped (a time position: see reader/start.py)
        self.time_floor_ms: int | None
        self.position, self.time_floor_ms = start_for(position, ctx.source)
        #: the last record read (delivered, or skipped on purpose) and its arrival time
        self.after: str | None = resume.seq if resume else None
        self.after_ts_ms: int | None = resume.ts_ms if resume else None
        if resume is not None and resume.part:
            # A record printed in part: read it again (the caller skips what was printed).
            self.after = None
            self.position = Position(PositionKind.AT_SEQUENCE_NUMBER, sequence=resume.seq)
        self.trimmed: _Trimmed | None = None
        #: a walk begun at LATEST: the time it began (see `_start`)
        self.latest_since: Position | None = None
        self.empty_streak = 0
        self.wall_at_call = 0.0
        self.closed_at_call = False
        #: the listing named a child of the shard when it was last asked for records
        self.parent_at_call = False
        #: when a shard that must end first answered an empty batch at its tip (this run of them)
        self.tip_since: float | None = None
        pacing = ctx.pacing
        #: the shard's paced, retried calls (reader/calls.py, shared with `lag`)
        self.calls = ShardCalls(
            ctx, shard_id, Backoff(pacing.retry_base, pacing.retry_cap, ctx.give_up_after)
        )
        self.stall = Stall(pacing.stall_after)

    def run(self) -> None:
        try:
            reason, children = self._walk()
        except BaseException as exc:  # handed to the caller's thread, which raises it
            self.ctx.put(Failed(self.shard.shard_id, exc))
            return
        self.ctx.put(Done(self.shard.shard_id, reason, children))

    def _walk(self) -> tuple[Ended, list[Shard] | None]:
        ctx = self.ctx
        until_ms = None if ctx.plan.until is None else int(ctx.plan.until * 1000)
        iterator = self._iterator()
        while iterator is not None:
            batch = self._fetch(iterator)
            if batch is None:
                return Ended.STOPPED, None
            records = self._keep(batch.records)
            caught_up = self._caught_up(batch)
            if self.trimmed is not None:
                self._tell_trimmed(batch, records, caught_up or batch.next_iterator is None)
            cut = False
            if until_ms is not None and records and records[-1].ts_ms > until_ms:
                records = [r for r in records if r.ts_ms <= until_ms]
                cut = True
            if records and not ctx.put(Records(self.shard.shard_id, records)):
                return Ended.STOPPED, None
            if batch.records:
                self.after = batch.records[-1].seq
                self.after_ts_ms = batch.records[-1].ts_ms
            if cut:
                return Ended.UNTIL, None
            if batch.next_iterator is None:
                return Ended.CLOSED, batch.child_shards
            iterator = self._onward(batch.next_iterator, batch)
            reason = self._stop_reason(batch, caught_up)
            if reason is not None:
                return reason, batch.child_shards if reason is Ended.CLOSED else None
            self.empty_streak = 0 if batch.records else self.empty_streak + 1
            if caught_up:
                # At the tip: the budget spread evenly after a batch of records, then backing
                # off with each empty batch in a row to about one call a second (idle), so a
                # shard that receives a record now and then is still polled quickly after it.
                # Behind, the next call goes as soon as the shard's budget allows.
                pacing, streak = ctx.pacing, max(self.empty_streak - 1, 0)
                pause = min(pacing.idle_interval, pacing.spacing * 2**streak)
                calls = self.calls
                calls.next_call = max(calls.next_call, calls.last_call + pause)
        return Ended.CLOSED, None

    def _stop_reason(self, batch: Batch, caught_up: bool) -> Ended | None:
        """Why the walk of this shard ends after a batch with a next iterator, or None."""
        ctx = self.ctx
        closed, follow = self.closed_at_call, ctx.plan.follow
        empty_at_tip = caught_up and not batch.records
        past_end = self._past_end()
        if ends_here(
            ctx.source.service, closed=closed, past_end=past_end, empty_at_tip=empty_at_tip
        ):
            return Ended.CLOSED
        if must_end(closed=closed, has_children=self.parent_at_call):
            # Never its tip: it ends on the service's word (reader/ending.py).
            return Ended.UNENDED if not follow and self._waited_to_end(caught_up, batch) else None
        if caught_up and not follow:
            return Ended.TIP
        if caught_up and ctx.plan.until is not None and self.wall_at_call > ctx.plan.until:
            return Ended.QUIET_UNTIL
        return None

    def _waited_to_end(self, caught_up: bool, batch: Batch) -> bool:
        """A shard that must end has answered nothing but empty batches at its tip for
        `Pacing.close_wait` seconds (`read` gives up on it then)."""
        if batch.records or not caught_up:
            self.tip_since = None
            return False
        now = self.ctx.clock()
        if self.tip_since is None:
            self.tip_since = now
        return now - self.tip_since >= self.ctx.pacing.close_wait

    def _caught_up(self, batch: Batch) -> bool:
        """At the tip (reader/calls.py, `at_tip`); the shard's lag noted for the status line
        (unknown while records come where MillisBehindLatest is the data's age)."""
        lag = self.ctx.source.service.lag
        behind = batch.millis_behind
        if lag is Lag.AGE:
            behind = None if batch.records else 0
        if behind is not None or lag is Lag.AGE:
            self.ctx.stats.set_behind(self.shard.shard_id, behind)
        empty_batches = 0 if batch.records else self.empty_streak + 1
        return at_tip(lag, batch, empty_batches, self.ctx.started_ms)

    def _past_end(self) -> bool:
        end = self.ctx.shard(self.shard.shard_id).last_seq
        after = seq_value(self.after)
        return end is not None and after is not None and after >= end

    def _keep(self, records: list[Record]) -> list[Record]:
        if self.floor is not None:
            floor = self.floor
            records = [r for r in records if _after(r.seq, floor)]
            if records:
                self.floor = None  # sequence numbers only grow: nothing later can be below it
        if self.time_floor_ms is not None:
            time_floor = self.time_floor_ms
            records = [r for r in records if r.ts_ms >= time_floor]
        return records

    # -- iterators ----------------------------------------------------------------------------

    def _iterator(self, position: Position | None = None) -> str | None:
        """An iterator after the last record read, or at the start position (None: stopped)."""
        if position is None:
            position = self._start()
        while True:
            # a refusal of a sequence number is this shard's to handle (`_refused`)
            passes = (TRIMMED,) if position.sequence is not None else ()
            try:
                return self.calls.iterator(self.shard, position, passes=passes)
            except (UsageError, ServiceError) as exc:
                trimmed = exc.aws_code == TRIMMED
                if position.sequence is not None and (isinstance(exc, UsageError) or trimmed):
                    position = self._refused(position, trimmed=trimmed)
                    continue
                raise

    def _start(self) -> Position:
        if self.after is not None:
            return Position(PositionKind.AFTER_SEQUENCE_NUMBER, sequence=self.after)
        position = self.position
        if position.kind is PositionKind.LATEST:
            if self.latest_since is None:
                # Remembered so that an iterator expiring before the first record is replaced
                # by one at this time, not by a new LATEST that would skip what came meanwhile.
                self.latest_since = now_position(self.ctx.wall())
            else:
                start = start_for(self.latest_since, self.ctx.source)
                position = start.position
                if skips_by_time(self.latest_since, self.ctx.source):
                    # Only where the service has no AT_TIMESTAMP: on Kinesis the iterator at the
                    # time (a second early, whole seconds) is the whole rule, as for a LATEST
                    # start, so clock skew beyond that second never drops a record.
                    self.time_floor_ms = start.time_floor_ms
        return position

    def _refused(self, position: Position, *, trimmed: bool) -> Position:
        """The server refused an iterator at a sequence number: read from the trim horizon and
        skip what lies up to the number instead."""
        assert position.sequence is not None
        wanted = seq_value(position.sequence)
        at = position.kind is PositionKind.AT_SEQUENCE_NUMBER
        self.floor = None if wanted is None else wanted - 1 if at else wanted
        if self.after is not None or trimmed:
            # The number is this shard's own (the last record read, or a checkpoint's), or the
            # server says so: the records after it are past the stream's retention.
            self.trimmed = _Trimmed(self.after, self.after_ts_ms)
        return TRIM_HORIZON

    def _onward(self, iterator: str, batch: Batch) -> str:
        """The iterator for the next call: the batch's, unless the shard has stalled on trimmed
        data (empty batches far behind that do not move on: see reader/retry.py, `Stall`). Then
        the records after the last one read are taken as trimmed, and the shard goes on from its
        trim horizon as it does on TrimmedDataAccessException, skipping what was read. A walk
        that began at the trim horizon or at LATEST has nothing before the stall to fall back on
        and keeps polling where it is; a walk stopped meanwhile ends at its next call."""
        if not self.stall.seen(len(batch.records), batch.millis_behind, self.calls.last_call):
            return iterator
        position = self.position
        after, wanted = seq_value(self.after), seq_value(position.sequence)
        if after is not None:
            self.floor = after
        elif wanted is not None:
            at = position.kind is PositionKind.AT_SEQUENCE_NUMBER
            self.floor = wanted - 1 if at else wanted
        elif self.time_floor_ms is None:
            return iterator
        self.trimmed = _Trimmed(self.after, self.after_ts_ms, stalled=True)
        return self._iterator(TRIM_HORIZON) or iterator

    def _tell_trimmed(self, batch: Batch, records: list[Record], ended: bool) -> None:
        """Say how far the stream moved on past the records that were trimmed before being read,
        once the first record kept after the jump (or the shard's end or tip) shows it."""
        note = self.trimmed
        assert note is not None
        last_read = seq_value(note.seq)
        if last_read is not None and batch.records and not _after(batch.records[0].seq, last_read):
            # The records were still there (the server refused the number otherwise); after a
            # stall, it was a shard slow to move on, not trimmed data: never guess so again.
            self.trimmed = None
            self.stall.off = self.stall.off or note.stalled
            return
        if not records and not ended:
            return  # nothing kept yet: the next batch tells
        self.trimmed = None
        first = records[0] if records else None
        if note.seq is None:
            message = "the start position was trimmed (past the stream's retention)"
        else:
            arrived = "" if note.ts_ms is None else f", arrived {format_ts(note.ts_ms)}"
            message = (
                f"seq {note.seq} (the last record read{arrived}) was trimmed (past the stream's "
                "retention)"
            )
        message = f"shard {self.shard.shard_id}: {message}; "
        if first is None:
            message += "no record is retained after it yet: reading on from the trim horizon"
        else:
            message += (
                f"reading on from the oldest record retained, seq {first.seq} "
                f"(arrived {format_ts(first.ts_ms)})"
            )
            if note.ts_ms is not None and first.ts_ms >= note.ts_ms:
                moved = format_duration((first.ts_ms - note.ts_ms) / 1000)
                message += f": the stream moved on {moved}, and what it held in between was lost"
        self.ctx.warn(message)

    # -- calls ----------------------------------------------------------------------------------

    def _fetch(self, iterator: str) -> Batch | None:
        """One GetRecords answer, paced and retried (reader/calls.py); None once the walk
        stops. An expired iterator is renewed after the last record read; trimmed data moves
        the shard to its trim horizon."""
        while True:
            try:
                return self.calls.records(
                    self.shard,
                    iterator,
                    self.ctx.limit,
                    passes=(EXPIRED_ITERATOR, TRIMMED),
                    before=self._note_call,
                )
            except ServiceError as exc:
                fresh: str | None
                if exc.aws_code == EXPIRED_ITERATOR:
                    fresh = self._iterator()
                elif exc.aws_code != TRIMMED:
                    raise  # retrying is over (see Backoff)
                else:
                    # The iterator points at records trimmed meanwhile (DynamoDB Streams).
                    if self.after is not None:
                        self.floor = seq_value(self.after)
                    self.trimmed = _Trimmed(self.after, self.after_ts_ms)
                    fresh = self._iterator(TRIM_HORIZON)
                if fresh is None:
                    return None
                iterator = fresh

    def _note_call(self) -> None:
        """What a batch can be judged by is what was true when it was asked for: a listing
        refreshed or a wall clock read after the answer could be newer than the answer."""
        ctx = self.ctx
        self.wall_at_call = ctx.wall()
        self.closed_at_call = ctx.is_closed(self.shard.shard_id)
        self.parent_at_call = ctx.has_children(self.shard.shard_id)


def _after(seq: str, floor: int) -> bool:
    """The record comes after `floor`; a sequence number that is not a number is never dropped."""
    value = seq_value(seq)
    return value is None or value > floor
