"""Output formats on a real server (ndjson schema v1, raw, aws) and the ways of naming a stream
(plain name, Kinesis ARN, Yandex Data Streams path)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from .servers import KINESIS_MOCK, MOTO, Admin, Cli, assert_clean_stderr

pytestmark = pytest.mark.server

NDJSON_KEYS = ["stream", "shard", "seq", "key", "ts", "enc", "data"]
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

#: (partition key, payload, expected enc, expected data in ndjson, expected raw line)
PAYLOADS: list[tuple[str, bytes, str, Any, bytes]] = [
    (
        "json-object",
        '{"n": 1, "s": "été", "nested": [1, 2.5, null, true]}'.encode(),
        "json",
        {"n": 1, "s": "été", "nested": [1, 2.5, None, True]},
        # JSON on one line is written back as it arrived
        '{"n": 1, "s": "été", "nested": [1, 2.5, null, true]}'.encode(),
    ),
    ("json-number", b"42", "json", 42, b"42"),
    (
        "text",
        "hello wörld\twith a tab, not {json".encode(),
        "text",
        "hello wörld\twith a tab, not {json",
        "hello wörld\twith a tab, not {json".encode(),
    ),
    ("binary", b"\x00\x01\xfe\xff", "base64", "AAH+/w==", b"AAH+/w=="),
]


def ms(moment: Any) -> str:
    """A boto3 timestamp as the ndjson `ts` field writes it."""
    utc = moment.astimezone(tz=None).utctimetuple()
    return (
        f"{utc.tm_year:04d}-{utc.tm_mon:02d}-{utc.tm_mday:02d}T{utc.tm_hour:02d}:"
        f"{utc.tm_min:02d}:{utc.tm_sec:02d}.{moment.microsecond // 1000:03d}Z"
    )


@pytest.fixture
def sample(admin: Admin, stream_name: Callable[[str], str]) -> tuple[str, list[dict[str, Any]]]:
    """A one-shard stream holding PAYLOADS, and the records as boto3 reads them back."""
    name = admin.create_stream(stream_name("fmt"), shards=1)
    admin.put_raw(name, [(key, data) for key, data, *_ in PAYLOADS])
    (shard,) = admin.list_shards(name)
    records = admin.shard_records(name, shard["ShardId"])
    assert [r["Data"] for r in records] == [data for _, data, *_ in PAYLOADS]
    return name, records


@pytest.mark.timeout(60)
def test_ndjson_schema_v1(admin: Admin, cli: Cli, sample: tuple[str, list[dict[str, Any]]]) -> None:
    name, server_records = sample
    result = cli.run("read", name, "-o", "ndjson", endpoint=admin.server.endpoint)
    assert result.returncode == 0, result.describe()
    assert_clean_stderr(result.stderr)
    # ndjson is also the default when stdout is not a terminal
    assert cli.run("read", name, endpoint=admin.server.endpoint).stdout == result.stdout

    lines = result.stdout.splitlines()
    assert len(lines) == len(PAYLOADS)
    for line, server, (key, _, enc, data, _) in zip(lines, server_records, PAYLOADS, strict=True):
        obj = json.loads(line)
        assert list(obj) == NDJSON_KEYS, line
        assert obj["stream"] == name
        assert obj["shard"] == admin.list_shards(name)[0]["ShardId"]
        assert obj["seq"] == server["SequenceNumber"]
        assert obj["key"] == key
        assert TS.match(obj["ts"]), obj["ts"]
        assert obj["ts"] == ms(server["ApproximateArrivalTimestamp"])
        assert obj["enc"] == enc
        assert obj["data"] == data


@pytest.mark.timeout(60)
def test_raw(admin: Admin, cli: Cli, sample: tuple[str, list[dict[str, Any]]]) -> None:
    name, _ = sample
    code, out, err = cli.run_bytes("read", name, "-o", "raw", endpoint=admin.server.endpoint)
    assert code == 0, err
    assert_clean_stderr(err.decode())
    assert out == b"".join(line + b"\n" for *_, line in PAYLOADS)

    # --decode none: the payload bytes exactly as they were written
    code, out, err = cli.run_bytes(
        "read", name, "-o", "raw", "--decode", "none", endpoint=admin.server.endpoint
    )
    assert code == 0, err
    assert out == b"".join(data + b"\n" for _, data, *_ in PAYLOADS)


@pytest.mark.timeout(60)
def test_aws(admin: Admin, cli: Cli, sample: tuple[str, list[dict[str, Any]]]) -> None:
    name, server_records = sample
    result = cli.run("read", name, "-o", "aws", endpoint=admin.server.endpoint)
    assert result.returncode == 0, result.describe()
    assert_clean_stderr(result.stderr)
    objects = result.records
    assert len(objects) == len(server_records)
    for obj, server in zip(objects, server_records, strict=True):
        assert set(obj) == set(server), (obj, server)
        assert obj["SequenceNumber"] == server["SequenceNumber"]
        assert obj["PartitionKey"] == server["PartitionKey"]
        assert base64.b64decode(obj["Data"]) == server["Data"]
        assert obj["ApproximateArrivalTimestamp"] == pytest.approx(
            server["ApproximateArrivalTimestamp"].timestamp(), abs=0.0005
        )
        for extra in set(server) - {
            "SequenceNumber",
            "PartitionKey",
            "Data",
            "ApproximateArrivalTimestamp",
        }:
            assert obj[extra] == server[extra]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "server",
    [
        KINESIS_MOCK,
        MOTO,
    ],
    indirect=True,
)
def test_stream_by_arn(admin: Admin, cli: Cli, stream_name: Callable[[str], str]) -> None:
    name = admin.create_stream(stream_name("arn"), shards=2)
    admin.put_counted(name, 0, 6)
    arn = admin.arn(name)
    by_name = cli.run("read", name, endpoint=admin.server.endpoint)
    by_arn = cli.run("read", arn, endpoint=admin.server.endpoint)
    assert by_arn.returncode == 0, by_arn.describe()
    assert_clean_stderr(by_arn.stderr)
    key = lambda r: (r["shard"], r["seq"])  # noqa: E731
    assert sorted(by_arn.records, key=key) == sorted(by_name.records, key=key)
    assert {r["stream"] for r in by_arn.records} == {name}

    shards = cli.run("shards", arn, endpoint=admin.server.endpoint)
    assert shards.returncode == 0, shards.describe()
    assert {r["shard"] for r in shards.records} == {s["ShardId"] for s in admin.list_shards(name)}


YANDEX_PATH = "/ru-central1/b1gtest/etntest/orders"


@pytest.mark.timeout(60)
def test_yandex_style_path_on_moto(moto: Admin, cli: Cli) -> None:
    """A Yandex Data Streams path is a stream name with slashes; moto accepts such names."""
    if YANDEX_PATH not in moto.client.list_streams()["StreamNames"]:
        moto.create_stream(YANDEX_PATH, shards=2)
    puts = moto.put_counted(YANDEX_PATH, 0, 8, tag="ydb")
    endpoint = moto.server.endpoint

    result = cli.run("read", YANDEX_PATH, endpoint=endpoint)
    assert result.returncode == 0, result.describe()
    assert_clean_stderr(result.stderr)
    records = [r for r in result.records if r["key"].startswith("ydb-")]
    assert sorted((r["shard"], r["seq"]) for r in records) == sorted((p.shard, p.seq) for p in puts)
    assert {r["stream"] for r in result.records} == {YANDEX_PATH}

    shards = cli.run("shards", YANDEX_PATH, endpoint=endpoint)
    assert shards.returncode == 0, shards.describe()
    assert {r["stream"] for r in shards.records} == {YANDEX_PATH}
    assert len(shards.records) == 2

    listing = cli.run("ls", endpoint=endpoint)
    assert listing.returncode == 0, listing.describe()
    assert YANDEX_PATH in {r["stream"] for r in listing.records if r["kind"] == "kinesis"}
