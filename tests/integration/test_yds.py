"""streamtail on Yandex Data Streams as it really answers: the YDS test double (tests/yds_double.py,
built from YDB's proxy source) in front of kinesis-mock, streamtail as a subprocess.

A stream is split on kinesis-mock (YDS splits partitions by itself; its API has no SplitShard);
the double then shows it as YDS does: ListShards without lineage and with even-share key ranges,
DescribeStream with the truth, GetRecords never ending a closed shard and reporting the data's age
as MillisBehindLatest. Records are checked by their payloads (key and per-key counter)."""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import zstandard

from tests.proxy import Proxy, aws_error
from tests.yds_double import YdsDouble, backend_name

from .servers import Admin, Cli, Follower, assert_no_errors, partition_key_for

pytestmark = pytest.mark.server

HALF = 2**127
QUARTER = 2**126
#: keys whose MD5 lies in each quarter of the key space: ListShards' even shares of four
#: partitions put each in a different shard, whatever the real tree says
KEYS = [partition_key_for(q * QUARTER, (q + 1) * QUARTER - 1, f"key{q}") for q in range(4)]
ROUNDS = 6


@pytest.fixture
def yds(km: Admin) -> Iterator[YdsDouble]:
    double = YdsDouble(km.server.endpoint).start()
    try:
        yield double
    finally:
        double.stop()


@pytest.fixture
def no_region(cli: Cli) -> dict[str, str]:
    """The environment with no region anywhere: a stream path must bring ru-central1."""
    return {k: v for k, v in cli.env.items() if k != "AWS_REGION"}


def path_for(stream_name: Callable[[str], str]) -> str:
    return f"/ru-central1/b1gtest/etntest/{stream_name('yds')}"


def put_rounds(km: Admin, stream: str, rounds: range) -> None:
    """One PutRecords per round, each key once in it: per key, write order is round order."""
    for i in rounds:
        km.put_raw(stream, [(k, json.dumps({"k": k, "i": i}).encode()) for k in KEYS])


def split_stream(km: Admin, path: str) -> str:
    """Two shards, records, the first shard (lower half of the key space) split, records."""
    stream = km.create_stream(backend_name(path), shards=2)
    put_rounds(km, stream, range(ROUNDS))
    km.split(stream, km.open_shards(stream)[0])
    put_rounds(km, stream, range(ROUNDS, 2 * ROUNDS))
    return stream


