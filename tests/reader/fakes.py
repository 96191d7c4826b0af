"""An in-memory Kinesis stream behind the `Source` protocol, and helpers to drive a Walker.

`SimulatedStream` behaves like Kinesis where the walker can tell:

- shards own hash-key ranges; `put` routes a record by the MD5 of its partition key to the open
  shard whose range covers it; `split` and `merge` close shards (they get an EndingSequenceNumber)
  and create children listed with their parents;
- sequence numbers are AWS-sized (56 digits) and increase across the whole stream;
- ApproximateArrivalTimestamp comes from an injectable clock (`FakeClock` for tests that steer
  time);
- iterators are opaque tokens for (shard, position); GetRecords returns up to `limit` records,
  MillisBehindLatest (0 when caught up), and for a closed shard that has been read to its end a
  null NextShardIterator with ChildShards;
- GetShardIterator refuses a sequence number outside the shard or belonging to another shard
  (InvalidArgumentException, a `UsageError`, as the real source maps it).

Quirk modes (docs/SERVERS.md), combinable:
- `moto_like`: a closed shard never returns a null iterator and sends no ChildShards; its
  EndingSequenceNumber is its last record's, as moto lists it;
- `empty_gaps`: GetRecords returns an empty batch with MillisBehindLatest > 0 before each batch of
  records, as AWS may;
- `kinesis_mock_like`: a closed shard's EndingSequenceNumber is 9223372036854775807 in the
  listing, below every real sequence number (kinesis-mock's are AWS-sized too).

Retention: `trim` drops a shard's oldest records, as the service does past the retention period.
GetShardIterator at a trimmed record's sequence number is refused with InvalidArgumentException
(Kinesis), and an iterator that points at trimmed records reads on from the oldest one retained;
with `ddb_trim` (DynamoDB Streams), both raise TrimmedDataAccessException instead; with
`stall_trim`, GetShardIterator takes a trimmed sequence number and an iterator that points at
trimmed records answers empty batches far behind (MillisBehindLatest a retention period) that
never move on, as Kinesis can (issue 16). `delete`
removes the stream: every call then raises ResourceNotFoundException.

Faults: `fail_at` makes chosen calls raise; `fault_hook` decides per call; `after_get_records` runs
after a GetRecords response is computed and before it is returned (to stage races). Every call is
logged with its `call_clock` time (`time.monotonic()`, or a `VirtualClock`'s).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from streamtail.errors import NotFoundError, ServiceError, UsageError
from streamtail.model import (
    Batch,
    Position,
    PositionKind,
    Record,
    Shard,
    SourceKind,
    StreamRef,
)
from streamtail.reader import Pacing, Walker
from streamtail.sources.base import KINESIS
from streamtail.sources.moto import MOTO_KINESIS

AWS = "aws"
MOTO_LIKE = "moto_like"
EMPTY_GAPS = "empty_gaps"
KINESIS_MOCK_LIKE = "kinesis_mock_like"
MODES = (AWS, MOTO_LIKE, EMPTY_GAPS, KINESIS_MOCK_LIKE)
#: trimmed positions raise TrimmedDataAccessException (not one of MODES: few tests want it)
DDB_TRIM = "ddb_trim"
#: trimmed positions stall: endless empty batches, MillisBehindLatest a day (not one of MODES)
STALL_TRIM = "stall_trim"
#: 24 h, the default retention period, in milliseconds
RETENTION_MS = 86_400_000
TRIMMED = "TrimmedDataAccessException"

THROTTLED = "ProvisionedThroughputExceededException"
EXPIRED = "ExpiredIteratorException"
KINESIS_MOCK_END = "9223372036854775807"
HASH_MAX = 2**128 - 1
#: a real Kinesis sequence number; the simulated ones count up from it
SEQ_BASE = 49590338271490256608559692538361571095921575989136588898
SEQ_STEP = 1_000

#: a quick Pacing for most tests (the default one is kept for the rate tests)
FAST = Pacing(
    window=0.005,
    idle_interval=0.01,
    relist_interval=0.05,
    retry_base=0.001,
    retry_cap=0.01,
    stall_after=0.02,
)

FaultHook = Callable[[str, str, int], BaseException | None]
AfterGetRecords = Callable[[str, int, Batch], None]


def hash_key(partition_key: str) -> int:
    """The 128-bit hash key Kinesis derives from a partition key."""
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")


def make_error(kind: str | BaseException) -> BaseException:
    """`throttle`, `expired`, `generic` (a ServiceError with no AWS code), or an exception."""
    if isinstance(kind, BaseException):
        return kind
    if kind == "throttle":
        return ServiceError("Rate exceeded for shard", aws_code=THROTTLED)
    if kind == "expired":
        return ServiceError("Iterator expired", aws_code=EXPIRED)
    if kind == "generic":
        return ServiceError("network error (connection reset by peer)")
    raise ValueError(f"unknown fault {kind!r}")


class FakeClock:
    """A wall clock (epoch seconds) that moves only when told; thread-safe. As a walk's
    `streamtail.clock.Clock`, monotonic time and waits stay real (see `VirtualClock`)."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._now += seconds
            return self._now

    def wall(self) -> float:
        return self()

    def monotonic(self) -> float:
        return time.monotonic()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(seconds) if seconds > 0 else event.is_set()


