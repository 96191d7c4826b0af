"""Property: whatever the history of puts, splits and merges, and whatever calls fail, a read
from the trim horizon delivers every record once, in order per shard, parents before children;
and so does a follow while that history happens, and a read stopped and resumed from a
checkpoint file any number of times while that history happens. With records trimmed between
runs (past retention), however the service shows it (a refused sequence number, Trimmed-
DataAccessException, or empty batches far behind that never move on), the runs still end and
lose exactly the records trimmed before they were printed."""

from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from streamtail.checkpoint import Checkpoint
from streamtail.model import TRIM_HORIZON, Record
from streamtail.reader import Pacing, Walker, WalkPlan

from .fakes import (
    AWS,
    DDB_TRIM,
    EMPTY_GAPS,
    FAST,
    KINESIS_MOCK_LIKE,
    MOTO_LIKE,
    STALL_TRIM,
    Consumer,
    SimulatedStream,
    assert_correct_walk,
    ids,
    limited,
    read_all,
)


@dataclass(frozen=True)
class Put:
    count: int


@dataclass(frozen=True)
class Split:
    #: which open shard (modulo their number), and where in its hash range (a fraction)
    pick: int
    at: float


@dataclass(frozen=True)
class Merge:
    #: which pair of neighbouring open shards (modulo their number)
    pick: int


Op = Put | Split | Merge

op = st.one_of(
    st.builds(Put, st.integers(1, 12)),
    st.builds(Split, st.integers(0, 63), st.floats(0.05, 0.95)),
    st.builds(Merge, st.integers(0, 63)),
)
ops = st.lists(op, max_size=14)
faults = st.lists(
    st.tuples(
        st.sampled_from(["get_records", "get_iterator"]),
        st.integers(1, 40),
        st.sampled_from(["throttle", "generic", "expired"]),
    ),
    max_size=6,
)


#: quirk modes, combined freely (none: AWS)
modes = st.sets(st.sampled_from([MOTO_LIKE, EMPTY_GAPS, KINESIS_MOCK_LIKE]))


def build(sim: SimulatedStream, history: list[Op], pause: float = 0.0) -> None:
    """Apply the history; at most 12 open shards, merges only of hash-range neighbours."""
    n = 0
    for op in history:
        if pause:
            time.sleep(pause)
        shards = sim.open_shards()  # in hash-key order
        if isinstance(op, Put):
            for _ in range(op.count):
                sim.put(f"pk-{n}")
                n += 1
        elif isinstance(op, Split) and len(shards) < 12:
            shard_id = shards[op.pick % len(shards)]
            start, end = sim.hash_range(shard_id)
            width = end - start
            if width >= 2:
                at = start + max(1, min(width, int(width * op.at)))
                sim.split(shard_id, at)
        elif isinstance(op, Merge) and len(shards) > 1:
            i = op.pick % (len(shards) - 1)
            sim.merge(shards[i], shards[i + 1])


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    history=ops,
    planned=faults,
    mode=modes,
    shard_count=st.integers(1, 3),
    limit=st.sampled_from([1, 2, 5, None]),
)
def test_trim_horizon_read_is_complete_ordered_and_lineage_ordered(
    history: list[Op],
    planned: list[tuple[str, int, str]],
    mode: set[str],
    shard_count: int,
    limit: int | None,
) -> None:
    sim = SimulatedStream(shard_count, mode=mode)
    build(sim, history)
    plan_faults(sim, planned)
    walker = Walker(limited(sim, limit), WalkPlan(TRIM_HORIZON), pacing=FAST)
    delivered = read_all(walker, timeout=20.0)
    assert_correct_walk(delivered, sim.records(), sim)


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    history=ops,
    planned=faults,
    mode=modes,
    shard_count=st.integers(1, 3),
    limit=st.sampled_from([1, 3, None]),
    pause=st.sampled_from([0.0, 0.002, 0.01]),
)
def test_follow_while_resharding_is_complete_ordered_and_lineage_ordered(
    *,
    history: list[Op],
    planned: list[tuple[str, int, str]],
    mode: set[str],
    shard_count: int,
    limit: int | None,
    pause: float,
) -> None:
    sim = SimulatedStream(shard_count, mode=mode)
    plan_faults(sim, planned)
    walker = Walker(
        limited(sim, limit), WalkPlan(TRIM_HORIZON, follow=True, idle_exit=0.25), pacing=FAST
    )
    consumer = Consumer(walker).start()
    build(sim, history, pause)
    consumer.join(timeout=20.0)
    assert_correct_walk(consumer.records, sim.records(), sim)


def plan_faults(sim: SimulatedStream, planned: list[tuple[str, int, str]]) -> None:
    for call, number, error in planned:
        # GetShardIterator never answers ExpiredIteratorException
        expired_iterator = call == "get_iterator" and error == "expired"
        sim.fail_at(call, number, "throttle" if expired_iterator else error)


