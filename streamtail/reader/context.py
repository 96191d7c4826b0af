"""What a shard's worker may use of the walk that started it: `ShardContext`.

The `Walker` is one (structurally); a worker sees nothing else of it, so what a worker depends
on is this list, and a test can hand a worker any object that has it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from streamtail.model import Shard
from streamtail.reader.messages import Message
from streamtail.reader.plan import Pacing, WalkPlan
from streamtail.reader.retry import Notices
from streamtail.sources.base import Source
from streamtail.stats import WalkStats


class ShardContext(Protocol):
    """The walk as its workers see it."""

    @property
    def source(self) -> Source: ...

    @property
    def plan(self) -> WalkPlan: ...

    @property
    def pacing(self) -> Pacing: ...

    @property
    def stats(self) -> WalkStats:
        """Calls, retries and each shard's MillisBehindLatest are counted here."""
        ...

    @property
    def notices(self) -> Notices:
        """Rate-limited failure and recovery lines, shared by every shard."""
        ...

    @property
    def warn(self) -> Callable[[str], None]: ...

    @property
    def wall(self) -> Callable[[], float]:
        """Epoch seconds (the service's timestamps are compared with it)."""
        ...

    @property
    def clock(self) -> Callable[[], float]:
        """Monotonic seconds (pacing and backoff)."""
        ...

    @property
    def give_up_after(self) -> float | None:
        """Seconds of failure without a break after which a worker stops retrying (None: never)."""
        ...

    @property
    def started_ms(self) -> int:
        """When the walk began (epoch ms): a record newer than it is past the tip as it stood."""
        ...

    @property
    def limit(self) -> int:
        """The GetRecords Limit for the next call."""
        ...

    def shard(self, shard_id: str) -> Shard:
        """The shard as last listed."""
        ...

    def is_closed(self, shard_id: str) -> bool:
        """The listing says the shard is closed."""
        ...

    def has_children(self, shard_id: str) -> bool:
        """The listing names a child of the shard (it is closed, or about to close)."""
        ...

    def put(self, message: Message) -> bool:
        """Hand a message to the walker, waiting while its queue is full; False once stopped."""
        ...

    def sleep(self, seconds: float) -> bool:
        """Wait, waking early when the walk stops; False once stopped."""
        ...
