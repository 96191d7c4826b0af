"""`--checkpoint FILE` across restarts: runs stopped by --limit, SIGINT, SIGTERM and SIGKILL at
many points, the stream split and merged in between, records written all along. The union of
the outputs is every record the server holds, and no record is repeated after a clean stop.

On kinesis-mock, whose resharding is faithful (docs/SERVERS.md: on moto, records written after a
split can still land in the closed parent, which a checkpoint rightly marks as finished).
"""

from __future__ import annotations

import json
import random
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .servers import (
    Admin,
    Cli,
    Follower,
    assert_clean_stderr,
    assert_exactly_once,
    assert_lineage_order,
    assert_shard_order,
    following,
)

pytestmark = pytest.mark.server


class Writer:
    """Writes numbered records in the background until stopped (puts go straight to the server)."""

    def __init__(self, admin: Admin, name: str, start: int) -> None:
        self.admin, self.name, self.next = admin, name, start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.admin.put_counted(self.name, self.next, 3, tag="live")
            self.next += 3

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    return tmp_path / "orders.checkpoint"


def reshard(km: Admin, name: str) -> None:
    """Split the widest open shard, or merge the first two neighbours when there are four."""
    shards = km.open_shards(name)
    if len(shards) >= 4:
        km.merge(name, shards[0], shards[1])
    else:
        km.split(name, max(shards, key=_width))


def _width(shard: dict[str, Any]) -> int:
    keys = shard["HashKeyRange"]
    return int(keys["EndingHashKey"]) - int(keys["StartingHashKey"])


def finish(cli: Cli, km: Admin, name: str, checkpoint: Path) -> list[dict[str, Any]]:
    """A last `read` to the tip from the checkpoint, then one that finds nothing left."""
    last = cli.run("read", name, "--checkpoint", str(checkpoint), endpoint=km.server.endpoint)
    assert last.returncode == 0, last.describe()
    assert_clean_stderr(last.stderr)
    again = cli.run("read", name, "--checkpoint", str(checkpoint), endpoint=km.server.endpoint)
    assert again.returncode == 0, again.describe()
    assert again.stdout == "", "a read after the tip repeated records"
    return last.records


def check_union(km: Admin, name: str, outputs: list[list[dict[str, Any]]]) -> None:
    union = [r for output in outputs for r in output]
    assert_exactly_once(union, km.server_records(name))
    assert_shard_order(union)
    assert_lineage_order(union, km.list_shards(name))


@pytest.mark.timeout(120)
def test_reads_stopped_by_limit_and_resumed_across_resharding(
    km: Admin, cli: Cli, stream_name: Callable[[str], str], checkpoint: Path
) -> None:
    name = km.create_stream(stream_name("limits"), shards=2)
    km.put_counted(name, 0, 40)
    rng = random.Random(4)
    outputs: list[list[dict[str, Any]]] = []
    written = 40
    for run in range(6):
        limit = rng.choice([1, 3, 7, 15])
        result = cli.run(
            "read", name, "--checkpoint", str(checkpoint), "-n", str(limit),
            endpoint=km.server.endpoint,
        )  # fmt: skip
        assert result.returncode == 0, result.describe()
        assert len(result.records) == limit, result.describe()
        outputs.append(result.records)
        if run % 2:
            reshard(km, name)
        km.put_counted(name, written, 10)
        written += 10
    outputs.append(finish(cli, km, name, checkpoint))
    check_union(km, name, outputs)
    saved = json.loads(checkpoint.read_text())
    done = {s for s, entry in saved["shards"].items() if entry.get("done")}
    closed = {
        s["ShardId"]
        for s in km.list_shards(name)
        if "EndingSequenceNumber" in s["SequenceNumberRange"]
    }
    assert done == closed  # every closed shard was read to its end and is never read again


