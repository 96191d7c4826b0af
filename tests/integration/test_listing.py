"""`streamtail ls` and `streamtail shards` against both servers: NDJSON when piped, and the table /
tree forms on request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .servers import (
    KINESIS_MOCK,
    MOTO,
    Admin,
    Cli,
    assert_clean_stderr,
    assert_no_errors,
    parents_of,
)

pytestmark = pytest.mark.server


def resharded(admin: Admin, name: str) -> None:
    """Two shards; the first split, then its children merged: 5 shards, 2 of them open."""
    admin.create_stream(name, shards=2)
    admin.put_counted(name, 0, 6)
    first = admin.open_shards(name)[0]
    admin.split(name, first)
    admin.put_counted(name, 6, 6)
    left, right = (s for s in admin.open_shards(name) if s.get("ParentShardId") == first["ShardId"])
    admin.merge(name, left, right)


def expected_shard(name: str, shard: dict[str, Any], children: list[str]) -> dict[str, Any]:
    seq = shard["SequenceNumberRange"]
    expected = {
        "stream": name,
        "shard": shard["ShardId"],
        "state": "closed" if "EndingSequenceNumber" in seq else "open",
        "parent": shard.get("ParentShardId"),
        "adjacent_parent": shard.get("AdjacentParentShardId"),
        "children": sorted(children),
        "hash_start": shard["HashKeyRange"]["StartingHashKey"],
        "hash_end": shard["HashKeyRange"]["EndingHashKey"],
        "start_seq": seq.get("StartingSequenceNumber"),
        "end_seq": seq.get("EndingSequenceNumber"),
    }
    return {k: v for k, v in expected.items() if v is not None}


@pytest.mark.timeout(60)
def test_shards_ndjson_matches_list_shards(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    name = stream_name("tree")
    resharded(admin, name)
    listed = admin.list_shards(name)
    children: dict[str, list[str]] = {s["ShardId"]: [] for s in listed}
    for shard in listed:
        for parent in parents_of(shard):
            children[parent].append(shard["ShardId"])

    result = cli.run("shards", name, endpoint=admin.server.endpoint)  # piped: NDJSON

    assert result.returncode == 0, result.describe()
    assert_clean_stderr(result.stderr)
    rows = result.records
    assert [r["shard"] for r in rows].count(rows[0]["shard"]) == 1
    assert {r["shard"] for r in rows} == {s["ShardId"] for s in listed}
    for row in rows:
        (shard,) = (s for s in listed if s["ShardId"] == row["shard"])
        want = expected_shard(name, shard, children[shard["ShardId"]])
        assert {k: row.get(k) for k in want} == want
        assert not {k for k in row if k not in want and row[k] is not None} - set(want), row
    # parents before children
    order = [r["shard"] for r in rows]
    for shard in listed:
        for parent in parents_of(shard):
            assert order.index(parent) < order.index(shard["ShardId"])


@pytest.mark.timeout(60)
def test_ls_ndjson(admin: Admin, cli: Cli, stream_name: Callable[[str], str]) -> None:
    name = stream_name("ls")
    resharded(admin, name)
    other = admin.create_stream(stream_name("ls-other"), shards=3)

    result = cli.run("ls", endpoint=admin.server.endpoint)

    assert result.returncode == 0, result.describe()
    # kinesis-mock has no DynamoDB: a warning says so, nothing worse (its shape is checked in
    # test_ls_warning_is_one_line).
    assert_no_errors(result.stderr)
    rows = {r["stream"]: r for r in result.records if r.get("kind") == "kinesis"}
    for stream, open_shards in ((name, 2), (other, 3)):
        row = rows[stream]
        assert row["status"] == "ACTIVE"
        assert row["shards"] == open_shards
        assert row["retention_hours"] == 24
        assert row["arn"] == admin.arn(stream)


@pytest.mark.timeout(60)
def test_ls_and_shards_as_tables(admin: Admin, cli: Cli, stream_name: Callable[[str], str]) -> None:
    name = stream_name("t")
    resharded(admin, name)
    env = dict(cli.env, COLUMNS="250")

    tree = cli.run("shards", name, "-o", "table", endpoint=admin.server.endpoint, env=env)
    assert tree.returncode == 0, tree.describe()
    assert_clean_stderr(tree.stderr)
    assert name in tree.stdout
    for shard in admin.list_shards(name):
        assert shard["ShardId"] in tree.stdout
    assert "\x1b[" not in tree.stdout  # no colour when not on a terminal

    table = cli.run("ls", "-o", "table", endpoint=admin.server.endpoint, env=env)
    assert table.returncode == 0, table.describe()
    assert_no_errors(table.stderr)
    assert "STREAM" in table.stdout
    assert name in table.stdout


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "server",
    [
        KINESIS_MOCK,
        MOTO,
    ],
    indirect=True,
)
def test_ls_warning_is_one_line(admin: Admin, cli: Cli) -> None:
    """Whatever `ls` has to say on stderr comes as whole `streamtail: warning:` lines."""
    result = cli.run("ls", endpoint=admin.server.endpoint)
    assert result.returncode == 0, result.describe()
    assert_clean_stderr(result.stderr)
