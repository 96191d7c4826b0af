"""`streamtail follow`: records written while it runs, shards born while it runs, its stop rules
(--limit, --idle-exit) and the `latest` start position.

Each follower is a real subprocess whose stdout is read line by line as it comes; the test writes
while it runs and waits on what comes out (deadlines, no fixed sleeps).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from .servers import (
    Admin,
    Cli,
    assert_clean_stderr,
    assert_lineage_order,
    assert_shard_order,
    counters,
    following,
    probe_until_seen,
)

pytestmark = pytest.mark.server


@pytest.mark.timeout(60)
def test_follow_picks_up_new_records(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    name = admin.create_stream(stream_name("live"), shards=2)
    admin.put_counted(name, 0, 6)
    with following(
        cli,
        "follow",
        name,
        "--from",
        "trim-horizon",
        "--limit",
        "20",
        endpoint=admin.server.endpoint,
    ) as follower:
        follower.wait_count(6, timeout=20)  # it is running and has read the backlog
        admin.put_counted(name, 6, 14)
        records = follower.finish(timeout=20)
    assert sorted(counters(records)) == list(range(20))
    assert_shard_order(records)
    assert_clean_stderr(follower.stderr)


@pytest.mark.timeout(90)
def test_follow_across_split_and_merge(
    km: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    """kinesis-mock closes a parent with a null iterator and ChildShards: follow moves on to the
    children at once, and prints the parent's records before any child's."""
    name = km.create_stream(stream_name("reshard"), shards=1)
    puts = km.put_counted(name, 0, 5)
    total = 5 + 10 + 20 + 10
    with following(
        cli,
        "follow",
        name,
        "--from",
        "trim-horizon",
        "--limit",
        str(total),
        endpoint=km.server.endpoint,
    ) as follower:
        follower.wait_count(5, timeout=20)
        puts += km.put_counted(name, 5, 10)  # written after it started, into the one shard
        follower.wait_count(15, timeout=20)

        km.split(name, km.open_shards(name)[0])
        puts += km.put_counted(name, 15, 20)  # into the two children
        follower.wait_count(35, timeout=30)

        left, right = km.open_shards(name)
        km.merge(name, left, right)
        puts += km.put_counted(name, 35, 10)  # into the merged grandchild
        records = follower.finish(timeout=30)

    assert sorted(counters(records)) == list(range(total))
    assert {(r["shard"], r["seq"]) for r in records} == {(p.shard, p.seq) for p in puts}
    shards = km.list_shards(name)
    assert len({p.shard for p in puts}) == 4  # parent, two children, merged grandchild
    assert_shard_order(records)
    assert_lineage_order(records, shards)
    assert_clean_stderr(follower.stderr)


@pytest.mark.timeout(60)
def test_follow_from_latest_sees_only_new_records(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    name = admin.create_stream(stream_name("latest"), shards=2)
    admin.put_counted(name, 0, 10, tag="old")
    # `latest` is follow's default; --idle-exit ends it once the new records are through.
    with following(cli, "follow", name, "--idle-exit", "3", endpoint=admin.server.endpoint) as f:
        probe_until_seen(admin, f, name)
        admin.put_counted(name, 0, 10, tag="new")
        f.wait_tagged("new", 10, timeout=20)
        records = f.finish(timeout=20)

    kinds = {r["key"].split("-")[0] for r in records}
    assert kinds == {"probe", "new"}, kinds  # nothing written before it started
    new = [r for r in records if r["key"].startswith("new-")]
    assert sorted(counters(new)) == list(range(10))
    assert_shard_order(records)
    assert_clean_stderr(f.stderr)


@pytest.mark.timeout(30)
def test_follow_idle_exit_on_a_quiet_stream(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    name = admin.create_stream(stream_name("quiet"), shards=2)
    started = time.monotonic()
    with following(cli, "follow", name, "--idle-exit", "1", endpoint=admin.server.endpoint) as f:
        code = f.wait_exit(timeout=15)
        elapsed = time.monotonic() - started
        assert code == 0, f.describe()
    assert f.records() == []
    assert f.stderr == ""
    # Interpreter start-up and imports included; the idle time itself is 1 s.
    assert elapsed < 8, f"follow --idle-exit 1 took {elapsed:.1f}s to exit"


@pytest.mark.timeout(60)
def test_follow_limit_stops_mid_batch(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    """--limit counts records printed, even when one GetRecords batch brings more."""
    name = admin.create_stream(stream_name("limit"), shards=1)
    admin.put_counted(name, 0, 30)
    with following(
        cli, "follow", name, "--from", "trim-horizon", "-n", "7", endpoint=admin.server.endpoint
    ) as f:
        records = f.finish(timeout=20)
    assert counters(records) == list(range(7))
    assert_clean_stderr(f.stderr)
