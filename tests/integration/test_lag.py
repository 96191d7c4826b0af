"""`streamtail lag APP` against moto's server: lease tables as KCL writes them (kcl_tables.py
cites the serializers), checkpoints at known records, exact lag, states, liveness, exit codes.

Lag truth: a record's own ApproximateArrivalTimestamp (ApproximateCreationDateTime on DynamoDB
Streams) subtracted from the moment the command ran; the records of the timed stream arrive two
seconds apart, so a lag measured at the wrong record is off by two seconds, beyond the one-second
tolerance.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from . import kcl_tables as kcl
from .servers import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    Admin,
    Cli,
    Result,
    ServerProcess,
    partition_key_for,
    wait_until,
)

pytestmark = pytest.mark.server

GAP = 2.0
TOLERANCE_MS = 1000


def _client(server: ServerProcess, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


@pytest.fixture
def ddb(moto_server: ServerProcess) -> Any:
    return _client(moto_server, "dynamodb")


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class Timed:
    """A 4-shard stream: on every shard, records r0, r1, r2 arrived GAP seconds apart."""

    name: str
    shards: list[str]
    #: shard -> [(seq, arrival epoch seconds)] in order
    records: dict[str, list[tuple[str, float]]]
    hash_ranges: dict[str, tuple[int, int]]


@pytest.fixture(scope="module")
def timed(moto_server: ServerProcess) -> Iterator[Timed]:
    admin = Admin(moto_server)
    try:
        name = admin.create_stream(_name("lag-timed"), shards=4)
        shards = admin.list_shards(name)
        ranges = {
            s["ShardId"]: (
                int(s["HashKeyRange"]["StartingHashKey"]),
                int(s["HashKeyRange"]["EndingHashKey"]),
            )
            for s in shards
        }
        keys = {sid: partition_key_for(lo, hi, sid) for sid, (lo, hi) in ranges.items()}
        for n in range(3):
            if n:
                moment = time.time() + GAP
                wait_until(lambda m=moment: time.time() >= m, timeout=GAP + 5, what="the gap")
            admin.put_raw(name, [(key, f"r{n}".encode()) for key in keys.values()])
        records = {
            sid: [
                (r["SequenceNumber"], r["ApproximateArrivalTimestamp"].timestamp())
                for r in admin.shard_records(name, sid)
            ]
            for sid in ranges
        }
        assert all(len(rs) == 3 for rs in records.values()), records
        yield Timed(name, sorted(ranges), records, ranges)
    finally:
        admin.close()


def run_lag(cli: Cli, server: ServerProcess, *args: str) -> tuple[Result, float, float]:
    before = time.time()
    result = cli.run("lag", *args, endpoint=server.endpoint)
    return result, before, time.time()


def assert_lag(row: dict[str, Any], arrival: float | None, before: float, after: float) -> None:
    """lag_ms within a second of the truth: the run's moment (between before and after) minus
    the first unprocessed record's arrival; None means no record is waiting (lag 0)."""
    if arrival is None:
        assert row["lag_ms"] == 0, row
        return
    low = (before - arrival) * 1000 - TOLERANCE_MS
    high = (after - arrival) * 1000 + TOLERANCE_MS
    assert low <= row["lag_ms"] <= high, (row, low, high)


def by_shard(result: Result) -> dict[str, dict[str, Any]]:
    return {row["shard"]: row for row in result.records}


# -- the four checkpoint kinds on the timed stream, in each table shape -------------------------


@pytest.mark.parametrize("shape", ["1.x", "2.x", "3.x"])
def test_lag_of_each_checkpoint_in_every_single_stream_shape(
    shape: str, timed: Timed, ddb: Any, cli: Cli, moto_server: ServerProcess
) -> None:
    app = _name(f"app-{shape.replace('.', '')}")
    kcl.create_lease_table(ddb, app, v3=shape == "3.x")
    s0, s1, s2, s3 = timed.shards
    rec = timed.records
    leases = [
        # after r0: r1 is the oldest record not processed
        kcl.lease(
            s0,
            shape=shape,
            checkpoint=rec[s0][0][0],
            owner="worker-a",
            counter=7,
            switches=2,
            hash_range=timed.hash_ranges[s0],
            throughput=1.5,
        ),
        # after r1: r2 waits
        kcl.lease(s1, shape=shape, checkpoint=rec[s1][1][0], owner="worker-a", counter=3),
        # after r2, the last record: nothing waits
        kcl.lease(
            s2,
            shape=shape,
            checkpoint=rec[s2][2][0],
            owner="worker-b",
            counter=9,
            checkpoint_owner="worker-a",
        ),
        # nothing processed yet: r0 waits
        kcl.lease(s3, shape=shape, checkpoint="TRIM_HORIZON"),
    ]
    kcl.put_items(ddb, app, leases)
    if shape == "3.x":
        # Another entity in the same table (EntityType.LEADER_LOCK): no shard, no row.
        kcl.put_items(ddb, app, [{"leaseKey": {"S": "leader"}, "entityType": {"S": "LEADER"}}])

    result, before, after = run_lag(
        cli, moto_server, app, "--stream", timed.name, "--interval", "0", "-o", "ndjson"
    )

    assert result.returncode == 0, result.describe()
    rows = by_shard(result)
    assert sorted(rows) == timed.shards
    assert_lag(rows[s0], rec[s0][1][1], before, after)
    assert_lag(rows[s1], rec[s1][2][1], before, after)
    assert_lag(rows[s2], None, before, after)
    assert_lag(rows[s3], rec[s3][0][1], before, after)
    assert rows[s0] == {
        "app": app,
        "stream": timed.name,
        "shard": s0,
        "state": "active",
        "owner": "worker-a",
        "checkpoint": rec[s0][0][0],
        "subseq": 0,
        "lag_ms": rows[s0]["lag_ms"],
        "renewed": None,
        "owner_switches": 2,
        "parents": [],
    }
    assert [rows[s]["state"] for s in timed.shards] == ["active", "active", "active", "unowned"]
    assert rows[s2]["owner"] == "worker-b"
    # The summary line goes to stderr with NDJSON: workers, shares, worst lag.
    assert "2 workers (worker-a: 2 shards, worker-b: 1)" in result.stderr
    assert "worst lag" in result.stderr and s3 in result.stderr


