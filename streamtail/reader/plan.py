"""What a walk is asked to do (`WalkPlan`) and how politely it polls (`Pacing`)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from streamtail.model import Position, Resume, Shard
from streamtail.reader.retry import STALL_SECONDS
from streamtail.sources.base import Service

#: GetRecords calls a shard takes a second, and GetShardIterator calls apart (AWS: "Each shard
#: can support up to five GetRecords calls per second"; GetShardIterator "has a limit of five
#: transactions per second per open shard", Kinesis API reference)
CALLS_PER_SECOND = 5


@dataclass(frozen=True)
class Pacing:
    """Polling manners. The defaults keep the contract's ceiling of 5 GetRecords calls a second."""

    #: the call budget of one shard, as AWS counts it: at most `CALLS_PER_SECOND` GetRecords (and
    #: apart, GetShardIterator) calls in any `window` seconds (`CallBudget`). A call the budget
    #: allows goes at once; any six calls span 1.1 s, so that the service sees no more than 5 in
    #: any second even when the network delays one call by up to 100 ms more than another.
    window: float = 1.1
    #: time between calls on an idle shard: about one a second, under it by enough that a record
    #: landing on an idle shard is printed within a second, round trip included (p99 of
    #: put-to-print in bench/: 0.9 s left it at 1.0 s)
    idle_interval: float = 0.8
    #: `follow`: how often the shard listing is refreshed to find resharding
    relist_interval: float = 10.0
    #: the same where the source asks for a closed shard's children alone (`ListsChildren`):
    #: every new shard is then found when its parent ends; the listing is only a safety net
    relist_interval_children: float = 60.0
    #: backoff after a failed call: full jitter, doubling from base up to cap
    retry_base: float = 0.2
    retry_cap: float = 5.0
    #: `read` gives up on a shard that has failed without a break for this long (exit 1), unless
    #: `WalkPlan.retry_timeout` says otherwise; `follow` keeps trying by default
    retry_window: float = 180.0
    #: at most one warning line per kind of trouble (throttled, failing) this often
    notice_interval: float = 10.0
    #: `read`: how long a shard that must end (listed closed, or a parent of a listed child) may
    #: answer nothing but empty batches at its tip before `read` gives up on it and its
    #: descendants (exit 1; reader/ending.py). Such a parent has stopped taking writes, and what it
    #: holds was written before its child appeared; DynamoDB Streams shows a write within about a
    #: second, so a minute is many times over what a closing shard needs, and still a wait a
    #: script can afford.
    close_wait: float = 60.0
    #: the least time a run of empty batches far behind lasts before it counts as trimmed data
    stall_after: float = STALL_SECONDS

    @property
    def spacing(self) -> float:
        """The budget spread evenly (0.22 s): the first pause on a shard found idle, and the
        least wait before a retry."""
        return self.window / CALLS_PER_SECOND

    def suited(self, service: Service) -> Pacing:
        """These manners for `service`: where records are pushed (`Service.pushed`) a "call" is
        the next event, so there is no pause between calls (the service sets the cadence);
        retries back off as usual."""
        if service.pushed:
            return replace(self, window=0.0, idle_interval=0.0)
        return self


class CallBudget:
    """One kind of call on one shard, paced as AWS counts: at most `CALLS_PER_SECOND` calls in
    any `Pacing.window` seconds. The times of the last calls are kept; a call goes at once while
    fewer went within the window, else when the oldest of them leaves it. Where the service
    serves a shard so many bytes a second (`Service.read_rate`), the next call also waits until
    what the calls before it read is paid for (`paid`)."""

    def __init__(self) -> None:
        self.times: deque[float] = deque(maxlen=CALLS_PER_SECOND)
        #: when the bytes read so far are paid for at the shard's read rate (`paid`)
        self.paid_until = 0.0

    def free_at(self, window: float) -> float:
        """The monotonic time the next call may go (0.0: at once): once fewer than
        `CALLS_PER_SECOND` calls went within the window, and less is owed for bytes than one
        evenly spread call's share of it (`paid`)."""
        calls_free = self.times[0] + window if len(self.times) == CALLS_PER_SECOND else 0.0
        return max(calls_free, self.paid_until - window / CALLS_PER_SECOND)

    def spend(self, now: float) -> None:
        """A call goes at `now`."""
        self.times.append(now)

    def paid(self, at: float, size: int, rate: int, window: float) -> None:
        """The call made at `at` read `size` bytes from a shard that serves `rate` bytes a
        second. They are paid for `size / rate` seconds after it (or after the bytes before it
        are), the second stretched as the call window is (1.1 s for AWS's); the next call goes
        once less is owed than one evenly spread call's share of the window (0.22 s). A batch of
        10 MiB keeps the next call 5.28 s away (AWS: calls "within the next 5 seconds" are
        throttled); batches of a few hundred KiB change nothing."""
        self.paid_until = max(self.paid_until, at) + size / rate * window


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
    #: give up (exit 1) on a shard failing without a break for this long; None: the default
    #: (`Pacing.retry_window` for `read`, never for `follow`); math.inf: never
    retry_timeout: float | None = None
    #: shards to resume right after a record (from a checkpoint); the others start at `position`
    resume: Mapping[str, Resume] = field(default_factory=dict)
    #: shards with nothing left to read (from a checkpoint): never read again
    finished: frozenset[str] = frozenset()
