"""The walker under retention, deletion, long failures and resuming (docs/CONTRACT.md, Guarantees):
records trimmed before they were read, shards and streams that disappear, the retry timeout,
errors that retrying cannot fix, and resuming from per-shard positions."""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import pytest

from streamtail.errors import NotFoundError, ServiceError
from streamtail.model import LATEST, TRIM_HORIZON, Batch, Resume
from streamtail.reader import Walker, WalkPlan

from .fakes import (
    AWS,
    DDB_TRIM,
    EMPTY_GAPS,
    FAST,
    MODES,
    MOTO_LIKE,
    STALL_TRIM,
    Consumer,
    FakeClock,
    SimulatedStream,
    assert_correct_walk,
    ids,
    limited,
    make_error,
    read_all,
    reshard,
    shard_name,
    wait_for,
)

S = [shard_name(n) for n in range(8)]
HOUR = 3600.0


def make_walker(sim: SimulatedStream, plan: WalkPlan | None = None, **kwargs: Any) -> Walker:
    kwargs.setdefault("pacing", FAST)
    return Walker(sim, plan or WalkPlan(TRIM_HORIZON), **kwargs)


# -- resuming ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_resume_reads_after_each_position_and_never_reads_finished_shards(mode: str) -> None:
    sim = SimulatedStream(2, mode=mode)
    reshard(sim)  # closed: 0, 1, 3, 4; open: 2, 5, 6
    resume = {
        S[0]: _resume(sim.records(S[0])[-1]),  # read to its last record, not known to be done
        S[3]: _resume(sim.records(S[3])[1]),
        S[2]: _resume(sim.records(S[2])[5]),
    }
    finished = frozenset({S[1]})
    walker = make_walker(limited(sim, 3), WalkPlan(TRIM_HORIZON, resume=resume, finished=finished))
    delivered = read_all(walker)
    expected = (
        sim.records(S[3])[2:]
        + sim.records(S[2])[6:]
        + sim.records(S[4])
        + sim.records(S[5])
        + sim.records(S[6])
    )
    assert_correct_walk(delivered, expected, sim)
    assert sim.count("get_records", S[1]) == 0
    assert walker.finished == {S[0], S[1], S[3], S[4]}


def test_finished_names_shards_skipped_at_the_start_and_drained_ones() -> None:
    sim = SimulatedStream(2)
    reshard(sim)
    latest = make_walker(sim, WalkPlan(LATEST))
    assert read_all(latest) == []
    assert latest.finished == set(sim.closed_shards())  # skipped: nothing after the start
    whole = make_walker(sim, WalkPlan(TRIM_HORIZON))
    read_all(whole)
    assert whole.finished == set(sim.closed_shards())  # drained; open shards are never finished


def test_a_resumed_shard_the_stream_no_longer_lists_is_reported_and_its_children_read() -> None:
    sim = SimulatedStream(1, clock=FakeClock(1_700_000_000.0))
    first = sim.put_to(S[0], 4)
    left, right = sim.split(S[0])
    children = sim.put_to(left, 3) + sim.put_to(right, 3)
    sim.drop_shard(S[0])  # closed, and aged out of the stream since
    warnings: list[str] = []
    plan = WalkPlan(TRIM_HORIZON, resume={S[0]: _resume(first[1])})
    delivered = read_all(make_walker(sim, plan, warn=warnings.append))
    assert ids(delivered) == ids(sorted(children, key=lambda r: (r.shard, int(r.seq))))
    assert warnings == [
        f"shard {S[0]} is no longer in the stream: its records after seq {first[1].seq} "
        "(arrived 2023-11-14T22:13:20.000Z) were trimmed (past the stream's retention) before "
        "they could be read"
    ]


# -- trimmed before being read -------------------------------------------------------------------


@pytest.mark.parametrize("mode", [AWS, DDB_TRIM, MOTO_LIKE, STALL_TRIM])
def test_a_trimmed_resume_position_reads_on_from_the_trim_horizon_and_says_how_far(
    mode: str,
) -> None:
    clock = FakeClock(1_700_000_000.0)
    sim = SimulatedStream(1, mode=mode, clock=clock)
    old = sim.put_to(S[0], 5)
    clock.advance(3 * HOUR + 12 * 60)
    new = sim.put_to(S[0], 5)
    sim.trim(S[0], 7)  # the five old ones and two new ones are past retention
    warnings: list[str] = []
    plan = WalkPlan(TRIM_HORIZON, resume={S[0]: _resume(old[2])})
    delivered = read_all(make_walker(limited(sim, 2), plan, warn=warnings.append))
    assert ids(delivered) == ids(new[2:])
    assert warnings == [
        f"shard {S[0]}: seq {old[2].seq} (the last record read, arrived "
        "2023-11-14T22:13:20.000Z) was trimmed (past the stream's retention); reading on from "
        f"the oldest record retained, seq {new[2].seq} (arrived 2023-11-15T01:25:20.000Z): the "
        "stream moved on 3h 12m, and what it held in between was lost"
    ]


