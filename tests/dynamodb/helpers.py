"""Helpers for the DynamoDB Streams tests: tables, what boto3 returns, expected NDJSON, the CLI."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from typer.testing import CliRunner, Result

from streamtail.cli import app

ACCOUNT = "123456789012"
REGION = "us-east-1"
#: the one notice a time position prints on a source without AT_TIMESTAMP
NO_TIMESTAMP_NOTICE = (
    "streamtail: warning: this stream has no AT_TIMESTAMP: reading from the trim horizon and "
    "skipping records older than --from"
)


def create_table(
    ddb: Any,
    name: str,
    view: str | None = "NEW_AND_OLD_IMAGES",
    *,
    range_key: bool = False,
) -> str | None:
    """A table keyed `pk` (S) [+ `sk` (N)], with a stream of `view` (None: no stream).

    Returns the stream ARN, or None without a stream.
    """
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attrs.append({"AttributeName": "sk", "AttributeType": "N"})
    args: dict[str, Any] = {
        "TableName": name,
        "KeySchema": schema,
        "AttributeDefinitions": attrs,
        "BillingMode": "PAY_PER_REQUEST",
    }
    if view is not None:
        args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
    table = ddb.create_table(**args)["TableDescription"]
    return table.get("LatestStreamArn")


def shard_of(streams: Any, arn: str) -> str:
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    assert len(shards) == 1  # moto: one shard per table
    return str(shards[0]["ShardId"])


def api_records(streams: Any, arn: str) -> list[dict[str, Any]]:
    """Every record of the table's stream, as boto3 returns it (the source of variable parts)."""
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_of(streams, arn), ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict[str, Any]] = []
    while True:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        records.extend(page["Records"])
        if not page["Records"]:
            return records
        iterator = page["NextShardIterator"]


def iso_ms(moment: datetime) -> str:
    """A datetime as the NDJSON `ts` field writes it: UTC, milliseconds, `Z`."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


class JsonText(str):
    """JSON text written into an expected line as is (exact digits a Python value cannot hold)."""

    __slots__ = ()


def _json(value: Any) -> str:
    if isinstance(value, JsonText):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def change_line(
    record: Mapping[str, Any],
    *,
    stream: str,
    table: str | None,
    keys: Any,
    new: Any = None,
    old: Any = None,
    ttl: bool = False,
) -> str:
    """The exact NDJSON line docs/CONTRACT.md promises for one change, variable parts from `record`.

    Keys in contract order (stream, table, shard, seq, id, ts, event, keys, new, old, ttl); keys
    whose value is absent are left out.
    """
    body = record["dynamodb"]
    fields: list[tuple[str, Any]] = [("stream", stream)]
    if table is not None:
        fields.append(("table", table))
    fields += [
        ("shard", record["_shard"]),
        ("seq", body["SequenceNumber"]),
        ("id", record["eventID"]),
        ("ts", iso_ms(body["ApproximateCreationDateTime"])),
        ("event", record["eventName"]),
        ("keys", keys),
    ]
    if new is not None:
        fields.append(("new", new))
    if old is not None:
        fields.append(("old", old))
    if ttl:
        fields.append(("ttl", True))
    return "{" + ",".join(f"{_json(k)}:{_json(v)}" for k, v in fields) + "}"


def with_shard(records: list[dict[str, Any]], shard: str) -> list[dict[str, Any]]:
    """The records with `_shard` set (a stream record does not name its shard)."""
    return [{**r, "_shard": shard} for r in records]


def cli(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
    """`streamtail ARGS` through Typer's CliRunner (Typer 0.29 vendors Click; its Result keeps
    stdout and stderr apart)."""
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def explain(result: Result) -> str:
    return f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


class ChangeClock:
    """Stands in for moto's clock: `current` (aware) stamps the next changes; None: real time."""

    def __init__(self) -> None:
        self.current: datetime | None = None

    def __call__(self) -> datetime:
        moment = self.current or datetime.now(UTC)
        return moment.astimezone(UTC).replace(tzinfo=None)  # moto works in naive UTC
