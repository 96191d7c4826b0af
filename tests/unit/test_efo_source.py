"""EfoSource: subscriptions as the reader engine's batches, continued from the last
ContinuationSequenceNumber (AFTER_SEQUENCE_NUMBER, as KCL's FanOutRecordsPublisher resubscribes)
whatever ends a subscription: the service (its 5-minute cut), a renewal before that, a fault.

The subscriber here is a double: it records the StartingPosition of each SubscribeToShard and
plays back a script of events and faults (the wire itself is tested in test_efo_frames.py and,
over HTTP/2, in tests/integration/test_efo.py).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from streamtail.efo.frames import ShardEvent, service_error
from streamtail.efo.source import FIRST_TRIES, EfoSource, token_of
from streamtail.efo.subscription import Dropped
from streamtail.errors import ExitCode, NotFoundError, ServiceError, UsageError
from streamtail.model import (
    TRIM_HORIZON,
    Position,
    PositionKind,
    Record,
    Shard,
    SourceKind,
    StreamRef,
)
from tests.clocks import SleepingClock

SHARD = Shard("shardId-000000000000")


def rec(seq: int) -> Record:
    return Record("shardId-000000000000", str(seq), "k", 0, b"x", None, None, None)


def ev(*seqs: int, cont: int | None, behind: int = 0) -> ShardEvent:
    return ShardEvent([rec(s) for s in seqs], None if cont is None else str(cont), behind, None)


class Polling:
    ref = StreamRef(SourceKind.KINESIS, display="s", name="s")
    max_limit = 10_000
    supports_timestamp = True
    deleted = False

    def list_shards(self) -> list[Shard]:
        return [SHARD]

    def identity(self) -> dict[str, str]:
        if self.deleted:
            raise NotFoundError("stream 's' not found (ResourceNotFoundException)")
        return {"name": "s"}

    def get_iterator(self, shard: Shard, position: Position) -> str:
        # only a sequence number is checked this way (see EfoSource.get_iterator)
        assert position.sequence is not None
        if position.sequence == "999":
            raise UsageError("the service rejected the request (InvalidArgumentException)")
        return "polling-iterator"

    def get_records(self, shard: Shard, iterator: str, limit: int) -> Any:
        raise AssertionError("no polling under --efo")


class Script:
    """Each SubscribeToShard takes the next entry: a list of events (and exceptions) to play,
    or an exception raised before the first event."""

    def __init__(self, *subscriptions: Any) -> None:
        self.subscriptions = list(subscriptions)
        self.starts: list[dict[str, Any]] = []
        self.closed = 0

    def __call__(self) -> Script:
        return self

    http_version = "HTTP/2"

    def subscribe(
        self, what: str, consumer_arn: str, shard_id: str, start: dict[str, Any]
    ) -> Generator[ShardEvent, None, None]:
        self.starts.append(start)
        plan = self.subscriptions.pop(0)
        return self._play(plan)

    @staticmethod
    def _play(plan: Any) -> Generator[ShardEvent, None, None]:
        if isinstance(plan, BaseException):
            raise plan
        for item in plan:
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self.closed += 1


def source(
    script: Script, clock: SleepingClock | None = None, renew_after: float = 280.0
) -> EfoSource:
    clock = clock or SleepingClock()
    return EfoSource(
        Polling(),
        None,
        "arn:consumer",
        renew_after=renew_after,
        clock=clock,
        sleep=clock.sleep,
        connect=script,
    )


def after(seq: int) -> str:
    return token_of(Position(PositionKind.AFTER_SEQUENCE_NUMBER, sequence=str(seq)))


def test_events_continue_one_subscription_and_hand_back_the_continuation() -> None:
    script = Script([ev(1, 2, cont=2, behind=5), ev(cont=2), ev(3, cont=3)])
    efo = source(script)
    first = efo.get_records(SHARD, efo.get_iterator(SHARD, TRIM_HORIZON), 100)
    assert [r.seq for r in first.records] == ["1", "2"]
    assert (first.next_iterator, first.millis_behind, first.limit) == (after(2), 5, 0)
    second = efo.get_records(SHARD, first.next_iterator, 100)
    third = efo.get_records(SHARD, second.next_iterator or "", 100)
    assert [r.seq for r in third.records] == ["3"]
    assert script.starts == [{"Type": "TRIM_HORIZON"}]  # one SubscribeToShard for all three
    assert efo.stats.subscribe_calls == 1


def test_a_subscription_the_service_ends_is_continued_after_the_last_continuation() -> None:
    script = Script([ev(1, cont=1), ev(cont=4)], [ev(5, cont=5)])
    efo = source(script)
    batch = efo.get_records(SHARD, token_of(TRIM_HORIZON), 0)
    batch = efo.get_records(SHARD, batch.next_iterator or "", 0)
    batch = efo.get_records(SHARD, batch.next_iterator or "", 0)  # the stream ended: resubscribe
    assert [r.seq for r in batch.records] == ["5"]
    assert script.starts[1] == {"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": "4"}
    assert efo.stats.resubscribes == 1


def test_a_subscription_is_renewed_before_the_five_minute_cut() -> None:
    clock = SleepingClock()
    script = Script([ev(1, cont=1), ev(2, cont=2)], [ev(2, 3, cont=3)])
    efo = source(script, clock, renew_after=280.0)
    batch = efo.get_records(SHARD, token_of(TRIM_HORIZON), 0)
    clock.now = 281.0
    batch = efo.get_records(SHARD, batch.next_iterator or "", 0)
    # the second event of the old subscription is not read: the new one starts after seq 1
    assert script.starts[1] == {"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": "1"}
    assert [r.seq for r in batch.records] == ["2", "3"]
    assert script.closed >= 1 and efo.stats.renewals == 1


def test_a_fault_mid_subscription_is_raised_and_the_retry_resubscribes_from_the_token() -> None:
    fault = ServiceError("connection reset")
    script = Script([ev(1, cont=1), fault], [ev(2, cont=2)])
    efo = source(script)
    batch = efo.get_records(SHARD, token_of(TRIM_HORIZON), 0)
    with pytest.raises(ServiceError):
        efo.get_records(SHARD, batch.next_iterator or "", 0)
    again = efo.get_records(SHARD, batch.next_iterator or "", 0)  # the worker retries
    assert [r.seq for r in again.records] == ["2"]
    assert script.starts[1] == {"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": "1"}


def test_a_subscription_cut_off_by_the_stream_deleted_is_not_found_not_a_fault() -> None:
    # What `follow --efo` first sees of a stream deleted under it is the connection dropping
    # (ReadError): the stream is asked about before the fault is retried and warned about.
    fault = ServiceError("SubscribeToShard connection failed (ReadError: Bad file descriptor)")
    script = Script([ev(1, cont=1), fault])
    efo = source(script)
    batch = efo.get_records(SHARD, token_of(TRIM_HORIZON), 0)
    efo._polling.deleted = True  # type: ignore[attr-defined]
    with pytest.raises(NotFoundError, match="stream 's' not found"):
        efo.get_records(SHARD, batch.next_iterator or "", 0)


def test_resource_in_use_is_waited_out_quietly() -> None:
    clock = SleepingClock()
    in_use = service_error("s", "ResourceInUseException", "still held", 400)
    script = Script(in_use, in_use, [ev(1, cont=1)])
    efo = source(script, clock)
    batch = efo.get_records(SHARD, token_of(TRIM_HORIZON), 0)
    assert [r.seq for r in batch.records] == ["1"]
    assert len(script.starts) == 3
    # short waits, and never two SubscribeToShard calls within a second
    assert 2.0 <= clock.now < 3.0


def test_the_end_of_a_shard_has_no_next_iterator_and_names_its_children() -> None:
    child = Shard("shardId-000000000001", parent="shardId-000000000000")
    end = ShardEvent([rec(9)], None, 0, [child])
    efo = source(Script([end]))
    batch = efo.get_records(SHARD, token_of(TRIM_HORIZON), 0)
    assert batch.next_iterator is None and batch.child_shards == [child]


def test_a_service_that_never_answers_a_subscription_has_no_efo() -> None:
    """moto drops the HTTP/2 connection (docs/SERVERS.md): after FIRST_TRIES, exit 2."""
    dropped = Dropped("SubscribeToShard connection failed (RemoteProtocolError)")
    efo = source(Script(*([dropped] * FIRST_TRIES)))
    with pytest.raises(UsageError, match="does not serve SubscribeToShard") as raised:
        efo.get_records(SHARD, token_of(TRIM_HORIZON), 0)
    assert raised.value.code == ExitCode.USAGE


def test_once_a_subscription_worked_a_dropped_connection_is_a_fault_not_a_missing_feature() -> None:
    dropped = Dropped("SubscribeToShard connection failed (RemoteProtocolError)")
    efo = source(Script([ev(1, cont=1), dropped], dropped))
    batch = efo.get_records(SHARD, token_of(TRIM_HORIZON), 0)
    for _ in range(2):
        with pytest.raises(ServiceError) as raised:
            efo.get_records(SHARD, batch.next_iterator or "", 0)
        assert not isinstance(raised.value, UsageError)


def test_a_connection_that_fails_is_a_fault_not_a_missing_feature() -> None:
    """Refused, or TLS verification failed: retried by the worker like any call, never exit 2."""
    refused = ServiceError("SubscribeToShard connection failed (ConnectError: refused)")
    efo = source(Script(*([refused] * (FIRST_TRIES + 1))))
    for _ in range(FIRST_TRIES + 1):
        with pytest.raises(ServiceError) as raised:
            efo.get_records(SHARD, token_of(TRIM_HORIZON), 0)
        assert not isinstance(raised.value, UsageError)


def test_errors_with_a_code_are_not_taken_for_a_missing_feature() -> None:
    gone = service_error("s", "ResourceNotFoundException", "no such consumer", 400)
    efo = source(Script(gone))
    with pytest.raises(NotFoundError):
        efo.get_records(SHARD, token_of(TRIM_HORIZON), 0)


def test_timestamps_travel_as_datetimes() -> None:
    script = Script([ev(cont=0)])
    efo = source(script)
    position = Position(PositionKind.AT_TIMESTAMP, timestamp=1764700000.5)
    efo.get_records(SHARD, efo.get_iterator(SHARD, position), 0)
    start = script.starts[0]
    assert start["Type"] == "AT_TIMESTAMP"
    assert start["Timestamp"].timestamp() == 1764700000.5


def test_subscriptions_to_a_shard_are_a_second_apart() -> None:
    """One SubscribeToShard a second per consumer and shard (API reference)."""
    clock = SleepingClock()
    in_use = service_error("s", "ResourceInUseException", "still held", 400)
    script = Script([ev(1, cont=1)], in_use, [ev(2, cont=2)])
    efo = source(script, clock)
    batch = efo.get_records(SHARD, token_of(TRIM_HORIZON), 0)
    clock.now += 0.1
    efo._drop(SHARD.shard_id)  # as after a fault
    efo.get_records(SHARD, batch.next_iterator or "", 0)
    assert clock.slept and clock.slept[0] == pytest.approx(0.9)
    assert all(s >= 0.25 for s in clock.slept)


def test_a_sequence_number_is_checked_as_polling_would_before_subscribing() -> None:
    """So a number the service no longer holds is handled by the shard worker as with polling."""
    script = Script([ev(cont=5)])
    efo = source(script)
    at = Position(PositionKind.AFTER_SEQUENCE_NUMBER, sequence="4")
    assert efo.get_iterator(SHARD, at) == after(4)
    with pytest.raises(UsageError):
        efo.get_iterator(SHARD, Position(PositionKind.AT_SEQUENCE_NUMBER, sequence="999"))
    assert script.starts == []  # no subscription for either