@pytest.mark.parametrize("mode", [AWS, DDB_TRIM, STALL_TRIM])
def test_an_iterator_renewed_after_trimming_reads_on_from_the_trim_horizon(mode: str) -> None:
    """follow: the last record delivered is trimmed while the iterator expires (a long stall)."""
    clock = FakeClock(1_700_000_000.0)
    sim = SimulatedStream(1, mode=mode, clock=clock)
    warnings: list[str] = []
    walker = make_walker(
        sim, WalkPlan(TRIM_HORIZON, follow=True, idle_exit=0.5), warn=warnings.append
    )
    consumer = Consumer(walker).start()
    first = sim.put_to(S[0], 3)
    wait_for(lambda: len(consumer.records) == 3, what="the first records")
    clock.advance(HOUR)
    lost = sim.put_to(S[0], 2)
    later = sim.put_to(S[0], 2)
    sim.trim(S[0], 5)
    sim.fail_at("get_records", sim.count("get_records") + 1, "expired")
    consumer.join()
    assert ids(consumer.records) == ids(first + later)
    assert lost[0] not in consumer.records
    [warning] = warnings
    assert f"seq {first[2].seq} (the last record read" in warning
    assert f"oldest record retained, seq {later[0].seq}" in warning
    assert "the stream moved on 1h" in warning


def test_dynamodb_records_trimmed_under_a_live_iterator_are_skipped_with_a_warning() -> None:
    sim = SimulatedStream(1, mode=DDB_TRIM)
    records = sim.put_to(S[0], 8)
    trimmed: list[Any] = []

    def trim_after_first_call(shard_id: str, n: int, batch: Batch) -> None:
        if n == 1:
            trimmed.extend(sim.trim(shard_id, 5))  # two of them not read yet

    sim.after_get_records = trim_after_first_call
    warnings: list[str] = []
    delivered = read_all(make_walker(limited(sim, 3), WalkPlan(TRIM_HORIZON), warn=warnings.append))
    assert ids(delivered) == ids(records[:3] + records[5:])
    [warning] = warnings
    assert f"seq {records[2].seq} (the last record read" in warning
    assert f"oldest record retained, seq {records[5].seq}" in warning


def test_kinesis_records_trimmed_under_a_live_iterator_stall_then_read_on() -> None:
    """Kinesis answering empty batches far behind that never move on (issue 16), instead of
    TrimmedDataAccessException: the same jump to the trim horizon, the same warning."""
    sim = SimulatedStream(1, mode=STALL_TRIM)
    records = sim.put_to(S[0], 8)

    def trim_after_first_call(shard_id: str, n: int, batch: Batch) -> None:
        if n == 1:
            sim.trim(shard_id, 5)  # two of them not read yet

    sim.after_get_records = trim_after_first_call
    warnings: list[str] = []
    delivered = read_all(make_walker(limited(sim, 3), WalkPlan(TRIM_HORIZON), warn=warnings.append))
    assert ids(delivered) == ids(records[:3] + records[5:])
    assert sim.stalled_responses >= 25  # STALL_BATCHES
    [warning] = warnings
    assert f"seq {records[2].seq} (the last record read" in warning
    assert f"oldest record retained, seq {records[5].seq}" in warning


def test_a_start_sequence_number_refused_for_another_reason_skips_silently() -> None:
    """A sequence number the server refuses although nothing was trimmed: no trim warning."""
    sim = SimulatedStream(2)
    reshard(sim)
    warnings: list[str] = []
    seq = sim.records(S[2])[3].seq  # other shards refuse it: not theirs
    delivered = read_all(make_walker(sim, WalkPlan(_after(seq)), warn=warnings.append))
    assert_correct_walk(delivered, [r for r in sim.records() if int(r.seq) > int(seq)], sim)
    assert sim.count("get_iterator") > len(sim.shard_ids())  # some were refused
    assert warnings == []


# -- shards and streams that disappear -----------------------------------------------------------


def test_a_stream_deleted_while_following_is_not_found_with_a_clear_message() -> None:
    sim = SimulatedStream(2)
    consumer = Consumer(make_walker(sim, WalkPlan(TRIM_HORIZON, follow=True))).start()
    sim.put_to(S[0], 2)
    wait_for(lambda: len(consumer.records) == 2, what="the first records")
    sim.delete()
    with pytest.raises(NotFoundError, match=r"stream 'sim' no longer exists: it was deleted"):
        consumer.join(timeout=5.0)