class VirtualClock:
    """A `streamtail.clock.Clock` whose time moves only while `drive` runs a walk: whenever the
    walk's threads (as many as `drive` is told) all wait on it, the earliest deadline among their
    waits comes at once. A walk that idles for seconds by design takes milliseconds, and the
    times it sees are exact: what it does at each moment no longer depends on the machine's load.

    A wait whose event is set ends at once, as `Event.wait` does (the event is looked at every
    millisecond of real time: setting it does not notify this clock)."""

    def __init__(self, wall_start: float = 1_700_000_000.0) -> None:
        self._now = 0.0
        self._wall_start = wall_start
        self._cond = threading.Condition()
        #: deadline of each wait in progress
        self._waits: dict[int, float] = {}
        self._next_wait = 0

    def monotonic(self) -> float:
        with self._cond:
            return self._now

    def wall(self) -> float:
        with self._cond:
            return self._wall_start + self._now

    def wait(self, event: threading.Event, seconds: float) -> bool:
        with self._cond:
            me = self._next_wait
            self._next_wait += 1
            self._waits[me] = self._now + max(seconds, 0.0)
            self._cond.notify_all()  # `drive` looks again at once
            try:
                while not event.is_set():
                    if self._now >= self._waits[me]:
                        return False
                    self._cond.wait(0.001)
                return True
            finally:
                del self._waits[me]
                self._cond.notify_all()

    def waiting(self) -> int:
        """How many threads wait on this clock now."""
        with self._cond:
            return len(self._waits)

    def drive(self, consumer: Consumer, timeout: float = 10.0) -> Consumer:
        """Run the consumer's walk to its end in virtual time. Time moves only while every
        thread of the walk waits on this clock: the caller's, and each running shard's worker
        (`WalkStats.open_shards`, which the caller's thread updates before it waits again; a
        worker started and not yet waiting holds time still, as one that is working does)."""
        consumer.start()
        give_up = time.monotonic() + timeout
        while consumer.running():
            assert time.monotonic() < give_up, f"the walk did not end within {timeout} s"
            threads = 1 + consumer.walker.stats.open_shards
            with self._cond:
                if len(self._waits) >= threads:
                    earliest = min(self._waits.values())
                    if earliest > self._now:  # none is due yet: every thread waits
                        self._now = earliest
                        self._cond.notify_all()
                self._cond.wait(0.001)
        return consumer.join(timeout=1.0)


