"""One shard's calls to the service, and the at-the-tip rule: the loop the reader's `ShardWorker`
and `lag`'s `LagMeter` share.

`ShardCalls` makes GetShardIterator and GetRecords calls on one shard: each kind paced by its own
`CallBudget` (at most 5 calls in any `Pacing.window`, 1.1 s: a call the budget allows goes at
once; GetRecords also waits out the bytes it read where the service has a read rate), and
retried: a `ServiceError` that retrying can fix goes through the shard's `Backoff` (full
jitter, the give-up rule), `WalkStats` and the rate-limited `Notices`, and a `NotYet` waits the
time the service named, without a warning. Every wait is the caller's `sleep`, which ends early
when the walk stops: a call then returns None. Errors the caller handles itself (an expired
iterator, trimmed data, a refused sequence number) are raised to it (`passes`).

`at_tip` is when a shard is caught up, by what the service's MillisBehindLatest means
(`Service.lag`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Protocol

from streamtail.errors import THROTTLING_CODES, NotYet, ServiceError
from streamtail.model import Batch, Position, Shard
from streamtail.reader.ending import EMPTY_BATCHES_AT_TIP
from streamtail.reader.plan import CallBudget, Pacing
from streamtail.reader.retry import Backoff, Notices
from streamtail.sources.base import Lag, Source
from streamtail.stats import WalkStats


class CallSite(Protocol):
    """What the calls need of whoever makes them (a walk's `ShardContext` is one)."""

    @property
    def source(self) -> Source: ...

    @property
    def pacing(self) -> Pacing: ...

    @property
    def stats(self) -> WalkStats: ...

    @property
    def notices(self) -> Notices: ...

    @property
    def clock(self) -> Callable[[], float]:
        """Monotonic seconds."""
        ...

    def sleep(self, seconds: float) -> bool:
        """Wait, waking early when the walk stops; False once stopped."""
        ...


class ShardCalls:
    """One shard's paced, retried calls (see the module doc)."""

    def __init__(self, site: CallSite, shard_id: str, backoff: Backoff) -> None:
        self.site = site
        self.shard_id = shard_id
        self.backoff = backoff
        #: GetRecords: its budget; no call before `next_call` (an idle shard's pause, a retry's
        #: backoff); when the last one went
        self.budget = CallBudget()
        self.next_call = 0.0
        self.last_call = 0.0
        #: GetShardIterator is limited to 5 calls a second per shard too (an iterator renewed
        #: after every expiry, say): a budget of its own
        self.iterator_budget = CallBudget()

    def iterator(
        self, shard: Shard, position: Position, *, passes: Collection[str] = ()
    ) -> str | None:
        """A shard iterator at `position`; None once the walk stops."""
        site = self.site
        budget = self.iterator_budget
        while True:
            if not self.wait_for(budget, 0.0):
                return None
            budget.spend(site.clock())
            try:
                return site.source.get_iterator(shard, position)
            except ServiceError as exc:
                if exc.aws_code in passes:
                    raise
                if not self.retry(exc):
                    return None

    def records(
        self,
        shard: Shard,
        iterator: str,
        limit: int,
        *,
        passes: Collection[str] = (),
        before: Callable[[], None] | None = None,
    ) -> Batch | None:
        """One GetRecords answer; None once the walk stops. `before` runs right before each
        call (what the answer is judged by is what was true when it was asked for)."""
        site = self.site
        while True:
            if not self.wait_for(self.budget, self.next_call):
                return None
            self.last_call = site.clock()
            self.budget.spend(self.last_call)
            if before is not None:
                before()
            site.stats.count_call()
            try:
                batch = site.source.get_records(shard, iterator, limit)
            except ServiceError as exc:
                if exc.aws_code in passes:
                    raise
                if not self.retry(exc):
                    return None
                continue
            rate = site.source.service.read_rate
            if rate and batch.records:
                size = sum([len(record.data) for record in batch.records])
                self.budget.paid(self.last_call, size, rate, site.pacing.window)
            lasted = self.backoff.succeeded(site.clock())
            if lasted is not None:
                site.notices.recovered(self.shard_id, lasted)
            return batch

    def wait_for(self, budget: CallBudget, not_before: float) -> bool:
        """Wait until `budget` allows a call and `not_before` has passed; False once the walk
        stops."""
        site = self.site
        return site.sleep(max(not_before, budget.free_at(site.pacing.window)) - site.clock())

    def retry(self, exc: ServiceError) -> bool:
        """Wait before retrying a failed call; raises once retrying is over (see Backoff);
        False once the walk stops."""
        site = self.site
        now = site.clock()
        delay = self.backoff.failed(exc, now)
        site.stats.count_retry(throttled=exc.aws_code in THROTTLING_CODES)
        if isinstance(exc, NotYet):
            delay = max(delay, exc.after)  # the service said when: no fault to warn about
        else:
            site.notices.failure(self.shard_id, exc)
        # Never sooner than the budget spread evenly: a failing shard is not hammered in bursts.
        delay = max(delay, site.pacing.spacing)
        self.next_call = max(self.next_call, now + delay)
        return site.sleep(delay)


def at_tip(lag: Lag, batch: Batch, empty_batches: int, started_ms: int) -> bool:
    """Whether `batch` shows its shard caught up. `empty_batches`: empty batches in a row, this
    one included; `started_ms`: when the walk began (a record newer than it is past the tip as it
    stood). Where MillisBehindLatest is the distance to the tip (AWS): 0 on an empty batch, or on
    a batch that is not full whose last record arrived after the walk began (older records with 0
    are not enough: a short batch can leave records of the same millisecond behind); where it is
    not given (DynamoDB Streams), reader/ending.py's `EMPTY_BATCHES_AT_TIP` empty batches; where
    it is the data's age (Yandex Data Streams), an empty batch, or a batch that is not full of
    records newer than the walk."""
    if lag is not Lag.AGE:
        behind = batch.millis_behind
        if behind is None:
            return empty_batches >= EMPTY_BATCHES_AT_TIP
        if behind != 0:
            return False
    if not batch.records:
        return True
    full = len(batch.records) >= batch.limit > 0
    return not full and batch.records[-1].ts_ms >= started_ms
