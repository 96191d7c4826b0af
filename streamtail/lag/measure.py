"""How far behind one checkpoint is: the age of the oldest record it has not passed.

For a sequence-number checkpoint: GetShardIterator AFTER_SEQUENCE_NUMBER (AT_SEQUENCE_NUMBER when
the checkpoint is part-way through a KPL aggregate: a subsequence number above 0), then GetRecords
with a small Limit; the first record not yet processed gives the lag, now minus its arrival
(Kinesis `ApproximateArrivalTimestamp`, DynamoDB Streams `ApproximateCreationDateTime`). No record
after the checkpoint means no lag. TRIM_HORIZON is measured from the oldest record retained;
SHARD_END is done (0). LATEST and AT_TIMESTAMP leave the start to the application's own settings:
unknown.

The calls are the reader's own (reader/calls.py, `ShardCalls`): paced per shard by a `CallBudget`
(5 calls in any 1.1 s, under the 5 calls a second Kinesis allows), retried through its `Backoff`
and notices, and the tip is the reader's rule (`at_tip`, by what the service's MillisBehindLatest
means). A meter that stops (Ctrl-C) ends its waits at once, and its probes return.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from streamtail.clock import SYSTEM, Clock
from streamtail.decode import kpl
from streamtail.errors import NotFoundError, ServiceError, UsageError
from streamtail.lag.leases import AT_TIMESTAMP, LATEST, SHARD_END, TRIM_HORIZON
from streamtail.model import Position, PositionKind, Record, Shard
from streamtail.reader import Pacing, WalkStats
from streamtail.reader.calls import ShardCalls, at_tip
from streamtail.reader.retry import Backoff, Notices
from streamtail.sources.base import Lag, Source

#: records asked for per GetRecords: the first unprocessed record is all that is needed (a few
#: more in case the first is the part-processed KPL aggregate the checkpoint sits in)
LIMIT = 10
#: Kinesis can answer empty pages before the records of a sparse shard (MillisBehindLatest > 0):
#: follow them this many calls at most, then take MillisBehindLatest as the lag
MAX_CALLS = 12
#: a shard that fails this long without a break is given up (its lag unknown)
GIVE_UP_AFTER = 30.0
#: shards measured at once
WORKERS = 16

UNKNOWN_LATEST = (
    "checkpoint LATEST: the application has not checkpointed these shards yet and starts "
    "wherever the tip was when it began"
)
UNKNOWN_AT_TIMESTAMP = (
    "checkpoint AT_TIMESTAMP: the start time is in the application's settings, not its leases"
)


@dataclass(frozen=True)
class Measured:
    """A lag in milliseconds, or None with the reason it cannot be known."""

    lag_ms: int | None
    reason: str | None = None


@dataclass(frozen=True)
class Job:
    shard: Shard
    checkpoint: str
    subseq: int = 0


class LagMeter:
    """Measures checkpoints on one source, paced per shard, several shards at once."""

    def __init__(
        self,
        source: Source,
        *,
        pacing: Pacing | None = None,
        clock: Clock = SYSTEM,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.source = source
        self.pacing = pacing or Pacing()
        self.time_source = clock
        self.clock = clock.monotonic
        self.wall = clock.wall
        #: set when the command stops (Ctrl-C): waiting probes end at once
        self.stopped = threading.Event()
        self.stats = WalkStats()
        self.notices = Notices(
            warn or (lambda _message: None),
            self.clock,
            give_up_after=GIVE_UP_AFTER,
            interval=self.pacing.notice_interval,
        )

    def sleep(self, seconds: float) -> bool:
        """Wait on the meter's clock, ending early once it stops; False once stopped."""
        if seconds > 0:
            self.time_source.wait(self.stopped, seconds)
        return not self.stopped.is_set()

    def measure_all(self, jobs: Sequence[Job]) -> dict[str, Measured]:
        if not jobs:
            return {}
        pool = ThreadPoolExecutor(max_workers=min(WORKERS, len(jobs)))
        try:
            results = list(pool.map(self.measure, jobs))
        except BaseException:  # Ctrl-C, SIGTERM: the probes stop at their next pause
            self.stopped.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        return {job.shard.shard_id: result for job, result in zip(jobs, results, strict=True)}

    def measure(self, job: Job) -> Measured:
        checkpoint = job.checkpoint
        if checkpoint == SHARD_END:
            return Measured(0)
        if checkpoint == LATEST:
            return Measured(None, UNKNOWN_LATEST)
        if checkpoint == AT_TIMESTAMP:
            return Measured(None, UNKNOWN_AT_TIMESTAMP)
        if checkpoint == TRIM_HORIZON:
            return _ShardProbe(self, job.shard).first_after(Position(PositionKind.TRIM_HORIZON))
        if not checkpoint.isdigit():
            return Measured(None, f"checkpoint {checkpoint!r} is not a sequence number")
        probe = _ShardProbe(self, job.shard)
        if job.subseq > 0:
            # KCL checkpoints (seq, subseq) after user record `subseq` of aggregate `seq`: the
            # aggregate itself may still hold unprocessed user records.
            position = Position(PositionKind.AT_SEQUENCE_NUMBER, sequence=checkpoint)
            return probe.first_after(position, part=(checkpoint, job.subseq))
        return probe.first_after(Position(PositionKind.AFTER_SEQUENCE_NUMBER, sequence=checkpoint))