def rounds_by_key(records: list[dict[str, Any]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for record in records:
        out.setdefault(record["data"]["k"], []).append(record["data"]["i"])
    return out


def assert_yds_calls_only(double: YdsDouble) -> None:
    assert double.refused() == []
    assert set(double.operations()) <= {"DescribeStream", "GetShardIterator", "GetRecords"}


@pytest.mark.timeout(120)
def test_read_split_stream_once_in_write_order_per_key(
    km: Admin, yds: YdsDouble, cli: Cli, no_region: dict[str, str], stream_name: Any
) -> None:
    path = path_for(stream_name)
    split_stream(km, path)

    result = cli.run("read", path, endpoint=yds.endpoint, env=no_region)

    assert result.returncode == 0, result.describe()
    assert_no_errors(result.stderr)
    records = result.records
    assert rounds_by_key(records) == {k: list(range(2 * ROUNDS)) for k in KEYS}
    assert {r["stream"] for r in records} == {path}
    # YDS's own ids and offsets, and the parent read to its end before its children.
    assert {r["shard"] for r in records} == {f"shard-00000{n}" for n in range(4)}
    first_child = min(
        i for i, r in enumerate(records) if r["shard"] in {"shard-000002", "shard-000003"}
    )
    last_parent = max(i for i, r in enumerate(records) if r["shard"] == "shard-000000")
    assert last_parent < first_child
    assert [r["seq"] for r in records if r["shard"] == "shard-000001"][:2] == ["0", "1"]
    assert_yds_calls_only(yds)


@pytest.mark.timeout(120)
def test_key_after_split_finds_every_record_of_the_key(
    km: Admin, yds: YdsDouble, cli: Cli, no_region: dict[str, str], stream_name: Any
) -> None:
    path = path_for(stream_name)
    split_stream(km, path)

    for key in KEYS:
        result = cli.run("read", path, "--key", key, endpoint=yds.endpoint, env=no_region)
        assert result.returncode == 0, result.describe()
        assert [r["data"]["i"] for r in result.records] == list(range(2 * ROUNDS)), key
    assert_yds_calls_only(yds)


@pytest.mark.timeout(120)
def test_shard_shorthand_takes_the_tables_short_id(
    km: Admin, yds: YdsDouble, cli: Cli, no_region: dict[str, str], stream_name: Any
) -> None:
    """`--shard 0` is shard-000000 (the table's SHARD column shows `0`): it and its children."""
    path = path_for(stream_name)
    split_stream(km, path)

    result = cli.run("read", path, "--shard", "0", endpoint=yds.endpoint, env=no_region)

    assert result.returncode == 0, result.describe()
    assert {r["shard"] for r in result.records} == {"shard-000000", "shard-000002", "shard-000003"}
    lower = [k for k in KEYS if k.startswith(("key0", "key1"))]
    assert rounds_by_key(result.records) == {k: list(range(2 * ROUNDS)) for k in lower}

    missing = cli.run("read", path, "--shard", "9", endpoint=yds.endpoint, env=no_region)
    assert missing.returncode == 2, missing.describe()
    assert missing.stderr.startswith("streamtail: error: no shard 9 in stream"), missing.stderr


@pytest.mark.timeout(120)
def test_a_sequence_number_places_only_its_own_shard(
    km: Admin, yds: YdsDouble, cli: Cli, no_region: dict[str, str], stream_name: Any
) -> None:
    """YDS sequence numbers are offsets within a shard: `at:SEQ` needs its shard, and the
    shard's children are read whole."""
    path = path_for(stream_name)
    split_stream(km, path)
    lower = [k for k in KEYS if k.startswith(("key0", "key1"))]

    alone = cli.run("read", path, "--from", "at:3", endpoint=yds.endpoint, env=no_region)
    assert alone.returncode == 2, alone.describe()
    assert "sequence numbers count within each shard" in alone.stderr

    pinned = cli.run(
        "read", path, "--shard", "0", "--from", "after:5", endpoint=yds.endpoint, env=no_region
    )
    assert pinned.returncode == 0, pinned.describe()
    # Offsets 0..11 in shard-000000 (two keys, six rounds): after 5 is rounds 3..5 of both keys;
    # then the children whole (rounds 6..11).
    assert rounds_by_key(pinned.records) == {k: list(range(3, 2 * ROUNDS)) for k in lower}
    assert_yds_calls_only(yds)


@pytest.mark.timeout(120)
def test_shards_shows_the_lineage(
    km: Admin, yds: YdsDouble, cli: Cli, no_region: dict[str, str], stream_name: Any
) -> None:
    path = path_for(stream_name)
    split_stream(km, path)

    result = cli.run("shards", path, "-o", "ndjson", endpoint=yds.endpoint, env=no_region)

    assert result.returncode == 0, result.describe()
    shards = {s["shard"]: s for s in result.records}
    assert shards["shard-000000"]["state"] == "closed"
    assert shards["shard-000000"]["children"] == ["shard-000002", "shard-000003"]
    assert shards["shard-000001"]["state"] == "open"
    assert "parent" not in shards["shard-000001"]
    for child in ("shard-000002", "shard-000003"):
        assert shards[child]["parent"] == "shard-000000"
        assert shards[child]["state"] == "open"
    # The real key ranges (ListShards would give each of the four a quarter): the children
    # share the parent's range, the lower half of the key space.
    parent, left, right = (shards[s] for s in ("shard-000000", "shard-000002", "shard-000003"))
    assert int(parent["hash_start"]) == int(left["hash_start"]) == 0
    assert int(left["hash_end"]) + 1 == int(right["hash_start"])
    assert (
        int(right["hash_end"])
        == int(parent["hash_end"])
        == int(shards["shard-000001"]["hash_start"]) - 1
    )
    assert HALF - 2 <= int(parent["hash_end"]) < HALF
    assert_yds_calls_only(yds)


@pytest.mark.timeout(120)
def test_a_stream_path_is_signed_for_ru_central1(
    km: Admin, yds: YdsDouble, cli: Cli, stream_name: Any
) -> None:
    """The double refuses other regions: --region (or AWS_REGION) still wins over the path's."""
    path = path_for(stream_name)
    km.create_stream(backend_name(path))
    env = {**cli.env, "AWS_REGION": "us-east-1"}

    refused = cli.run("shards", path, "-o", "ndjson", endpoint=yds.endpoint, env=env)
    assert refused.returncode == 4, refused.describe()
    assert "AccessDeniedException" in refused.stderr

    env.pop("AWS_REGION")
    listed = cli.run("shards", path, "-o", "ndjson", endpoint=yds.endpoint, env=env)
    assert listed.returncode == 0, listed.describe()
    assert [s["shard"] for s in listed.records] == ["shard-000000"]


@pytest.mark.timeout(150)
def test_follow_across_the_split(
    km: Admin, yds: YdsDouble, cli: Cli, no_region: dict[str, str], stream_name: Any
) -> None:
    path = path_for(stream_name)
    stream = km.create_stream(backend_name(path), shards=2)
    put_rounds(km, stream, range(ROUNDS))
    follower = Follower(
        cli.argv(["follow", path, "--from", "trim-horizon", "-o", "ndjson"], yds.endpoint),
        no_region,
    )
    try:
        follower.wait_count(len(KEYS) * ROUNDS, timeout=30)
        km.split(stream, km.open_shards(stream)[0])
        put_rounds(km, stream, range(ROUNDS, 2 * ROUNDS))
        # `follow` finds the children at its next listing (every 10 s).
        records = follower.wait_count(len(KEYS) * 2 * ROUNDS, timeout=60)
    finally:
        follower.kill()
    assert rounds_by_key(records) == {k: list(range(2 * ROUNDS)) for k in KEYS}
    assert_no_errors(follower.stderr)
    assert_yds_calls_only(yds)


@pytest.mark.timeout(120)
def test_arn_falls_back_to_its_name_on_yds(
    km: Admin, yds: YdsDouble, cli: Cli, no_region: dict[str, str], stream_name: Any
) -> None:
    stream = split_stream(km, stream_name("plain"))
    arn = f"arn:aws:kinesis:ru-central1:000000000000:stream/{stream}"

    result = cli.run("read", arn, "--debug", endpoint=yds.endpoint, env=no_region)

    assert result.returncode == 0, result.describe()
    assert rounds_by_key(result.records) == {k: list(range(2 * ROUNDS)) for k in KEYS}
    notes = [line for line in result.stderr.splitlines() if "using the stream name" in line]
    assert len(notes) == 1, result.stderr
    # One call with StreamARN, refused; never again.
    refused = yds.refused()
    assert [(c.operation, "StreamARN" in c.request) for c in refused] == [("ListShards", True)]
    assert not any("StreamARN" in c.request for c in yds.calls if c.status == 200)


def refuse_arn_alone(operation: str, request: dict[str, Any], shard: str | None) -> Any:
    """A Kinesis look-alike from before StreamARN (2022): the name is required."""
    if "StreamARN" in request and "StreamName" not in request and operation != "GetRecords":
        return aws_error(
            400, "ValidationException", "Either NextToken or StreamName should be provided", "arn"
        )
    return None


@pytest.mark.timeout(120)
def test_arn_falls_back_to_its_name_on_a_server_without_stream_arn(
    km: Admin, cli: Cli, stream_name: Any
) -> None:
    stream = km.create_stream(stream_name("old"), shards=2)
    puts = km.put_counted(stream, 0, 20)
    proxy = Proxy(km.server.endpoint, fault=refuse_arn_alone).start()
    try:
        result = cli.run("read", km.arn(stream), "--debug", endpoint=proxy.endpoint)
    finally:
        proxy.stop()

    assert result.returncode == 0, result.describe()
    assert sorted(r["data"]["n"] for r in result.records) == [p.n for p in puts]
    notes = [line for line in result.stderr.splitlines() if "using the stream name" in line]
    assert len(notes) == 1 and "refused StreamARN" in notes[0], result.stderr
    assert proxy.faults() == {"arn": 1}


@pytest.mark.timeout(120)
def test_an_iam_token_instead_of_static_keys(
    km: Admin, yds: YdsDouble, cli: Cli, no_region: dict[str, str], stream_name: Any
) -> None:
    """YC_IAM_TOKEN: no access key at all; the token goes in X-YaCloud-SubjectToken, and --debug
    never shows it."""
    path = path_for(stream_name)
    split_stream(km, path)
    token = "t1.9euelZrJzZ-test-token-for-streamtail"
    env = {k: v for k, v in no_region.items() if not k.startswith("AWS_ACCESS_KEY_ID")}
    env.pop("AWS_SECRET_ACCESS_KEY")
    env["YC_IAM_TOKEN"] = token

    result = cli.run("read", path, "--debug", endpoint=yds.endpoint, env=env)

    assert result.returncode == 0, result.describe()
    assert rounds_by_key(result.records) == {k: list(range(2 * ROUNDS)) for k in KEYS}
    assert yds.tokens and set(yds.tokens) == {token}
    assert len(yds.tokens) == len(yds.calls)
    assert token not in result.stderr
    assert "X-YaCloud-SubjectToken" in result.stderr  # the header is logged, its value redacted


@pytest.mark.timeout(150)
def test_put_then_read_with_a_checkpoint_across_a_split(
    km: Admin,
    yds: YdsDouble,
    cli: Cli,
    no_region: dict[str, str],
    stream_name: Any,
    tmp_path: Any,
) -> None:
    """`put` through YDS, then `read --checkpoint` in three runs around a split: nothing
    repeated, nothing skipped (the checkpoint holds YDS offsets)."""
    path = path_for(stream_name)
    stream = km.create_stream(backend_name(path), shards=2)
    checkpoint = str(tmp_path / "yds.checkpoint")

    def put(rounds: range) -> None:
        lines = "\n".join(json.dumps({"k": k, "i": i}) for i in rounds for k in KEYS)
        result = cli.run(
            "put", path, "--key-field", "k", endpoint=yds.endpoint, env=no_region, stdin=lines
        )
        assert result.returncode == 0, result.describe()

    def read() -> list[dict[str, Any]]:
        result = cli.run(
            "read", path, "--checkpoint", checkpoint, endpoint=yds.endpoint, env=no_region
        )
        assert result.returncode == 0, result.describe()
        assert_no_errors(result.stderr)
        return result.records

    put(range(3))
    first = read()
    km.split(stream, km.open_shards(stream)[0])
    put(range(3, 6))
    second = read()
    third = read()

    assert rounds_by_key(first) == {k: [0, 1, 2] for k in KEYS}
    assert rounds_by_key(second) == {k: [3, 4, 5] for k in KEYS}
    assert third == []
    assert_yds_calls_only_or_puts(yds)


def assert_yds_calls_only_or_puts(double: YdsDouble) -> None:
    assert double.refused() == []
    # DescribeStreamSummary: the checkpoint's stream identity (one call a run); YDS implements it
    # (datastreams_proxy.cpp, TDescribeStreamSummaryActor).
    allowed = {
        "DescribeStream",
        "DescribeStreamSummary",
        "GetShardIterator",
        "GetRecords",
        "ListShards",
        "PutRecords",
    }
    assert set(double.operations()) <= allowed


@pytest.mark.timeout(120)
def test_a_records_codec_decides_how_it_is_decoded(
    km: Admin, yds: YdsDouble, cli: Cli, no_region: dict[str, str], stream_name: Any
) -> None:
    """Messages written compressed through YDB's topic API come back with their `Codec`
    (datastreams_proxy.cpp `TGetRecordsActor::Handle`): that decides, not the first bytes."""
    path = path_for(stream_name)
    km.create_stream(backend_name(path), shards=1)
    order = b'{"id":7}'
    streamer = zstandard.ZstdCompressor().compressobj()  # as YDB's SDK writes ZSTD: no size
    zstd = streamer.compress(order) + streamer.flush()
    yds.write_compressed(
        path,
        [
            ("z", zstd, 4),
            ("g", gzip.compress(b"hello"), 2),
            ("zl", zlib.compress(order), 2),  # YDB's SDK reads GZIP as gzip or zlib
            ("m", zstd[4:], 4),  # no magic number: the codec still says zstd
            ("o", b"\x11\x00\x00", 3),  # lzop
            ("c", order, 10000),  # a user-defined codec
        ],
    )
    put = cli.run("put", path, "--key", "p", endpoint=yds.endpoint, env=no_region, stdin="[8]")
    assert put.returncode == 0, put.describe()

    read = cli.run("read", path, endpoint=yds.endpoint, env=no_region)
    assert read.returncode == 0, read.describe()
    assert [(r["key"], r["enc"], r["data"]) for r in read.records] == [
        ("z", "zstd+json", {"id": 7}),
        ("g", "gzip+text", "hello"),
        ("zl", "gzip+json", {"id": 7}),
        ("m", "zstd+json", {"id": 7}),
        ("o", "base64", "EQAA"),
        ("c", "base64", base64.b64encode(order).decode()),
        ("p", "json", [8]),  # written through the Kinesis API: Codec 0
    ]
    warnings = [line.split(": ", 3)[-1] for line in read.stderr.splitlines()]
    assert warnings == [
        "payload compressed with lzop, which streamtail cannot undo; shown as base64",
        "payload compressed with custom codec 10000, which streamtail cannot undo; shown as base64",
    ]

    stored = cli.run("read", path, "--decode", "base64", endpoint=yds.endpoint, env=no_region)
    assert base64.b64decode(stored.records[0]["data"]) == zstd
    assert stored.stderr == ""
    api = cli.run("read", path, "-o", "aws", endpoint=yds.endpoint, env=no_region)
    assert [r["Codec"] for r in api.records] == [4, 2, 2, 4, 3, 10000, 0]
    assert_yds_calls_only_or_puts(yds)
