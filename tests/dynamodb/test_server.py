"""`python -m streamtail` against moto's real HTTP server: the whole path over the wire (the lean
GetRecords parser included), as a user runs it."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from .helpers import (
    REGION,
    JsonText,
    api_records,
    change_line,
    create_table,
    shard_of,
    with_shard,
)

pytestmark = pytest.mark.server


def _clients(url: str) -> tuple[Any, Any]:
    import boto3

    return (
        boto3.client("dynamodb", region_name=REGION, endpoint_url=url),
        boto3.client("dynamodbstreams", region_name=REGION, endpoint_url=url),
    )


def _streamtail(*args: str) -> list[str]:
    return [sys.executable, "-m", "streamtail", *args]


def test_read_returns_the_changes_and_exits_0_quickly(server: str) -> None:
    ddb, streams = _clients(server)
    arn = create_table(ddb, "Orders", range_key=True)
    assert arn is not None
    key = {"pk": {"S": "o-1"}, "sk": {"N": "12345678901234567890123456789012345678"}}
    ddb.put_item(TableName="Orders", Item={**key, "total": {"N": "-0.000123"}, "b": {"B": b"\x01"}})
    ddb.put_item(TableName="Orders", Item={**key, "total": {"N": "1E+2"}})
    ddb.delete_item(TableName="Orders", Key=key)
    records = with_shard(api_records(streams, arn), shard_of(streams, arn))

    started = time.monotonic()
    done = subprocess.run(
        _streamtail("read", "ddb:Orders", "--endpoint-url", server),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=os.environ.copy(),
    )
    elapsed = time.monotonic() - started

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    big = "12345678901234567890123456789012345678"
    keys = JsonText(f'{{"pk":"o-1","sk":{big}}}')
    first = JsonText(f'{{"pk":"o-1","sk":{big},"total":-0.000123,"b":"AQ=="}}')
    second = JsonText(f'{{"pk":"o-1","sk":{big},"total":1E+2}}')
    images = [(first, None), (second, first), (None, second)]
    expected = [
        change_line(r, stream=arn, table="Orders", keys=keys, new=new, old=old)
        for r, (new, old) in zip(records, images, strict=True)
    ]
    assert done.stdout.splitlines() == expected
    assert elapsed < 15, elapsed  # interpreter start, three calls, the tip: a few seconds

    # --where on the same changes, numbers compared as numbers (the 38-digit key exactly), as csv
    where = f"keys.sk == `{big}` && (new.total < `0` || old.total > `99.5`)"
    chosen = subprocess.run(
        _streamtail(
            "read", "ddb:Orders", "--endpoint-url", server, "--where", where,
            "-o", "csv", "--columns", "event,keys.sk,new.total,old.total",
        ),
        capture_output=True, timeout=60, check=False, env=os.environ.copy(),
    )  # fmt: skip
    assert chosen.returncode == 0, chosen.stderr
    assert chosen.stderr == b""
    assert chosen.stdout.decode().split("\r\n") == [
        "event,keys.sk,new.total,old.total",
        f"INSERT,{big},-0.000123,",
        f"REMOVE,{big},,1E+2",
        "",
    ]


def test_follow_picks_up_writes_made_after_it_started(server: str) -> None:
    ddb, streams = _clients(server)
    arn = create_table(ddb, "Orders", "NEW_IMAGE")
    assert arn is not None
    ddb.put_item(TableName="Orders", Item={"pk": {"S": "before"}})

    follower = subprocess.Popen(
        _streamtail("follow", "ddb:Orders", "--idle-exit", "2", "--endpoint-url", server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(
        target=lambda: [lines.put(line) for line in follower.stdout or ()], daemon=True
    )
    reader.start()
    try:
        # The follower starts at LATEST once it has its iterator, which cannot be seen from
        # here: write until it shows the first change, then three more.
        written: list[str] = []
        deadline = time.monotonic() + 30
        while lines.empty():
            assert time.monotonic() < deadline, "follow printed nothing"
            assert follower.poll() is None, follower.stderr.read() if follower.stderr else ""
            written.append(f"probe-{len(written)}")
            ddb.put_item(TableName="Orders", Item={"pk": {"S": written[-1]}})
            time.sleep(0.3)
        for n in range(3):
            written.append(f"after-{n}")
            ddb.put_item(TableName="Orders", Item={"pk": {"S": written[-1]}})
        code = follower.wait(timeout=30)  # --idle-exit 2 after the last change
        reader.join(5)
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()
    stderr = follower.stderr.read() if follower.stderr else ""
    assert code == 0, stderr
    assert stderr == ""

    got = []
    while not lines.empty():
        got.append(lines.get().rstrip("\n"))
    pks = [json.loads(line)["keys"]["pk"] for line in got]
    # everything from the first change it saw to the last, in order, nothing written before
    assert pks == written[len(written) - len(pks) :]
    assert pks[-3:] == ["after-0", "after-1", "after-2"]
    records = with_shard(api_records(streams, arn), shard_of(streams, arn))[-len(got) :]
    assert got == [
        change_line(r, stream=arn, table="Orders", keys={"pk": pk}, new={"pk": pk})
        for r, pk in zip(records, pks, strict=True)
    ]
