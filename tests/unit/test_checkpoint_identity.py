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

from .conftest import ArrivalClock
from .test_cli import assert_usage_error, by_shard, run

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
