"""Retrying failed calls: one shard's backoff, and the walk's rate-limited notices about it.

The delay before a retry is capped exponential backoff with full jitter: uniform between 0 and
min(cap, base * 2**attempt), so shards that fail together do not retry in step. A shard that has
failed without a break for the retry timeout gives up (`read` by default after 180 s; `follow`
keeps trying unless --retry-timeout says otherwise), and so does an error retrying cannot fix.

Notices tell the user on stderr without flooding it: at most one line per kind of trouble
(throttled, failing) every `interval` seconds however many shards are affected, and one line when
the service answers again after a long failure.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from streamtail.errors import THROTTLING_CODES, ServiceError
from streamtail.positions import format_duration

#: a failure this long (or longer) earns a line when it ends
RECOVERY_WORTH_TELLING = 5.0

# Trimmed data seen as a stall. Kinesis may answer an iterator whose records were trimmed (past
# the stream's retention) not with TrimmedDataAccessException but with empty batches whose
# MillisBehindLatest stays large, forever. A shard that is merely behind gets empty batches too
# ("it might take multiple calls to get to a portion of the shard that contains records", the
# GetRecords reference), but there each call moves the iterator on and MillisBehindLatest falls,
# if only a little per call; on trimmed data it stays put (an idle stream) or grows with the
# clock (a stream still written). So a shard is taken as stalled on trimmed data only when all
# of these hold, and any record, any MillisBehindLatest below the lowest of the run, or one
# under the floor below, starts the count again:
#: empty batches in a row: at the 0.22 s pace of a shard that is behind, about 5.5 s of calls
STALL_BATCHES = 25
#: and at least this long (monotonic seconds), so a faster pace cannot shorten it (the default
#: of `Pacing.stall_after`)
STALL_SECONDS = 5.0
#: every one of them at least this far behind: trimmed records lie a retention period (24 h at
#: least) behind the tip of a stream that is written; a shard within a minute of its tip is
#: never taken as stalled, and MillisBehindLatest 0 on an empty batch (the tip; what Yandex Data
#: Streams answers for every empty batch) never counts
STALL_MIN_BEHIND_MS = 60_000


class Stall:
    """Watches one shard's empty batches for the stall that trimmed data can show as."""

    def __init__(self, seconds: float = STALL_SECONDS) -> None:
        self.seconds = seconds
        self.batches = 0
        self.since = 0.0
        self.lowest = 0
        #: set once a jump it caused found the records still there: never again for this shard
        self.off = False

    def seen(self, records: int, behind: int | None, now: float) -> bool:
        """One batch's answer; True when the shard is stalled (the count then starts again)."""
        if self.off or records or behind is None or behind < STALL_MIN_BEHIND_MS:
            self.batches = 0
            return False
        if self.batches == 0 or behind < self.lowest:
            # the first of a run, or the iterator moved on: count from here
            self.batches, self.since, self.lowest = 1, now, behind
            return False
        self.batches += 1
        if self.batches >= STALL_BATCHES and now - self.since >= self.seconds:
            self.batches = 0
            return True
        return False


class Backoff:
    """One run of failures (of a shard, or of the listing): delays and the give-up rule."""

    def __init__(
        self,
        base: float,
        cap: float,
        give_up_after: float | None,
        rng: random.Random | None = None,
    ) -> None:
        self.base = base
        self.cap = cap
        self.give_up_after = give_up_after
        self._rng = rng or random.Random()
        self.failing_since: float | None = None
        self.attempt = 0

    def failed(self, exc: ServiceError, now: float) -> float:
        """The delay before the next attempt; raises when retrying is over or pointless."""
        if not exc.retryable:
            raise exc
        if self.failing_since is None:
            self.failing_since = now
        failing_for = now - self.failing_since
        if self.give_up_after is not None and failing_for >= self.give_up_after:
            raise ServiceError(
                f"{exc.message}; gave up after {format_duration(failing_for)} of retrying",
                hint=exc.hint
                or "--retry-timeout DURATION retries longer (e.g. 10m; inf: never gives up)",
                aws_code=exc.aws_code,
                retryable=False,
            ) from exc
        delay = self._rng.uniform(0, min(self.cap, self.base * 2**self.attempt))
        self.attempt += 1
        if self.give_up_after is not None:
            # the last attempt comes at the deadline, not up to `cap` after it
            delay = min(delay, self.give_up_after - failing_for)
        return delay

    def succeeded(self, now: float) -> float | None:
        """End the run of failures; returns how long it lasted (None if there was none)."""
        if self.failing_since is None:
            return None
        lasted = now - self.failing_since
        self.failing_since = None
        self.attempt = 0
        return lasted


class Notices:
    """Warnings about retries, shared by every shard of a walk, rate-limited per kind."""

    def __init__(
        self,
        warn: Callable[[str], None],
        clock: Callable[[], float],
        *,
        give_up_after: float | None,
        interval: float = 10.0,
    ) -> None:
        self._warn = warn
        self._clock = clock
        self._give_up_after = give_up_after
        self.interval = interval
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._count: dict[str, int] = {}
        self._shards: dict[str, set[str]] = {}
        #: shards failing (not throttled) now, and when the first of them started to
        self._failing: set[str] = set()
        self._outage_since: float | None = None

    def failure(self, shard: str | None, exc: ServiceError) -> None:
        """A call failed and will be retried."""
        kind = "throttled" if exc.aws_code in THROTTLING_CODES else "failing"
        where = f"shard {shard}" if shard else "the shard list"
        with self._lock:
            now = self._clock()
            if kind == "failing":
                self._failing.add(where)
                if self._outage_since is None:
                    self._outage_since = now
            self._count[kind] = self._count.get(kind, 0) + 1
            self._shards.setdefault(kind, set()).add(where)
            last = self._last.get(kind)
            if last is not None and now - last < self.interval:
                return
            message = self._message(kind, where, exc, now, first=last is None)
            self._last[kind] = now
            self._count[kind] = 0
            self._shards[kind] = set()
        self._warn(message)

    def _message(self, kind: str, where: str, exc: ServiceError, now: float, *, first: bool) -> str:
        count = self._count[kind]
        places = len(self._shards[kind])
        if kind == "throttled":
            if first or count == 1:
                return f"{where}: throttled ({exc.aws_code}); backing off and retrying"
            return (
                f"throttled {count} times on {places} shard{'s' if places != 1 else ''} in the "
                f"last {format_duration(self.interval)} ({exc.aws_code}); backing off and retrying"
            )
        if self._give_up_after is None:
            plan = "retrying (follow keeps trying)"
        else:
            plan = f"retrying for up to {format_duration(self._give_up_after)}"
        if first:
            return f"{where}: {exc.message}; {plan}"
        since = format_duration(now - (self._outage_since or now))
        return (
            f"still failing after {since} ({count} failed calls on {places} "
            f"shard{'s' if places != 1 else ''} in the last {format_duration(self.interval)}): "
            f"{exc.message}; {plan}"
        )

    def recovered(self, shard: str | None, lasted: float) -> None:
        """A call succeeded after `lasted` seconds of failures."""
        where = f"shard {shard}" if shard else "the shard list"
        with self._lock:
            self._failing.discard(where)
            if self._failing or self._outage_since is None:
                return
            outage = max(self._clock() - self._outage_since, lasted)
            self._outage_since = None
            if outage < RECOVERY_WORTH_TELLING:
                return  # a blip: not worth a line, and the rate limit stays as it is
            self._last.pop("failing", None)  # after a real outage, the next failure is news
        self._warn(f"the service answers again, after {format_duration(outage)} of failures")