@pytest.mark.timeout(120)
def test_follow_stopped_by_sigint_and_sigterm_resumes_exactly_while_records_arrive(
    km: Admin, cli: Cli, stream_name: Callable[[str], str], checkpoint: Path
) -> None:
    name = km.create_stream(stream_name("signals"), shards=2)
    km.put_counted(name, 0, 20)
    outputs: list[list[dict[str, Any]]] = []
    args = ("follow", name, "--checkpoint", str(checkpoint), "--from", "trim-horizon")
    with Writer(km, name, 1000):
        for run, (stop, code) in enumerate(
            # SIGHUP: a closed terminal or SSH session stops as cleanly (saved and unlocked)
            [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]
        ):
            with following(cli, *args, endpoint=km.server.endpoint) as follower:
                follower.wait_count(15, timeout=40)
                follower.process.send_signal(stop)
                outputs.append(follower.finish(timeout=20, code=code))
            assert not checkpoint.with_name(checkpoint.name + ".lock").exists()
            assert_clean_stderr(_without_resume_notice(follower))
            if run < 2:
                reshard(km, name)
    outputs.append(finish(cli, km, name, checkpoint))
    check_union(km, name, outputs)


@pytest.mark.timeout(90)
def test_after_a_hard_kill_only_records_printed_since_the_last_write_repeat(
    km: Admin, cli: Cli, stream_name: Callable[[str], str], checkpoint: Path
) -> None:
    name = km.create_stream(stream_name("sigkill"), shards=2)
    km.put_counted(name, 0, 60)
    args = ("follow", name, "--checkpoint", str(checkpoint), "--from", "trim-horizon")
    with Writer(km, name, 1000), following(cli, *args, endpoint=km.server.endpoint) as follower:
        follower.wait_count(80, timeout=40)
        follower.process.send_signal(signal.SIGKILL)
        follower.wait_exit(timeout=20)
    killed = follower.records()
    saved = json.loads(checkpoint.read_text())["shards"]
    recorded = {
        (r["shard"], r["seq"])
        for r in killed
        if r["shard"] in saved and int(r["seq"]) <= int(saved[r["shard"]].get("seq", -1))
    }
    rest = finish(cli, km, name, checkpoint)
    repeated = {(r["shard"], r["seq"]) for r in rest} & {(r["shard"], r["seq"]) for r in killed}
    assert not repeated & recorded, "records the checkpoint recorded were read again"
    union = killed + [r for r in rest if (r["shard"], r["seq"]) not in repeated]
    assert_exactly_once(union, km.server_records(name))


def _without_resume_notice(follower: Follower) -> str:
    return "".join(
        line + "\n"
        for line in follower.stderr.splitlines()
        if "--from applies to a new checkpoint only" not in line
    )


@pytest.fixture(autouse=True)
def _no_leftovers(checkpoint: Path) -> Iterator[None]:
    yield
    # Only the checkpoint and its lock file: no temporary file left behind by any run.
    leftovers = sorted(p.name for p in checkpoint.parent.iterdir())
    assert set(leftovers) <= {checkpoint.name, checkpoint.name + ".lock"}, leftovers


@pytest.mark.timeout(60)
def test_a_reader_that_goes_away_still_leaves_a_valid_checkpoint(
    km: Admin, cli: Cli, stream_name: Callable[[str], str], checkpoint: Path
) -> None:
    """`| head -n 1`: exit 0, and a valid checkpoint that names nothing of the batch the closed
    pipe cut short (a rerun prints it again, nothing skipped). It used to name the whole batch,
    written short into the pipe: the rest was lost (issue 25)."""
    import subprocess

    name = km.create_stream(stream_name("pipe"), shards=1)
    km.put_counted(name, 0, 30, pad=4000)  # more than a pipe buffer holds
    # `read` writing into a pipe that fills up (an idle `follow`: tests/integration/test_hangup.py)
    argv = cli.argv(["read", name, "--checkpoint", str(checkpoint)], km.server.endpoint)
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli.env, text=True
    )
    assert process.stdout is not None and process.stderr is not None
    first = json.loads(process.stdout.readline())
    process.stdout.close()  # the reader goes away
    assert process.wait(timeout=30) == 0
    assert process.stderr.read() == ""
    assert json.loads(checkpoint.read_text())["shards"] == {}
    again = cli.run("read", name, "--checkpoint", str(checkpoint), endpoint=km.server.endpoint)
    assert again.returncode == 0, again.describe()
    assert [r["data"]["n"] for r in again.records] == list(range(30))
    assert again.records[0]["seq"] == first["seq"]