def test_single_stream_table_without_stream_shows_leases_and_says_why_lag_is_unknown(
    timed: Timed, ddb: Any, cli: Cli, moto_server: ServerProcess
) -> None:
    app = _name("app-nostream")
    kcl.create_lease_table(ddb, app)
    s0 = timed.shards[0]
    kcl.put_items(ddb, app, [kcl.lease(s0, shape="2.x", checkpoint="TRIM_HORIZON", owner="w")])

    result, _, _ = run_lag(cli, moto_server, app, "--interval", "0", "-o", "ndjson")

    assert result.returncode == 0, result.describe()
    assert [(r["shard"], r["stream"], r["lag_ms"]) for r in result.records] == [(s0, None, None)]
    assert result.stderr.count("pass --stream NAME") == 1, result.stderr


# -- LATEST, AT_TIMESTAMP, multi-stream ---------------------------------------------------------


def test_latest_checkpoint_lag_is_null_with_its_reason_once(
    timed: Timed, ddb: Any, cli: Cli, moto_server: ServerProcess
) -> None:
    app = _name("app-latest")
    kcl.create_lease_table(ddb, app)
    s0, s1, s2, _ = timed.shards
    kcl.put_items(
        ddb,
        app,
        [
            kcl.lease(s0, shape="2.x", checkpoint="LATEST", owner="w"),
            kcl.lease(s1, shape="2.x", checkpoint="LATEST", owner="w"),
            kcl.lease(s2, shape="2.x", checkpoint="AT_TIMESTAMP", owner="w"),
        ],
    )

    result, _, _ = run_lag(
        cli, moto_server, app, "--stream", timed.name, "--interval", "0", "-o", "ndjson"
    )

    assert result.returncode == 0, result.describe()
    rows = by_shard(result)
    assert rows[s0]["lag_ms"] is None and rows[s1]["lag_ms"] is None and rows[s2]["lag_ms"] is None
    assert result.stderr.count("checkpoint LATEST") == 1, result.stderr
    assert f"lag unknown for {s0}, {s1}: checkpoint LATEST" in result.stderr
    assert result.stderr.count("checkpoint AT_TIMESTAMP") == 1, result.stderr
    # The shard without a lease is shown, unowned.
    s3 = timed.shards[3]
    assert rows[s3]["checkpoint"] is None and rows[s3]["state"] == "unowned"


def test_multi_stream_table_shows_each_stream_or_the_one_asked_for(
    timed: Timed, moto: Admin, ddb: Any, cli: Cli, moto_server: ServerProcess
) -> None:
    other = moto.create_stream(_name("lag-other"), shards=1)
    other_shard = moto.list_shards(other)[0]["ShardId"]
    app = _name("app-multi")
    kcl.create_lease_table(ddb, app)
    s0 = timed.shards[0]
    rec = timed.records[s0]
    kcl.put_items(
        ddb,
        app,
        [
            kcl.lease(s0, shape="multi", stream=timed.name, checkpoint=rec[0][0], owner="w-1"),
            kcl.lease(
                other_shard, shape="multi", stream=other, checkpoint="TRIM_HORIZON", owner="w-2"
            ),
        ],
    )

    result, before, after = run_lag(cli, moto_server, app, "--interval", "0", "-o", "ndjson")

    assert result.returncode == 0, result.describe()
    streams: dict[str, list[dict[str, Any]]] = {}
    for row in result.records:
        streams.setdefault(row["stream"], []).append(row)
    assert sorted(streams) == sorted([timed.name, other])
    # every shard of each stream, leased or not
    assert sorted(r["shard"] for r in streams[timed.name]) == timed.shards
    first = next(r for r in streams[timed.name] if r["shard"] == s0)
    assert_lag(first, rec[1][1], before, after)
    assert [(r["shard"], r["owner"], r["lag_ms"]) for r in streams[other]] == [
        (other_shard, "w-2", 0)
    ]

    only, _, _ = run_lag(
        cli, moto_server, app, "--stream", other, "--interval", "0", "-o", "ndjson"
    )
    assert only.returncode == 0, only.describe()
    assert [(r["stream"], r["shard"]) for r in only.records] == [(other, other_shard)]
