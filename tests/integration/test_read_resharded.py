"""`streamtail read` on a stream that was split and then merged, records written before and after
each step: every record exactly once, in sequence order per shard, parents before children.

kinesis-mock resharding is faithful, so there the records must be exactly the ones written, where
PutRecords said it put them. moto's is approximate (docs/SERVERS.md: records written after a split
can still land in the closed parent), so there the check is against what the server holds per shard.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from .servers import (
    Admin,
    Cli,
    Put,
    assert_clean_stderr,
    assert_lineage_order,
    assert_shard_order,
    counters,
    parents_of,
    wait_until,
)

pytestmark = pytest.mark.server


def split_then_merge(admin: Admin, name: str, per_step: int = 20) -> list[Put]:
    """Two shards; split the first; merge its two children back; records around every step."""
    admin.create_stream(name, shards=2)
    puts = admin.put_counted(name, 0, per_step)
    first = admin.open_shards(name)[0]
    admin.split(name, first)
    puts += admin.put_counted(name, per_step, per_step)
    children = [s for s in admin.open_shards(name) if s.get("ParentShardId") == first["ShardId"]]
    assert len(children) == 2, children
    admin.merge(name, children[0], children[1])
    puts += admin.put_counted(name, 2 * per_step, per_step)
    return puts


def by_shard(records: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for record in records:
        out.setdefault(record["shard"], []).append(record["seq"])
    return out


@pytest.mark.timeout(90)
def test_read_split_and_merged_stream(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    name = stream_name("resharded")
    puts = split_then_merge(admin, name)
    shards = admin.list_shards(name)
    assert len(shards) == 5  # 2 originals, 2 children of the split, 1 child of the merge

    result = cli.run("read", name, endpoint=admin.server.endpoint)

    assert result.returncode == 0, result.describe()
    assert_clean_stderr(result.stderr)
    records = result.records
    assert {r["stream"] for r in records} == {name}

    # Exactly what the server holds, shard by shard, in the server's order.
    held = admin.server_records(name)
    expected = {shard: [r["SequenceNumber"] for r in rs] for shard, rs in held.items() if rs}
    assert by_shard(records) == expected
    assert len(records) == sum(len(rs) for rs in held.values())
    assert_shard_order(records)
    assert_lineage_order(records, shards)

    if admin.server.is_moto:
        # moto holds every record written (possibly in a closed parent): each appears.
        assert set(counters(records)) == set(range(len(puts)))
    else:
        # kinesis-mock: every record written, once, where PutRecords placed it, and the
        # children of both reshardings did receive records (the lineage check is not vacuous).
        assert sorted(counters(records)) == list(range(len(puts)))
        assert {(r["shard"], r["seq"]) for r in records} == {(p.shard, p.seq) for p in puts}
        with_children = {p for s in shards for p in parents_of(s)}
        leaves_with_records = {r["shard"] for r in records} - with_children
        assert leaves_with_records, "no record landed in a child shard"
        for shard in shards:
            if shard.get("AdjacentParentShardId"):
                assert shard["ShardId"] in by_shard(records), "the merged shard got no record"


@pytest.mark.timeout(60)
def test_read_pinned_to_a_parent_reads_its_descendants(
    km: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    """--shard PARENT: that shard and everything descended from it, nothing else."""
    name = stream_name("pinned")
    puts = split_then_merge(km, name, per_step=10)
    shards = km.list_shards(name)
    first = min(s["ShardId"] for s in shards if not parents_of(s))
    descendants = {first}
    changed = True
    while changed:
        changed = False
        for shard in shards:
            if shard["ShardId"] not in descendants and set(parents_of(shard)) & descendants:
                descendants.add(shard["ShardId"])
                changed = True

    result = cli.run("read", name, "--shard", first, endpoint=km.server.endpoint)

    assert result.returncode == 0, result.describe()
    assert_clean_stderr(result.stderr)
    records = result.records
    wanted = sorted(p.n for p in puts if p.shard in descendants)
    assert sorted(counters(records)) == wanted
    assert {r["shard"] for r in records} <= descendants
    assert_shard_order(records)
    assert_lineage_order(records, shards)


@pytest.mark.timeout(60)
def test_read_ends_on_a_stream_written_continuously(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    """`read` stops at the tip as it stands when each shard catches up, even though records keep
    coming, and loses nothing up to there: per shard, a gap-free prefix of what the server holds,
    including everything written before it started."""
    name = admin.create_stream(stream_name("busy"), shards=2)
    stop = threading.Event()
    written: list[Put] = []
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            while not stop.is_set():
                written.extend(admin.put_counted(name, len(written), 2))
                stop.wait(0.05)
        except BaseException as exc:  # surfaced by the test below
            errors.append(exc)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        wait_until(lambda: len(written) >= 20, timeout=20, what="the writer to get going")
        before = list(written)
        result = cli.run("read", name, endpoint=admin.server.endpoint, timeout=45)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not errors, errors

    assert result.returncode == 0, result.describe()
    assert_clean_stderr(result.stderr)
    records = result.records
    assert {(p.shard, p.seq) for p in before} <= {(r["shard"], r["seq"]) for r in records}
    held = admin.server_records(name)
    for shard, seqs in by_shard(records).items():
        server_seqs = [r["SequenceNumber"] for r in held[shard]]
        assert seqs == server_seqs[: len(seqs)], f"{shard}: not a gap-free prefix"
