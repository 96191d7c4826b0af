"""`streamtail lag APP` against moto's server: lease tables as KCL writes them (kcl_tables.py
cites the serializers), checkpoints at known records, exact lag, states, liveness, exit codes.

Lag truth: a record's own ApproximateArrivalTimestamp (ApproximateCreationDateTime on DynamoDB
Streams) subtracted from the moment the command ran; the records of the timed stream arrive two
seconds apart, so a lag measured at the wrong record is off by two seconds, beyond the one-second
tolerance.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from . import kcl_tables as kcl
from .servers import (
    Admin,
    Cli,
    Result,
    ServerProcess,
    partition_key_for,
    service_client,
    wait_until,
)

pytestmark = pytest.mark.server

GAP = 2.0
TOLERANCE_MS = 1000


@pytest.fixture
def ddb(moto_server: ServerProcess) -> Iterator[Any]:
    """DynamoDB on the session's moto server; the tables the test creates are deleted after it
    (the server is shared: tests/ux completes every table name it holds)."""
    client = service_client(moto_server, "dynamodb")

    def tables() -> set[str]:
        pages = client.get_paginator("list_tables").paginate()
        return {name for page in pages for name in page["TableNames"]}

    before = tables()
    yield client
    for name in sorted(tables() - before):
        client.delete_table(TableName=name)


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


# -- a split stream: finished parents, waiting children, shards without a lease -----------------


@dataclass
class Split:
    name: str
    parent: str
    children: list[str]
    #: the parent's records (seq, arrival), put before the split
    records: list[tuple[str, float]]


@pytest.fixture
def split(moto: Admin) -> Split:
    name = moto.create_stream(_name("lag-split"), shards=1)
    moto.put_raw(name, [("k", b"a"), ("k", b"b")])
    shard = moto.list_shards(name)[0]
    records = [
        (r["SequenceNumber"], r["ApproximateArrivalTimestamp"].timestamp())
        for r in moto.shard_records(name, shard["ShardId"])
    ]
    moto.split(name, shard)
    children = sorted(
        s["ShardId"] for s in moto.list_shards(name) if s["ShardId"] != shard["ShardId"]
    )
    assert len(children) == 2
    return Split(name, shard["ShardId"], children, records)


def test_split_stream_parent_in_progress_children_wait(
    split: Split, ddb: Any, cli: Cli, moto_server: ServerProcess
) -> None:
    app = _name("app-split-a")
    kcl.create_lease_table(ddb, app)
    left, right = split.children
    kcl.put_items(
        ddb,
        app,
        [
            kcl.lease(
                split.parent,
                shape="2.x",
                checkpoint=split.records[0][0],
                owner="w-1",
                children=split.children,
            ),
            # KCL 1.x takes child leases before their parents end: they wait.
            kcl.lease(
                left, shape="1.x", checkpoint="TRIM_HORIZON", owner="w-2", parents=[split.parent]
            ),
        ],
    )

    result, before, after = run_lag(
        cli, moto_server, app, "--stream", split.name, "--interval", "0", "-o", "ndjson"
    )

    assert result.returncode == 0, result.describe()
    rows = result.records
    # parents before children
    assert [r["shard"] for r in rows] == [split.parent, left, right]
    parent, first, second = rows
    assert parent["state"] == "active"
    assert_lag(parent, split.records[1][1], before, after)
    assert (first["state"], first["owner"], first["parents"]) == ("waiting", "w-2", [split.parent])
    # the right child has no lease yet: shown, waiting for its parent, its parents from the listing
    assert (second["state"], second["checkpoint"], second["owner"], second["parents"]) == (
        "waiting",
        None,
        None,
        [split.parent],
    )


def test_split_stream_parent_finished_children_run(
    split: Split, ddb: Any, cli: Cli, moto_server: ServerProcess
) -> None:
    app = _name("app-split-b")
    kcl.create_lease_table(ddb, app)
    left, right = split.children
    kcl.put_items(
        ddb,
        app,
        [
            kcl.lease(split.parent, shape="2.x", checkpoint="SHARD_END", owner="w-1"),
            kcl.lease(
                left, shape="2.x", checkpoint="TRIM_HORIZON", owner="w-2", parents=[split.parent]
            ),
        ],
    )

    result, _, _ = run_lag(
        cli, moto_server, app, "--stream", split.name, "--interval", "0", "-o", "ndjson"
    )

    assert result.returncode == 0, result.describe()
    rows = by_shard(result)
    assert (rows[split.parent]["state"], rows[split.parent]["lag_ms"]) == ("finished", 0)
    assert (rows[left]["state"], rows[left]["lag_ms"]) == ("active", 0)  # no record in it
    assert (rows[right]["state"], rows[right]["checkpoint"]) == ("unowned", None)


def test_parent_whose_lease_was_cleaned_up_is_finished(
    split: Split, ddb: Any, cli: Cli, moto_server: ServerProcess
) -> None:
    # KCL deletes a finished parent's lease once its children have leases (LeaseCleanupManager).
    app = _name("app-split-c")
    kcl.create_lease_table(ddb, app)
    kcl.put_items(
        ddb,
        app,
        [
            kcl.lease(
                child, shape="2.x", checkpoint="TRIM_HORIZON", owner="w", parents=[split.parent]
            )
            for child in split.children
        ],
    )

    result, _, _ = run_lag(
        cli, moto_server, app, "--stream", split.name, "--interval", "0", "-o", "ndjson"
    )

    assert result.returncode == 0, result.describe()
    assert [(r["shard"], r["state"], r["lag_ms"]) for r in result.records] == [
        (split.parent, "finished", 0),
        (split.children[0], "active", 0),
        (split.children[1], "active", 0),
    ]


# -- liveness and --max-lag -----------------------------------------------------------------------


class Renewer:
    """A live worker: renews its lease every 0.3 s while the test runs streamtail."""

    def __init__(self, ddb: Any, table: str, key: str) -> None:
        self.stop = threading.Event()
        self.renewals = 0

        def loop() -> None:
            while not self.stop.wait(0.3):
                kcl.renew(ddb, table, key)
                self.renewals += 1

        self.thread = threading.Thread(target=loop, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)


def test_stuck_worker_is_seen_after_one_interval_and_fails_max_lag(
    timed: Timed, ddb: Any, cli: Cli, moto_server: ServerProcess
) -> None:
    app = _name("app-stuck")
    kcl.create_lease_table(ddb, app)
    s0, s1, s2, s3 = timed.shards
    tip = {s: timed.records[s][2][0] for s in timed.shards}
    kcl.put_items(
        ddb,
        app,
        [
            kcl.lease(s0, shape="2.x", checkpoint=tip[s0], owner="live", counter=10),
            kcl.lease(s1, shape="2.x", checkpoint=tip[s1], owner="stuck", counter=4),
            kcl.lease(s2, shape="2.x", checkpoint="SHARD_END", owner="stuck", counter=4),
            kcl.lease(s3, shape="2.x", checkpoint=tip[s3], counter=2),  # nobody holds it
        ],
    )
    renewer = Renewer(ddb, app, s0)
    try:
        result, _, _ = run_lag(
            cli,
            moto_server,
            app,
            "--stream",
            timed.name,
            "--interval",
            "2s",
            "--max-lag",
            "1h",
            "-o",
            "ndjson",
        )
    finally:
        renewer.close()

    assert renewer.renewals >= 2
    assert result.returncode == 1, result.describe()
    rows = by_shard(result)
    assert [(rows[s]["state"], rows[s]["renewed"]) for s in timed.shards] == [
        ("active", True),
        ("active", False),
        ("finished", None),
        ("unowned", False),
    ]
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert errors == [f"streamtail: error: --max-lag: 2 shards nobody renews ({s1}, {s3})"], (
        result.stderr
    )


def test_max_lag_exits_1_exactly_when_a_shard_is_further_behind(
    timed: Timed, ddb: Any, cli: Cli, moto_server: ServerProcess
) -> None:
    app = _name("app-maxlag")
    kcl.create_lease_table(ddb, app)
    s0, s1, s2, s3 = timed.shards
    rec = timed.records
    kcl.put_items(
        ddb,
        app,
        [
            kcl.lease(s0, shape="2.x", checkpoint=rec[s0][0][0], owner="w"),  # r1 waits
            kcl.lease(s1, shape="2.x", checkpoint=rec[s1][2][0], owner="w"),
            kcl.lease(s2, shape="2.x", checkpoint=rec[s2][2][0], owner="w"),
            kcl.lease(s3, shape="2.x", checkpoint=rec[s3][2][0], owner="w"),
        ],
    )
    waited_s = time.time() - rec[s0][1][1]
    assert waited_s > GAP - 0.5

    calm, _, _ = run_lag(
        cli, moto_server, app, "--stream", timed.name, "--interval", "0", "--max-lag", "1h"
    )
    assert calm.returncode == 0, calm.describe()
    assert "error" not in calm.stderr

    behind, _, _ = run_lag(
        cli, moto_server, app, "--stream", timed.name, "--interval", "0", "--max-lag", "1s"
    )
    assert behind.returncode == 1, behind.describe()
    assert f"1 shard behind more than 1s (worst {s0}:" in behind.stderr
    # the rows are printed before the exit status says what is wrong
    assert len(behind.records) == 4

    # live and caught up, with an interval: exit 0
    kcl.put_items(ddb, app, [kcl.lease(s0, shape="2.x", checkpoint=rec[s0][2][0], owner="w")])
    renewers = [Renewer(ddb, app, s) for s in timed.shards]
    try:
        live, _, _ = run_lag(
            cli, moto_server, app, "--stream", timed.name, "--interval", "2s", "--max-lag", "1s"
        )
    finally:
        for renewer in renewers:
            renewer.close()
    assert live.returncode == 0, live.describe()
    assert [r["renewed"] for r in live.records] == [True] * 4


# -- DynamoDB Streams (the Kinesis adapter's KCL 1.x table) ---------------------------------------


def test_dynamodb_streams_app(ddb: Any, cli: Cli, moto_server: ServerProcess) -> None:
    table = _name("lag-ddb")
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    moment = time.time() + GAP
    wait_until(lambda: time.time() >= moment, timeout=GAP + 5, what="the gap")
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}})
    streams = service_client(moto_server, "dynamodbstreams")
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert len(records) == 2
    (seq_a, _), (_, created_b) = [
        (r["dynamodb"]["SequenceNumber"], r["dynamodb"]["ApproximateCreationDateTime"].timestamp())
        for r in records
    ]
    app = _name("app-ddb")
    kcl.create_lease_table(ddb, app)
    kcl.put_items(ddb, app, [kcl.lease(shard, shape="1.x", checkpoint=seq_a, owner="adapter")])

    result, before, after = run_lag(
        cli, moto_server, app, "--stream", f"ddb:{table}", "--interval", "0", "-o", "ndjson"
    )

    assert result.returncode == 0, result.describe()
    [row] = result.records
    assert (row["stream"], row["shard"], row["state"]) == (f"ddb:{table}", shard, "active")
    assert_lag(row, created_b, before, after)


# -- the wrong table, a missing table, and nothing written ---------------------------------------


def test_not_a_lease_table_is_exit_2_with_one_line(
    ddb: Any, cli: Cli, moto_server: ServerProcess
) -> None:
    table = _name("not-leases")
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    result, _, _ = run_lag(cli, moto_server, table, "--interval", "0")
    assert result.returncode == 2, result.describe()
    assert result.stderr.splitlines() == [
        f"streamtail: error: table '{table}' is not a KCL lease table (its key is id (HASH), "
        "not leaseKey)"
    ]
    assert result.stdout == ""


def test_missing_table_is_exit_3_with_one_line(cli: Cli, moto_server: ServerProcess) -> None:
    result, _, _ = run_lag(cli, moto_server, "no-such-app", "--interval", "0")
    assert result.returncode == 3, result.describe()
    assert result.stderr.splitlines() == [
        "streamtail: error: lease table 'no-such-app' not found (--table NAME names another)"
    ]


def test_table_option_empty_table_and_missing_stream(
    timed: Timed, ddb: Any, cli: Cli, moto_server: ServerProcess
) -> None:
    table = _name("leases-of-app")
    kcl.create_lease_table(ddb, table)

    # no lease yet: every shard of the stream is shown, unowned
    result, _, _ = run_lag(
        cli, moto_server, "my-app", "--table", table, "--stream", timed.name, "--interval", "0",
        "-o", "ndjson",
    )  # fmt: skip
    assert result.returncode == 0, result.describe()
    assert [(r["app"], r["shard"], r["state"]) for r in result.records] == [
        ("my-app", shard, "unowned") for shard in timed.shards
    ]
    assert "the lease table holds no lease" in result.stderr

    missing, _, _ = run_lag(
        cli, moto_server, "my-app", "--table", table, "--stream", "no-such-stream",
        "--interval", "0",
    )  # fmt: skip
    assert missing.returncode == 3, missing.describe()
    assert "no-such-stream" in missing.stderr and "not found" in missing.stderr


READ_ONLY = {
    "dynamodb.DescribeTable",
    "dynamodb.Scan",
    "kinesis.ListShards",
    "kinesis.GetShardIterator",
    "kinesis.GetRecords",
}


def test_nothing_is_written_to_the_lease_table(
    timed: Timed, ddb: Any, cli: Cli, moto_server: ServerProcess
) -> None:
    app = _name("app-readonly")
    kcl.create_lease_table(ddb, app)
    s0 = timed.shards[0]
    kcl.put_items(
        ddb, app, [kcl.lease(s0, shape="2.x", checkpoint=timed.records[s0][0][0], owner="w")]
    )
    table_before = kcl.scan_all(ddb, app)

    # --debug logs every request streamtail sends (`streamtail: debug: → Operation METHOD URL`)
    result, _, _ = run_lag(
        cli,
        moto_server,
        "--debug",
        app,
        "--stream",
        timed.name,
        "--interval",
        "1s",
        "-o",
        "ndjson",
    )

    assert result.returncode == 0, result.describe()
    prefix = "streamtail: debug: → "
    sent = [
        line.removeprefix(prefix).split()[0]
        for line in result.stderr.splitlines()
        if line.startswith(prefix)
    ]
    # the table read twice (--interval), the checkpoint's lag measured
    assert sent.count("dynamodb.Scan") == 2 and "kinesis.GetRecords" in sent, sent
    assert set(sent) <= READ_ONLY, sent
    assert kcl.scan_all(ddb, app) == table_before


# -- --watch on a terminal -------------------------------------------------------------------------


def test_watch_redraws_on_a_terminal_until_ctrl_c(
    timed: Timed, ddb: Any, cli: Cli, moto_server: ServerProcess
) -> None:
    import os
    import pty
    import signal
    import subprocess

    app = _name("app-watch")
    kcl.create_lease_table(ddb, app)
    s0 = timed.shards[0]
    kcl.put_items(ddb, app, [kcl.lease(s0, shape="2.x", checkpoint="SHARD_END", owner="w")])
    master, slave = pty.openpty()
    argv = cli.argv(
        ["lag", app, "--stream", timed.name, "--watch", "--interval", "0.5s"], moto_server.endpoint
    )
    proc = subprocess.Popen(
        argv, env=cli.env, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE
    )
    os.close(slave)
    seen = bytearray()
    clear = b"\x1b[H\x1b[2J"

    def frames() -> bool:
        try:
            seen.extend(os.read(master, 65536))
        except OSError:  # EIO: streamtail is gone
            assert proc.stderr is not None
            raise AssertionError(f"exit {proc.wait()}: {proc.stderr.read()!r}") from None
        return seen.count(clear) >= 3

    try:
        wait_until(frames, timeout=60, interval=0, what="three frames of --watch")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)
    # every frame is the whole table (the last one may still be arriving)
    for frame in bytes(seen).split(clear)[1:-1]:
        text = frame.decode()
        assert "SHARD" in text and s0 in text and "finished" in text, text
        assert "worst lag" in text


# -- a checkpoint inside a KPL aggregate -----------------------------------------------------------


def test_checkpoint_inside_a_kpl_aggregate(
    moto: Admin, ddb: Any, cli: Cli, moto_server: ServerProcess
) -> None:
    from tests.unit.kplbuild import aggregate

    name = moto.create_stream(_name("lag-kpl"), shards=2)
    shards = sorted(moto.list_shards(name), key=lambda s: s["ShardId"])
    keys = [
        partition_key_for(
            int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]), "k"
        )
        for s in shards
    ]
    blob = aggregate([("u1", b"one"), ("u2", b"two"), ("u3", b"three")])
    moto.put_raw(name, [(key, blob) for key in keys])
    moment = time.time() + GAP
    wait_until(lambda: time.time() >= moment, timeout=GAP + 5, what="the gap")
    moto.put_raw(name, [(key, b"next") for key in keys])
    (first, second) = [s["ShardId"] for s in shards]
    held = {sid: moto.shard_records(name, sid) for sid in (first, second)}
    arrivals = {
        sid: [(r["SequenceNumber"], r["ApproximateArrivalTimestamp"].timestamp()) for r in rs]
        for sid, rs in held.items()
    }
    app = _name("app-kpl")
    kcl.create_lease_table(ddb, app)
    kcl.put_items(
        ddb,
        app,
        [
            # user record 1 of 0..2 done: user record 2 of the aggregate waits
            kcl.lease(first, shape="2.x", checkpoint=arrivals[first][0][0], subseq=1, owner="w"),
            # the aggregate's last user record done: the next record waits
            kcl.lease(second, shape="2.x", checkpoint=arrivals[second][0][0], subseq=2, owner="w"),
        ],
    )

    result, before, after = run_lag(
        cli, moto_server, app, "--stream", name, "--interval", "0", "-o", "ndjson"
    )

    assert result.returncode == 0, result.describe()
    rows = by_shard(result)
    assert (rows[first]["subseq"], rows[second]["subseq"]) == (1, 2)
    assert_lag(rows[first], arrivals[first][0][1], before, after)
    assert_lag(rows[second], arrivals[second][1][1], before, after)
