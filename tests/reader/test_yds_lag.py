"""The walker on a service whose MillisBehindLatest is the data's age (Yandex Data Streams):
`read` still ends at the tip, closed shards end without a null iterator or an
EndingSequenceNumber, and the age is never reported as lag.

YDS (ydb/services/datastreams/datastreams_proxy.cpp, `TGetRecordsActor::Handle`) sets
MillisBehindLatest to now minus the last returned record's write time, 0 on an empty batch; it
never returns a null NextShardIterator nor ChildShards; its listing gives no EndingSequenceNumber
(sources/yds.py marks a parent closed by its children).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

from streamtail.model import TRIM_HORIZON, Batch, Position, Shard
from streamtail.reader import Walker, WalkPlan
from streamtail.sources.yds import YDS, seal_parents
from streamtail.stats import WalkStats

from .fakes import FAST, MOTO_LIKE, SimulatedStream, assert_correct_walk, read_all, reshard

#: the age of every record in the simulated stream: far from 0, as for a backlog
AGE_MS = 3_600_000


class AsYds:
    """A simulated stream answered as YDS answers (the simulator's moto_like mode already sends
    no null iterator and no ChildShards)."""

    service = YDS

    def __init__(self, sim: SimulatedStream) -> None:
        self.sim = sim
        self.ref = sim.ref
        self.max_limit = sim.max_limit
        self.supports_timestamp = True

    def list_shards(self) -> list[Shard]:
        return seal_parents([dataclasses.replace(s, end_seq=None) for s in self.sim.list_shards()])

    def get_iterator(self, shard: Shard, position: Position) -> str:
        return self.sim.get_iterator(shard, position)

    def get_records(self, shard: Shard, iterator: str, limit: int) -> Batch:
        batch = self.sim.get_records(shard, iterator, limit)
        return dataclasses.replace(batch, millis_behind=AGE_MS if batch.records else 0)


class Lags(WalkStats):
    """WalkStats that keep every lag the walker reported."""

    def __init__(self) -> None:
        super().__init__()
        self.reported: list[int | None] = []
        self.lock = threading.Lock()

    def set_behind(self, shard_id: str, millis: int | None) -> None:
        with self.lock:
            self.reported.append(millis)
        super().set_behind(shard_id, millis)


def walker_for(source: Any, plan: WalkPlan) -> Walker:
    walker = Walker(source, plan, pacing=FAST)
    walker.stats = Lags()
    return walker


def test_read_ends_at_the_tip_of_a_resharded_stream() -> None:
    # Records an hour old: each shard ends at an empty batch (not at a short batch of records
    # that arrived after the start), so both lags, unknown and caught up, are reported.
    sim = SimulatedStream(2, mode=MOTO_LIKE, clock=lambda: time.time() - 3600)
    reshard(sim)
    walker = walker_for(AsYds(sim), WalkPlan(TRIM_HORIZON))

    delivered = read_all(walker)

    assert_correct_walk(delivered, sim.records(), sim)
    assert isinstance(walker.stats, Lags)
    # The data's age never stands in for a distance to the tip.
    assert set(walker.stats.reported) <= {0, None}
    assert None in walker.stats.reported and 0 in walker.stats.reported


def test_a_short_batch_after_the_start_is_the_tip_even_with_an_age() -> None:
    """A stream written all the time gives no empty batch: a batch that is not full and brings
    a record that arrived after the walk began ends `read` there."""
    sim = SimulatedStream(1, mode=MOTO_LIKE)
    first = sim.put_to(sim.open_shards()[0], 5)
    later = sim.put  # records written while the walk runs

    class Busy(AsYds):
        def get_records(self, shard: Shard, iterator: str, limit: int) -> Batch:
            later("busy")  # never an empty batch
            return super().get_records(shard, iterator, limit)

    walker = walker_for(Busy(sim), WalkPlan(TRIM_HORIZON))

    delivered = read_all(walker)  # ends by itself (an AWS-style reading would never end)

    assert delivered[:5] == first
    assert len(delivered) > 5


def test_most_behind_is_unknown_while_any_shard_reports_only_an_age() -> None:
    stats = WalkStats()
    stats.set_behind("a", 0)
    assert stats.most_behind() == ("a", 0)
    stats.set_behind("b", None)
    assert stats.most_behind() is None
    stats.shard_finished("b", drained=True, still_open=1)
    assert stats.most_behind() == ("a", 0)