def test_a_shard_aging_out_while_it_is_read_is_skipped_and_its_children_read() -> None:
    sim = SimulatedStream(1)
    parent = sim.put_to(S[0], 6)
    left, right = sim.split(S[0])
    children = sim.put_to(left, 2) + sim.put_to(right, 2)

    def age_out(shard_id: str, n: int, batch: Batch) -> None:
        if shard_id == S[0] and n == 1:
            sim.drop_shard(S[0])

    sim.after_get_records = age_out
    warnings: list[str] = []
    walker = make_walker(limited(sim, 2), WalkPlan(TRIM_HORIZON), warn=warnings.append)
    delivered = read_all(walker)
    assert sorted(ids(delivered)) == sorted(ids(parent[:2] + children))
    assert warnings == [
        f"shard {S[0]} is no longer in the stream (past its retention) before it was read to "
        "its end: its remaining records are gone"
    ]
    assert S[0] in walker.finished


# -- retrying: how long, and what -----------------------------------------------------------------


def _failing_calls(sim: SimulatedStream, count: int) -> None:
    sim.fault_hook = lambda kind, _shard, n: (
        make_error("generic") if kind == "get_records" and n <= count else None
    )


def test_follow_keeps_retrying_past_the_read_retry_window() -> None:
    sim = SimulatedStream(1)
    records = sim.put_to(S[0], 3)
    _failing_calls(sim, 25)
    warnings: list[str] = []
    pacing = dataclasses.replace(FAST, retry_window=0.01)
    walker = make_walker(
        sim,
        WalkPlan(TRIM_HORIZON, follow=True, idle_exit=0.3),
        pacing=pacing,
        warn=warnings.append,
    )
    assert ids(read_all(walker)) == ids(records)
    assert sim.faults_fired == 25
    assert warnings[0].endswith("; retrying (follow keeps trying)")


@pytest.mark.parametrize("follow", [False, True])
def test_the_retry_timeout_bounds_retrying_in_read_and_follow(follow: bool) -> None:
    sim = SimulatedStream(1)
    sim.put_to(S[0], 2)
    _failing_calls(sim, 10**9)
    plan = WalkPlan(TRIM_HORIZON, follow=follow, retry_timeout=0.05)
    with pytest.raises(ServiceError, match=r"connection reset by peer\); gave up after \d+ms") as e:
        read_all(make_walker(sim, plan))
    assert e.value.hint is not None and "--retry-timeout" in e.value.hint


def test_a_retry_timeout_of_inf_never_gives_up() -> None:
    sim = SimulatedStream(1)
    records = sim.put_to(S[0], 2)
    _failing_calls(sim, 20)
    pacing = dataclasses.replace(FAST, retry_window=0.001)
    walker = make_walker(sim, WalkPlan(TRIM_HORIZON, retry_timeout=math.inf), pacing=pacing)
    assert ids(read_all(walker)) == ids(records)


def test_a_retry_timeout_of_zero_gives_up_at_the_first_failure() -> None:
    sim = SimulatedStream(1)
    sim.put_to(S[0], 2)
    _failing_calls(sim, 1)
    with pytest.raises(ServiceError, match="gave up"):
        read_all(make_walker(sim, WalkPlan(TRIM_HORIZON, retry_timeout=0.0)))
    assert sim.count("get_records") == 1


@pytest.mark.parametrize("follow", [False, True])
def test_an_error_retrying_cannot_fix_is_not_retried(follow: bool) -> None:
    sim = SimulatedStream(1)
    sim.put_to(S[0], 2)
    disabled = ServiceError(
        "request for stream 'sim' failed (KMSDisabledException: the key is disabled)",
        aws_code="KMSDisabledException",
        retryable=False,
    )
    sim.fail_at("get_records", 1, disabled)
    with pytest.raises(ServiceError, match="KMSDisabledException"):
        read_all(make_walker(sim, WalkPlan(TRIM_HORIZON, follow=follow)))
    assert sim.count("get_records") == 1


@pytest.mark.parametrize("mode", [AWS, EMPTY_GAPS])
def test_a_failing_listing_in_read_gives_up_after_the_retry_timeout(mode: str) -> None:
    """A listing owed after a shard closed (its children are unknown) is retried, then given up."""
    # records from a minute ago: the first batch is not taken for the tip of the walk
    sim = SimulatedStream(1, mode=mode, clock=FakeClock(time.time() - 60))
    sim.put_to(S[0], 2)
    sim.fault_hook = lambda kind, _shard, n: (
        make_error("generic") if kind == "list_shards" and n > 1 else None
    )

    def split_unannounced(shard_id: str, n: int, batch: Batch) -> None:
        if n == 1:
            sim.split(S[0])  # after the start: the walker learns the children by listing
        if batch.child_shards:
            batch.child_shards.clear()

    sim.after_get_records = split_unannounced
    pacing = dataclasses.replace(FAST, retry_cap=0.001)
    with pytest.raises(ServiceError, match="gave up after"):
        read_all(make_walker(sim, WalkPlan(TRIM_HORIZON, retry_timeout=0.05), pacing=pacing))


def _resume(record: Any) -> Resume:
    return Resume(record.seq, record.ts_ms)


def _after(seq: str) -> Any:
    from streamtail.model import Position, PositionKind

    return Position(PositionKind.AFTER_SEQUENCE_NUMBER, sequence=seq)
