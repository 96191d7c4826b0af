"""`--checkpoint FILE` is bound to one stream, not to a name: a stream deleted and created again
under the same name, or the same name in another region, is refused with exit 2 and one line
that says how to start over; a file written before identities were kept still loads.

Through the CLI on moto in-process (DescribeStreamSummary gives StreamARN and
StreamCreationTimestamp, as AWS does: moto/kinesis/models.py, Stream.to_json_summary).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from .conftest import ArrivalClock
from .test_cli import (
    assert_usage_error,
    by_shard,
    orders_table,  # noqa: F401  (a fixture)
    run,
)

ACCOUNT = "123456789012"  # moto's default account


def test_the_file_holds_the_streams_identity(orders: Any, tmp_path: Path) -> None:
    path = tmp_path / "cp"
    assert run("read", "orders", "--checkpoint", str(path), "-n", "1").exit_code == 0
    assert json.loads(path.read_text())["stream"]["identity"] == {
        "account": ACCOUNT,
        "region": "us-east-1",
        "name": "orders",
        "created": _created(orders),
    }


def test_a_stream_created_again_under_the_same_name_is_refused(
    orders: Any, arrival_clock: ArrivalClock, tmp_path: Path
) -> None:
    path = tmp_path / "cp"
    assert run("read", "orders", "--checkpoint", str(path), "-n", "2").exit_code == 0
    before = path.read_bytes()
    old = json.loads(before)["stream"]["identity"]["created"]
    orders.delete_stream(StreamName="orders")
    arrival_clock.current += timedelta(minutes=5)  # moto stamps creation with the same clock
    orders.create_stream(StreamName="orders", ShardCount=2)
    new = _created(orders)
    assert new != old
    result = run("read", "orders", "--checkpoint", str(path))
    assert_usage_error(
        result,
        f"checkpoint file {path} belongs to another stream named orders (created {old}; this "
        f"one: created {new}): its positions mean nothing here; to start over, remove {path} "
        "or give another --checkpoint file",
    )
    assert path.read_bytes() == before  # left alone
    path.unlink()
    again = run("read", "orders", "--checkpoint", str(path))  # starting over works
    assert again.exit_code == 0, again


def test_the_same_name_in_another_region_is_refused(orders: Any, tmp_path: Path) -> None:
    boto3.client("kinesis", region_name="eu-west-1").create_stream(
        StreamName="orders", ShardCount=1
    )
    path = tmp_path / "cp"
    assert run("read", "orders", "--checkpoint", str(path), "-n", "1").exit_code == 0
    result = run("read", "orders", "--region", "eu-west-1", "--checkpoint", str(path))
    assert result.exit_code == 2, result
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"streamtail: error: checkpoint file {path} belongs to another stream")
    assert "region us-east-1" in line and "region eu-west-1" in line
    assert line.endswith(f"to start over, remove {path} or give another --checkpoint file")


def test_a_file_written_before_identities_were_kept_still_loads(
    orders: Any, tmp_path: Path
) -> None:
    path = tmp_path / "cp"
    first = run("read", "orders", "--checkpoint", str(path), "-n", "2")
    assert first.exit_code == 0, first
    old = json.loads(path.read_text())
    del old["stream"]["identity"]  # as streamtail wrote it before
    path.write_text(json.dumps(old))
    rest = run("read", "orders", "--checkpoint", str(path))
    assert rest.exit_code == 0, rest
    assert rest.stderr == ""
    assert by_shard(first.stdout + rest.stdout) == by_shard(run("read", "orders").stdout)
    assert json.loads(path.read_text())["stream"]["identity"]["created"] == _created(orders)


def _created(client: Any) -> str:
    """The stream's StreamCreationTimestamp as the checkpoint writes it."""
    from streamtail.positions import format_ts
    from streamtail.sources.base import epoch_ms

    summary = client.describe_stream_summary(StreamName="orders")["StreamDescriptionSummary"]
    return format_ts(epoch_ms(summary["StreamCreationTimestamp"]))


def test_a_dynamodb_table_created_again_is_refused(
    orders_table: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A table's stream is told apart by its ARN, whose label is the time the stream began."""
    path = tmp_path / "cp"
    assert run("read", "ddb:Orders", "--checkpoint", str(path), "-n", "1").exit_code == 0
    old_arn = orders_table.describe_table(TableName="Orders")["Table"]["LatestStreamArn"]
    assert json.loads(path.read_text())["stream"]["identity"] == {
        "arn": old_arn,
        "label": old_arn.rpartition("/stream/")[2],
    }
    schema = orders_table.describe_table(TableName="Orders")["Table"]
    orders_table.delete_table(TableName="Orders")
    orders_table.create_table(
        TableName="Orders",
        KeySchema=schema["KeySchema"],
        AttributeDefinitions=schema["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    new_arn = orders_table.describe_table(TableName="Orders")["Table"]["LatestStreamArn"]
    assert new_arn != old_arn
    assert_usage_error(
        run("read", "ddb:Orders", "--checkpoint", str(path)),
        f"checkpoint file {path} belongs to stream {old_arn}, not {new_arn}: to start over, "
        f"remove {path} or give another --checkpoint file",
    )


def test_without_permission_to_describe_the_stream_it_is_checked_by_name(
    orders: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An IAM policy with the read calls but not kinesis:DescribeStreamSummary: a warning, and
    the checkpoint works as before (moto does not enforce IAM: the denial is staged as botocore
    raises it, through streamtail's own translation of it)."""
    from botocore.exceptions import ClientError

    from streamtail.aws import call
    from streamtail.sources.kinesis import KinesisSource

    def denied(**kwargs: Any) -> Any:
        error = {"Code": "AccessDeniedException", "Message": "not authorized"}
        raise ClientError({"Error": error}, "DescribeStreamSummary")

    def identity(self: KinesisSource) -> dict[str, str]:
        return call("stream 'orders'", denied)  # type: ignore[no-any-return]

    monkeypatch.setattr(KinesisSource, "identity", identity)
    path = tmp_path / "cp"
    result = run("read", "orders", "--checkpoint", str(path), "-n", "1")
    assert result.exit_code == 0, result
    (line,) = result.stderr.splitlines()
    assert line.startswith(
        "streamtail: warning: checkpoint checked by the stream's name only: its identity is "
        "unknown ("
    )
    assert "identity" not in json.loads(path.read_text())["stream"]
