"""`lag --stream` through the CLI on moto in-process: a stream the leases cannot be of is refused
with one line (exit 2) before any shard is listed or measured."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.integration import kcl_tables as kcl
from tests.unit.helpers import run_cli

KINESIS_SHARD = "shardId-000000000000"
#: the form of a DynamoDB Streams shard id (moto's own, dynamodb/models/table.py)
DDB_SHARD = "shardId-00000001541626099285-f35f62ef"


@pytest.fixture
def ddb(kinesis: Any) -> Any:
    return boto3.client("dynamodb", region_name="us-east-1")


def _app(ddb: Any, name: str, leases: list[dict[str, Any]]) -> None:
    kcl.create_lease_table(ddb, name)
    kcl.put_items(ddb, name, leases)


def test_a_stream_a_multi_stream_app_does_not_read_is_refused(kinesis: Any, ddb: Any) -> None:
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    _app(
        ddb,
        "multi",
        [
            kcl.lease(KINESIS_SHARD, shape="multi", stream=name, checkpoint="TRIM_HORIZON")
            for name in ("orders", "payments")
        ],
    )
    result = run_cli("lag", "multi", "--stream", "ordres", "--interval", "0")
    assert (result.code, result.stdout) == (2, b"")
    assert result.stderr.splitlines() == [
        "streamtail: error: --stream ordres matches no lease of multi: it reads orders, payments",
        "streamtail: hint: give one of those streams, or leave --stream out to see them all",
    ]
    # the one it reads is shown
    result = run_cli("lag", "multi", "--stream", "orders", "--interval", "0", "-o", "ndjson")
    assert result.code == 0, result.stderr
    assert [line.count('"stream":"orders"') for line in result.lines] == [1]


def test_a_dynamodb_stream_for_a_kinesis_app_is_refused(kinesis: Any, ddb: Any) -> None:
    _app(ddb, "kapp", [kcl.lease(KINESIS_SHARD, shape="2.x", checkpoint="TRIM_HORIZON")])
    result = run_cli("lag", "kapp", "--stream", "ddb:Orders", "--interval", "0")
    assert (result.code, result.stdout) == (2, b"")
    assert result.stderr == (
        "streamtail: error: --stream ddb:Orders is a DynamoDB stream, but the leases of kapp are "
        f"of Kinesis shards ({KINESIS_SHARD}): give the Kinesis stream it reads\n"
    )


def test_a_kinesis_stream_for_a_dynamodb_streams_app_is_refused(kinesis: Any, ddb: Any) -> None:
    _app(ddb, "dapp", [kcl.lease(DDB_SHARD, shape="1.x", checkpoint="TRIM_HORIZON")])
    result = run_cli("lag", "dapp", "--stream", "orders", "--interval", "0")
    assert (result.code, result.stdout) == (2, b"")
    assert result.stderr == (
        "streamtail: error: --stream orders is a Kinesis stream, but the leases of dapp are of "
        f"DynamoDB Streams shards ({DDB_SHARD}): give ddb:TABLE or the stream ARN\n"
    )
