"""`top`'s pure parts: the Space-Saving sketch, per-second timelines, split advice, reports."""

from __future__ import annotations

from collections import Counter as Multiset

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamtail.filters import partition_hash
from streamtail.model import Change, Record, Shard
from streamtail.top.advice import advise, split_point
from streamtail.top.counter import Counter, dynamodb_key, group_key, kinesis_key
from streamtail.top.report import Scope, build
from streamtail.top.sketch import Count, KeyCounts
from streamtail.top.tally import Timeline, limit_pct

HALF = 2**127


def test_sketch_is_exact_while_the_keys_fit() -> None:
    sketch = KeyCounts(3)
    for key, size in [("a", 10), ("b", 1), ("a", 5), ("c", 2), ("a", 1)]:
        sketch.add(key, 1, size)
    assert sketch.exact
    # ties on records go to the larger in bytes
    assert sketch.top() == [Count("a", 3, 16), Count("c", 1, 2), Count("b", 1, 1)]
    assert sketch.max_error == (0, 0)


def test_sketch_replaces_the_smallest_and_remembers_its_count_as_error() -> None:
    sketch = KeyCounts(2)
    for key in ["a", "a", "a", "b", "c"]:
        sketch.add(key, 1, 10)
    # "b" (1) is the smallest when "c" arrives: "c" starts from 1 + 1, error 1
    assert sketch.evicted == 1
    assert sketch.top() == [Count("a", 3, 30), Count("c", 2, 20, 1, 10)]
    assert sketch.max_error == (1, 10)


def test_sketch_ranks_by_bytes_when_asked() -> None:
    sketch = KeyCounts(2, by="bytes")
    sketch.add("many-small", 5, 50)
    sketch.add("few-big", 1, 1000)
    sketch.add("new", 1, 1)  # replaces many-small (50 bytes, the smallest)
    assert [c.item for c in sketch.top()] == ["few-big", "new"]
    assert sketch.top()[1] == Count("new", 6, 51, 5, 50)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 40), min_size=1, max_size=400),
    st.integers(1, 12),
)
def test_sketch_bounds_hold_for_any_stream(keys: list[int], capacity: int) -> None:
    """Space-Saving's guarantees: count - error <= truth <= count, error <= N / capacity, and
    every key above N / capacity is held."""
    sketch = KeyCounts(capacity)
    for key in keys:
        sketch.add(key, 1, 3)
    truth = Multiset(keys)
    n = len(keys)
    for count in sketch.top():
        assert count.records - count.records_error <= truth[count.item] <= count.records
        assert count.bytes - count.bytes_error <= truth[count.item] * 3 <= count.bytes
        assert count.records_error <= n / capacity
    held = {c.item for c in sketch.top()}
    assert all(key in held for key, c in truth.items() if c > n / capacity)
    assert sketch.total == [n, 3 * n]


def test_timeline_keeps_the_busiest_second_and_minute_after_folding() -> None:
    timeline = Timeline()
    timeline.add(1000, 900, 900)  # 90% on records
    for second in range(1001, 1400):
        timeline.add(second, 10, 20)
    assert len(timeline.seconds) <= 151
    peak = timeline.peak_second()
    assert peak is not None
    assert (peak.start, peak.records) == (1000, 900)
    minute = timeline.peak_minute()
    assert minute is not None and minute.start == 960
    assert minute.records == 900 + 10 * 19  # 960..1019: 1000 holds 900, 1001..1019 10 each


def test_limit_is_the_higher_of_records_and_bytes() -> None:
    assert limit_pct(500, 0) == 50.0
    assert limit_pct(10, 1024 * 1024) == 100.0
    assert limit_pct(60_000, 0, 60) == 100.0


def _record(shard: str, key: str, second: int, data: bytes = b"x" * 10) -> Record:
    return Record(shard, "1", key, second * 1000 + 250, data)