#: what a probe the meter stopped returns (its result is not shown: the command is ending)
STOPPED = Measured(None, "stopped")


class _ShardProbe:
    """The calls for one shard: the reader's (reader/calls.py), on the meter's clock and stop."""

    def __init__(self, meter: LagMeter, shard: Shard) -> None:
        self.meter = meter
        self.shard = shard
        pacing = meter.pacing
        backoff = Backoff(pacing.retry_base, pacing.retry_cap, GIVE_UP_AFTER)
        self.calls = ShardCalls(meter, shard.shard_id, backoff)

    def first_after(self, position: Position, *, part: tuple[str, int] | None = None) -> Measured:
        meter = self.meter
        lag = meter.source.service.lag
        try:
            iterator = self._iterator(position)
            if iterator is None:
                return STOPPED
            millis_behind: int | None = None
            next_iterator: str | None = iterator
            for empty in range(MAX_CALLS):
                if next_iterator is None:
                    return Measured(0)  # the shard is closed and nothing follows the checkpoint
                batch = self.calls.records(self.shard, next_iterator, LIMIT)
                if batch is None:
                    return STOPPED
                now_ms = round(meter.wall() * 1000)
                records = _unprocessed(batch.records, part)
                part = None
                if records:
                    return Measured(max(now_ms - records[0].ts_ms, 0))
                millis_behind = batch.millis_behind
                if at_tip(lag, dataclasses.replace(batch, records=[]), empty + 1, 0):
                    return Measured(0)
                next_iterator = batch.next_iterator
            if millis_behind is not None and lag is Lag.TIP:
                return Measured(millis_behind)
            return Measured(None, "no answer from the shard after many empty pages")
        except NotFoundError:
            # A lease outlives its shard when the shard aged out past the retention before the
            # application finished it.
            return Measured(None, "the shard is gone from the stream (past its retention)")
        except (ServiceError, UsageError) as exc:
            return Measured(None, f"reading the shard failed: {exc.message}")

    def _iterator(self, position: Position) -> str | None:
        """An iterator at `position`; None once the meter stops."""
        try:
            return self.calls.iterator(self.shard, position)
        except UsageError:
            if position.sequence is None:
                raise
            # The checkpoint is older than the stream's retention (the records after it were
            # trimmed and never processed): the oldest retained record is the oldest not processed.
            return self.calls.iterator(self.shard, Position(PositionKind.TRIM_HORIZON))


def _unprocessed(records: list[Record], part: tuple[str, int] | None) -> list[Record]:
    """The records after the checkpoint; the aggregate the checkpoint is inside of counts only
    while it holds user records beyond `subseq`."""
    if part is None or not records or records[0].seq != part[0]:
        return records
    first = records[0]
    try:
        count = len(kpl.unpack(first.data)) if kpl.is_aggregate(first.data) else 1
    except kpl.AggregateError:
        count = 1
    return records if part[1] + 1 < count else records[1:]