@dataclass
class _SimShard:
    shard_id: str
    hash_start: int
    hash_end: int
    start_seq: int
    parent: str | None = None
    adjacent_parent: str | None = None
    end_seq: int | None = None
    records: list[Record] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    #: empty_gaps: the next GetRecords call with records ahead returns an empty batch
    gap_next: bool = True
    #: how many of the oldest records are trimmed (past retention): records[trimmed:] remain
    trimmed: int = 0

    @property
    def parents(self) -> tuple[str, ...]:
        return tuple(p for p in (self.parent, self.adjacent_parent) if p)


@dataclass(frozen=True)
class _Iter:
    shard_id: str
    #: index of the next record to return
    index: int


@dataclass(frozen=True)
class Call:
    kind: str
    shard: str
    at: float


class SimulatedStream:
    """A thread-safe in-memory Kinesis stream implementing `streamtail.sources.base.Source`."""

    def __init__(
        self,
        shard_count: int = 1,
        *,
        mode: str | Iterable[str] = AWS,
        name: str = "sim",
        clock: Callable[[], float] = time.time,
        max_limit: int = 10_000,
        call_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        modes = {mode} if isinstance(mode, str) else set(mode)
        unknown = modes - set(MODES) - {DDB_TRIM, STALL_TRIM}
        if unknown:
            raise ValueError(f"unknown modes {sorted(unknown)}")
        self.modes = modes
        self.ref = StreamRef(SourceKind.KINESIS, display=name, name=name)
        self.max_limit = max_limit
        self.supports_timestamp = True
        # moto's way is declared as streamtail/sources/moto.py declares it for moto
        self.service = MOTO_KINESIS if MOTO_LIKE in modes else KINESIS
        self.clock = clock
        #: the time each call is logged with (`get_records_times`)
        self.call_clock = call_clock
        self._lock = threading.RLock()
        self._shards: dict[str, _SimShard] = {}
        self._next_shard = 0
        self._seq_counter = 0
        self._iterators: dict[str, _Iter] = {}
        self._next_iterator = 0
        self._seq_owner: dict[int, str] = {}
        self.calls: list[Call] = []
        self._counts: Counter[tuple[str, str]] = Counter()
        self._faults: dict[tuple[str, str | None, int], BaseException] = {}
        self.fault_hook: FaultHook | None = None
        self.after_get_records: AfterGetRecords | None = None
        #: GetRecords responses that carried records / none
        self.nonempty_responses = 0
        self.empty_responses = 0
        #: empty answers to iterators that point at trimmed records (`stall_trim`)
        self.stalled_responses = 0
        #: calls that raised a planned or hooked fault
        self.faults_fired = 0
        self.deleted = False
        width = (HASH_MAX + 1) // shard_count
        for i in range(shard_count):
            end = HASH_MAX if i == shard_count - 1 else (i + 1) * width - 1
            self._new_shard(i * width, end)

    # -- building the stream -----------------------------------------------------------------

    def _seq(self) -> int:
        self._seq_counter += 1
        return SEQ_BASE + self._seq_counter * SEQ_STEP

    def _new_shard(
        self, start: int, end: int, parent: str | None = None, adjacent: str | None = None
    ) -> _SimShard:
        shard_id = f"shardId-{self._next_shard:012d}"
        self._next_shard += 1
        shard = _SimShard(shard_id, start, end, self._seq(), parent, adjacent)
        self._shards[shard_id] = shard
        return shard

    def _open(self, shard_id: str) -> _SimShard:
        shard = self._shards[shard_id]
        if shard.end_seq is not None:
            raise ValueError(f"{shard_id} is closed")
        return shard

    def put(self, key: str, data: bytes | None = None) -> Record:
        """PutRecord: to the open shard whose hash range covers MD5(key)."""
        h = hash_key(key)
        with self._lock:
            for shard in self._shards.values():
                if shard.end_seq is None and shard.hash_start <= h <= shard.hash_end:
                    seq = self._seq()
                    record = Record(
                        shard=shard.shard_id,
                        seq=str(seq),
                        key=key,
                        ts_ms=int(self.clock() * 1000),
                        data=key.encode() if data is None else data,
                    )
                    shard.records.append(record)
                    self._seq_owner[seq] = shard.shard_id
                    return record
        raise AssertionError(f"no open shard covers the hash of {key!r}")

    def put_to(self, shard_id: str, count: int = 1, prefix: str = "k") -> list[Record]:
        """`count` records whose keys hash into `shard_id` (which must be open)."""
        return [self.put(key) for key in self.keys_for(shard_id, count, prefix)]

    def keys_for(self, shard_id: str, count: int, prefix: str = "k") -> list[str]:
        with self._lock:
            shard = self._shards[shard_id]
            lo, hi = shard.hash_start, shard.hash_end
        keys: list[str] = []
        i = 0
        while len(keys) < count:
            key = f"{prefix}-{shard_id[-4:]}-{i}"
            if lo <= hash_key(key) <= hi:
                keys.append(key)
            i += 1
        return keys

    def split(self, shard_id: str, at_hash: int | None = None) -> tuple[str, str]:
        """SplitShard: close `shard_id`; children cover [start, at_hash - 1] and [at_hash, end]."""
        with self._lock:
            shard = self._open(shard_id)
            if at_hash is None:
                at_hash = (shard.hash_start + shard.hash_end + 1) // 2
            if not shard.hash_start < at_hash <= shard.hash_end:
                raise ValueError(f"cannot split {shard_id} at {at_hash}")
            shard.end_seq = self._seq()
            left = self._new_shard(shard.hash_start, at_hash - 1, parent=shard_id)
            right = self._new_shard(at_hash, shard.hash_end, parent=shard_id)
            shard.children = [left.shard_id, right.shard_id]
            return left.shard_id, right.shard_id

    def merge(self, shard_id: str, adjacent_id: str) -> str:
        """MergeShards: close two open shards with adjacent hash ranges into one child."""
        with self._lock:
            a, b = self._open(shard_id), self._open(adjacent_id)
            if a.hash_end + 1 != b.hash_start and b.hash_end + 1 != a.hash_start:
                raise ValueError(f"{shard_id} and {adjacent_id} are not adjacent")
            a.end_seq = self._seq()
            b.end_seq = self._seq()
            child = self._new_shard(
                min(a.hash_start, b.hash_start),
                max(a.hash_end, b.hash_end),
                parent=shard_id,
                adjacent=adjacent_id,
            )
            a.children = [child.shard_id]
            b.children = [child.shard_id]
            return child.shard_id

    def trim(self, shard_id: str, count: int) -> list[Record]:
        """Drop the shard's `count` oldest retained records (past retention); returns them."""
        with self._lock:
            shard = self._shards[shard_id]
            start = shard.trimmed
            shard.trimmed = min(len(shard.records), start + count)
            return shard.records[start : shard.trimmed]

    def drop_shard(self, shard_id: str) -> None:
        """A closed shard ages out of the stream: no longer listed, calls on it not found."""
        with self._lock:
            assert self._shards[shard_id].end_seq is not None, "only closed shards age out"
            del self._shards[shard_id]

    def delete(self) -> None:
        """DeleteStream: every call from now on is ResourceNotFoundException."""
        with self._lock:
            self.deleted = True

    def retained(self, shard_id: str | None = None) -> list[Record]:
        """Records not trimmed, of a shard or of the stream (by sequence number)."""
        with self._lock:
            shards = [self._shards[shard_id]] if shard_id else list(self._shards.values())
            every = [r for s in shards for r in s.records[s.trimmed :]]
        return sorted(every, key=lambda r: int(r.seq))

    # -- looking at it (tests) ---------------------------------------------------------------

    def shard_ids(self) -> list[str]:
        with self._lock:
            return list(self._shards)

    def open_shards(self) -> list[str]:
        """Open shard ids in hash-key order."""
        with self._lock:
            shards = sorted(self._shards.values(), key=lambda s: s.hash_start)
            return [s.shard_id for s in shards if s.end_seq is None]

    def closed_shards(self) -> list[str]:
        with self._lock:
            return [s.shard_id for s in self._shards.values() if s.end_seq is not None]

    def hash_range(self, shard_id: str) -> tuple[int, int]:
        with self._lock:
            shard = self._shards[shard_id]
            return shard.hash_start, shard.hash_end

    def parents_of(self, shard_id: str) -> tuple[str, ...]:
        with self._lock:
            return self._shards[shard_id].parents

    def children_of(self, shard_id: str) -> list[str]:
        with self._lock:
            return list(self._shards[shard_id].children)

    def descendants(self, shard_id: str) -> set[str]:
        """The shard and all shards descended from it."""
        seen: set[str] = set()
        todo = [shard_id]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(self.children_of(current))
        return seen

    def records(self, shard_id: str | None = None) -> list[Record]:
        """A shard's records in order, or every record of the stream (by sequence number)."""
        with self._lock:
            if shard_id is not None:
                return list(self._shards[shard_id].records)
            every = [r for s in self._shards.values() for r in s.records]
        return sorted(every, key=lambda r: int(r.seq))

    def count(self, kind: str, shard_id: str | None = None) -> int:
        """How many calls of `kind` (list_shards, get_iterator, get_records) were made."""
        with self._lock:
            return sum(1 for c in self.calls if c.kind == kind and shard_id in (None, c.shard))

    def get_records_times(self, shard_id: str) -> list[float]:
        """The `call_clock` time of each GetRecords call on the shard, failed ones included."""
        with self._lock:
            return [c.at for c in self.calls if c.kind == "get_records" and c.shard == shard_id]

    # -- faults ------------------------------------------------------------------------------

    def fail_at(
        self,
        kind: str,
        calls: int | Iterable[int],
        error: str | BaseException,
        *,
        shard: str | None = None,
    ) -> None:
        """Make the given 1-based calls of `kind` raise: counted per shard when `shard` is given,
        across the stream otherwise. `error`: throttle, expired, generic, or an exception."""
        numbers = [calls] if isinstance(calls, int) else list(calls)
        with self._lock:
            for n in numbers:
                self._faults[(kind, shard, n)] = make_error(error)

    def pending_faults(self) -> int:
        """Planned faults (fail_at) whose call has not come yet."""
        with self._lock:
            return len(self._faults)

    def _enter(self, kind: str, shard_id: str) -> None:
        """Log a call and raise the fault planned for it, if any (called with the lock held)."""
        self.calls.append(Call(kind, shard_id, self.call_clock()))
        if self.deleted:
            raise NotFoundError(
                f"stream {self.ref.display!r} not found", aws_code="ResourceNotFoundException"
            )
        self._counts[(kind, shard_id)] += 1
        if shard_id:  # list_shards has no shard: count it once
            self._counts[(kind, "")] += 1
        per_shard = self._counts[(kind, shard_id)]
        planned = [
            self._faults.pop((kind, shard_id, per_shard), None),
            self._faults.pop((kind, None, self._counts[(kind, "")]), None),
        ]
        error = planned[0] or planned[1]
        if error is None and self.fault_hook is not None:
            error = self.fault_hook(kind, shard_id, per_shard)
        if error is not None:
            self.faults_fired += 1
            raise error

    # -- the Source protocol -----------------------------------------------------------------

    def _listed(self, shard: _SimShard) -> Shard:
        end: str | None = None
        if shard.end_seq is not None:
            end = str(shard.end_seq)
            if KINESIS_MOCK_LIKE in self.modes:
                end = KINESIS_MOCK_END
            elif MOTO_LIKE in self.modes:  # moto: the last record's number
                end = shard.records[-1].seq if shard.records else str(shard.start_seq)
        return Shard(
            shard_id=shard.shard_id,
            parent=shard.parent,
            adjacent_parent=shard.adjacent_parent,
            hash_start=shard.hash_start,
            hash_end=shard.hash_end,
            start_seq=str(shard.start_seq),
            end_seq=end,
        )

    def list_shards(self) -> list[Shard]:
        with self._lock:
            self._enter("list_shards", "")
            return [self._listed(s) for s in sorted(self._shards.values(), key=_by_id)]

    def get_iterator(self, shard: Shard, position: Position) -> str:
        with self._lock:
            self._enter("get_iterator", shard.shard_id)
            sim = self._shards.get(shard.shard_id)
            if sim is None:
                raise NotFoundError(
                    f"shard {shard.shard_id} not found", aws_code="ResourceNotFoundException"
                )
            index = self._index(sim, position)
            return self._token(sim.shard_id, index)

    def _index(self, sim: _SimShard, position: Position) -> int:
        records = sim.records
        kind = position.kind
        if kind is PositionKind.TRIM_HORIZON:
            return sim.trimmed
        if kind is PositionKind.LATEST:
            return len(records)
        if kind is PositionKind.AT_TIMESTAMP:
            assert position.timestamp is not None
            at_ms = position.timestamp * 1000
            return next(
                (i for i, r in enumerate(records) if i >= sim.trimmed and r.ts_ms >= at_ms),
                len(records),
            )
        assert position.sequence is not None
        wanted = int(position.sequence)
        owner = self._seq_owner.get(wanted)
        outside = wanted < sim.start_seq or (sim.end_seq is not None and wanted > sim.end_seq)
        if outside or owner not in (None, sim.shard_id):
            raise UsageError(
                f"StartingSequenceNumber {wanted} used in GetShardIterator on shard "
                f"{sim.shard_id} is invalid",
                aws_code="InvalidArgumentException",
            )
        if STALL_TRIM not in self.modes and any(
            int(r.seq) >= wanted for r in records[: sim.trimmed]
        ):
            raise self._trimmed_error(sim.shard_id, f"StartingSequenceNumber {wanted}")
        if kind is PositionKind.AT_SEQUENCE_NUMBER:
            return next((i for i, r in enumerate(records) if int(r.seq) >= wanted), len(records))
        return next((i for i, r in enumerate(records) if int(r.seq) > wanted), len(records))

    def _trimmed_error(self, shard_id: str, what: str) -> BaseException:
        if DDB_TRIM in self.modes:
            return ServiceError(
                f"{what} on shard {shard_id} lies before its trim horizon", aws_code=TRIMMED
            )
        return UsageError(
            f"{what} used in GetShardIterator on shard {shard_id} is no longer available",
            aws_code="InvalidArgumentException",
        )

    def _token(self, shard_id: str, index: int) -> str:
        self._next_iterator += 1
        token = f"AAAAAAAAAA{self._next_iterator:08d}=="
        self._iterators[token] = _Iter(shard_id, index)
        return token

    def get_records(self, shard: Shard, iterator: str, limit: int) -> Batch:
        with self._lock:
            self._enter("get_records", shard.shard_id)
            n = self._counts[("get_records", shard.shard_id)]
            batch = self._get_records(shard.shard_id, iterator, limit)
        hook = self.after_get_records
        if hook is not None:
            hook(shard.shard_id, n, batch)
        return batch

    def _get_records(self, shard_id: str, iterator: str, limit: int) -> Batch:
        if not 1 <= limit <= self.max_limit:
            raise UsageError(f"Limit {limit} out of range", aws_code="InvalidArgumentException")
        position = self._iterators.get(iterator)
        if position is None or position.shard_id != shard_id:
            raise UsageError(
                f"invalid shard iterator {iterator!r}", aws_code="InvalidArgumentException"
            )
        sim = self._shards.get(shard_id)
        if sim is None:
            raise NotFoundError(f"shard {shard_id} not found", aws_code="ResourceNotFoundException")
        now_ms = int(self.clock() * 1000)
        index = position.index
        if index < sim.trimmed:
            if DDB_TRIM in self.modes:
                raise self._trimmed_error(shard_id, "the iterator")
            if STALL_TRIM in self.modes:
                self.empty_responses += 1
                self.stalled_responses += 1
                return Batch([], self._token(shard_id, index), RETENTION_MS, limit=limit)
            index = sim.trimmed  # Kinesis reads on from the oldest record retained
        ahead = index < len(sim.records)
        if EMPTY_GAPS in self.modes and ahead and sim.gap_next:
            sim.gap_next = False
            self.empty_responses += 1
            behind = max(1, now_ms - sim.records[index].ts_ms)
            return Batch([], self._token(shard_id, index), behind, limit=limit)
        sim.gap_next = True
        records = sim.records[index : index + limit]
        index += len(records)
        behind = max(1, now_ms - sim.records[index].ts_ms) if index < len(sim.records) else 0
        if records:
            self.nonempty_responses += 1
        else:
            self.empty_responses += 1
        drained = sim.end_seq is not None and index >= len(sim.records)
        if drained and MOTO_LIKE not in self.modes:
            children = [self._child(c) for c in sim.children]
            return Batch(records, None, behind, child_shards=children, limit=limit)
        return Batch(records, self._token(shard_id, index), behind, limit=limit)

    def _child(self, shard_id: str) -> Shard:
        """A ChildShards entry: parents and hash range, no sequence range."""
        child = self._shards[shard_id]
        return Shard(
            shard_id=child.shard_id,
            parent=child.parent,
            adjacent_parent=child.adjacent_parent,
            hash_start=child.hash_start,
            hash_end=child.hash_end,
        )


def _by_id(shard: _SimShard) -> str:
    return shard.shard_id


def shard_name(n: int) -> str:
    return f"shardId-{n:012d}"


def reshard(sim: SimulatedStream, per_step: int = 4) -> None:
    """Puts around a split, a merge and another split: every shard ends up with records.

    From two shards 0 and 1: split 0 into 2 and 3; merge 3 with 1 into 4; split 4 into 5 and 6.
    Closed: 0, 1, 3, 4. Open: 2, 5, 6. Shard 4 is a merge child (parents 3 and 1).
    """
    s = shard_name
    assert sim.open_shards() == [s(0), s(1)]
    sim.put_to(s(0), per_step)
    sim.put_to(s(1), per_step)
    assert sim.split(s(0)) == (s(2), s(3))
    sim.put_to(s(2), per_step)
    sim.put_to(s(3), per_step)
    sim.put_to(s(1), per_step)
    assert sim.merge(s(3), s(1)) == s(4)
    sim.put_to(s(2), per_step)
    sim.put_to(s(4), per_step)
    assert sim.split(s(4)) == (s(5), s(6))
    sim.put_to(s(5), per_step)
    sim.put_to(s(6), per_step)
    sim.put_to(s(2), per_step)


# -- driving a walker --------------------------------------------------------------------------


class Consumer:
    """Runs `walker.batches()` on a thread and keeps every batch in the order received."""

    def __init__(
        self,
        walker: Walker,
        *,
        stop_after: int | None = None,
        delay: float = 0.0,
        on_batch: Callable[[Consumer, list[Record]], None] | None = None,
    ) -> None:
        self.walker = walker
        self.stop_after = stop_after
        self.delay = delay
        self.on_batch = on_batch
        self.batches: list[list[Record]] = []
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="consumer", daemon=True)
        self.started = 0.0
        self.ended = 0.0

    def start(self) -> Consumer:
        self.started = time.monotonic()
        self._thread.start()
        return self

    def _run(self) -> None:
        batches = self.walker.batches()
        try:
            for batch in batches:
                with self._lock:
                    self.batches.append(list(batch))
                if self.on_batch is not None:
                    self.on_batch(self, batch)
                if self.stop_after is not None and len(self.records) >= self.stop_after:
                    break
                if self.delay:
                    time.sleep(self.delay)
        except BaseException as exc:
            self.error = exc
        finally:
            batches.close()
            self.ended = time.monotonic()

    @property
    def records(self) -> list[Record]:
        with self._lock:
            return [r for b in self.batches for r in b]

    @property
    def elapsed(self) -> float:
        return self.ended - self.started

    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float = 10.0) -> Consumer:
        """Wait for the walk to end by itself; re-raise what it raised."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"the walk did not end within {timeout} s"
        if self.error is not None:
            raise self.error
        return self


def read_all(walker: Walker, timeout: float = 10.0) -> list[Record]:
    """Run a walk that ends by itself and return its records in delivery order."""
    return Consumer(walker).start().join(timeout).records


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.002)


# -- what a correct walk looks like ------------------------------------------------------------


def ids(records: Iterable[Record]) -> list[tuple[str, str]]:
    return [(r.shard, r.seq) for r in records]


def assert_exactly_once(delivered: Sequence[Record], expected: Iterable[Record]) -> None:
    """Every expected record delivered once, nothing else."""
    got = Counter(ids(delivered))
    dups = sorted(k for k, n in got.items() if n > 1)
    assert not dups, f"{len(dups)} records delivered more than once, e.g. {dups[:3]}"
    want = set(ids(expected))
    missing = want - set(got)
    extra = set(got) - want
    assert not missing, f"{len(missing)} records lost, e.g. {sorted(missing)[:3]}"
    assert not extra, f"{len(extra)} unexpected records, e.g. {sorted(extra)[:3]}"


def assert_shard_order(delivered: Sequence[Record]) -> None:
    """Within each shard, delivery order is sequence order."""
    last: dict[str, int] = {}
    for record in delivered:
        seq = int(record.seq)
        assert seq > last.get(record.shard, -1), f"{record.shard}: {seq} after {last[record.shard]}"
        last[record.shard] = seq


def assert_parents_first(delivered: Sequence[Record], sim: SimulatedStream) -> None:
    """Every record of a parent shard is delivered before any record of its children."""
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for i, record in enumerate(delivered):
        first.setdefault(record.shard, i)
        last[record.shard] = i
    for shard_id, start in first.items():
        for ancestor in _ancestors(sim, shard_id):
            if ancestor in last:
                assert last[ancestor] < start, (
                    f"{shard_id} delivered from position {start}, but its ancestor {ancestor} "
                    f"still delivered at position {last[ancestor]}"
                )


def _ancestors(sim: SimulatedStream, shard_id: str) -> Iterator[str]:
    todo = list(sim.parents_of(shard_id))
    seen: set[str] = set()
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            yield current
            todo.extend(sim.parents_of(current))


def assert_correct_walk(
    delivered: Sequence[Record], expected: Iterable[Record], sim: SimulatedStream
) -> None:
    assert_exactly_once(delivered, expected)
    assert_shard_order(delivered)
    assert_parents_first(delivered, sim)


def max_calls_in_window(times: Sequence[float], window: float = 1.0) -> int:
    """The most calls in any half-open window [t, t + window) of the sorted times."""
    ordered = sorted(times)
    best = 0
    j = 0
    for i, start in enumerate(ordered):
        j = max(j, i)
        while j < len(ordered) and ordered[j] < start + window:
            j += 1
        best = max(best, j - i)
    return best


def limited(sim: SimulatedStream, limit: int | None) -> SimulatedStream:
    """`sim` taking at most `limit` records a GetRecords call (None: as built), so that a walk
    reads in small batches: the Walker never asks more than its source's `max_limit`."""
    if limit is not None:
        sim.max_limit = limit
    return sim
