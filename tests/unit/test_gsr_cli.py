"""Schemas through the CLI on moto in-process (Kinesis and Glue): GSR frames written by the PyPI
serializer (aws-glue-schema-registry) read back as JSON, `put --gsr-schema` and `--avro-schema`
round trips, offline Protobuf, usage errors, and which endpoint the Glue client uses."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aws_schema_registry import DataAndSchema, SchemaRegistryClient
from aws_schema_registry import codec as gsr_codec
from aws_schema_registry.avro import AvroSchema
from aws_schema_registry.jsonschema import JsonSchema
from aws_schema_registry.serde import KafkaDeserializer, KafkaSerializer

from tests.unit.helpers import run_cli

from .schema_fixtures import proto_message, shop_descriptor_set

EVENT_AVRO = {
    "type": "record",
    "name": "Event",
    "namespace": "shop",
    "fields": [
        {"name": "id", "type": "long"},
        {
            "name": "price",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 8, "scale": 2},
        },
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}
EVENT_JSON_SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}}}


@pytest.fixture
def glue(kinesis: Any) -> Any:
    import boto3

    client = boto3.client("glue", region_name="us-east-1")
    client.create_registry(RegistryName="reg")
    return client


def put_all(kinesis: Any, stream: str, payloads: list[bytes]) -> None:
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    for payload in payloads:
        kinesis.put_record(StreamName=stream, Data=payload, PartitionKey="k")


def read(*args: str) -> tuple[list[dict[str, Any]], str]:
    result = run_cli("read", *args, "-o", "ndjson", "-q")
    assert result.code == 0, result.stderr
    return [json.loads(line) for line in result.lines], result.stderr


def test_gsr_avro_and_json_frames_read_as_their_values(kinesis: Any, glue: Any) -> None:
    serializer = KafkaSerializer(SchemaRegistryClient(glue, registry_name="reg"))
    avro = AvroSchema(EVENT_AVRO)
    at = dt.datetime(2026, 11, 21, 21, 4, 5, 123000, tzinfo=dt.UTC)
    frames = [
        serializer.serialize(
            "orders",
            DataAndSchema({"id": 1, "price": Decimal("9.90"), "at": at, "note": "x"}, avro),
        ),
        serializer.serialize("events", DataAndSchema({"id": 2}, JsonSchema(EVENT_JSON_SCHEMA))),
    ]
    body, version = gsr_codec.decode(frames[0])
    frames.append(gsr_codec.encode(body, version, compression=True))  # zlib, as Java may write
    put_all(kinesis, "gsr", frames)
    records, stderr = read("gsr")
    assert stderr == ""
    assert [(r["enc"], r["data"]) for r in records] == [
        ("gsr+avro", {"id": 1, "price": 9.9, "at": "2026-11-21T21:04:05.123Z", "note": "x"}),
        ("gsr+json", {"id": 2}),
        ("gsr+zlib+avro", {"id": 1, "price": 9.9, "at": "2026-11-21T21:04:05.123Z", "note": "x"}),
    ]
    assert '"price":9.90' in run_cli("read", "gsr", "-o", "ndjson", "-n", "1").stdout.decode()
    avro_id = str(version)
    assert records[0]["schema"] == {
        "registry": "reg",
        "name": "orders-value",
        "version": 1,
        "id": avro_id,
    }
    assert records[1]["schema"]["name"] == "events-value"
    assert list(records[0]) == ["stream", "shard", "seq", "key", "ts", "enc", "data", "schema"]


def test_an_unknown_version_is_base64_and_reported_once(kinesis: Any, glue: Any) -> None:
    missing = uuid.uuid4()
    put_all(kinesis, "lost", [gsr_codec.encode(b"\x02", missing) for _ in range(3)])
    records, stderr = read("lost")
    assert [r["enc"] for r in records] == ["base64"] * 3
    assert [r["schema"] for r in records] == [{"id": str(missing)}] * 3
    lines = stderr.splitlines()
    assert len(lines) == 2, stderr
    assert lines[0].startswith("streamtail: warning: shard shardId-000000000000 seq ")
    assert lines[0].endswith(
        f": GSR schema version {missing}: not in the registry (EntityNotFoundException); "
        "shown as base64"
    )
    assert lines[1].startswith(
        "streamtail: warning: 3 of the 3 records printed: GSR schema version"
    )


def test_put_gsr_schema_writes_what_the_pypi_deserializer_reads(kinesis: Any, glue: Any) -> None:
    glue.create_schema(
        RegistryId={"RegistryName": "reg"},
        SchemaName="events",
        DataFormat="AVRO",
        Compatibility="BACKWARD",
        SchemaDefinition=json.dumps(EVENT_AVRO),
    )
    kinesis.create_stream(StreamName="out", ShardCount=1)
    lines = b'{"id":5,"price":12.30,"at":"2026-11-21T21:04:05.123Z","note":null}\n'
    result = run_cli("put", "out", "--gsr-schema", "reg/events", "--key", "k", input=lines)
    assert result.code == 0, result.stderr
    records, _ = read("out")
    assert [(r["enc"], r["data"]) for r in records] == [
        ("gsr+avro", {"id": 5, "price": 12.3, "at": "2026-11-21T21:04:05.123Z", "note": None})
    ]
    shard = kinesis.list_shards(StreamName="out")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName="out", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )
    [stored] = kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    value, _ = KafkaDeserializer(SchemaRegistryClient(glue, registry_name="reg")).deserialize(
        "out", stored["Data"]
    )
    assert value == {
        "id": 5,
        "price": Decimal("12.30"),
        "at": dt.datetime(2026, 11, 21, 21, 4, 5, 123000, tzinfo=dt.UTC),
        "note": None,
    }
    # The README's round trip: read -o ndjson | put --from-ndjson --gsr-schema
    again = run_cli(
        "put",
        "out",
        "--from-ndjson",
        "--gsr-schema",
        "reg/events",
        input=run_cli("read", "out", "-o", "ndjson").stdout,
    )
    assert again.code == 0, again.stderr
    assert [r["data"]["price"] for r in read("out")[0]] == [12.3, 12.3]


def test_put_and_read_with_an_offline_avro_schema(kinesis: Any, tmp_path: Path) -> None:
    schema = tmp_path / "event.avsc"
    schema.write_text(json.dumps(EVENT_AVRO))
    kinesis.create_stream(StreamName="bare", ShardCount=1)
    lines = b'{"id":1,"price":1.05,"at":"2026-11-21T21:04:05Z","note":"a"}\n{"id":"x"}\n'
    put = run_cli("put", "bare", "--avro-schema", str(schema), input=lines)
    assert put.code == 2
    assert "line 2: does not fit the Avro schema" in put.stderr
    records, _ = read("bare", "--avro-schema", str(schema))
    assert [(r["enc"], r["data"], r["schema"]) for r in records] == [
        (
            "avro",
            {"id": 1, "price": 1.05, "at": "2026-11-21T21:04:05.000Z", "note": "a"},
            {"file": str(schema)},
        )
    ]


def test_offline_protobuf_with_a_descriptor_set(kinesis: Any, tmp_path: Path) -> None:
    files = shop_descriptor_set()
    path = tmp_path / "shop.desc"
    path.write_bytes(files)
    put_all(kinesis, "pb", [proto_message(files, "shop.Order", id=3, item="tea"), b"\xff\xff"])
    records, stderr = read("pb", "--proto-descriptor", str(path), "--proto-message", "shop.Order")
    assert [(r["enc"], r["data"]) for r in records] == [
        ("protobuf", {"id": "3", "item": "tea", "paid": False, "blob": ""}),
        ("base64", "//8="),
    ]
    assert "payload does not decode with --proto-message: not a shop.Order message" in stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--decode", "avro"], "--decode avro needs --avro-schema FILE"),
        (["--decode", "protobuf"], "--decode protobuf needs --proto-descriptor FILE"),
        (["--proto-message", "shop.Order"], "--proto-message goes with --proto-descriptor FILE"),
        (["--avro-schema", "/nonexistent.avsc"], "--avro-schema /nonexistent.avsc: No such file"),
        (["--decode", "text", "--avro-schema", "x.avsc"], "--decode text does not use a schema"),
    ],
)
def test_schema_usage_errors(kinesis: Any, args: list[str], message: str) -> None:
    kinesis.create_stream(StreamName="s", ShardCount=1)
    result = run_cli("read", "s", *args)
    assert result.code == 2
    assert message in result.stderr


def test_a_message_the_descriptors_lack_is_a_usage_error(kinesis: Any, tmp_path: Path) -> None:
    path = tmp_path / "shop.desc"
    path.write_bytes(shop_descriptor_set())
    kinesis.create_stream(StreamName="s", ShardCount=1)
    result = run_cli("read", "s", "--proto-descriptor", str(path), "--proto-message", "shop.Nope")
    assert result.code == 2
    assert "no message 'shop.Nope' in the descriptor set (shop.B, shop.B.A" in result.stderr


def test_glue_endpoint_variable_wins_over_the_streams_endpoint(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamtail.aws import Clients, Connection

    conn = Connection(region="us-east-1", endpoint_url="http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_ENDPOINT_URL_GLUE", "http://127.0.0.1:5000")
    clients = Clients(conn)
    assert clients.client("glue").meta.endpoint_url == "http://127.0.0.1:5000"
    assert clients.client("kinesis").meta.endpoint_url == "http://127.0.0.1:4566"
    monkeypatch.delenv("AWS_ENDPOINT_URL_GLUE")
    assert Clients(conn).client("glue").meta.endpoint_url == "http://127.0.0.1:4566"


def test_plain_payloads_import_no_schema_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from streamtail.core import ReadRequest, decode_options\n"
        "from streamtail.aws import Connection\n"
        "from streamtail.decode import expand_all\n"
        "from streamtail.model import Record\n"
        "options = decode_options(ReadRequest('s', Connection()), clients=None)\n"
        "plain = [Record('s', '1', 'k', 0, b'{\"a\":1}'), Record('s', '2', 'k', 0, b'\\x03')]\n"
        "expand_all(plain, options)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'fastavro', 'google'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_put_to_a_schema_the_registry_lacks_is_not_found(kinesis: Any, glue: Any) -> None:
    kinesis.create_stream(StreamName="out", ShardCount=1)
    result = run_cli("put", "out", "--gsr-schema", "reg/nope", input=b"{}\n")
    assert result.code == 3
    assert result.stderr.startswith("streamtail: error: schema reg/nope not found (EntityNotFound")


def test_a_glue_that_fails_is_reported_once_and_every_record_kept(
    kinesis: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No registry call can succeed: Glue is pointed at a port that refuses connections.
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        monkeypatch.setenv("AWS_ENDPOINT_URL_GLUE", f"http://127.0.0.1:{closed.getsockname()[1]}")
        # four frames, two version ids: the registry is asked once in all
        put_all(kinesis, "down", [gsr_codec.encode(b"\x02", uuid.uuid4()) for _ in range(2)] * 2)
        records, stderr = read("down")
    assert [r["enc"] for r in records] == ["base64"] * 4
    lines = stderr.splitlines()
    assert len(lines) == 2, stderr
    assert ": Glue Schema Registry unavailable (Glue GetSchemaVersion failed: " in lines[0]
    assert lines[0].endswith("; GSR frames shown as base64")
    assert lines[1].startswith(
        "streamtail: warning: 4 of the 4 records printed: Glue Schema Registry"
    )


def test_put_gsr_json_schema_keeps_every_digit(kinesis: Any, glue: Any) -> None:
    answer = glue.create_schema(
        RegistryId={"RegistryName": "reg"},
        SchemaName="doc",
        DataFormat="JSON",
        Compatibility="NONE",
        SchemaDefinition=json.dumps(EVENT_JSON_SCHEMA),
    )
    kinesis.create_stream(StreamName="docs", ShardCount=1)
    lines = b'{"id": 1, "total": 12.30, "big": 123456789012345678901234567890}\nnot json\n'
    result = run_cli("put", "docs", "--gsr-schema", "reg/doc", input=lines)
    assert result.code == 2
    assert "line 2: not JSON; not written" in result.stderr
    # the hint is the schema's, not --from-ndjson's or --key-field's (neither was given)
    assert result.stderr.splitlines()[-1] == (
        "streamtail: hint: each line is written with the schema: a JSON value the schema accepts"
    )
    shard = kinesis.list_shards(StreamName="docs")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName="docs", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    [stored] = kinesis.get_records(ShardIterator=iterator)["Records"]
    body, version = gsr_codec.decode(stored["Data"])
    assert str(version) == answer["SchemaVersionId"]
    assert body == b'{"id":1,"total":12.30,"big":123456789012345678901234567890}'


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--avro-schema", "a.avsc", "--gsr-schema", "s"], "give one"),
        (["--avro-schema", "a.avsc", "--binary"], "write JSON lines, not --binary chunks"),
        (["--avro-schema", "/nonexistent.avsc"], "--avro-schema /nonexistent.avsc: No such file"),
    ],
)
def test_put_schema_usage_errors(kinesis: Any, args: list[str], message: str) -> None:
    kinesis.create_stream(StreamName="s", ShardCount=1)
    result = run_cli("put", "s", *args, input=b"{}\n")
    assert result.code == 2
    assert message in result.stderr


def test_avro_warnings_count_only_the_records_printed(kinesis: Any, tmp_path: Path) -> None:
    # issue: `read S --avro-schema order.avsc -n 2` printed 2 records and warned of 12
    schema = tmp_path / "event.avsc"
    schema.write_text(json.dumps(EVENT_AVRO))
    put_all(kinesis, "bare", [b"\x02"] * 12)  # an id, then nothing: too short for the schema
    result = run_cli("read", "bare", "--avro-schema", str(schema), "-o", "ndjson", "-n", "2")
    assert result.code == 0, result.stderr
    assert len(result.lines) == 2
    first, count = result.stderr.splitlines()
    assert first.startswith("streamtail: warning: shard shardId-000000000000 seq 1: ")
    assert count.startswith("streamtail: warning: 2 of the 2 records printed: ")
