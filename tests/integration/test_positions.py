"""Start and stop positions on real servers: trim-horizon, latest, at:SEQ, after:SEQ, ISO-8601 and
relative times for --from, --until and --limit.

Both servers timestamp records in milliseconds, but AT_TIMESTAMP goes over the wire in whole
seconds (botocore's JSON serialiser), so the time tests put a whole-second boundary between the
two groups of records they write.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from .servers import (
    Admin,
    Cli,
    Put,
    assert_clean_stderr,
    assert_shard_order,
    counters,
    following,
    probe_until_seen,
    wait_until,
)

pytestmark = pytest.mark.server


def iso(epoch: float, *, millis: bool = True, offset: bool = False) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if millis:
        text += f".{moment.microsecond // 1000:03d}"
    return text + ("+00:00" if offset else "Z")


def arrival(admin: Admin, name: str, put: Put) -> float:
    """A record's ApproximateArrivalTimestamp (epoch seconds) as the server stored it."""
    for record in admin.shard_records(name, put.shard):
        if record["SequenceNumber"] == put.seq:
            return float(record["ApproximateArrivalTimestamp"].timestamp())
    raise AssertionError(f"record {put.seq} not found in {put.shard}")


def two_groups_across_a_second(admin: Admin, name: str) -> tuple[list[Put], list[Put], float]:
    """Records A, then a whole second T later than all of them, then records B after T."""
    first = admin.put_counted(name, 0, 5, tag="a")
    boundary = float(math.floor(max(arrival(admin, name, p) for p in first)) + 1)
    while time.time() < boundary + 0.05:
        time.sleep(0.02)
    second = admin.put_counted(name, 5, 5, tag="b")
    assert min(arrival(admin, name, p) for p in second) >= boundary
    return first, second, boundary


