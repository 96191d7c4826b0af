"""The shard walker against a simulated stream: order, lineage, stop rules, positions, faults,
pacing and backpressure (docs/CONTRACT.md, Guarantees).

Some tests stage races deterministically with the simulator's hooks (a split, a put or the
passing of --until while a GetRecords response is on its way back).
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from typing import Any

import pytest

from streamtail.errors import NotFoundError, NotYet, ServiceError, UsageError
from streamtail.model import LATEST, TRIM_HORIZON, Batch, Position, PositionKind, Record
from streamtail.reader import Progress, Walker, WalkPlan
from streamtail.reader.plan import CallBudget, Pacing
from streamtail.sources.base import READ_RATE

from .fakes import (
    AWS,
    EMPTY_GAPS,
    FAST,
    MODES,
    MOTO_LIKE,
    Consumer,
    FakeClock,
    SimulatedStream,
    VirtualClock,
    assert_correct_walk,
    assert_exactly_once,
    assert_shard_order,
    ids,
    limited,
    make_error,
    max_calls_in_window,
    read_all,
    reshard,
    shard_name,
    wait_for,
)

S = [shard_name(n) for n in range(8)]
SEQUENCE_KINDS = [PositionKind.AT_SEQUENCE_NUMBER, PositionKind.AFTER_SEQUENCE_NUMBER]


def make_walker(sim: SimulatedStream, plan: WalkPlan | None = None, **kwargs: Any) -> Walker:
    kwargs.setdefault("pacing", FAST)
    return Walker(sim, plan or WalkPlan(TRIM_HORIZON), **kwargs)


def wait_for_first_calls(sim: SimulatedStream, shards: list[str] | None = None) -> None:
    """Wait until every (open) shard has had a GetRecords call: its start iterator exists."""
    for shard_id in shards or sim.open_shards():
        wait_for(lambda s=shard_id: sim.count("get_records", s) > 0, what=f"a call on {shard_id}")


# -- 1. trim horizon over a resharded stream ----------------------------------------------------


@pytest.mark.parametrize("limit", [None, 3])
@pytest.mark.parametrize("mode", MODES)
def test_trim_horizon_reads_a_resharded_stream_once_in_order(mode: str, limit: int | None) -> None:
    sim = SimulatedStream(2, mode=mode)
    reshard(sim)
    walker = make_walker(limited(sim, limit), WalkPlan(TRIM_HORIZON))
    delivered = read_all(walker)
    assert_correct_walk(delivered, sim.records(), sim)
    assert walker.stats.records == len(delivered)


@pytest.mark.parametrize("mode", MODES)
def test_trim_horizon_with_many_records_per_shard(mode: str) -> None:
    """Several full batches per shard, records of every shard interleaved in time."""
    sim = SimulatedStream(3, mode=mode)
    for i in range(90):
        sim.put(f"user-{i}")
    sim.split(sim.open_shards()[1])
    for i in range(90, 150):
        sim.put(f"user-{i}")
    delivered = read_all(make_walker(limited(sim, 100), WalkPlan(TRIM_HORIZON)))
    assert_correct_walk(delivered, sim.records(), sim)


# -- 2. read ends at the tip ----------------------------------------------------------------------


def test_read_does_not_stop_at_an_empty_batch_with_records_ahead() -> None:
    sim = SimulatedStream(1, mode=EMPTY_GAPS)
    sim.put_to(S[0], 10)
    delivered = read_all(make_walker(limited(sim, 4), WalkPlan(TRIM_HORIZON)))
    assert ids(delivered) == ids(sim.records())
    # every batch of records was preceded by an empty one that said more lay ahead
    assert sim.empty_responses >= 3


@pytest.mark.parametrize("mode", [AWS, EMPTY_GAPS, MOTO_LIKE])
def test_read_stops_when_caught_up_on_a_stream_written_continuously(mode: str) -> None:
    sim = SimulatedStream(2, mode=mode)
    sim.put_to(S[0], 20)
    sim.put_to(S[1], 20)
    writing = threading.Event()
    writing.set()

    def writer() -> None:
        i = 0
        while writing.is_set():
            sim.put(f"live-{i}")
            i += 1
            time.sleep(0.002)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        consumer = Consumer(make_walker(limited(sim, 5), WalkPlan(TRIM_HORIZON))).start()
        consumer.join(timeout=5.0)
    finally:
        writing.clear()
        thread.join()
    delivered = consumer.records
    assert_shard_order(delivered)
    for shard_id in (S[0], S[1]):
        got = [r for r in delivered if r.shard == shard_id]
        # a prefix of the shard: nothing skipped, nothing repeated, at least what was there
        assert ids(got) == ids(sim.records(shard_id)[: len(got)])
        assert len(got) >= 20


@pytest.mark.parametrize("parent_records", [0, 5])
def test_read_moves_on_from_a_moto_like_closed_shard(parent_records: int) -> None:
    """moto never returns a null iterator for a closed shard: the walker must not poll it on."""
    sim = SimulatedStream(1, mode=MOTO_LIKE)
    sim.put_to(S[0], parent_records)
    left, right = sim.split(S[0])
    sim.put_to(left, 3)
    sim.put_to(right, 3)
    started = time.monotonic()
    delivered = read_all(make_walker(sim), timeout=5.0)
    assert time.monotonic() - started < 2.0
    assert_correct_walk(delivered, sim.records(), sim)
    assert sim.count("get_records", S[0]) <= 3


def test_read_of_an_empty_stream_ends() -> None:
    sim = SimulatedStream(3)
    assert read_all(make_walker(sim)) == []


# -- 3. follow ------------------------------------------------------------------------------------


def test_follow_delivers_records_put_after_the_start() -> None:
    sim = SimulatedStream(2)
    sim.put_to(S[0], 3)  # before the start: not wanted from LATEST
    consumer = Consumer(
        make_walker(sim, WalkPlan(LATEST, follow=True, idle_exit=2.0)), stop_after=12
    ).start()
    wait_for_first_calls(sim)
    fresh = [sim.put(f"new-{i}") for i in range(12)]
    consumer.join()
    assert_exactly_once(consumer.records, fresh)
    assert_shard_order(consumer.records)


@pytest.mark.parametrize("mode", [AWS, MOTO_LIKE, EMPTY_GAPS])
def test_follow_finds_the_children_of_a_split_and_reads_them_after_the_parent(mode: str) -> None:
    sim = SimulatedStream(1, mode=mode)
    # without relisting (AWS-like servers) the children can only be learnt from ChildShards
    relist = FAST.relist_interval if mode == MOTO_LIKE else 60.0
    pacing = dataclasses.replace(FAST, relist_interval=relist)
    walker = Walker(limited(sim, 2), WalkPlan(LATEST, follow=True, idle_exit=1.0), pacing=pacing)
    consumer = Consumer(walker, stop_after=16).start()
    wait_for_first_calls(sim)
    before = sim.put_to(S[0], 6)
    left, right = sim.split(S[0])
    after = sim.put_to(left, 5) + sim.put_to(right, 5)
    consumer.join()
    assert_correct_walk(consumer.records, before + after, sim)
    if mode == MOTO_LIKE:
        assert sim.count("list_shards") >= 2  # found by relisting
    else:
        assert sim.count("list_shards") == 1  # found through ChildShards


def test_follow_across_a_split_and_a_merge() -> None:
    sim = SimulatedStream(2)
    walker = make_walker(limited(sim, 3), WalkPlan(TRIM_HORIZON, follow=True, idle_exit=0.5))
    consumer = Consumer(walker).start()
    wait_for_first_calls(sim)
    sim.put_to(S[0], 4)
    sim.put_to(S[1], 4)
    _, right = sim.split(S[0])
    sim.put_to(right, 4)
    # merge once the split's children are being read (a merge before the walker knows them is
    # test_follow_waits_for_a_merge_parent_learnt_later)
    wait_for_first_calls(sim, [right])
    merged = sim.merge(right, S[1])
    sim.put_to(merged, 4)
    consumer.join()
    assert_correct_walk(consumer.records, sim.records(), sim)


def test_closing_the_generator_stops_the_walk() -> None:
    sim = SimulatedStream(2)
    sim.put_to(S[0], 5)
    sim.put_to(S[1], 5)
    before = set(threading.enumerate())
    walker = make_walker(limited(sim, 1), WalkPlan(TRIM_HORIZON, follow=True), queue_size=1)
    batches = walker.batches()
    first = next(batches)
    assert len(first) == 1
    batches.close()
    threads = list(walker._running.values())
    assert threads
    for thread in threads:
        thread.join(timeout=1.0)
        assert not thread.is_alive(), f"{thread.name} still running after close()"
    # No thread the walk started is left, so nothing can call the service any more.
    wait_for(lambda: set(threading.enumerate()) <= before, what="the walk's threads to end")


def test_stop_from_another_thread_ends_an_idle_walk_at_once() -> None:
    """`Walker.stop` (what the watcher of stdout's reader calls) wakes the caller's thread and
    the workers: on a clock that never moves, only that wake-up can end the walk."""
    clock = VirtualClock()
    sim = SimulatedStream(2, clock=clock.wall, call_clock=clock.monotonic)
    walker = make_walker(sim, WalkPlan(LATEST, follow=True), clock=clock)
    consumer = Consumer(walker).start()
    wait_for(lambda: clock.waiting() == 3, what="the caller and both workers waiting")
    walker.stop()
    consumer.join(timeout=5.0)
    assert clock.monotonic() == 0.0
    assert consumer.records == []


class NotYetSource:
    """The simulated stream behind a service that keeps saying "not yet" (an enhanced fan-out
    subscription still held: efo/source.py's `NotYet`), each time asking for a minute."""

    def __init__(self, sim: SimulatedStream) -> None:
        self.sim = sim
        self.asked = 0

    def get_records(self, shard: Any, iterator: str, limit: int) -> Batch:
        self.asked += 1
        raise NotYet("still held", after=60.0, aws_code="ResourceInUseException")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sim, name)


def test_stop_reaches_a_worker_waiting_out_a_not_yet() -> None:
    """A source's "not yet" is waited out by the worker on the walk's clock, without a warning;
    `Walker.stop` ends that wait (a clock that never moves: only the stop can end it)."""
    clock = VirtualClock()
    sim = SimulatedStream(1, clock=clock.wall, call_clock=clock.monotonic)
    source = NotYetSource(sim)
    warnings: list[str] = []
    walker = make_walker(
        source,  # type: ignore[arg-type]
        WalkPlan(TRIM_HORIZON, follow=True),
        clock=clock,
        warn=warnings.append,
    )
    consumer = Consumer(walker).start()
    wait_for(lambda: source.asked == 1 and clock.waiting() == 2, what="the worker waiting")
    walker.stop()
    consumer.join(timeout=5.0)
    assert consumer.error is None
    assert clock.monotonic() == 0.0
    assert (source.asked, warnings) == (1, [])
    assert walker.stats.snapshot().retries == 1  # WalkStats sees it


def test_follow_idle_exit() -> None:
    sim = SimulatedStream(2)
    sim.put_to(S[0], 3)
    walker = make_walker(sim, WalkPlan(TRIM_HORIZON, follow=True, idle_exit=0.4))
    consumer = Consumer(walker).start()
    wait_for(lambda: len(consumer.records) == 3, what="the first records")
    calls = sim.count("get_records")
    wait_for(lambda: sim.count("get_records") >= calls + 10, what="idle polls")  # idle a few polls
    put_at = time.monotonic()
    late = sim.put_to(S[1], 1)  # restarts the idle time
    consumer.join(timeout=3.0)
    assert_exactly_once(consumer.records, sim.records())
    assert late[0] in consumer.records
    assert 0.4 <= consumer.ended - put_at < 2.0


def test_follow_until_a_record_after_until_ends_it() -> None:
    clock = FakeClock()
    sim = SimulatedStream(3, clock=clock)
    until = clock() + 10
    walker = make_walker(sim, WalkPlan(LATEST, follow=True, until=until), clock=clock)
    consumer = Consumer(walker).start()
    wait_for_first_calls(sim)
    clock.advance(1)
    before = sim.put_to(S[0], 2) + sim.put_to(S[1], 2)
    wait_for(lambda: len(consumer.records) == 4, what="the records before --until")
    clock.advance(10)
    started = time.monotonic()
    after = sim.put_to(S[0], 1)
    consumer.join(timeout=3.0)
    assert time.monotonic() - started < 1.0
    assert_exactly_once(consumer.records, before)
    assert after[0] not in consumer.records


def test_follow_until_a_batch_cut_at_until() -> None:
    clock = FakeClock()
    sim = SimulatedStream(1, clock=clock)
    until = clock() + 5
    early = [sim.put(f"early-{i}") for i in range(3)]
    clock.advance(10)
    sim.put("late")
    walker = make_walker(sim, WalkPlan(TRIM_HORIZON, follow=True, until=until), clock=clock)
    assert ids(read_all(walker)) == ids(early)


def test_follow_until_a_quiet_stream_ends_once_until_passes() -> None:
    clock = FakeClock()
    sim = SimulatedStream(2, clock=clock)
    walker = make_walker(sim, WalkPlan(LATEST, follow=True, until=clock() + 5), clock=clock)
    consumer = Consumer(walker).start()
    wait_for_first_calls(sim)
    # Both shards polled again and found quiet, with --until still ahead: the walk goes on.
    for shard_id in S[:2]:
        calls = sim.count("get_records", shard_id)
        wait_for(lambda s=shard_id, n=calls: sim.count("get_records", s) >= n + 2)
    assert consumer.running()
    clock.advance(6)
    consumer.join(timeout=1.0)
    assert consumer.records == []


def test_follow_until_reads_children_of_a_split_not_yet_listed_moto() -> None:
    """moto: no ChildShards, the listing is refreshed every relist_interval. A split and records in
    the children before --until must not be lost because the parent looks open and quiet."""
    clock = FakeClock()
    sim = SimulatedStream(1, mode=MOTO_LIKE, clock=clock)
    pacing = dataclasses.replace(FAST, relist_interval=60.0)
    walker = Walker(
        sim, WalkPlan(LATEST, follow=True, until=clock() + 5), pacing=pacing, clock=clock
    )
    consumer = Consumer(walker).start()
    wait_for_first_calls(sim)
    left, right = sim.split(S[0])
    clock.advance(1)
    wanted = sim.put_to(left, 2) + sim.put_to(right, 2)  # arrived before --until
    clock.advance(5)
    consumer.join(timeout=3.0)
    assert_exactly_once(consumer.records, wanted)


def test_follow_until_judges_a_quiet_shard_by_the_time_of_its_call() -> None:
    """The parent's last empty batch was taken before --until; the split, the children's records
    and the passing of --until all happen while that response is on its way back."""
    clock = FakeClock()
    sim = SimulatedStream(1, clock=clock)
    wanted: list[Record] = []

    def during_call(shard_id: str, n: int, batch: Batch) -> None:
        if shard_id == S[0] and n == 2 and not batch.records:
            left, right = sim.split(S[0])
            clock.advance(1)
            wanted.extend(sim.put_to(left, 2) + sim.put_to(right, 2))
            clock.advance(5)

    sim.after_get_records = during_call
    walker = make_walker(sim, WalkPlan(LATEST, follow=True, until=clock() + 5), clock=clock)
    consumer = Consumer(walker).start()
    consumer.join(timeout=3.0)
    assert len(wanted) == 4
    assert_exactly_once(consumer.records, wanted)


def test_follow_waits_for_a_merge_parent_learnt_later() -> None:
    """A (0) and B (1) open. B splits into B1 (2) and B2 (3); A merges with B1 into C (4). B's
    worker is held back by throttling, so C is learnt from A's ChildShards while B1 is not known
    yet. B1's records must still come out before C's."""
    sim = SimulatedStream(2)
    hold = threading.Event()
    hold.set()
    sim.fault_hook = lambda kind, shard_id, n: (
        make_error("throttle") if hold.is_set() and shard_id == S[1] and n > 1 else None
    )
    pacing = dataclasses.replace(FAST, relist_interval=60.0)
    walker = Walker(sim, WalkPlan(TRIM_HORIZON, follow=True, idle_exit=1.0), pacing=pacing)
    consumer = Consumer(walker).start()
    wait_for_first_calls(sim)
    b1, b2 = sim.split(S[1])
    sim.put_to(b1, 3)
    sim.put_to(b2, 2)
    c = sim.merge(S[0], b1)
    sim.put_to(c, 3)
    # A reaches its end and names C in ChildShards while B is still held back.
    wait_for(lambda: S[0] in walker.finished, what="A read to its end")
    hold.clear()
    consumer.join(timeout=5.0)
    assert_correct_walk(consumer.records, sim.records(), sim)


def test_moto_like_shard_closed_while_a_batch_is_in_flight_is_read_to_its_end() -> None:
    """moto: the closed state comes from the listing. A record put and a split made while an empty
    batch is on its way back (and a relist seeing the split before the worker looks) must not make
    the walker take that empty batch as the end of the closed shard."""
    sim = SimulatedStream(1, mode=MOTO_LIKE)
    last: list[Record] = []

    def during_call(shard_id: str, n: int, batch: Batch) -> None:
        if shard_id == S[0] and n == 2 and not batch.records:
            last.extend(sim.put_to(S[0], 1))
            sim.split(S[0])
            listed = sim.count("list_shards")
            wait_for(lambda: sim.count("list_shards") > listed, what="a relist")
            wait_for(  # the main thread has taken the relist into its lineage
                lambda: walker.lineage.shards[S[0]].closed, what="the lineage to show the split"
            )

    sim.after_get_records = during_call
    walker = make_walker(sim, WalkPlan(LATEST, follow=True, idle_exit=0.5))
    consumer = Consumer(walker).start()
    consumer.join(timeout=5.0)
    assert len(last) == 1
    assert last[0] in consumer.records


# -- 4. positions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_latest_skips_closed_shards_and_starts_open_ones_at_the_tip(mode: str) -> None:
    sim = SimulatedStream(2, mode=mode)
    reshard(sim)
    walker = make_walker(sim, WalkPlan(LATEST, follow=True, idle_exit=2.0))
    consumer = Consumer(walker, stop_after=12).start()
    wait_for_first_calls(sim)
    fresh = [sim.put(f"fresh-{i}") for i in range(12)]
    consumer.join()
    assert_exactly_once(consumer.records, fresh)
    for shard_id in sim.closed_shards():
        assert sim.count("get_iterator", shard_id) == 0
        assert sim.count("get_records", shard_id) == 0


def test_read_from_latest_delivers_nothing_and_ends() -> None:
    sim = SimulatedStream(2)
    reshard(sim)
    assert read_all(make_walker(sim, WalkPlan(LATEST))) == []


@pytest.mark.parametrize("mode", MODES)
def test_at_timestamp(mode: str) -> None:
    clock = FakeClock(float(int(time.time()) - 3600))  # whole seconds: exact in milliseconds
    sim = SimulatedStream(2, mode=mode, clock=clock)
    counter = iter(range(1000))

    def tick(shard_id: str) -> None:
        for _ in range(3):
            clock.advance(1)
            sim.put_to(shard_id, 1, prefix=f"t{next(counter)}")

    tick(S[0])
    tick(S[1])
    left, right = sim.split(S[0])
    tick(left)
    tick(right)
    tick(S[1])
    moment = sim.records(S[1])[1].ts_ms / 1000  # a record of a shard that is still open
    walker = make_walker(sim, WalkPlan(Position(PositionKind.AT_TIMESTAMP, timestamp=moment)))
    delivered = read_all(walker)
    wanted = [r for r in sim.records() if r.ts_ms >= moment * 1000]
    assert 0 < len(wanted) < len(sim.records())
    assert_correct_walk(delivered, wanted, sim)


def _from(kind: PositionKind, records: list[Record], k: int) -> list[Record]:
    return records[k:] if kind is PositionKind.AT_SEQUENCE_NUMBER else records[k + 1 :]


@pytest.mark.parametrize("kind", SEQUENCE_KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_sequence_position_in_a_pinned_closed_shard(mode: str, kind: PositionKind) -> None:
    """--shard 3 --from at:/after:SEQ of shard 3 (closed): the rest of shard 3, then all of its
    descendants (4, a merge child whose other parent 1 is not selected, then 5 and 6)."""
    sim = SimulatedStream(2, mode=mode)
    reshard(sim)
    own = sim.records(S[3])
    plan = WalkPlan(Position(kind, sequence=own[1].seq), shards=frozenset({S[3]}))
    delivered = read_all(make_walker(sim, plan))
    wanted = _from(kind, own, 1) + [
        r for shard_id in (S[4], S[5], S[6]) for r in sim.records(shard_id)
    ]
    assert_correct_walk(delivered, wanted, sim)


@pytest.mark.parametrize("kind", SEQUENCE_KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_sequence_position_in_a_pinned_open_shard(mode: str, kind: PositionKind) -> None:
    sim = SimulatedStream(2, mode=mode)
    reshard(sim)
    own = sim.records(S[2])
    plan = WalkPlan(Position(kind, sequence=own[5].seq), shards=frozenset({S[2]}))
    delivered = read_all(make_walker(sim, plan))
    assert ids(delivered) == ids(_from(kind, own, 5))


@pytest.mark.parametrize("mode", MODES)
def test_sequence_position_without_pinning_reads_on_from_it_everywhere(mode: str) -> None:
    """at:SEQ over the whole stream: in every shard, the records from that number on (a shard that
    refuses the number is read from its start, skipping what lies before it)."""
    sim = SimulatedStream(2, mode=mode)
    reshard(sim)
    seq = sim.records(S[3])[2].seq
    plan = WalkPlan(Position(PositionKind.AT_SEQUENCE_NUMBER, sequence=seq))
    delivered = read_all(make_walker(sim, plan))
    wanted = [r for r in sim.records() if int(r.seq) >= int(seq)]
    assert_correct_walk(delivered, wanted, sim)


@pytest.mark.parametrize("mode", MODES)
def test_plan_shards_selects_a_shard_and_its_descendants_only(mode: str) -> None:
    sim = SimulatedStream(2, mode=mode)
    reshard(sim)
    delivered = read_all(make_walker(sim, WalkPlan(TRIM_HORIZON, shards=frozenset({S[0]}))))
    wanted = [r for r in sim.records() if r.shard != S[1]]
    assert_correct_walk(delivered, wanted, sim)
    assert sim.count("get_records", S[1]) == 0

    leaf = read_all(make_walker(sim, WalkPlan(TRIM_HORIZON, shards=frozenset({S[5]}))))
    assert ids(leaf) == ids(sim.records(S[5]))


def test_an_unknown_shard_is_a_usage_error() -> None:
    sim = SimulatedStream(2)
    walker = make_walker(sim, WalkPlan(TRIM_HORIZON, shards=frozenset({S[0], "shardId-999"})))
    with pytest.raises(UsageError, match="shardId-999"):
        next(walker.batches())
    assert sim.count("get_records") == 0


# -- 5. faults ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [AWS, MOTO_LIKE, EMPTY_GAPS])
def test_throttling_and_service_errors_are_retried(mode: str) -> None:
    sim = SimulatedStream(2, mode=mode)
    reshard(sim)
    sim.fail_at("get_records", [1, 2, 3, 8, 9, 15], "throttle")
    sim.fail_at("get_records", [5, 12, 20], "generic")
    sim.fail_at("get_iterator", [1, 4], "throttle")
    sim.fail_at("get_iterator", [6], "generic")
    sim.fail_at("get_records", [1, 2], "throttle", shard=S[4])
    warnings: list[str] = []
    walker = make_walker(limited(sim, 3), WalkPlan(TRIM_HORIZON), warn=warnings.append)
    delivered = read_all(walker)
    assert sim.pending_faults() == 0
    assert_correct_walk(delivered, sim.records(), sim)
    assert sim.faults_fired >= 10
    assert walker.stats.retries == sim.faults_fired
    # rate-limited: one line per kind of trouble within the notice interval, not one per retry
    assert len(warnings) == 2, warnings
    assert any("throttled (ProvisionedThroughputExceededException)" in w for w in warnings)
    assert any("connection reset by peer); retrying for up to 3m" in w for w in warnings)


@pytest.mark.parametrize("mode", [AWS, MOTO_LIKE, EMPTY_GAPS])
def test_expired_iterators_resume_after_the_last_delivered_record(mode: str) -> None:
    sim = SimulatedStream(2, mode=mode)
    reshard(sim)
    sim.fail_at("get_records", [2, 4, 5, 9, 14], "expired")
    sim.fail_at("get_records", 1, "expired", shard=S[5])  # before any record of the shard
    sim.fail_at("get_records", 3, "expired", shard=S[2])
    walker = make_walker(limited(sim, 3), WalkPlan(TRIM_HORIZON))
    delivered = read_all(walker)
    assert sim.pending_faults() == 0
    assert_correct_walk(delivered, sim.records(), sim)
    assert sim.faults_fired >= 6
    assert sim.count("get_iterator") == len(sim.shard_ids()) + sim.faults_fired


def test_expired_iterator_in_follow_resumes_after_the_last_delivered_record() -> None:
    sim = SimulatedStream(1)
    walker = make_walker(limited(sim, 2), WalkPlan(LATEST, follow=True, idle_exit=0.5))
    consumer = Consumer(walker).start()
    wait_for_first_calls(sim)
    first = sim.put_to(S[0], 3)
    wait_for(lambda: len(consumer.records) == 3, what="the first records")
    sim.fail_at("get_records", sim.count("get_records") + 1, "expired")
    second = sim.put_to(S[0], 3)
    consumer.join()
    assert sim.pending_faults() == 0
    assert ids(consumer.records) == ids(first + second)


def test_expired_iterator_before_the_first_record_from_latest_loses_nothing() -> None:
    """follow from LATEST; records arrive while the first iterator is failing (throttled, network
    down); it has expired by the time the service answers again."""
    sim = SimulatedStream(1)
    arrived: list[Record] = []

    def during_call(shard_id: str, n: int, batch: Batch) -> None:
        if n == 1:
            arrived.extend(sim.put_to(shard_id, 3))

    sim.after_get_records = during_call
    sim.fail_at("get_records", [2, 3], "throttle")
    sim.fail_at("get_records", 4, "expired")
    walker = make_walker(sim, WalkPlan(LATEST, follow=True, idle_exit=0.5))
    delivered = read_all(walker)
    assert sim.pending_faults() == 0
    assert ids(delivered) == ids(arrived)


@pytest.mark.parametrize("call", ["get_records", "get_iterator"])
def test_not_found_propagates(call: str) -> None:
    sim = SimulatedStream(2)
    reshard(sim)
    sim.fail_at(call, 3, NotFoundError("stream 'sim' not found"))
    walker = make_walker(limited(sim, 2), WalkPlan(TRIM_HORIZON))
    with pytest.raises(NotFoundError):
        read_all(walker)


def test_not_found_while_relisting_in_follow_propagates() -> None:
    sim = SimulatedStream(1)
    sim.fail_at("list_shards", 2, NotFoundError("stream 'sim' not found"))
    consumer = Consumer(make_walker(sim, WalkPlan(LATEST, follow=True))).start()
    with pytest.raises(NotFoundError):
        consumer.join(timeout=2.0)


def test_read_gives_up_after_the_retry_window() -> None:
    sim = SimulatedStream(1)
    sim.put_to(S[0], 2)
    sim.fault_hook = lambda kind, _shard, _n: (
        make_error("generic") if kind == "get_records" else None
    )
    pacing = dataclasses.replace(FAST, retry_window=0.1)
    with pytest.raises(ServiceError, match="network error"):
        read_all(make_walker(sim, pacing=pacing))


# -- 6. rate (default Pacing) ---------------------------------------------------------------------


def test_no_shard_gets_more_than_five_calls_a_second_even_while_retrying() -> None:
    """In virtual time: the call times are exact, whatever the machine's load."""
    clock = VirtualClock()
    sim = SimulatedStream(2, clock=clock.wall, call_clock=clock.monotonic)
    sim.put_to(S[0], 7)
    sim.put_to(S[1], 5)
    sim.fail_at("get_records", [3, 4], "throttle", shard=S[0])
    sim.fail_at("get_records", [2, 5], "throttle", shard=S[1])
    sim.fail_at("get_records", [6], "expired", shard=S[1])
    walker = Walker(limited(sim, 1), WalkPlan(TRIM_HORIZON), clock=clock)
    delivered = clock.drive(Consumer(walker)).records
    assert_correct_walk(delivered, sim.records(), sim)
    for shard_id in (S[0], S[1]):
        times = sim.get_records_times(shard_id)
        assert len(times) >= 8
        assert max_calls_in_window(times) <= 5, f"{shard_id}: {times}"


def test_a_small_read_confirms_the_tip_without_waiting() -> None:
    """The budget as AWS counts it (5 calls in any second, reader/plan.py `CallBudget`), not a
    fixed gap: the record's call and the call that confirms the tip go at once."""
    clock = VirtualClock()
    # the record arrived a minute before the walk: not past the tip as it stood, so confirmed
    sim = SimulatedStream(1, clock=lambda: clock.wall() - 60, call_clock=clock.monotonic)
    sim.put_to(S[0], 1)
    walker = Walker(sim, WalkPlan(TRIM_HORIZON), clock=clock)
    delivered = clock.drive(Consumer(walker)).records
    assert_correct_walk(delivered, sim.records(), sim)
    assert sim.get_records_times(S[0]) == [0.0, 0.0]


def test_a_shard_behind_takes_five_calls_at_once_and_then_waits_for_the_window() -> None:
    """Five calls go at once; the sixth waits until the first leaves the 1.1 s window; any six
    calls span 1.1 s (1 s and 100 ms for network jitter)."""
    clock = VirtualClock()
    sim = SimulatedStream(1, clock=lambda: clock.wall() - 60, call_clock=clock.monotonic)
    sim.put_to(S[0], 12)
    walker = Walker(limited(sim, 1), WalkPlan(TRIM_HORIZON), clock=clock)
    delivered = clock.drive(Consumer(walker)).records
    assert_correct_walk(delivered, sim.records(), sim)
    times = sim.get_records_times(S[0])
    assert times[:7] == pytest.approx([0.0] * 5 + [1.1] * 2), times
    spans = [later - earlier for earlier, later in zip(times, times[5:], strict=False)]
    assert len(spans) >= 7 and min(spans) >= 1.1 - 1e-9, times
    assert max_calls_in_window(times) <= 5, times


@pytest.mark.parametrize(
    ("mode", "expected"), [(AWS, [0.0, 0.88, 1.98, 3.08]), (MOTO_LIKE, [0.0] * 4)]
)
def test_a_shard_is_read_no_faster_than_its_service_serves_bytes(
    mode: str, expected: list[float]
) -> None:
    """AWS serves a shard 2 MiB a second (`Service.read_rate`): 2 MiB read are paid for 1.1 s
    later (the second stretched as the call window is), and the next call goes 0.22 s before
    that (less than one evenly spread call's share owed); moto has no read budget and is called
    again at once."""
    clock = VirtualClock()
    sim = SimulatedStream(1, mode=mode, clock=lambda: clock.wall() - 60, call_clock=clock.monotonic)
    for key in sim.keys_for(S[0], 3):
        sim.put(key, data=bytes(2 * 1024 * 1024))
    walker = Walker(limited(sim, 1), WalkPlan(TRIM_HORIZON), clock=clock)
    delivered = clock.drive(Consumer(walker)).records
    assert_correct_walk(delivered, sim.records(), sim)
    assert sim.get_records_times(S[0]) == pytest.approx(expected)


def test_ten_mib_read_keep_the_next_call_past_the_five_seconds_aws_names() -> None:
    """The Kinesis API reference (GetRecords): "if a call returns 10 MiB of data, subsequent
    calls made within the next 5 seconds throw ProvisionedThroughputExceededException"."""
    budget = CallBudget()
    budget.spend(0.0)
    budget.paid(0.0, 10 * 1024 * 1024, READ_RATE, Pacing().window)
    assert 5.0 < budget.free_at(Pacing().window) == pytest.approx(5.28)
    budget.paid(6.0, 100 * 1024, READ_RATE, Pacing().window)  # a small batch later: at once
    assert budget.free_at(Pacing().window) < 6.0


def test_a_shard_at_its_tip_is_polled_at_the_even_pace_after_a_record() -> None:
    """`follow` at the tip: a batch with a record is followed by the budget spread evenly
    (0.22 s), not by a call at once that would only find the shard empty and hasten the backoff
    to the idle pace (put-to-print latency, bench figure 4)."""
    clock = VirtualClock()
    sim = SimulatedStream(1, clock=clock.wall, call_clock=clock.monotonic)

    def during_call(shard_id: str, n: int, batch: Batch) -> None:
        if n == 3:  # while the third call is answered: a record for the fourth
            sim.put_to(S[0], 1)

    sim.after_get_records = during_call
    plan = WalkPlan(LATEST, follow=True, until=clock.wall() + 2.5)
    delivered = clock.drive(Consumer(Walker(sim, plan, clock=clock))).records
    assert len(delivered) == 1
    times = [t for t in sim.get_records_times(S[0]) if t < 2.0]
    gaps = [round(later - earlier, 6) for earlier, later in itertools.pairwise(times)]
    # idle from the start (0.22, 0.44, 0.8), the record at the fourth call, then 0.22 (not 0)
    assert gaps[:5] == [0.22, 0.44, 0.8, 0.22, 0.22], times


def test_an_idle_shard_is_polled_about_once_a_second() -> None:
    """Once idle, one call every `idle_interval` (0.8 s): the pause doubles from `Pacing.spacing`
    (0.22 s) until it reaches it. In virtual time the walk takes milliseconds and the times are
    exact, so the schedule of its first 4 s (before `--idle-exit` ends it) is pinned gap by gap."""
    clock = VirtualClock()
    sim = SimulatedStream(1, clock=clock.wall, call_clock=clock.monotonic)
    walker = Walker(sim, WalkPlan(LATEST, follow=True, idle_exit=4.6), clock=clock)
    clock.drive(Consumer(walker))
    times = [t for t in sim.get_records_times(S[0]) if t < 4.0]
    gaps = [round(later - earlier, 6) for earlier, later in itertools.pairwise(times)]
    assert gaps == [0.22, 0.44, 0.8, 0.8, 0.8, 0.8], times


# -- 7. backpressure ------------------------------------------------------------------------------


def test_a_slow_consumer_does_not_make_the_walker_buffer() -> None:
    sim = SimulatedStream(3)
    for shard_id in sim.open_shards():
        sim.put_to(shard_id, 25)
    queue_size = 2
    outstanding: list[int] = []

    def slow(consumer: Consumer, batch: list[Record]) -> None:
        outstanding.append(sim.nonempty_responses - len(consumer.batches))
        time.sleep(0.005)

    walker = make_walker(limited(sim, 1), WalkPlan(TRIM_HORIZON), queue_size=queue_size)
    consumer = Consumer(walker, on_batch=slow).start().join(timeout=10.0)
    assert_correct_walk(consumer.records, sim.records(), sim)
    assert max(outstanding) <= queue_size + 3
    assert max(outstanding) >= queue_size  # the workers did run ahead up to the bound


def test_the_walker_reports_its_progress_to_whoever_prints() -> None:
    """`on_progress`: once listed (before any batch), with every batch, and at the end; what a
    checkpoint records besides the records (finished shards, the shards listed)."""
    sim = SimulatedStream(2)
    reshard(sim)  # closed: 0, 1, 3, 4; open: 2, 5, 6
    reports: list[Progress] = []
    batches_seen: list[int] = []
    walker = make_walker(limited(sim, 5), WalkPlan(TRIM_HORIZON), on_progress=reports.append)

    def batch_arrived(consumer: Consumer, batch: list[Record]) -> None:
        batches_seen.append(len(reports))

    consumer = Consumer(walker, on_batch=batch_arrived).start().join(timeout=10.0)
    assert_correct_walk(consumer.records, sim.records(), sim)
    listed = frozenset(sim.shard_ids())
    assert reports[0].listed == listed and not reports[0].finished  # before any batch
    # one report with every batch, the one before it handed out
    assert batches_seen == list(range(2, len(consumer.batches) + 2))
    assert reports[-1] == Progress(walker.finished, listed)
    assert reports[-1].finished == frozenset(sim.shard_ids()) - set(sim.open_shards())
