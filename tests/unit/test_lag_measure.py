"""`lag`'s measurement against a scripted source, for what no local server shows: throttling
(moto and kinesis-mock never throttle: docs/SERVERS.md, "Faults neither server produces"),
Kinesis's empty pages before a sparse shard's records (GetRecords may return no records with
MillisBehindLatest above 0: the Kinesis API reference, GetRecords), the null NextShardIterator of a
drained closed shard (moto never sends one), and a checkpoint past the retention. The pacing is
checked on a fake clock: no six calls of a kind on one shard within the reader's `Pacing.window`
(1.1 s)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from streamtail.errors import NotFoundError, ServiceError, UsageError
from streamtail.lag.measure import STOPPED, UNKNOWN_LATEST, Job, LagMeter, Measured
from streamtail.model import Batch, Position, PositionKind, Record, Shard, SourceKind, StreamRef
from streamtail.reader import Pacing
from streamtail.reader.ending import EMPTY_BATCHES_AT_TIP
from streamtail.sources.base import KINESIS
from streamtail.sources.yds import YDS

NOW = 1_800_000_000.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return NOW + self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += max(seconds, 0.0)

    # -- streamtail.clock.Clock: the meter's waits move it on at once

    def monotonic(self) -> float:
        return self.now

    def wait(self, event: threading.Event, seconds: float) -> bool:
        self.sleep(seconds)
        return event.is_set()


Answer = Batch | BaseException


class ScriptedSource:
    """Answers GetShardIterator and GetRecords from a script; notes when each call came."""

    max_limit = 10_000
    supports_timestamp = True
    service = KINESIS

    def __init__(
        self, clock: FakeClock, answers: list[Answer], iterator: Callable[[Position], Any]
    ) -> None:
        self.ref = StreamRef(kind=SourceKind.KINESIS, display="s", name="s")
        self.clock = clock
        self.answers = answers
        self.iterator = iterator
        self.calls: list[tuple[str, float]] = []
        self.positions: list[Position] = []

    def list_shards(self) -> list[Shard]:
        return []

    def get_iterator(self, shard: Shard, position: Position) -> str:
        self.calls.append(("GetShardIterator", self.clock.now))
        self.positions.append(position)
        result = self.iterator(position)
        if isinstance(result, BaseException):
            raise result
        return str(result)

    def get_records(self, shard: Shard, iterator: str, limit: int) -> Batch:
        self.calls.append(("GetRecords", self.clock.now))
        assert limit <= 10
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def meter(source: ScriptedSource, clock: FakeClock) -> LagMeter:
    return LagMeter(source, clock=clock)  # type: ignore[arg-type]


def paced(source: ScriptedSource) -> None:
    """Any six calls of each kind on a shard span `Pacing.window` at least: the reader's manners
    (reader/calls.py), Kinesis's limits being per operation and shard."""
    for operation in ("GetShardIterator", "GetRecords"):
        times = [t for name, t in source.calls if name == operation]
        spans = [b - a for a, b in zip(times, times[5:], strict=False)]
        assert all(span >= Pacing.window - 1e-9 for span in spans), (operation, times)


def test_empty_pages_of_a_sparse_shard_are_followed_paced() -> None:
    clock = FakeClock()
    empty = Batch([], "it", millis_behind=60_000)
    # GetShardIterator at 0, GetRecords at 0, 0 and 0 (the budget allows them at once): the
    # record arrived 42 s before the third answer
    third = 0.0
    found = Batch([Record("shard-1", "7", "k", round((NOW + third - 42) * 1000), b"x")], "it", 0)
    source = ScriptedSource(clock, [empty, empty, found], lambda _p: "it")
    result = meter(source, clock).measure(Job(Shard("shard-1"), "6"))
    assert result == Measured(42_000)
    assert [name for name, _ in source.calls] == ["GetShardIterator"] + ["GetRecords"] * 3
    assert source.positions == [Position(PositionKind.AFTER_SEQUENCE_NUMBER, sequence="6")]
    paced(source)


def test_throttling_is_retried_with_backoff_never_faster_than_the_pacing() -> None:
    clock = FakeClock()
    throttled = ServiceError(
        "slow down", aws_code="ProvisionedThroughputExceededException", retryable=True
    )
    answers: list[Answer] = [throttled, throttled, Batch([], None, 0)]
    source = ScriptedSource(clock, answers, lambda _p: "it")
    assert meter(source, clock).measure(Job(Shard("shard-1"), "6")) == Measured(0)
    assert len(source.calls) == 4
    paced(source)