def test_counter_sizes_are_data_plus_key_bytes_and_slots_follow_arrival() -> None:
    counter = Counter(slot=10)
    counter.add([_record("s0", "é", 100), _record("s0", "ab", 109), _record("s0", "ab", 110)])
    assert kinesis_key(_record("s0", "é", 1)) == ("é", 12)  # é is two bytes in UTF-8
    assert sorted(counter.slots) == [10, 11]
    first = counter.slots[10]
    assert (first.shards["s0"].records, first.shards["s0"].bytes) == (2, 24)
    assert counter.timelines["s0"].seconds[110] == [1, 12]
    assert (counter.first, counter.last) == (100, 110)


def test_dynamodb_changes_count_by_keys_and_kind() -> None:
    def change(event: str, ttl: bool = False) -> Record:
        extra = {"dynamodb": {"SizeBytes": 42}}
        return Record(
            "s", "1", "", 5000, b"", extra, Change(event, "e", {"pk": {"S": "u#1"}}, ttl=ttl)
        )

    counter = Counter()
    counter.add([change("INSERT"), change("MODIFY"), change("REMOVE", ttl=True)])
    totals = counter.slots[0].shards["s"]
    assert totals.events == {"INSERT": 1, "MODIFY": 1, "TTL": 1}
    assert dynamodb_key(change("INSERT")) == ('{"pk":"u#1"}', 42)


def test_group_key_reads_a_dotted_path_as_put_key_field_does() -> None:
    import orjson

    assert group_key(("t", "id"), {"t": {"id": 7}}) == "7"
    assert group_key(("t",), orjson.Fragment(b'{"t":"acme"}')) == "acme"
    assert group_key(("missing",), {"t": 1}) is None
    # a number in kept JSON is its literal text, as put --key-field reads it (streamtail/paths.py)
    assert group_key(("t", "n"), orjson.Fragment(b'{"t":{"n":1.50}}')) == "1.50"
    assert group_key(("t", "1"), orjson.Fragment(b'{"t":[0,1e2]}')) == "1e2"


def test_split_point_halves_weighted_hash_keys() -> None:
    hashed = [(10, 30), (20, 30), (30, 20), (40, 20)]
    point = split_point(hashed, (0, 100))
    assert point is not None
    at, below, inside = point
    assert inside == 100
    # the most even split: 60 below (10, 20), 40 above (30, 40) -> |100 - 120| = 20 at i=1,
    # against |100 - 60| = 40 at i=0 and |100 - 160| = 60 at i=2
    assert (at, below) == (26, 60)
    assert 20 < at <= 30
    assert split_point([(5, 1)], (0, 100)) is None
    assert split_point([(5, 1), (500, 1)], (0, 100)) is None  # the other lies outside the range
    assert split_point([(5, 1), (7, 3), (500, 9)], (0, 100)) == (7, 1, 4)


def test_advice_says_a_split_cannot_help_one_hot_key() -> None:
    keys = [Count("hot", 900, 900), Count("b", 50, 50), Count("c", 50, 50)]
    advice = advise(
        "s0", 1000, 95.0, "records", keys=keys, hash_range=(0, 2**128 - 1), routed_by_key=True
    )
    assert advice.verdict == "hot-key"
    assert advice.keys[0] == ("hot", 90.0)
    assert "a split cannot help" in advice.sentence()


def test_advice_gives_the_hash_key_that_halves_a_shard() -> None:
    keys = [Count(f"k{i}", 100, 100) for i in range(4)]
    advice = advise(
        "s0", 1000, 85.0, "records", keys=keys, hash_range=(0, 2**128 - 1), routed_by_key=True
    )
    assert advice.verdict == "split"
    hashes = sorted(partition_hash(f"k{i}") for i in range(4))
    assert advice.new_starting_hash_key == (hashes[1] + hashes[2]) // 2 + 1
    assert (advice.lower_pct, advice.upper_pct) == (50.0, 50.0)
    assert str(advice.new_starting_hash_key) in advice.sentence()
    grouped = advise("s0", 1, 85.0, "records", keys=keys, hash_range=(0, 9), routed_by_key=False)
    assert grouped.verdict == "keys" and grouped.new_starting_hash_key is None