@pytest.mark.timeout(60)
def test_trim_horizon_is_the_default_for_read(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    name = admin.create_stream(stream_name("th"), shards=1)
    admin.put_counted(name, 0, 12)
    default = cli.run("read", name, endpoint=admin.server.endpoint)
    explicit = cli.run("read", name, "--from", "trim-horizon", endpoint=admin.server.endpoint)
    for result in (default, explicit):
        assert result.returncode == 0, result.describe()
        assert_clean_stderr(result.stderr)
        assert counters(result.records) == list(range(12))
    assert default.stdout == explicit.stdout


@pytest.mark.timeout(60)
def test_read_from_latest_prints_nothing_and_exits(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    name = admin.create_stream(stream_name("latest"), shards=2)
    admin.put_counted(name, 0, 10)
    result = cli.run("read", name, "--from", "latest", endpoint=admin.server.endpoint)
    assert result.returncode == 0, result.describe()
    assert result.stdout == ""
    assert_clean_stderr(result.stderr)


@pytest.mark.timeout(60)
def test_at_and_after_sequence_number_on_a_pinned_shard(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    name = admin.create_stream(stream_name("seq"), shards=2)
    admin.put_counted(name, 0, 30)
    held = admin.server_records(name)
    shard, records = max(held.items(), key=lambda item: len(item[1]))
    assert len(records) >= 8
    seqs = [r["SequenceNumber"] for r in records]
    pivot = seqs[4]

    at = cli.run(
        "read", name, "--from", f"at:{pivot}", "--shard", shard, endpoint=admin.server.endpoint
    )
    after = cli.run(
        "read", name, "--from", f"after:{pivot}", "--shard", shard, endpoint=admin.server.endpoint
    )

    for result in (at, after):
        assert result.returncode == 0, result.describe()
        assert_clean_stderr(result.stderr)
        assert {r["shard"] for r in result.records} == {shard}
    assert [r["seq"] for r in at.records] == seqs[4:]
    assert [r["seq"] for r in after.records] == seqs[5:]


@pytest.mark.timeout(60)
def test_a_sequence_number_the_service_cannot_place_reads_that_shard_from_its_start(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    """at:SEQ of another shard, and past a shard's tip: the README's fallback (the shard from
    its start, records up to the number skipped), never "shard not found". kinesis-mock answers
    ResourceNotFoundException "Unable to find record with provided SequenceNumber" there, AWS
    InvalidArgumentException (sources/kinesis.py)."""
    name = admin.create_stream(stream_name("unplaced"), shards=2)
    admin.put_counted(name, 0, 40)
    held = admin.server_records(name)
    (one, ones), (other, others) = sorted(held.items())
    assert ones and others
    pivot = ones[len(ones) // 2]["SequenceNumber"]
    endpoint = admin.server.endpoint
    foreign = cli.run("read", name, "--from", f"at:{pivot}", "--shard", other, endpoint=endpoint)
    assert foreign.returncode == 0, foreign.describe()
    assert "not found" not in foreign.stderr
    wanted = [r["SequenceNumber"] for r in others if int(r["SequenceNumber"]) >= int(pivot)]
    assert [r["seq"] for r in foreign.records] == wanted
    beyond = str(int(ones[-1]["SequenceNumber"]) + 1)
    past = cli.run("read", name, "--from", f"after:{beyond}", "--shard", one, endpoint=endpoint)
    assert (past.returncode, past.records) == (0, []), past.describe()


@pytest.mark.timeout(60)
def test_at_sequence_number_in_a_closed_shard(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    """at:SEQ in a shard that was split since: that shard from SEQ on, then all its children.

    kinesis-mock reports EndingSequenceNumber 9223372036854775807 for every closed shard, below
    any of its real sequence numbers: streamtail must not take that for the shard's end.
    """
    name = admin.create_stream(stream_name("closed"), shards=1)
    admin.put_counted(name, 0, 10)
    parent = admin.open_shards(name)[0]
    admin.split(name, parent)
    admin.put_counted(name, 10, 10)
    held = admin.server_records(name)
    parent_seqs = [r["SequenceNumber"] for r in held[parent["ShardId"]]]
    pivot = parent_seqs[3]

    result = cli.run(
        "read",
        name,
        "--from",
        f"at:{pivot}",
        "--shard",
        parent["ShardId"],
        endpoint=admin.server.endpoint,
    )

    assert result.returncode == 0, result.describe()
    assert_clean_stderr(result.stderr)
    expected = {shard: [r["SequenceNumber"] for r in rs] for shard, rs in held.items() if rs}
    expected[parent["ShardId"]] = parent_seqs[3:]
    got: dict[str, list[str]] = {}
    for record in result.records:
        got.setdefault(record["shard"], []).append(record["seq"])
    assert got == expected


@pytest.mark.timeout(60)
def test_from_iso_time(admin: Admin, cli: Cli, stream_name: Callable[[str], str]) -> None:
    name = admin.create_stream(stream_name("iso"), shards=2)
    _, second, boundary = two_groups_across_a_second(admin, name)
    want = sorted(p.n for p in second)
    for text in (iso(boundary), iso(boundary, millis=False, offset=True)):
        result = cli.run("read", name, "--from", text, endpoint=admin.server.endpoint)
        assert result.returncode == 0, result.describe()
        assert_clean_stderr(result.stderr)
        assert sorted(counters(result.records)) == want, text
        assert_shard_order(result.records)


@pytest.mark.timeout(60)
def test_from_iso_time_with_milliseconds(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    """--from 10:00:00.500Z must not print a record that arrived at 10:00:00.100Z."""
    name = admin.create_stream(stream_name("ms"), shards=1)
    n = 0
    deadline = time.monotonic() + 30
    while True:
        # Early in a second, A, then B 0.3 s later: both arrive within that second unless the
        # server is slow, and the time asked for is then taken between their arrivals.
        wait_until(lambda: 0.05 < time.time() % 1 < 0.2, timeout=2, interval=0.01)
        (a,) = admin.put_counted(name, n, 1, tag="a")
        wait_until(lambda: time.time() % 1 > 0.5, timeout=2, interval=0.01)  # spacing, not sync
        (b,) = admin.put_counted(name, n + 1, 1, tag="b")
        a_ts, b_ts = arrival(admin, name, a), arrival(admin, name, b)
        if math.floor(a_ts) == math.floor(b_ts) and b_ts - a_ts >= 0.1:
            break
        n += 2
        assert time.monotonic() < deadline, "the server never put two records 0.3 s apart"
    moment = (a_ts + b_ts) / 2  # after A, before B, in A's second, at least 50 ms from each

    result = cli.run("read", name, "--from", iso(moment), endpoint=admin.server.endpoint)

    assert result.returncode == 0, result.describe()
    assert [r["key"] for r in result.records] == [b.key]


@pytest.mark.timeout(60)
def test_from_relative_time(admin: Admin, cli: Cli, stream_name: Callable[[str], str]) -> None:
    """-1m takes in everything recent; -1s, given when older records are more than 2 s old,
    leaves them out (1 s of window plus 1 s of AT_TIMESTAMP's whole-second rounding)."""
    name = admin.create_stream(stream_name("rel"), shards=1)
    old = admin.put_counted(name, 0, 5, tag="old")
    written = time.time()

    recent = cli.run("read", name, "--from", "-1m", endpoint=admin.server.endpoint)
    assert recent.returncode == 0, recent.describe()
    assert counters(recent.records) == [p.n for p in old]

    while time.time() < written + 2.1:
        time.sleep(0.05)
    with following(
        cli, "follow", name, "--from", "-1s", "--idle-exit", "3", endpoint=admin.server.endpoint
    ) as f:
        probe_until_seen(admin, f, name)  # it has started: its -1s lies behind us
        admin.put_counted(name, 5, 5, tag="new")
        f.wait_tagged("new", 5, timeout=20)
        records = f.finish(timeout=20)
    assert {r["key"].split("-")[0] for r in records} == {"probe", "new"}
    assert counters(r for r in records if r["key"].startswith("new-")) == list(range(5, 10))
    assert_clean_stderr(f.stderr)


@pytest.mark.timeout(60)
def test_until(admin: Admin, cli: Cli, stream_name: Callable[[str], str]) -> None:
    name = admin.create_stream(stream_name("until"), shards=2)
    first, _, boundary = two_groups_across_a_second(admin, name)
    want = sorted(p.n for p in first)

    result = cli.run("read", name, "--until", iso(boundary), endpoint=admin.server.endpoint)
    assert result.returncode == 0, result.describe()
    assert_clean_stderr(result.stderr)
    assert sorted(counters(result.records)) == want

    # follow stops too: every shard has passed the time, and the time is behind us.
    with following(
        cli,
        "follow",
        name,
        "--from",
        "trim-horizon",
        "--until",
        iso(boundary),
        endpoint=admin.server.endpoint,
    ) as f:
        records = f.finish(timeout=30)
    assert sorted(counters(records)) == want
    assert_clean_stderr(f.stderr)


@pytest.mark.timeout(60)
def test_limit(admin: Admin, cli: Cli, stream_name: Callable[[str], str]) -> None:
    name = admin.create_stream(stream_name("limit"), shards=1)
    admin.put_counted(name, 0, 20)
    result = cli.run("read", name, "--limit", "3", endpoint=admin.server.endpoint)
    assert result.returncode == 0, result.describe()
    assert_clean_stderr(result.stderr)
    assert counters(result.records) == [0, 1, 2]  # follow's -n is in test_follow.py
