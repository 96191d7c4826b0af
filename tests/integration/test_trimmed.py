"""Trimmed data as real Kinesis can show it (issue 16): an iterator whose records were trimmed
answers empty batches whose MillisBehindLatest stays large, instead of TrimmedDataAccessException.
streamtail run against moto's server through the fault proxy, which plays the trimming: records
up to a sequence number are gone from every answer, and an iterator after one of them stalls.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.proxy import Proxy, Reply

from .servers import Admin, Cli

pytestmark = pytest.mark.server

#: what the stalled answers say: a day behind (a retention period)
DAY_MS = 86_400_000


class Trimming:
    """Records up to `through` are past retention: GetRecords never returns them, and an
    iterator after one of them answers empty batches a day behind, forever, until streamtail
    asks for the trim horizon."""

    def __init__(self, through: int) -> None:
        self.through = through
        self.stalled: set[str] = set()
        self.stalled_answers = 0
        self.horizon_asked = 0

    def fault(self, operation: str, request: dict[str, Any], shard: str | None) -> Reply | None:
        if operation == "GetShardIterator" and shard is not None:
            kind = request.get("ShardIteratorType")
            if kind == "TRIM_HORIZON":
                self.horizon_asked += 1
                self.stalled.discard(shard)
            elif int(request.get("StartingSequenceNumber") or -1) <= self.through:
                self.stalled.add(shard)
            return None
        if operation == "GetRecords" and shard in self.stalled:
            self.stalled_answers += 1
            body = {
                "Records": [],
                "NextShardIterator": request["ShardIterator"],  # it does not move on
                "MillisBehindLatest": DAY_MS,
            }
            return Reply(200, json.dumps(body).encode(), fault="stalled")
        return None

    def rewrite(self, operation: str, response: dict[str, Any]) -> dict[str, Any]:
        if operation == "GetRecords":
            kept = [r for r in response["Records"] if int(r["SequenceNumber"]) > self.through]
            response = {**response, "Records": kept}
        return response


@pytest.mark.timeout(90)
def test_a_stall_on_trimmed_data_moves_to_the_trim_horizon_and_says_how_far(
    moto: Admin, cli: Cli, stream_name: Callable[[str], str], tmp_path: Path
) -> None:
    name = moto.create_stream(stream_name("trimmed"), shards=1)
    puts = moto.put_counted(name, 0, 10)
    checkpoint = tmp_path / "cp.json"
    first = cli.run(
        "read", name, "--checkpoint", str(checkpoint), "-n", "3", endpoint=moto.server.endpoint
    )
    assert first.returncode == 0, first.describe()
    assert [r["data"]["n"] for r in first.records] == [0, 1, 2]

    trimming = Trimming(through=int(puts[6].seq))  # 3..6 were never read: lost
    proxy = Proxy(moto.server.endpoint, fault=trimming.fault, rewrite=trimming.rewrite).start()
    try:
        rest = cli.run("read", name, "--checkpoint", str(checkpoint), endpoint=proxy.endpoint)
    finally:
        proxy.stop()
    assert rest.returncode == 0, rest.describe()
    assert [r["data"]["n"] for r in rest.records] == [7, 8, 9]
    assert trimming.stalled_answers >= 25  # reader/retry.py STALL_BATCHES
    assert trimming.horizon_asked == 1
    # the checkpoint's identity costs one call per run, not one per batch
    assert len(proxy.operations("DescribeStreamSummary")) == 1
    (line,) = rest.stderr.splitlines()
    shard = puts[2].shard
    assert line.startswith(
        f"streamtail: warning: shard {shard}: seq {puts[2].seq} (the last record read, arrived "
    )
    assert (
        "was trimmed (past the stream's retention); reading on from the oldest record "
        f"retained, seq {puts[7].seq} (arrived " in line
    )
    saved = json.loads(checkpoint.read_text())["shards"][shard]
    assert saved["seq"] == puts[9].seq