def test_report_names_hot_shards_and_ranks_keys() -> None:
    counter = Counter()
    records = [_record("s0", "hot", 100) for _ in range(850)]
    records += [_record("s1", f"k{i}", 100) for i in range(20)]
    counter.add(records[:850])
    counter.add(records[850:])
    shards = [
        Shard("s0", hash_start=0, hash_end=HALF - 1),
        Shard("s1", hash_start=HALF, hash_end=2**128 - 1),
    ]
    scope = Scope("orders", "records", 3, False, "partition key", True)
    report = build(scope, counter.slots[0], counter.timelines, shards, start=100, end=110)
    assert [(r.shard, r.span.records, r.space_pct) for r in report.shards] == [
        ("s0", 850, 50.0),
        ("s1", 20, 50.0),
    ]
    assert report.shards[0].span.per_s == 85.0
    first = report.keys[0]
    assert (first.key, first.shard, first.count.records) == ("hot", "s0", 850)
    assert len(report.keys) == 3
    assert [(a.shard, a.verdict) for a in report.advice] == [("s0", "hot-key")]
    assert not report.estimated


@pytest.mark.parametrize("by", ["records", "bytes"])
def test_report_shares_follow_by(by: str) -> None:
    counter = Counter(by=by)
    counter.add([_record("s", "small", 1, b"x") for _ in range(3)])
    counter.add([_record("s", "big", 1, b"x" * 100)])
    scope = Scope("s", by, 5, False, "partition key", True)
    report = build(scope, counter.slots[0], counter.timelines, [Shard("s")], start=0, end=2)
    first = report.keys[0]
    assert first.key == ("small" if by == "records" else "big")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(1, 50)), min_size=2, max_size=30))
def test_split_point_is_a_valid_and_most_even_split(hashed: list[tuple[int, int]]) -> None:
    point = split_point(hashed, (0, 1000))
    distinct = sorted({h for h, _ in hashed})
    if len(distinct) < 2:
        assert point is None
        return
    assert point is not None
    at, below, inside = point
    assert 0 < at <= 1000  # SplitShard: above the starting hash key, at most the ending one
    assert below == sum(w for h, w in hashed if h < at)
    assert inside == sum(w for _, w in hashed)
    # no boundary between two hash keys divides the weight more evenly
    best = min(abs(inside - 2 * sum(w for h, w in hashed if h <= d)) for d in distinct[:-1])
    assert abs(inside - 2 * below) == best


def test_advice_names_the_keys_of_the_hot_second_not_of_the_whole_span() -> None:
    """A burst of one key makes the shard hot for a second; another key is busier over the
    span. The advice is about the second that ran hot."""
    counter = Counter()
    counter.add([_record("s0", "burst", 100) for _ in range(900)])
    counter.add([_record("s0", "steady", 100) for _ in range(10)])
    for second in range(101, 111):
        counter.add([_record("s0", "steady", second) for _ in range(200)])
    timeline = counter.timelines["s0"]
    assert len(timeline.second_keys) == 3 and timeline.hot is not None  # bounded: 3 seconds
    assert timeline.hot[0].start == 100
    scope = Scope("orders", "records", 3, False, "partition key", True)
    report = build(scope, counter.slots[0], counter.timelines, [Shard("s0")], start=100, end=111)
    assert report.keys[0].key == "steady"  # over the span
    (advice,) = report.advice
    assert (advice.peak_second, advice.verdict) == (100, "hot-key")
    assert advice.keys[0][0] == "burst" and round(advice.keys[0][1], 1) == 98.9
    assert "at 00:01:40 UTC" in advice.sentence()
