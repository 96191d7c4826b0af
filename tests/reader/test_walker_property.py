"""Property: whatever the history of puts, splits and merges, and whatever calls fail, a read
from the trim horizon delivers every record once, in order per shard, parents before children;
and so does a follow while that history happens."""

from __future__ import annotations

import time
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamtail.model import TRIM_HORIZON
from streamtail.reader import Walker, WalkPlan

from .fakes import (
    EMPTY_GAPS,
    FAST,
    KINESIS_MOCK_LIKE,
    MOTO_LIKE,
    Consumer,
    SimulatedStream,
    assert_correct_walk,
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

ops = st.lists(
    st.one_of(
        st.builds(Put, st.integers(1, 12)),
        st.builds(Split, st.integers(0, 63), st.floats(0.05, 0.95)),
        st.builds(Merge, st.integers(0, 63)),
    ),
    max_size=14,
)
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
    walker = Walker(sim, WalkPlan(TRIM_HORIZON, limit=limit), pacing=FAST)
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
        sim, WalkPlan(TRIM_HORIZON, follow=True, idle_exit=0.25, limit=limit), pacing=FAST
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