def test_a_failure_retrying_cannot_fix_leaves_the_lag_unknown() -> None:
    clock = FakeClock()
    denied = ServiceError("KMS key disabled", aws_code="KMSDisabledException", retryable=False)
    source = ScriptedSource(clock, [denied], lambda _p: "it")
    result = meter(source, clock).measure(Job(Shard("shard-1"), "6"))
    assert result == Measured(None, "reading the shard failed: KMS key disabled")


def test_a_shard_gone_from_the_stream_is_unknown_not_fatal() -> None:
    clock = FakeClock()
    gone = NotFoundError("shard not found", aws_code="ResourceNotFoundException")
    source = ScriptedSource(clock, [], lambda _p: gone)
    result = meter(source, clock).measure(Job(Shard("shard-1"), "6"))
    assert result == Measured(None, "the shard is gone from the stream (past its retention)")


def test_closed_shard_drained_after_the_checkpoint_is_not_behind() -> None:
    clock = FakeClock()
    source = ScriptedSource(clock, [Batch([], None, 0)], lambda _p: "it")
    assert meter(source, clock).measure(Job(Shard("shard-1", end_seq="9"), "9")) == Measured(0)


def test_dynamodb_streams_tip_is_empty_at_tip_batches_in_a_row() -> None:
    clock = FakeClock()
    empty = Batch([], "it", millis_behind=None)
    source = ScriptedSource(clock, [empty] * EMPTY_BATCHES_AT_TIP, lambda _p: "it")
    assert meter(source, clock).measure(Job(Shard("shard-1"), "6")) == Measured(0)
    assert len(source.calls) == 1 + EMPTY_BATCHES_AT_TIP  # GetShardIterator, then the batches


def test_checkpoint_past_the_retention_is_measured_from_the_oldest_record() -> None:
    clock = FakeClock()

    def iterator(position: Position) -> Any:
        if position.sequence is not None:
            return UsageError("sequence number too old", aws_code="InvalidArgumentException")
        return "it"

    source = ScriptedSource(clock, [], iterator)
    # the second GetShardIterator and the GetRecords go at once (the budget allows them): the
    # record arrived an hour before
    source.answers.append(
        Batch([Record("shard-1", "100", "k", round((NOW - 3600) * 1000), b"x")], "it", 0)
    )
    result = meter(source, clock).measure(Job(Shard("shard-1"), "6"))
    assert result == Measured(3_600_000)
    assert [p.kind for p in source.positions] == [
        PositionKind.AFTER_SEQUENCE_NUMBER,
        PositionKind.TRIM_HORIZON,
    ]
    paced(source)


@pytest.mark.parametrize(
    ("checkpoint", "expected"),
    [
        ("SHARD_END", Measured(0)),
        ("LATEST", Measured(None, UNKNOWN_LATEST)),
        ("not-a-number", Measured(None, "checkpoint 'not-a-number' is not a sequence number")),
    ],
)
def test_checkpoints_that_need_no_call(checkpoint: str, expected: Measured) -> None:
    clock = FakeClock()
    source = ScriptedSource(clock, [], lambda _p: "it")
    assert meter(source, clock).measure(Job(Shard("shard-1"), checkpoint)) == expected
    assert source.calls == []


def test_where_millis_behind_is_the_datas_age_an_empty_page_is_the_tip() -> None:
    """`Service.lag`: on Yandex Data Streams MillisBehindLatest is the data's age, never a
    distance to the tip, so it is never taken as the lag (reader/calls.py, `at_tip`)."""
    clock = FakeClock()
    empty = Batch([], "it", millis_behind=0)
    source = ScriptedSource(clock, [empty], lambda _p: "it")
    source.service = YDS  # type: ignore[misc]
    assert meter(source, clock).measure(Job(Shard("shard-000000"), "6")) == Measured(0)
    assert len(source.calls) == 2


def test_a_stopped_meter_ends_its_probes_without_an_error() -> None:
    """Ctrl-C stops the meter: its probes return through the calls' stop, not an exception."""
    clock = FakeClock()
    source = ScriptedSource(clock, [Batch([], "it", millis_behind=5)], lambda _p: "it")
    stopping = meter(source, clock)
    stopping.stopped.set()
    assert stopping.measure(Job(Shard("shard-1"), "6")) == STOPPED
    assert source.calls == []
