"""`--key` reads only the shards whose hash-key range can hold the key, like the service routes it,
across splits and merges (moto in-process)."""

from __future__ import annotations

from typing import Any

import pytest

from streamtail.filters import hash_shards, key_shards, partition_hash
from streamtail.model import TRIM_HORIZON, Batch, Position, Shard, SourceKind, StreamRef
from streamtail.reader import Pacing, Walker, WalkPlan
from streamtail.sources.base import KINESIS
from streamtail.sources.kinesis import KinesisSource

FAST = Pacing(window=0.0, idle_interval=0.01, relist_interval=0.05)


class Recording:
    """A KinesisSource that notes which shards got an iterator."""

    def __init__(self, inner: KinesisSource) -> None:
        self.inner = inner
        self.ref = inner.ref
        self.max_limit = inner.max_limit
        self.supports_timestamp = inner.supports_timestamp
        self.service = inner.service
        self.opened: list[str] = []

    def list_shards(self) -> list[Shard]:
        return self.inner.list_shards()

    def get_iterator(self, shard: Shard, position: Position) -> str:
        self.opened.append(shard.shard_id)
        return self.inner.get_iterator(shard, position)

    def get_records(self, shard: Shard, iterator: str, limit: int) -> Batch:
        return self.inner.get_records(shard, iterator, limit)


def _source(kinesis: Any, name: str) -> Recording:
    ref = StreamRef(SourceKind.KINESIS, display=name, name=name)
    return Recording(KinesisSource(ref, kinesis))


def _walk(
    source: Recording | Resharded,
    key: str,
    shards: frozenset[str] = frozenset(),
    *,
    by_hash: bool = False,
) -> list[str]:
    """Read with --key KEY, or with --hash-key set to KEY's hash (as if written with it)."""
    accept = hash_shards(partition_hash(key)) if by_hash else key_shards(key)
    plan = WalkPlan(position=TRIM_HORIZON, accept=accept, shards=shards)
    walker = Walker(source, plan, pacing=FAST)
    return [r.key for batch in walker.batches() for r in batch]


def test_partition_hash_routes_like_the_service(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="route", ShardCount=5)
    shards = _source(kinesis, "route").list_shards()
    for i in range(100):
        key = f"customer-{i}-ü"
        put = kinesis.put_record(StreamName="route", PartitionKey=key, Data=b"x")
        holding = [s.shard_id for s in shards if key_shards(key)(s)]
        assert holding == [put["ShardId"]], key
    assert partition_hash("") == 0xD41D8CD98F00B204E9800998ECF8427E  # MD5 of nothing


def test_only_the_shard_holding_the_key_is_read(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="four", ShardCount=4)
    for i in range(40):
        kinesis.put_record(StreamName="four", PartitionKey=f"k{i}", Data=b"x")
    source = _source(kinesis, "four")
    keys = _walk(source, "k7")
    (opened,) = source.opened
    holder = kinesis.put_record(StreamName="four", PartitionKey="k7", Data=b"y")["ShardId"]
    assert opened == holder
    assert "k7" in keys


class Resharded:
    """A stream after resharding, simulated: moto cannot serve this (its PutRecord routes by
    iterating every shard, closed ones included, so after a split or merge new records land in
    the closed parent, and SplitShard re-puts the parent's records into the parent again)."""

    max_limit = 100
    supports_timestamp = True
    service = KINESIS

    def __init__(self, shards: list[Shard], keys: dict[str, list[str]]) -> None:
        self.ref = StreamRef(SourceKind.KINESIS, display="sim", name="sim")
        self.shards = shards
        self.keys = keys
        self.opened: list[str] = []

    def list_shards(self) -> list[Shard]:
        return self.shards

    def get_iterator(self, shard: Shard, position: Position) -> str:
        self.opened.append(shard.shard_id)
        return f"{shard.shard_id}:0"

    def get_records(self, shard: Shard, iterator: str, limit: int) -> Batch:
        from streamtail.model import Record

        shard_id, _, start = iterator.partition(":")
        keys = self.keys[shard_id][int(start) :]
        records = [Record(shard_id, str(n), key, 0, b"") for n, key in enumerate(keys)]
        done = shard.end_seq is not None and not keys
        end = f"{shard_id}:{len(self.keys[shard_id])}"
        return Batch(records, None if done else end, millis_behind=0, limit=limit)


HALF = 2**127
TOP = 2**128 - 1


def _key(low: bool) -> str:
    key = "k"
    while (partition_hash(key) < HALF) != low:
        key += "!"
    return key


@pytest.mark.parametrize("by_hash", [False, True], ids=["key", "hash-key"])
def test_after_a_split_the_parent_and_one_child_are_read(by_hash: bool) -> None:
    low, high = _key(True), _key(False)
    source = Resharded(
        [
            Shard("p", hash_start=0, hash_end=TOP, start_seq="0", end_seq="9"),
            Shard("a", parent="p", hash_start=0, hash_end=HALF - 1, start_seq="10"),
            Shard("b", parent="p", hash_start=HALF, hash_end=TOP, start_seq="10"),
        ],
        {"p": [low, high], "a": [low], "b": [high]},
    )
    assert _walk(source, low, by_hash=by_hash) == [low, high, low]  # the filter drops `high`
    assert source.opened == ["p", "a"]
    source.opened.clear()
    assert _walk(source, high, by_hash=by_hash) == [low, high, high]
    assert source.opened == ["p", "b"]


@pytest.mark.parametrize("by_hash", [False, True], ids=["key", "hash-key"])
def test_after_a_merge_the_other_parent_is_not_waited_for(by_hash: bool) -> None:
    low, high = _key(True), _key(False)
    source = Resharded(
        [
            Shard("a", hash_start=0, hash_end=HALF - 1, start_seq="0", end_seq="9"),
            Shard("b", hash_start=HALF, hash_end=TOP, start_seq="0", end_seq="9"),
            Shard("m", parent="a", adjacent_parent="b", hash_start=0, hash_end=TOP, start_seq="10"),
        ],
        {"a": [low], "b": [high], "m": [low, high]},
    )
    assert _walk(source, low, by_hash=by_hash) == [low, low, high]
    assert source.opened == ["a", "m"]


def test_key_and_shard_together_read_their_intersection(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="both", ShardCount=2)
    shards = _source(kinesis, "both").list_shards()
    key = "k"
    while not key_shards(key)(shards[1]):
        key += "!"
    kinesis.put_record(StreamName="both", PartitionKey=key, Data=b"x")
    source = _source(kinesis, "both")
    assert _walk(source, key, frozenset({shards[0].shard_id})) == []
    assert source.opened == []
    assert _walk(source, key, frozenset({shards[1].shard_id})) == [key]


def test_shards_without_a_listed_range_are_kept() -> None:
    assert key_shards("anything")(Shard("shardId-000000000009"))