@dataclass(frozen=True)
class Stop:
    """One run: it stops after `batches` batches, printing only `cut` of the last one (as
    --limit does); then `ops` happen before the next run."""

    batches: int
    cut: float
    ops: tuple[Op, ...]


stops = st.lists(
    st.builds(Stop, st.integers(1, 6), st.floats(0.0, 1.0), st.lists(op, max_size=4).map(tuple)),
    max_size=5,
)


@settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    history=ops,
    runs=stops,
    planned=faults,
    mode=modes,
    shard_count=st.integers(1, 3),
    limit=st.sampled_from([1, 2, None]),
)
def test_reads_stopped_and_resumed_from_a_checkpoint_add_up_to_the_stream(
    *,
    history: list[Op],
    runs: list[Stop],
    planned: list[tuple[str, int, str]],
    mode: set[str],
    shard_count: int,
    limit: int | None,
) -> None:
    sim = SimulatedStream(shard_count, mode=mode)
    build(sim, history)
    plan_faults(sim, planned)
    printed: list[Record] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checkpoint.json"
        for run in runs:
            printed += run_once(sim, path, limit, run)
            build(sim, list(run.ops))
        printed += run_once(sim, path, limit, None)  # the last run reads to the tip
    assert_correct_walk(printed, sim.records(), sim)


@dataclass(frozen=True)
class Trim:
    """The oldest `count` records of a shard (any, open or closed) pass the retention period."""

    pick: int
    count: int


trim = st.builds(Trim, st.integers(0, 63), st.integers(1, 30))
trimmed_stops = st.lists(
    st.builds(
        Stop,
        st.integers(1, 6),
        st.floats(0.0, 1.0),
        st.lists(st.one_of(op, trim, trim), max_size=4).map(tuple),
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    history=ops,
    runs=trimmed_stops,
    planned=faults,
    trimmed_as=st.sampled_from([AWS, DDB_TRIM, STALL_TRIM]),
    mode=modes,
    shard_count=st.integers(1, 3),
    limit=st.sampled_from([1, 2, None]),
)
def test_reads_resumed_after_trimming_lose_only_what_was_trimmed_unread(
    *,
    history: list[Op],
    runs: list[Stop],
    planned: list[tuple[str, int, str]],
    trimmed_as: str,
    mode: set[str],
    shard_count: int,
    limit: int | None,
) -> None:
    sim = SimulatedStream(shard_count, mode=mode | {trimmed_as})
    build(sim, [Put(20), *history])  # records to print, and to trim
    plan_faults(sim, planned)
    printed: list[Record] = []
    lost: set[tuple[str, str]] = set()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checkpoint.json"
        for run in runs:
            printed += run_once(sim, path, limit, run, pacing=FAST)
            for step in run.ops:
                if isinstance(step, Trim):
                    shards = sim.shard_ids()
                    gone = sim.trim(shards[step.pick % len(shards)], step.count)
                    lost |= set(ids(gone)) - set(ids(printed))
                else:
                    build(sim, [step])
        printed += run_once(sim, path, limit, None, pacing=FAST)  # to the tip
    expected = [r for r in sim.records() if (r.shard, r.seq) not in lost]
    event(f"trimmed as {trimmed_as}: {'some' if lost else 'no'} records lost")
    if sim.stalled_responses:
        event("a run stalled on trimmed data")
    assert_correct_walk(printed, expected, sim)


def run_once(
    sim: SimulatedStream,
    path: Path,
    limit: int | None,
    stop: Stop | None,
    *,
    pacing: Pacing = FAST,
) -> list[Record]:
    """What core.run_read does with a checkpoint, minus decoding and rendering."""
    checkpoint = Checkpoint.open(path)
    printed: list[Record] = []
    try:
        start = checkpoint.adopt(sim.ref, TRIM_HORIZON, time.time())
        limited(sim, limit)
        plan = WalkPlan(
            start,
            resume=dict(checkpoint.positions),
            finished=frozenset(checkpoint.finished),
        )
        walker = Walker(sim, plan, pacing=pacing)
        # A walk that never ends (a stall not seen for what it is) fails instead of hanging.
        hung = threading.Event()
        watchdog = threading.Timer(20.0, lambda: (hung.set(), walker.stop()))
        watchdog.start()
        batches = walker.batches()
        try:
            for n, batch in enumerate(batches, 1):
                last = stop is not None and n >= stop.batches
                kept = batch[: max(1, round(len(batch) * stop.cut))] if last and stop else batch
                printed += kept
                checkpoint.note(kept)
                checkpoint.save(walker.finished, walker.lineage.shards.keys())
                if last:
                    break
        finally:
            watchdog.cancel()
            batches.close()
            checkpoint.save(walker.finished, walker.lineage.shards.keys())
    finally:
        checkpoint.close()
    assert not hung.is_set(), "the walk did not end"
    return printed
