"""DynamoDB Streams after a day of rollovers (tests/ddb_streams_double.py), through the CLI.

The double answers as AWS does: trimmed parents named but not listed, pages with a trailing
LastEvaluatedShardId in shuffled order, at most 3 records a call, runs of empty batches inside
shards and before a closed shard's last records, and the rollover race. Every record exactly
once, in write order per key, parents before children.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

import streamtail.reader
from streamtail.model import SourceKind, StreamRef
from streamtail.sources.dynamodb import DynamoDBSource
from tests.awsenv import clean_environ, use_environ
from tests.conftest import FastPacing
from tests.ddb_streams_double import Item, StreamsDouble
from tests.integration.servers import Cli, following

from .helpers import REGION, cli, explain


@dataclass
class Day:
    double: StreamsDouble
    url: str
    written: dict[str, list[Item]]
    #: when the double's day ends (epoch ms): its newest generation is 42 minutes older
    now_ms: int


@pytest.fixture
def day(fast_pacing: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Day]:
    use_environ(monkeypatch, clean_environ(tmp_path, region=REGION))
    double = StreamsDouble()
    now_ms = int(time.time() * 1000)
    written = double.day(now_ms)
    with double.serve() as url:
        yield Day(double, url, written, now_ms)


def lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line]


def check_order(double: StreamsDouble, printed: list[dict[str, Any]]) -> None:
    """Write order per key; each shard's records all before any of its children's."""
    by_key: dict[str, list[int]] = {}
    for record in printed:
        by_key.setdefault(record["keys"]["pk"], []).append(int(record["new"]["n"]))
    for key, ns in by_key.items():
        assert ns == sorted(ns), key
    last: dict[str, int] = {}
    first: dict[str, int] = {}
    for i, record in enumerate(printed):
        last[record["shard"]] = i
        first.setdefault(record["shard"], i)
    for shard_id, at in first.items():
        parent = double.shards[shard_id].parent
        if parent in last:
            assert last[parent] < at, f"{parent} printed after its child {shard_id}"


def seen(printed: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return sorted((r["keys"]["pk"], int(r["new"]["n"])) for r in printed)


def expected(written: dict[str, list[Item]], since_s: int = 0) -> list[tuple[str, int]]:
    return sorted((k, it.n) for k, items in written.items() for it in items if it.ts_s >= since_s)


def test_read_prints_a_day_of_rollovers_whole_and_in_order(day: Day) -> None:
    result = cli("read", "ddb:orders", "-o", "ndjson", "--endpoint-url", day.url)
    assert result.exit_code == 0, explain(result)
    printed = lines(result.stdout)
    assert seen(printed) == expected(day.written), explain(result)
    assert len(printed) == 144  # 8 records on each of 18 shards listed (3 more were trimmed)
    check_order(day.double, printed)
    # the racing parent's last three records came after it was read past its visible end
    assert "warning" not in result.stderr.replace("no AT_TIMESTAMP", "")


def read_from(day: Day, minutes: int) -> list[dict[str, Any]]:
    """`read --from -<minutes>m`: exit 0, exactly the records written since, in order."""
    since_s = (day.now_ms - minutes * 60_000) // 1000
    result = cli(
        "read", "ddb:orders", "-o", "ndjson", "--from", f"-{minutes}m", "--endpoint-url", day.url
    )
    assert result.exit_code == 0, explain(result)
    printed = lines(result.stdout)
    assert seen(printed) == expected(day.written, since_s)
    check_order(day.double, printed)
    return printed


def test_read_from_a_time_skips_the_shards_that_ended_before_it(day: Day) -> None:
    printed = read_from(day, 15)
    assert len(printed) == 8  # the newest generation's last two records on each of 4 shards
    # Only the newest generation is read: every older shard's children were created more than a
    # minute before the time (shard ids carry it), the racing parent's too.
    read = {shard for op, shard, _t in day.double.calls if op == "GetRecords"}
    newest = {
        s.shard_id
        for s in day.double.shards.values()
        if s.listed and not day_children(day, s.shard_id)
    }
    assert read == newest


def test_read_from_two_hours_ago_reads_the_racing_parent_to_its_end_first(day: Day) -> None:
    printed = read_from(day, 120)
    assert len(printed) == 32  # the newest generation's, 3 of them held back by its racing parent


def day_children(day: Day, shard_id: str) -> list[str]:
    return [s.shard_id for s in day.double.shards.values() if s.parent == shard_id]


def test_a_parent_that_never_ends_is_named_and_its_children_left_unread(
    day: Day, monkeypatch: pytest.MonkeyPatch
) -> None:
    @dataclass(frozen=True)
    class ShortWait(FastPacing):
        close_wait: float = 0.3

    monkeypatch.setattr(streamtail.reader, "Pacing", ShortWait)
    racing = next(s for s in day.double.shards.values() if s.race_left)
    racing.race_left = 10**9  # the service never closes it
    result = cli("read", "ddb:orders", "-o", "ndjson", "--endpoint-url", day.url)
    assert result.exit_code == 1, explain(result)
    children = [s.shard_id for s in day.double.shards.values() if s.parent == racing.shard_id]
    assert f"shard {racing.shard_id} did not end" in result.stderr
    assert f"read incomplete: shard(s) {racing.shard_id} did not end" in result.stderr
    printed = lines(result.stdout)
    assert not {r["shard"] for r in printed} & set(children)
    assert len(printed) == 144 - 3 - 5  # neither the 3 held back nor the 5 of its child


def test_shards_lists_every_page_with_trimmed_parents_as_roots(day: Day) -> None:
    result = cli("shards", "ddb:orders", "-o", "ndjson", "--endpoint-url", day.url)
    assert result.exit_code == 0, explain(result)
    listed = {s.shard_id for s in day.double.shards.values() if s.listed}
    rows = lines(result.stdout)
    assert {r["shard"] for r in rows} == listed
    assert len(listed) == 18
    # one page of 100 with a LastEvaluatedShardId, then the empty page that ends the listing
    assert day.double.count("DescribeStream") == 2


@pytest.mark.server
def test_follow_reads_across_a_live_rollover_at_five_calls_a_second(
    tmp_path: Path,
) -> None:
    double = StreamsDouble(race_calls=6)
    now_s = int(time.time())
    root = double.new_shard(None, now_s * 1000 - 60_000)
    written = [double.write(root, "k", now_s - 50 + i) for i in range(4)]
    cli_env = Cli(clean_environ(tmp_path, region=REGION))
    with (
        double.serve() as url,
        following(
            cli_env, "follow", "ddb:orders", "--from", "trim-horizon", "-o", "ndjson", endpoint=url
        ) as follower,
    ):
        follower.wait_count(4, timeout=30)
        (child,) = double.rollover(root, now_s * 1000)
        written += [double.write(child, "k", now_s + i) for i in range(3)]
        grandchild = double.race(child, now_s * 1000 + 1)  # listed while its parent is open
        written += [double.write(child, "k", now_s + 5)]  # held: the parent's last record
        written += [double.write(grandchild, "k", now_s + 6 + i) for i in range(2)]
        printed = follower.wait_count(len(written), timeout=60)
    assert [int(r["new"]["n"]) for r in printed] == [it.n for it in written]
    assert [r["shard"] for r in printed] == [root] * 4 + [child] * 4 + [grandchild] * 2
    assert double.busiest_second() <= 5
    # Listed whole once (a page, and the empty page after its LastEvaluatedShardId); each closed
    # shard's children asked for alone when it ended (the same two pages each).
    assert double.count("DescribeStream") == 2
    assert double.count("DescribeStreamChildren") == 4


def test_children_are_asked_for_alone_and_listed_whole_where_the_filter_is_refused(
    day: Day,
) -> None:
    source = DynamoDBSource(
        StreamRef(SourceKind.DYNAMODB, display=day.double.arn, arn=day.double.arn),
        boto3.client("dynamodbstreams", endpoint_url=day.url),
    )
    racing = next(s for s in day.double.shards.values() if s.race_left)
    (child,) = [s for s in day.double.shards.values() if s.parent == racing.shard_id]
    assert [s.shard_id for s in source.list_children(racing.shard_id) or []] == [child.shard_id]
    assert day.double.count("DescribeStreamChildren") == 2
    day.double.child_filter = False  # ValidationException, as a service without the filter
    assert source.list_children(racing.shard_id) is None
    assert source.list_children(racing.shard_id) is None  # not asked again
    assert day.double.count("DescribeStreamChildren") == 3
