"""Naming a table's stream (ddb:, dynamodb:, stream ARN), the errors when it is missing or has no
stream, `ls` and `shards` for DynamoDB, `-o raw`, --grep and --key (moto in-process)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .helpers import cli, create_table, explain, shard_of


@pytest.fixture
def orders(ddb: Any) -> str:
    """Table `Orders` with a NEW_AND_OLD_IMAGES stream and three changes; its stream ARN."""
    arn = create_table(ddb, "Orders")
    assert arn is not None
    ddb.put_item(TableName="Orders", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    ddb.put_item(TableName="Orders", Item={"pk": {"S": "a"}, "n": {"N": "2"}})
    ddb.delete_item(TableName="Orders", Key={"pk": {"S": "a"}})
    return arn


def test_missing_table_exits_3_with_one_line_and_a_hint(aws: None) -> None:
    result = cli("read", "ddb:Missing")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr == (
        "streamtail: error: DynamoDB table 'Missing' not found\n"
        "streamtail: hint: `streamtail ls` lists tables with streams\n"
    )


@pytest.mark.parametrize("command", ["follow", "shards"])
def test_missing_table_exits_3_for_other_commands(aws: None, command: str) -> None:
    result = cli(command, "ddb:Missing")
    assert result.exit_code == 3, explain(result)
    assert result.stderr.splitlines()[0] == "streamtail: error: DynamoDB table 'Missing' not found"


def test_table_without_a_stream_is_a_usage_error(ddb: Any) -> None:
    create_table(ddb, "Plain", view=None)
    result = cli("read", "ddb:Plain")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "streamtail: error: DynamoDB table 'Plain' has no stream enabled"
    assert lines[1].startswith("streamtail: hint: aws dynamodb update-table --table-name Plain ")
    assert len(lines) == 2


def test_every_name_form_reads_the_same_as_ddb_table(orders: str) -> None:
    reference = cli("read", "ddb:Orders")
    assert reference.exit_code == 0, explain(reference)
    assert len(reference.stdout.splitlines()) == 3
    for form in (orders, "dynamodb:Orders", "DDB:Orders", "DynamoDB:Orders"):
        result = cli("read", form)
        assert result.exit_code == 0, f"{form}: {explain(result)}"
        assert result.stdout == reference.stdout, form
        assert result.stderr == "", form


def test_stream_arn_of_a_missing_table_exits_3(aws: None) -> None:
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/Missing/stream/2026-01-01T00:00:00.000"
    result = cli("read", arn)
    assert result.exit_code == 3, explain(result)
    assert result.stderr.startswith("streamtail: error: stream of table 'Missing' not found")


def test_stream_arn_in_another_region_is_read_there(ddb: Any) -> None:
    import boto3

    # model.StreamRef.region: "a region taken from an ARN, used unless --region says otherwise".
    west = boto3.client("dynamodb", region_name="eu-west-1")
    arn = create_table(west, "Orders")
    assert arn is not None
    assert ":eu-west-1:" in arn
    west.put_item(TableName="Orders", Item={"pk": {"S": "a"}})
    result = cli("read", arn)  # AWS_DEFAULT_REGION is us-east-1
    assert result.exit_code == 0, explain(result)
    assert [json.loads(line)["event"] for line in result.stdout.splitlines()] == ["INSERT"]


def test_ls_lists_the_table_stream_next_to_kinesis_streams(ddb: Any) -> None:
    import boto3

    kinesis = boto3.client("kinesis", region_name="us-east-1")
    kinesis.create_stream(StreamName="clicks", ShardCount=2)
    arn = create_table(ddb, "Orders", "NEW_IMAGE")
    create_table(ddb, "Plain", view=None)
    result = cli("ls", "-o", "ndjson")
    assert result.exit_code == 0, explain(result)
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    summary = kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"]
    assert rows == [
        {
            "kind": "kinesis",
            "stream": "clicks",
            "status": "ACTIVE",
            "shards": 2,
            "retention_hours": summary["RetentionPeriodHours"],
            "mode": summary["StreamModeDetails"]["StreamMode"],
            "arn": summary["StreamARN"],
        },
        {
            "kind": "dynamodb",
            "stream": "ddb:Orders",
            "status": "ENABLED",
            "view": "NEW_IMAGE",
            "arn": arn,
        },
    ]


def test_shards_shows_the_table_stream_shard(orders: str, streams: Any) -> None:
    shard = shard_of(streams, orders)
    start = streams.describe_stream(StreamArn=orders)["StreamDescription"]["Shards"][0][
        "SequenceNumberRange"
    ]["StartingSequenceNumber"]
    for name in ("ddb:Orders", orders):
        result = cli("shards", name, "-o", "ndjson")
        assert result.exit_code == 0, explain(result)
        assert result.stdout.splitlines() == [
            json.dumps(
                {
                    "stream": orders,
                    "shard": shard,
                    "state": "open",
                    "children": [],
                    "start_seq": start,
                },
                separators=(",", ":"),
            )
        ]


def test_output_raw_writes_each_change_as_one_json_line(orders: str) -> None:
    result = cli("read", "ddb:Orders", "-o", "raw")
    assert result.exit_code == 0, explain(result)
    assert result.stdout.splitlines() == [
        '{"keys":{"pk":"a"},"new":{"pk":"a","n":1},"old":null}',
        '{"keys":{"pk":"a"},"new":{"pk":"a","n":2},"old":{"pk":"a","n":1}}',
        '{"keys":{"pk":"a"},"new":null,"old":{"pk":"a","n":2}}',
    ]


def test_grep_matches_the_change_and_key_is_refused(orders: str) -> None:
    grep = cli("read", "ddb:Orders", "--grep", '"n":2')
    assert grep.exit_code == 0, explain(grep)
    assert [json.loads(line)["event"] for line in grep.stdout.splitlines()] == [
        "MODIFY",
        "REMOVE",
    ]
    key = cli("read", "ddb:Orders", "--key", "a")
    assert key.exit_code == 2
    assert key.stdout == ""
    assert key.stderr == (
        "streamtail: error: --key applies to Kinesis streams only\n"
        "streamtail: hint: use --grep to match DynamoDB keys\n"
    )
