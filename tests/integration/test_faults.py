"""Every record exactly once, and no shard over 5 GetRecords calls in any second, while a proxy
between streamtail and a real server injects what local servers never do (tests/proxy.py):
throttling, expired iterators, 5xx, connection resets, an outage; and a stream deleted mid-follow.

The proxy lowers GetRecords' Limit, so that a couple of hundred records take many calls per shard
and every fault hits often. Each test prints what it measured (run with -s to see it).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.proxy import FaultPlan, Proxy

from .servers import (
    Admin,
    Cli,
    Result,
    assert_exactly_once,
    assert_lineage_order,
    assert_no_errors,
    assert_shard_order,
    following,
    wait_until,
)

pytestmark = pytest.mark.server

#: the contract's ceiling: GetRecords calls per shard in any one second
CEILING = 5

#: each fault on every third call it applies to (FaultPlan's random rates vary with thread order)
FAULTS = ("throttle", "expired", "error5xx", "reset")


def resharded_stream(admin: Admin, name: str, count: int = 120) -> str:
    """Two shards, records, a split of the first, more records, a merge of the split's children,
    more records: closed parents and children to read in order."""
    admin.create_stream(name, shards=2)
    admin.put_counted(name, 0, count // 2)
    first = admin.open_shards(name)[0]
    admin.split(name, first)
    admin.put_counted(name, count // 2, count // 4)
    children = [s for s in admin.open_shards(name) if s.get("ParentShardId") == first["ShardId"]]
    admin.merge(name, children[0], children[1])
    admin.put_counted(name, count // 2 + count // 4, count - count // 2 - count // 4)
    return name


@pytest.fixture
def proxy_for() -> Iterator[Callable[..., Proxy]]:
    proxies: list[Proxy] = []

    def make(admin: Admin, **kwargs: Any) -> Proxy:
        kwargs.setdefault("max_limit", 6)
        proxy = Proxy(admin.server.endpoint, **kwargs).start()
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.stop()


def check_read(admin: Admin, name: str, result: Result, proxy: Proxy) -> dict[str, Any]:
    """Exit 0, exactly once, in order, lineage order, the ceiling kept; returns measurements."""
    assert result.returncode == 0, result.describe()
    assert_no_errors(result.stderr)
    records = result.records
    assert_exactly_once(records, admin.server_records(name))
    assert_shard_order(records)
    assert_lineage_order(records, admin.list_shards(name))
    per_second = proxy.max_per_second("GetRecords")
    assert per_second <= CEILING, proxy.times_per_shard("GetRecords")
    # AWS allows GetShardIterator 5 calls a second per shard as well
    iterators = proxy.max_per_second("GetShardIterator")
    assert iterators <= CEILING, proxy.times_per_shard("GetShardIterator")
    return {
        "records": len(records),
        "calls": len(proxy.operations("GetRecords")),
        "faults": dict(proxy.faults()),
        "max GetRecords/s/shard": per_second,
        "max GetShardIterator/s/shard": iterators,
        "tightest 6 GetRecords": proxy.tightest_span("GetRecords"),
        "seconds": round(result.elapsed, 1),
    }


@pytest.mark.timeout(90)
@pytest.mark.parametrize("fault", FAULTS)
def test_read_loses_and_repeats_nothing_under_each_fault(
    moto: Admin,
    cli: Cli,
    stream_name: Callable[[str], str],
    proxy_for: Callable[..., Proxy],
    fault: str,
) -> None:
    name = resharded_stream(moto, stream_name(fault))
    proxy = proxy_for(moto, fault=FaultPlan(every=3, rotate=(fault,)))
    result = cli.run("read", name, "-o", "ndjson", endpoint=proxy.endpoint, timeout=80)
    measured = check_read(moto, name, result, proxy)
    assert measured["faults"].get(fault, 0) >= 5, measured  # the fault did happen, often
    if fault == "throttle":
        assert "throttled (ProvisionedThroughputExceededException)" in result.stderr
    print(f"\n[{fault}] exactly once; {measured}")


@pytest.mark.timeout(120)
def test_read_loses_and_repeats_nothing_under_every_fault_at_once(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str], proxy_for: Callable[..., Proxy]
) -> None:
    """On both servers (kinesis-mock ends closed shards with a null iterator, as AWS does)."""
    name = resharded_stream(admin, stream_name("mixed"), count=80)
    proxy = proxy_for(admin, fault=FaultPlan(every=3))  # a third of the calls, each kind in turn
    result = cli.run("read", name, endpoint=proxy.endpoint, timeout=110)
    measured = check_read(admin, name, result, proxy)
    assert len(measured["faults"]) == 4, measured  # every kind happened
    assert sum(measured["faults"].values()) >= 8, measured
    print(f"\n[mixed, {admin.server.kind}] exactly once; {measured}")


@pytest.mark.timeout(90)
def test_read_rides_out_an_outage(
    moto: Admin, cli: Cli, stream_name: Callable[[str], str], proxy_for: Callable[..., Proxy]
) -> None:
    """The proxy refuses connections for 3 s while the read is under way."""
    name = resharded_stream(moto, stream_name("outage"), count=160)
    proxy = proxy_for(moto, max_limit=4)
    with following(cli, "read", name, endpoint=proxy.endpoint) as reader:
        reader.wait_count(10, timeout=30)
        proxy.outage(3.0)
        code = reader.wait_exit(timeout=60)
    result = Result(
        [], code, "".join(reader.lines), reader.stderr, time.monotonic() - reader.started
    )
    measured = check_read(moto, name, result, proxy)
    assert "cannot reach the service" in result.stderr, result.stderr
    assert "retrying for up to 3m" in result.stderr
    print(f"\n[outage 3s] exactly once; {measured}")


@pytest.mark.timeout(60)
def test_read_gives_up_after_the_retry_timeout(
    moto: Admin, cli: Cli, stream_name: Callable[[str], str], proxy_for: Callable[..., Proxy]
) -> None:
    name = moto.create_stream(stream_name("down"), shards=1)
    moto.put_counted(name, 0, 3)
    proxy = proxy_for(moto, fault=FaultPlan(error5xx=1.0, operations=("GetRecords",)))
    result = cli.run("read", name, "--retry-timeout", "2", endpoint=proxy.endpoint, timeout=50)
    assert result.returncode == 1, result.describe()
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if "warning" not in line]
    assert len(errors) == 2, result.stderr  # one error line and its hint
    assert errors[0].startswith("streamtail: error: request for stream")
    assert "; gave up after 2s of retrying" in errors[0]
    assert errors[1] == (
        "streamtail: hint: --retry-timeout DURATION retries longer (e.g. 10m; inf: never gives up)"
    )
    assert 2 <= result.elapsed < 30


@pytest.mark.timeout(90)
def test_follow_keeps_trying_through_an_outage_and_says_so(
    moto: Admin, cli: Cli, stream_name: Callable[[str], str], proxy_for: Callable[..., Proxy]
) -> None:
    name = moto.create_stream(stream_name("follow-outage"), shards=2)
    moto.put_counted(name, 0, 10)
    proxy = proxy_for(moto, fault=FaultPlan(throttle=0.1, reset=0.05, seed=6))
    with following(
        cli, "follow", name, "--from", "trim-horizon", endpoint=proxy.endpoint
    ) as follower:
        follower.wait_count(10, timeout=30)
        outage = proxy.outage_in_background(after=0.0, seconds=6.0)
        wait_until(lambda: "follow keeps trying" in follower.stderr, timeout=20, what="a notice")
        moto.put_counted(name, 10, 10)  # written while streamtail cannot reach the service
        outage.join()
        follower.wait_count(20, timeout=30)
        wait_until(lambda: "answers again" in follower.stderr, timeout=10, what="recovery")
        follower.process.send_signal(signal.SIGTERM)
        records = follower.finish(timeout=20, code=143)
    assert_exactly_once(records, moto.server_records(name))
    assert proxy.max_per_second("GetRecords") <= CEILING
    assert_no_errors(follower.stderr)
    notices = follower.stderr.splitlines()
    assert len(notices) <= 8, notices  # rate-limited, not one per retry
    print(f"\n[follow, outage 6s] exactly once; stderr: {notices}")


@pytest.mark.timeout(60)
def test_a_stream_deleted_mid_follow_is_exit_3_with_one_clear_line(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    name = admin.create_stream(stream_name("deleted"), shards=1)
    admin.put_counted(name, 0, 3)
    with following(
        cli, "follow", name, "--from", "trim-horizon", endpoint=admin.server.endpoint
    ) as follower:
        follower.wait_count(3, timeout=30)
        admin.client.delete_stream(StreamName=name)
        follower.finish(timeout=30, code=3)
    lines = follower.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(
        f"streamtail: error: stream {name!r} no longer exists: it was deleted while being read ("
    )
