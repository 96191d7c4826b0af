"""`put` through the CLI on moto in-process: what lands in the stream, the count on stderr, exit
codes, and `read -o ndjson | put --from-ndjson` round trips."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from tests.unit.helpers import run_cli

#: the count line; how many calls it took depends on how fast the input arrives (linger)
SUMMARY = r"streamtail: %d records? written to %s \(\d+ PutRecords calls?\)\n"


def _stream(kinesis: Any, name: str, shards: int = 1) -> None:
    kinesis.create_stream(StreamName=name, ShardCount=shards)


def _stored(kinesis: Any, name: str) -> list[tuple[str, bytes]]:
    """Every record of a stream as (partition key, data), shard by shard."""
    out: list[tuple[str, bytes]] = []
    for shard in kinesis.list_shards(StreamName=name)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = kinesis.get_records(ShardIterator=iterator, Limit=10000)["Records"]
        out.extend((r["PartitionKey"], r["Data"]) for r in records)
    return out


def test_lines_become_records_with_a_fixed_key(kinesis: Any) -> None:
    _stream(kinesis, "out")
    result = run_cli("put", "out", "--key", "k1", input=b"one\ntwo\r\n\nthree")
    assert result.code == 0, result.stderr
    assert result.stdout == b""
    assert re.fullmatch(SUMMARY % (3, "out"), result.stderr)
    assert _stored(kinesis, "out") == [("k1", b"one"), ("k1", b"two"), ("k1", b"three")]


def test_random_keys_spread_over_the_shards(kinesis: Any) -> None:
    _stream(kinesis, "wide", shards=4)
    result = run_cli("put", "wide", input=b"".join(b"%d\n" % i for i in range(400)))
    assert result.code == 0
    stored = _stored(kinesis, "wide")
    assert sorted(int(d) for _, d in stored) == list(range(400))
    assert len({k for k, _ in stored}) == 400
    per_shard = [
        len(kinesis.get_records(ShardIterator=it, Limit=10000)["Records"])
        for it in (
            kinesis.get_shard_iterator(
                StreamName="wide", ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for s in kinesis.list_shards(StreamName="wide")["Shards"]
        )
    ]
    assert min(per_shard) > 50


def test_key_field(kinesis: Any) -> None:
    _stream(kinesis, "out")
    lines = b'{"user":{"id":"u1"},"n":1}\n{"user":{"id":"u2"},"n":2}\n'
    assert run_cli("put", "out", "--key-field", "user.id", input=lines).code == 0
    assert [k for k, _ in _stored(kinesis, "out")] == ["u1", "u2"]


def test_more_than_one_batch(kinesis: Any) -> None:
    _stream(kinesis, "big")
    result = run_cli("put", "big", "--key", "k", input=b"x\n" * 1234)
    assert result.code == 0
    assert re.fullmatch(SUMMARY % (1234, "big"), result.stderr)
    assert len(_stored(kinesis, "big")) == 1234


def test_binary_chunks(kinesis: Any) -> None:
    _stream(kinesis, "bin")
    data = bytes(range(256)) * 20
    result = run_cli("put", "bin", "--binary", "--chunk-size", "1000", "--key", "b", input=data)
    assert result.code == 0, result.stderr
    stored = _stored(kinesis, "bin")
    assert [len(d) for _, d in stored] == [1000] * 5 + [120]
    assert b"".join(d for _, d in stored) == data


def test_bad_lines_are_named_the_rest_written_and_the_exit_is_2(kinesis: Any) -> None:
    _stream(kinesis, "out")
    lines = b'{"id":"a"}\nnot json\n{"id":"b"}\n{"other":1}\n'
    result = run_cli("put", "out", "--key-field", "id", input=lines)
    assert result.code == 2
    assert re.fullmatch(SUMMARY % (2, "out"), result.stderr.splitlines(keepends=True)[2])
    assert result.stderr.splitlines()[:2] + result.stderr.splitlines()[3:] == [
        "streamtail: warning: line 2: not JSON; not written",
        "streamtail: warning: line 4: no usable partition key at id; not written",
        "streamtail: error: 2 input lines were not written (first: line 2, not JSON)",
        "streamtail: hint: --key-field needs each JSON line to hold that field: a string, or a "
        "number (its literal text), of 1 to 256 characters",
    ]
    assert [k for k, _ in _stored(kinesis, "out")] == ["a", "b"]


def test_key_field_numbers_are_their_literal_text_and_booleans_no_key(kinesis: Any) -> None:
    # issue 26: `{"u":1.50}` was key `1.5`, `1e2` was `100.0`, `true` was the key "true"
    _stream(kinesis, "out")
    lines = b'{"u":1.50}\n{"u":1e2}\n{"u":"s"}\n{"u":true}\n'
    result = run_cli("put", "out", "--key-field", "u", input=lines)
    assert result.code == 2
    assert result.stderr.splitlines()[0] == (
        "streamtail: warning: line 4: no usable partition key at u (true: not a string or a "
        "number); not written"
    )
    assert [k for k, _ in _stored(kinesis, "out")] == ["1.50", "1e2", "s"]


@pytest.mark.parametrize(
    ("args", "lines", "reason", "hint"),
    [
        (
            (),
            b"x" * 1_048_577 + b"\n",
            "a line of 1048577 bytes, over the 1 MiB a line holds",
            "put --binary cuts a large input into records of --chunk-size bytes",
        ),
        (
            ("--from-ndjson",),
            b"[1]\n",
            "not a JSON object",
            "--from-ndjson reads the lines `read -o ndjson` prints",
        ),
    ],
)
def test_each_input_error_has_its_own_hint(
    kinesis: Any, args: tuple[str, ...], lines: bytes, reason: str, hint: str
) -> None:
    _stream(kinesis, "out")
    result = run_cli("put", "out", "--key", "k", *args, input=lines)
    assert result.code == 2
    assert result.stderr.splitlines()[-2:] == [
        f"streamtail: error: 1 input line was not written (first: line 1, {reason})",
        f"streamtail: hint: {hint}",
    ]


def test_a_missing_stream_fails_before_reading_input(kinesis: Any) -> None:
    result = run_cli("put", "nope", input=b"x\n")
    assert result.code == 3
    assert result.stderr.startswith("streamtail: error: stream 'nope' not found")
    assert "written" not in result.stderr


def test_usage_errors(kinesis: Any) -> None:
    _stream(kinesis, "out")
    cases = {
        ("put", "ddb:Orders"): "put writes to Kinesis streams only",
        ("put", "out", "--key", "a", "--key-field", "b"): "--key and --key-field cannot be used",
        ("put", "out", "--chunk-size", "10"): "--chunk-size goes with --binary",
        ("put", "out", "--binary", "--from-ndjson"): "--binary takes --key or random keys",
        ("put", "out", "--binary", "--chunk-size", "2000000"): "invalid --chunk-size 2000000",
    }
    for args, message in cases.items():
        result = run_cli(*args, input=b"x\n")
        assert result.code == 2, args
        assert result.stderr.startswith(f"streamtail: error: {message}"), result.stderr
    assert _stored(kinesis, "out") == []


def test_read_ndjson_into_put_round_trips(kinesis: Any) -> None:
    _stream(kinesis, "src", shards=2)
    _stream(kinesis, "dst", shards=3)
    payloads = [b'{"id":1,"big":123456789012345678901}', b"plain text", b"\x00\xffbin", b"[]"]
    for i, data in enumerate(payloads):
        kinesis.put_record(StreamName="src", PartitionKey=f"key-{i}", Data=data)
    exported = run_cli("read", "src", "-o", "ndjson")
    assert exported.code == 0
    result = run_cli("put", "dst", "--key-field", "key", "--from-ndjson", input=exported.stdout)
    assert result.code == 0, result.stderr
    assert sorted(_stored(kinesis, "dst")) == sorted(
        (f"key-{i}", data) for i, data in enumerate(payloads)
    )
    again = run_cli("read", "dst", "-o", "ndjson")
    strip = lambda r: {k: v for k, v in orjson.loads(r).items() if k in ("key", "enc", "data")}  # noqa: E731
    assert sorted(map(strip, again.stdout.splitlines()), key=str) == sorted(
        map(strip, exported.stdout.splitlines()), key=str
    )
