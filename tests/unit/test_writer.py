"""The put engine: batching limits, retries of refused entries, giving up, Ctrl-C.

The service answers through a hand-made fake here, because partial failures (some entries of a
PutRecords call refused with ProvisionedThroughputExceededException) are what no local server
produces; test_put_cli.py and the integration tests write to moto and kinesis-mock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import pytest

from streamtail.entries import Rejected
from streamtail.errors import NotFoundError, ServiceError
from streamtail.model import PutEntry, PutResult
from streamtail.writer import MAX_BATCH_BYTES, MAX_BATCH_RECORDS, WritePacing, Writer
from tests.clocks import SleepingClock

NO_LINGER = WritePacing(linger=None)
OK = PutResult(shard="shardId-000000000000", seq="1")
THROTTLED = PutResult("ProvisionedThroughputExceededException", "Rate exceeded for shard")


class FakeKinesis:
    """Answers PutRecords from a script: a list of per-call answers, then all OK."""

    def __init__(self, script: Sequence[object] = ()) -> None:
        self.script = list(script)
        self.calls: list[list[PutEntry]] = []

    def __call__(self, entries: Sequence[PutEntry]) -> list[PutResult]:
        self.calls.append(list(entries))
        answer = self.script.pop(0) if self.script else None
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            return [answer(e) for e in entries]
        return [OK for _ in entries]


def entries(n: int, size: int = 10) -> list[PutEntry]:
    return [PutEntry(b"x" * size, f"k{i}", i + 1) for i in range(n)]


def writer(fake: FakeKinesis, clock: SleepingClock | None = None, **pacing: float) -> Writer:
    clock = clock or SleepingClock()
    return Writer(
        fake,
        pacing=WritePacing(linger=None, **pacing),
        clock=clock,
    )


def test_batches_hold_at_most_500_records() -> None:
    fake = FakeKinesis()
    stats = writer(fake).run(entries(1201))
    assert [len(c) for c in fake.calls] == [500, 500, 201]
    assert stats.written == 1201
    assert stats.calls == 3
    assert [e.origin for c in fake.calls for e in c] == list(range(1, 1202))


def test_batches_hold_at_most_5_mib() -> None:
    fake = FakeKinesis()
    big = 1024 * 1024 - 100  # with its 2-byte key, five of these fit 5 MiB, six do not
    writer(fake).run(entries(11, size=big))
    assert [len(c) for c in fake.calls] == [5, 5, 1]
    assert all(sum(e.size for e in c) <= MAX_BATCH_BYTES for c in fake.calls)
    assert MAX_BATCH_RECORDS == 500


def test_refused_entries_are_sent_again_alone_until_written() -> None:
    refuse_odd = lambda e: THROTTLED if e.origin % 2 else OK  # noqa: E731
    clock = SleepingClock()
    fake = FakeKinesis([refuse_odd, refuse_odd])
    stats = writer(fake, clock).run(entries(6))
    assert [[e.origin for e in c] for c in fake.calls] == [[1, 2, 3, 4, 5, 6], [1, 3, 5], [1, 3, 5]]
    assert stats.written == 6
    assert stats.failed == 0
    assert stats.retried == 6
    assert len(clock.slept) == 2
    assert clock.slept[0] <= 0.1  # full jitter under the first cap


def test_backoff_doubles_up_to_the_cap_while_nothing_gets_through() -> None:
    clock = SleepingClock()
    fake = FakeKinesis([lambda e: THROTTLED] * 8)
    writer(fake, clock, retry_base=1.0, retry_cap=4.0).run(entries(1))
    caps = [1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0]
    assert all(0 <= s <= cap for s, cap in zip(clock.slept, caps, strict=True))


def test_a_batch_gives_up_after_the_retry_window_without_progress() -> None:
    clock = SleepingClock()
    fake = FakeKinesis([lambda e: THROTTLED] * 1000)
    stats = writer(fake, clock, retry_window=30.0).run(entries(3))
    assert stats.written == 0
    assert stats.failed == 3
    assert stats.errors == {"ProvisionedThroughputExceededException": 3}
    assert stats.first_error == "ProvisionedThroughputExceededException: Rate exceeded for shard"
    assert 30.0 < clock.now < 30.0 + 5.0 + 1e-9


def test_errors_that_retrying_cannot_fix_fail_at_once() -> None:
    kms = PutResult("KMSAccessDeniedException", "no access to the key")
    fake = FakeKinesis([lambda e: kms if e.origin == 2 else OK])
    stats = writer(fake).run(entries(3))
    assert len(fake.calls) == 1
    assert (stats.written, stats.failed) == (2, 1)
    assert stats.first_error == "KMSAccessDeniedException: no access to the key"


def test_a_whole_call_that_fails_in_the_network_is_retried() -> None:
    fake = FakeKinesis([ServiceError("cannot reach the service"), None])
    stats = writer(fake).run(entries(4))
    assert len(fake.calls) == 2
    assert stats.written == 4


def test_a_whole_call_that_keeps_failing_fails_its_records() -> None:
    clock = SleepingClock()
    fake = FakeKinesis([ServiceError("cannot reach the service")] * 1000)
    stats = writer(fake, clock, retry_window=10.0).run(entries(2))
    assert stats.failed == 2
    assert stats.first_error == "request failed: cannot reach the service"


def test_a_missing_stream_ends_the_run() -> None:
    fake = FakeKinesis([NotFoundError("stream 'x' not found")])
    with pytest.raises(NotFoundError):
        writer(fake).run(entries(2))


def test_rejected_input_is_counted_and_reported() -> None:
    seen: list[Rejected] = []
    fake = FakeKinesis()
    w = Writer(fake, pacing=NO_LINGER, on_reject=seen.append)
    stats = w.run([PutEntry(b"a", "k", 1), Rejected(2, "not JSON"), PutEntry(b"b", "k", 3)])
    assert stats.written == 2
    assert stats.rejected == 1
    assert seen == [Rejected(2, "not JSON")]


def test_a_partial_batch_goes_out_after_the_linger_time() -> None:
    # The input gives one line, then waits until that line has been written: without the
    # linger, the writer would wait for more input forever (and the test would time out).
    written = threading.Event()

    def lines() -> Iterator[PutEntry]:
        yield PutEntry(b"first", "k", 1)
        assert written.wait(timeout=30)
        yield PutEntry(b"second", "k", 2)

    calls: list[list[bytes]] = []

    def put(batch: Sequence[PutEntry]) -> list[PutResult]:
        calls.append([e.data for e in batch])
        written.set()
        return [OK for _ in batch]

    stats = Writer(put, pacing=WritePacing(linger=0.05)).run(lines())
    assert calls == [[b"first"], [b"second"]]
    assert stats.written == 2


def test_an_unreadable_input_ends_the_run_after_writing_what_was_read() -> None:
    def lines() -> Iterator[PutEntry]:
        yield PutEntry(b"first", "k", 1)
        raise OSError("input/output error")

    fake = FakeKinesis()
    w = writer(fake)
    with pytest.raises(OSError, match="input/output error"):
        w.run(lines())
    assert w.stats.written == 1


def test_ctrl_c_stops_and_counts_what_was_not_written() -> None:
    fake = FakeKinesis([None, KeyboardInterrupt()])
    stats = writer(fake).run(entries(1200))
    assert stats.interrupted
    assert stats.written == 500
    assert stats.unsent >= 500  # the batch in flight, and whatever the input thread had queued
    assert stats.written + stats.unsent <= 1200


def test_a_service_answer_of_the_wrong_length_is_an_error_not_a_silent_loss() -> None:
    stats = writer(lambda batch: [OK], retry_window=0.0).run(entries(2))  # type: ignore[arg-type]
    assert stats.failed == 2
    assert stats.first_error is not None
    assert "answered 1 results for 2 records" in stats.first_error
