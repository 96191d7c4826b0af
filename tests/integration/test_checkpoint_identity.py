"""`--checkpoint FILE` on real servers: bound to the stream it was written for (a stream deleted
and created again under its name is refused, exit 2), and its lock file gone after every run,
a killed run's included."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from .servers import Admin, Cli, following, wait_until

pytestmark = pytest.mark.server


@pytest.mark.timeout(90)
def test_a_stream_created_again_under_its_name_is_refused(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str], tmp_path: Path
) -> None:
    name = admin.create_stream(stream_name("again"), shards=1)
    admin.put_counted(name, 0, 3)
    checkpoint = tmp_path / "cp.json"
    endpoint = admin.server.endpoint
    first = cli.run("read", name, "--checkpoint", str(checkpoint), endpoint=endpoint)
    assert first.returncode == 0, first.describe()
    identity = json.loads(checkpoint.read_text())["stream"]["identity"]
    assert identity["name"] == name
    assert set(identity) == {"account", "region", "name", "created"}  # both servers say all

    admin.client.delete_stream(StreamName=name)

    def recreated() -> bool:
        try:
            admin.client.create_stream(StreamName=name, ShardCount=1)
        except admin.client.exceptions.ResourceInUseException:
            return False  # still being deleted (kinesis-mock takes a moment)
        return True

    wait_until(recreated, timeout=30, what=f"stream {name} created again")
    admin.wait_active(name)
    admin.put_counted(name, 0, 1)
    again = cli.run("read", name, "--checkpoint", str(checkpoint), endpoint=endpoint)
    assert again.returncode == 2, again.describe()
    assert again.stdout == ""
    (line,) = again.stderr.splitlines()
    assert line.startswith(
        f"streamtail: error: checkpoint file {checkpoint} belongs to another stream named "
        f"{name} (created {identity['created']}; this one: created "
    )
    assert line.endswith(f"to start over, remove {checkpoint} or give another --checkpoint file")
    assert not Path(f"{checkpoint}.lock").exists()


@pytest.mark.timeout(60)
def test_a_lock_file_left_by_a_killed_run_is_harmless(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str], tmp_path: Path
) -> None:
    name = admin.create_stream(stream_name("lock"), shards=1)
    puts = admin.put_counted(name, 0, 2)
    checkpoint = tmp_path / "cp.json"
    lock = Path(f"{checkpoint}.lock")
    endpoint = admin.server.endpoint
    with following(
        cli,
        "follow",
        name,
        "--from",
        "trim-horizon",
        "--checkpoint",
        str(checkpoint),
        endpoint=endpoint,
    ) as follower:
        follower.wait_count(2, timeout=30)

        def saved() -> bool:
            shards = json.loads(checkpoint.read_text() or "{}").get("shards", {})
            return shards.get(puts[1].shard, {}).get("seq") == puts[1].seq

        wait_until(saved, timeout=10, what="the checkpoint to record both records")
        assert lock.exists()  # held while it runs
        follower.kill()  # SIGKILL: no clean-up
    assert lock.exists()  # left behind by the killed run
    admin.put_counted(name, 2, 1)
    rest = cli.run("read", name, "--checkpoint", str(checkpoint), endpoint=endpoint)
    assert rest.returncode == 0, rest.describe()
    assert [r["data"]["n"] for r in rest.records] == [2]
    assert not lock.exists()
