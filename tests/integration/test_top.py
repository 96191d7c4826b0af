"""`streamtail top` through the CLI on the local servers: a past window counted exactly on a
skewed stream (the hot key first, on its shard, with the advice), the live view on a
pseudo-terminal (Kinesis and DynamoDB: every open shard, a frame each second, Ctrl-C -> 130, the
terminal given back), and live NDJSON following a split (kinesis-mock closes parents properly).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.dynamodb.helpers import create_table

from .servers import Admin, Cli, ServerProcess, following, service_client

pytestmark = pytest.mark.server

ENTER, LEAVE = b"\x1b[?1049h", b"\x1b[?1049l"
KEY = "[red]tenant-7[/]"


def _skewed(rng: random.Random) -> list[tuple[str, bytes]]:
    """1,000 records: key `hot` ~40% with 10 KB payloads (its shard far above the 1 MiB/s limit
    whichever seconds the writes land in), `warm` ~15% with 2 KB, and 300 others with 200 B
    (their shards far below it, whatever the timing)."""
    entries = []
    for n in range(1000):
        draw = rng.random()
        if draw < 0.4:
            key, pad = "hot", 10_000
        elif draw < 0.55:
            key, pad = "warm", 2_000
        else:
            key, pad = f"user-{rng.randrange(300)}", 200
        entries.append((key, json.dumps({"n": n, "pad": "x" * pad}).encode()))
    return entries


def _put(admin: Admin, name: str, entries: list[tuple[str, bytes]]) -> list[str]:
    """PutRecords in calls of 500 (each within the 5 MiB a call takes); the shard of each."""
    shards: list[str] = []
    for start in range(0, len(entries), 500):
        chunk = entries[start : start + 500]
        answer = admin.client.put_records(
            StreamName=name, Records=[{"PartitionKey": k, "Data": d} for k, d in chunk]
        )
        assert answer.get("FailedRecordCount", 0) == 0
        shards += [r["ShardId"] for r in answer["Records"]]
    return shards


@pytest.mark.timeout(90)
def test_window_counts_a_skewed_stream_exactly(
    moto: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    name = moto.create_stream(stream_name("skew"), shards=4)
    entries = _skewed(random.Random(23))
    placed = _put(moto, name, entries)
    per_shard: dict[str, list[int]] = {}
    per_key: dict[str, list[Any]] = {}
    for (key, data), shard in zip(entries, placed, strict=True):
        size = len(data) + len(key)
        counts = per_shard.setdefault(shard, [0, 0])
        counts[0] += 1
        counts[1] += size
        mine = per_key.setdefault(key, [shard, 0, 0])
        mine[1] += 1
        mine[2] += size
    hot_shard = per_key["hot"][0]

    result = cli.run("top", name, "--from", "-10m", "--top", "5", endpoint=moto.server.endpoint)
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]  # ndjson on a pipe
    shards = {o["shard"]: o for o in objects if o["type"] == "shard"}
    assert {s: [o["records"], o["bytes"]] for s, o in shards.items()} == per_shard
    assert all(o["hash_space_pct"] == 25.0 and o["seconds"] > 590 for o in shards.values())
    keys = [o for o in objects if o["type"] == "key"]
    assert len(keys) == 5
    assert [(k["key"], k["shard"], k["records"], k["bytes"]) for k in keys[:2]] == [
        ("hot", hot_shard, *per_key["hot"][1:]),
        ("warm", per_key["warm"][0], *per_key["warm"][1:]),
    ]
    assert not any(k["estimated"] for k in keys)
    assert keys[0]["share_pct"] == round(100 * per_key["hot"][1] / 1000, 2)
    advice = [o for o in objects if o["type"] == "advice"]
    assert [(a["shard"], a["verdict"], a["measure"]) for a in advice] == [
        (hot_shard, "hot-key", "bytes")
    ]
    assert advice[0]["keys"][0]["key"] == "hot"
    assert "a split cannot help" in advice[0]["message"]
    assert shards[hot_shard]["peak_second"]["limit_pct"] > 80

    table = cli.run("top", name, "--from", "-10m", "-o", "table", endpoint=moto.server.endpoint)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    first_key = lines[lines.index(next(x for x in lines if x.startswith("top keys"))) + 2]
    assert first_key.split()[0] == "hot" and first_key.split()[-1] == hot_shard
    words = " ".join(table.stdout.split())  # the advice wraps at the width
    assert f"! {hot_shard} reached" in words and "a split cannot help" in words


@dataclass
class Screen:
    """streamtail on a pseudo-terminal; everything it writes is collected."""

    process: subprocess.Popen[bytes]
    master: int
    chunks: list[bytes] = field(default_factory=list)

    @property
    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", "replace")

    def frames(self) -> list[str]:
        return self.text.split("\x1b[H")[1:]

    def wait(self, predicate: Callable[[list[str]], bool], timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            frames = self.frames()
            if predicate(frames):
                return frames
            time.sleep(0.1)
        raise AssertionError(f"the screen never showed it; last frame:\n{self.frames()[-1:]}")


@contextmanager
def on_terminal(args: list[str], env: dict[str, str]) -> Iterator[Screen]:
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "streamtail", *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env={**env, "TERM": "xterm-256color", "NO_COLOR": "1"},
    )
    os.close(slave)
    screen = Screen(process, master)

    def pump() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            screen.chunks.append(data)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        yield screen
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        reader.join(timeout=5)
        os.close(master)


def _header_times(frames: list[str]) -> set[str]:
    plain = (re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", f) for f in frames)
    return {m.group(1) for f in plain for m in [re.search(r"to\s+(\d{4}-\S+Z)", f)] if m}


def _live_view(screen: Screen, shards: list[str], write: Callable[[], None], key: str) -> None:
    """Every open shard on the first frame, a new frame each second, the written key shown,
    Ctrl-C -> 130 with the terminal given back and the last frame left on it."""
    screen.wait(lambda fs: bool(fs) and all(s in fs[-1] for s in shards), timeout=30)
    write()
    frames = screen.wait(lambda fs: key in fs[-1], timeout=30)
    assert len(_header_times(frames)) >= 2  # redrawn, with the time moving on
    screen.process.send_signal(signal.SIGINT)
    assert screen.process.wait(timeout=15) == 130
    time.sleep(0.2)
    out = b"".join(screen.chunks)
    assert out.count(ENTER) == 1 and out.rfind(LEAVE) > out.rfind(ENTER)
    assert b"\x1b[?25h" in out[out.rfind(LEAVE) - 10 :]  # the cursor shown again
    assert key in out[out.rfind(LEAVE) :].decode("utf-8", "replace")


@pytest.mark.timeout(90)
def test_live_view_on_a_terminal(moto: Admin, cli: Cli, stream_name: Callable[[str], str]) -> None:
    name = moto.create_stream(stream_name("live"), shards=3)
    shards = [s["ShardId"] for s in moto.list_shards(name)]
    args = ["top", name, "--endpoint-url", moto.server.endpoint]
    with on_terminal(args, cli.env) as screen:
        # a key that rich would read as markup is shown as it is
        _live_view(screen, shards, lambda: _put(moto, name, [(KEY, b"{}")] * 30), KEY)


@pytest.mark.timeout(90)
def test_live_view_of_a_dynamodb_stream(moto_server: ServerProcess, cli: Cli) -> None:
    ddb, streams = (service_client(moto_server, s) for s in ("dynamodb", "dynamodbstreams"))
    table = f"TopLive{random.randrange(10**6)}"
    arn = create_table(ddb, table, "NEW_AND_OLD_IMAGES")
    shards = [
        s["ShardId"] for s in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    ]

    def write() -> None:
        for n in range(5):
            ddb.put_item(TableName=table, Item={"pk": {"S": "order#7"}, "n": {"N": str(n)}})
        ddb.delete_item(TableName=table, Key={"pk": {"S": "order#7"}})

    args = ["top", f"ddb:{table}", "--endpoint-url", moto_server.endpoint]
    try:
        with on_terminal(args, cli.env) as screen:
            # Ctrl-C once all six changes are counted: the key alone shows with the first one
            _live_view(screen, shards, write, "INSERT 1 MODIFY 4 REMOVE 1")
        last = screen.frames()[-1]
        assert "CHG/S" in last and '{"pk":"order#7"}' in last
    finally:
        ddb.delete_table(TableName=table)


def _intervals(lines: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by_start: dict[str, list[dict[str, Any]]] = {}
    for obj in lines:
        if obj["type"] == "shard":
            by_start.setdefault(obj["start"], []).append(obj)
    return by_start


@pytest.mark.timeout(120)
def test_live_ndjson_follows_a_split(
    km: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    name = km.create_stream(stream_name("split"), shards=1)
    parent = km.open_shards(name)[0]["ShardId"]
    with following(cli, "top", name, "-o", "ndjson", endpoint=km.server.endpoint) as follower:
        follower.wait_records(lambda ls: len(_intervals(ls)) >= 1, timeout=30, what="a first set")
        km.put_raw(name, [(f"a-{n}", b"{}") for n in range(5)])
        follower.wait_records(
            lambda ls: sum(o["records"] for o in ls if o["type"] == "shard") >= 5,
            timeout=30,
            what="the parent's 5 records",
        )
        km.split(name, km.open_shards(name)[0])
        children = [s["ShardId"] for s in km.open_shards(name)]
        placed = km.put_raw(name, [(f"b-{n}", b"{}") for n in range(20)])
        follower.wait_records(
            lambda ls: sum(o["records"] for o in ls if o["shard"] in children) >= 20,
            timeout=45,
            what="the children's 20 records",
        )
        follower.process.send_signal(signal.SIGINT)
        assert follower.wait_exit(15) == 130
        objects = follower.records()
    by_shard: dict[str, int] = {}
    for obj in objects:
        if obj["type"] == "shard":
            by_shard[obj["shard"]] = by_shard.get(obj["shard"], 0) + obj["records"]
    assert by_shard[parent] == 5
    assert {s: by_shard[s] for s in children} == {
        s: sum(1 for shard, _ in placed if shard == s) for s in children
    }
    intervals = _intervals(objects)
    starts = sorted(intervals)
    # one interval a second, each with one object per open shard; children once they exist
    assert all(len(intervals[s]) >= 1 for s in starts)
    last = {o["shard"] for o in intervals[starts[-1]]}
    assert set(children) <= last and parent not in last


@pytest.mark.timeout(90)
def test_window_with_enhanced_fan_out(
    km: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    """`--efo` reads the window through a registered consumer, counts the same, and leaves no
    consumer behind."""
    from .test_efo import wait_no_consumer

    name = km.create_stream(stream_name("efo"), shards=2)
    placed = km.put_raw(name, [(f"k{n % 7}", b'{"n":1}') for n in range(40)])
    result = cli.run(
        "top", name, "--from", "trim-horizon", "--efo", endpoint=km.server.endpoint, timeout=80
    )
    assert result.returncode == 0, result.stderr
    shards = {o["shard"]: o["records"] for o in result.records if o["type"] == "shard"}
    assert shards == {s: sum(1 for p, _ in placed if p == s) for s in {p for p, _ in placed}}
    assert sum(o["records"] for o in result.records if o["type"] == "key") == 40
    wait_no_consumer(km, name)
