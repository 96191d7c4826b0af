"""`read` through the CLI on moto in-process: decoders, filters and --limit working together, with
exact stdout, stderr and exit codes."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import orjson

from streamtail.filters import key_shards
from streamtail.model import SourceKind, StreamRef
from streamtail.sources.kinesis import KinesisSource
from tests.unit import kplbuild
from tests.unit.helpers import run_cli
from tests.unit.test_decoders import CONTROL, ENVELOPE


def _stream(kinesis: Any, name: str, shards: int = 1) -> None:
    kinesis.create_stream(StreamName=name, ShardCount=shards)


def _put(kinesis: Any, name: str, key: str, data: bytes) -> None:
    kinesis.put_record(StreamName=name, PartitionKey=key, Data=data)


def _records(stdout: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in stdout.splitlines()]


def test_every_decoder_in_one_read(kinesis: Any) -> None:
    _stream(kinesis, "mixed")
    _put(kinesis, "mixed", "a", b'{"n":1}')
    _put(kinesis, "mixed", "b", gzip.compress(b'{"n":2}'))
    _put(kinesis, "mixed", "c", kplbuild.aggregate([("u1", b"one"), ("u2", b'{"n":3}')]))
    _put(kinesis, "mixed", "d", gzip.compress(json.dumps(ENVELOPE).encode()))
    _put(kinesis, "mixed", "e", b"\x00\x01binary")
    result = run_cli("read", "mixed", "-o", "ndjson", "--expand-logs")
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    got = [(r["key"], r.get("subseq"), r["enc"], r["data"]) for r in _records(result.stdout)]
    assert got == [
        ("a", None, "json", {"n": 1}),
        ("b", None, "gzip+json", {"n": 2}),
        ("u1", 0, "kpl+text", "one"),
        ("u2", 1, "kpl+json", {"n": 3}),
        ("d", None, "gzip+cwlogs+text", "START RequestId: 42\n"),
        ("d", None, "gzip+cwlogs+json", {"level": "error", "msg": "boom"}),
        ("e", None, "base64", "AAFiaW5hcnk="),
    ]


def test_limit_counts_output_records_not_stream_records(kinesis: Any) -> None:
    _stream(kinesis, "agg")
    _put(kinesis, "agg", "k", kplbuild.aggregate([(f"u{i}", b"x") for i in range(5)]))
    result = run_cli("read", "agg", "-o", "ndjson", "-n", "3")
    assert result.code == 0
    assert [r["subseq"] for r in _records(result.stdout)] == [0, 1, 2]


def test_key_filters_kpl_user_records_by_their_own_key(kinesis: Any) -> None:
    _stream(kinesis, "agg")
    _put(kinesis, "agg", "u1", kplbuild.aggregate([("u1", b"a"), ("u2", b"b"), ("u1", b"c")]))
    result = run_cli("read", "agg", "-o", "ndjson", "--key", "u1")
    assert [(r["subseq"], r["data"]) for r in _records(result.stdout)] == [(0, "a"), (2, "c")]


def test_key_reads_only_the_shard_that_can_hold_it(kinesis: Any) -> None:
    _stream(kinesis, "wide", shards=8)
    for i in range(64):
        _put(kinesis, "wide", f"user-{i}", f'{{"i":{i}}}'.encode())
    result = run_cli("read", "wide", "-o", "ndjson", "--key", "user-7")
    assert result.code == 0, result.stderr
    records = _records(result.stdout)
    assert [r["data"] for r in records] == [{"i": 7}]
    source = KinesisSource(StreamRef(SourceKind.KINESIS, "wide", name="wide"), kinesis)
    holder = [s.shard_id for s in source.list_shards() if key_shards("user-7")(s)]
    assert [r["shard"] for r in records] == holder


def test_hash_key_reads_the_shard_an_explicit_hash_key_routed_to(kinesis: Any) -> None:
    """Records written with an ExplicitHashKey sit where that hash routes them, whatever their
    partition key says: --hash-key reads that shard, and only that one."""
    _stream(kinesis, "wide", shards=8)
    source = KinesisSource(StreamRef(SourceKind.KINESIS, "wide", name="wide"), kinesis)
    shards = source.list_shards()
    target = shards[5]
    point = str(target.hash_start + 12345)
    placed = {}
    for i in range(24):
        explicit = i % 3 == 0
        args = {"ExplicitHashKey": point} if explicit else {}
        put = kinesis.put_record(
            StreamName="wide", PartitionKey=f"user-{i}", Data=f'{{"i":{i}}}'.encode(), **args
        )
        placed[i] = put["ShardId"]
    routed = list(range(0, 24, 3))
    assert {placed[i] for i in routed} == {target.shard_id}  # moto routes by the hash key
    assert not all(key_shards(f"user-{i}")(target) for i in routed)  # their keys would not
    result = run_cli("read", "wide", "-o", "ndjson", "--hash-key", point)
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    records = _records(result.stdout)
    assert {r["shard"] for r in records} == {target.shard_id}
    assert [r["data"]["i"] for r in records] == [
        i for i in range(24) if placed[i] == target.shard_id
    ]
    # with --key as well: the hash key picks the shard, the key the records
    both = run_cli("read", "wide", "-o", "ndjson", "--hash-key", point, "--key", "user-3")
    assert [r["data"] for r in _records(both.stdout)] == [{"i": 3}]


def test_hash_key_must_be_a_128_bit_decimal_number_and_kinesis(kinesis: Any) -> None:
    _stream(kinesis, "s")
    for bad in ("-1", "0x10", "1e3", "", str(2**128), "١٢"):
        result = run_cli("read", "s", "--hash-key", bad)
        assert result.code == 2, bad
        assert result.stdout == b""
        assert result.stderr == (
            f"streamtail: error: invalid --hash-key {bad!r}: a hash key is a decimal number "
            f"from 0 to {2**128 - 1} (2^128 - 1)\n"
        )
    assert run_cli("read", "s", "--hash-key", str(2**128 - 1)).code == 0
    ddb = run_cli("read", "ddb:Orders", "--hash-key", "7")
    assert ddb.code == 2
    assert ddb.stderr == "streamtail: error: --hash-key applies to Kinesis streams only\n"


def test_grep_matches_decoded_text(kinesis: Any) -> None:
    _stream(kinesis, "logs")
    _put(kinesis, "logs", "a", gzip.compress(b'{"status":"failed","id":1}'))
    _put(kinesis, "logs", "b", gzip.compress(b'{"status":"ok","id":2}'))
    _put(kinesis, "logs", "c", b"payment failed for order 3")
    result = run_cli("read", "logs", "-o", "raw", "--grep", "failed")
    assert result.stdout == b'{"status":"failed","id":1}\npayment failed for order 3\n'


def test_skip_control_drops_health_checks(kinesis: Any) -> None:
    _stream(kinesis, "cwl")
    _put(kinesis, "cwl", "x", gzip.compress(json.dumps(CONTROL).encode()))
    _put(kinesis, "cwl", "y", gzip.compress(json.dumps(ENVELOPE).encode()))
    result = run_cli("read", "cwl", "-o", "raw", "--expand-logs", "--skip-control")
    assert result.stdout == b'START RequestId: 42\n{"level":"error","msg":"boom"}\n'
    shown = run_cli("read", "cwl", "-o", "raw", "--expand-logs")
    assert shown.stdout.startswith(b"CWL CONTROL MESSAGE")


def test_aws_output_prints_the_record_as_read_once_when_any_item_is_kept(kinesis: Any) -> None:
    _stream(kinesis, "agg")
    packed = kplbuild.aggregate([("u1", b"a"), ("u2", b"b"), ("u1", b"c")])
    _put(kinesis, "agg", "u1", packed)
    _put(kinesis, "agg", "u3", kplbuild.aggregate([("u3", b"d")]))
    result = run_cli("read", "agg", "-o", "aws", "--key", "u1")
    (record,) = _records(result.stdout)
    assert record["PartitionKey"] == "u1"
    assert base64.b64decode(record["Data"]) == packed


def test_damaged_payloads_are_shown_and_warned_about_once_each_kind(kinesis: Any) -> None:
    _stream(kinesis, "bad")
    good = kplbuild.aggregate([("k", b"v")])
    bad = good[:-1] + bytes([good[-1] ^ 1])
    for _ in range(3):
        _put(kinesis, "bad", "k", bad)
    _put(kinesis, "bad", "k", gzip.compress(b"{}")[:-4])
    result = run_cli("read", "bad", "-o", "ndjson")
    assert result.code == 0
    assert [r["enc"] for r in _records(result.stdout)] == ["base64"] * 4
    assert result.stderr.splitlines() == [
        "streamtail: warning: shard shardId-000000000000 seq 1: KPL aggregate with a bad MD5 "
        "checksum; shown as base64",
        "streamtail: warning: shard shardId-000000000000 seq 4: truncated gzip data; shown as "
        "base64",
        "streamtail: warning: 3 of the 4 records printed: KPL aggregate with a bad MD5 checksum; "
        "shown as "
        "base64",
    ]


def test_forced_decode_that_does_not_fit_warns(kinesis: Any) -> None:
    _stream(kinesis, "txt")
    _put(kinesis, "txt", "k", b"plain")
    result = run_cli("read", "txt", "-o", "ndjson", "--decode", "json")
    assert _records(result.stdout)[0]["data"] == "cGxhaW4="
    assert "payload is not JSON; shown as base64" in result.stderr


def test_event_is_for_dynamodb_and_key_for_kinesis(kinesis: Any) -> None:
    _stream(kinesis, "s")
    result = run_cli("read", "s", "--event", "INSERT")
    assert (result.code, result.stderr) == (
        2,
        "streamtail: error: --event applies to DynamoDB streams only (ddb:TABLE)\n",
    )
    result = run_cli("read", "ddb:Orders", "--key", "a")
    assert result.code == 2
    assert result.stderr.startswith("streamtail: error: --key applies to Kinesis streams only")
    assert run_cli("read", "s", "--key", "").code == 2
    assert "invalid --grep" in run_cli("read", "s", "--grep", "(").stderr


def test_event_filters_dynamodb_changes(kinesis: Any) -> None:
    import boto3

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(
        TableName="Carts",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    ddb.put_item(TableName="Carts", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    ddb.put_item(TableName="Carts", Item={"pk": {"S": "a"}, "n": {"N": "2"}})
    ddb.delete_item(TableName="Carts", Key={"pk": {"S": "a"}})
    result = run_cli("read", "ddb:Carts", "-o", "ndjson", "--event", "remove", "--grep", '"n":2')
    assert result.code == 0, result.stderr
    (record,) = _records(result.stdout)
    assert (record["event"], record["keys"], record["old"]) == (
        "REMOVE",
        {"pk": "a"},
        {"pk": "a", "n": 2},
    )


def test_decode_warnings_speak_only_of_records_printed(kinesis: Any) -> None:
    _stream(kinesis, "bad")
    good = kplbuild.aggregate([("k", b"v")])
    bad = good[:-1] + bytes([good[-1] ^ 1])
    _put(kinesis, "bad", "user-1", b'{"started":true}')
    for _ in range(3):
        _put(kinesis, "bad", "user-2", bad)
    # past --limit, or filtered out: printed by no one, warned about by no one
    for args in (["-n", "1"], ["--grep", "started"], ["--key", "user-1"]):
        result = run_cli("read", "bad", "-o", "ndjson", *args)
        assert result.code == 0, result.stderr
        assert len(result.lines) == 1
        assert result.stderr == "", args
    result = run_cli("read", "bad", "-o", "ndjson", "-n", "3")
    assert [r["enc"] for r in _records(result.stdout)] == ["json", "base64", "base64"]
    assert result.stderr.splitlines() == [
        "streamtail: warning: shard shardId-000000000000 seq 2: KPL aggregate with a bad MD5 "
        "checksum; shown as base64",
        "streamtail: warning: 2 of the 3 records printed: KPL aggregate with a bad MD5 checksum; "
        "shown as base64",
    ]


def test_raw_delimiter(kinesis: Any) -> None:
    _stream(kinesis, "lines")
    for data in (b"a\nb", b"log line\n", b'{"n": 1}', b"\xff\x00bytes"):
        _put(kinesis, "lines", "k", data)
    # default: a newline after each payload; a text payload's own final newline ends its line
    result = run_cli("read", "lines", "-o", "raw")
    assert result.stdout == b'a\nb\nlog line\n{"n": 1}\n/wBieXRlcw==\n'
    result = run_cli("read", "lines", "-o", "raw", "--delimiter", "\\0")
    assert result.stdout == b'a\nb\x00log line\n\x00{"n": 1}\x00/wBieXRlcw==\x00'
    result = run_cli("read", "lines", "-o", "raw", "--decode", "none", "-D", "")
    assert result.stdout == b'a\nblog line\n{"n": 1}\xff\x00bytes'
    result = run_cli("read", "lines", "-o", "raw", "--decode", "none", "-D", "\\x1e|")
    assert result.stdout.split(b"\x1e|") == [
        b"a\nb",
        b"log line\n",
        b'{"n": 1}',
        b"\xff\x00bytes",
        b"",
    ]


def test_raw_delimiter_usage_errors(kinesis: Any) -> None:
    result = run_cli("read", "lines", "-o", "ndjson", "--delimiter", "")
    assert (result.code, result.stderr) == (
        2,
        "streamtail: error: --delimiter is for -o raw, not -o ndjson\n",
    )
    result = run_cli("read", "lines", "-o", "raw", "--delimiter", "\\q")
    assert (result.code, result.stderr) == (
        2,
        "streamtail: error: invalid --delimiter '\\\\q': unknown escape '\\\\q'\n"
        "streamtail: hint: escapes: \\n \\t \\r \\0 \\\\ and \\xHH; '' for none\n",
    )
