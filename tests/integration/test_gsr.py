"""Glue Schema Registry frames on moto's server: written by the PyPI serializer
(aws-glue-schema-registry) against moto's Glue, put into a Kinesis stream on the same server, read
by `streamtail` as a separate process. One registry is shared by the module and deleted at the end
with its schemas (moto allows 10 registries per account and region, like AWS)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_schema_registry import DataAndSchema, SchemaRegistryClient
from aws_schema_registry import codec as gsr_codec
from aws_schema_registry.avro import AvroSchema
from aws_schema_registry.jsonschema import JsonSchema
from aws_schema_registry.serde import KafkaSerializer

from streamtail.decode.schema import frame
from tests.unit.schema_fixtures import (
    README_ORDER,
    SHOP_PROTO,
    proto_message,
    shop_descriptor_set,
)

from .servers import ACCESS_KEY, REGION, SECRET_KEY, Admin, Cli, ServerProcess, closed_port

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]
Names = Callable[[str], str]

ORDER = README_ORDER


class Registry:
    """One registry on the server for the module's tests, and what they create in it."""

    def __init__(self, server: ServerProcess) -> None:
        self.glue = boto3.client(
            "glue",
            endpoint_url=server.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )
        self.name = f"streamtail-test-{uuid.uuid4().hex[:8]}"
        self.glue.create_registry(RegistryName=self.name)
        self.schemas: set[str] = set()

    def serializer(self) -> KafkaSerializer:
        # The serializer registers `<topic>-value` schemas itself (get_or_register).
        return KafkaSerializer(SchemaRegistryClient(self.glue, registry_name=self.name))

    def create(self, name: str, data_format: str, definition: str) -> str:
        answer = self.glue.create_schema(
            RegistryId={"RegistryName": self.name},
            SchemaName=name,
            DataFormat=data_format,
            Compatibility="NONE",
            SchemaDefinition=definition,
        )
        self.schemas.add(name)
        return str(answer["SchemaVersionId"])

    def close(self) -> None:
        for name in sorted(self.schemas):
            self.glue.delete_schema(SchemaId={"RegistryName": self.name, "SchemaName": name})
        self.glue.delete_registry(RegistryId={"RegistryName": self.name})
        self.glue.close()


@pytest.fixture(scope="module")
def registry(moto_server: ServerProcess) -> Iterator[Registry]:
    registry = Registry(moto_server)
    try:
        yield registry
    finally:
        registry.close()


@pytest.fixture
def cache_env(cli: Cli, tmp_path: Path) -> dict[str, str]:
    """streamtail's environment with its own schema cache."""
    return {**cli.env, "XDG_CACHE_HOME": str(tmp_path / "cache")}


def records_of(cli: Cli, stream: str, endpoint: str, env: dict[str, str], *args: str) -> Any:
    result = cli.run("read", stream, "-o", "ndjson", "-q", *args, endpoint=endpoint, env=env)
    assert result.returncode == 0, result.describe()
    return result


def test_avro_and_json_schema_frames_read_as_their_values(
    moto: Admin, cli: Cli, stream_name: Names, registry: Registry, cache_env: dict[str, str]
) -> None:
    topic = stream_name("orders")
    registry.schemas.update({f"{topic}-value", f"{topic}-json-value"})
    serializer = registry.serializer()
    placed = dt.datetime(2026, 11, 21, 21, 4, 5, 123000, tzinfo=dt.UTC)
    avro = serializer.serialize(
        topic,
        DataAndSchema(
            {"id": 1, "total": Decimal("12.30"), "placed": placed, "coupon": None},
            AvroSchema(ORDER),
        ),
    )
    document = serializer.serialize(
        f"{topic}-json",
        DataAndSchema({"id": 2, "tags": ["a"]}, JsonSchema({"type": "object"})),
    )
    body, version = gsr_codec.decode(avro)
    zipped = gsr_codec.encode(body, version, compression=True)
    stream = moto.create_stream(topic)
    moto.put_raw(stream, [("k", avro), ("k", document), ("k", zipped)])
    endpoint = moto.server.endpoint

    result = records_of(cli, stream, endpoint, cache_env)
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert '"total":12.30,' in lines[0]
    got = [(r["enc"], r["data"], r["schema"]) for r in result.records]
    avro_ref = {
        "registry": registry.name,
        "name": f"{topic}-value",
        "version": 1,
        "id": str(version),
    }
    assert got[0] == (
        "gsr+avro",
        {"id": 1, "total": 12.3, "placed": "2026-11-21T21:04:05.123Z", "coupon": None},
        avro_ref,
    )
    assert got[1][:2] == ("gsr+json", {"id": 2, "tags": ["a"]})
    assert got[1][2]["name"] == f"{topic}-json-value"
    assert got[2] == ("gsr+zlib+avro", got[0][1], avro_ref)

    # The versions are on disk now: a second run decodes with Glue unreachable.
    cached = sorted(
        p.stem for p in (Path(cache_env["XDG_CACHE_HOME"]) / "streamtail" / "schemas").iterdir()
    )
    assert cached == sorted({str(version), got[1][2]["id"]})
    with closed_port() as port:
        offline = {**cache_env, "AWS_ENDPOINT_URL_GLUE": f"http://127.0.0.1:{port}"}
        again = records_of(cli, stream, endpoint, offline)
    assert again.stdout == result.stdout
    assert again.stderr == ""


def test_protobuf_frames_through_the_registry(
    moto: Admin,
    cli: Cli,
    stream_name: Names,
    registry: Registry,
    cache_env: dict[str, str],
    tmp_path: Path,
) -> None:
    # The registry holds .proto text: compiled with protoc (grpcio-tools), or the descriptors
    # come from --proto-descriptor. Frames are built as ProtobufWireFormatEncoder writes them.
    name = stream_name("proto")
    version = registry.create(name, "PROTOBUF", SHOP_PROTO)
    files = shop_descriptor_set()
    stream = moto.create_stream(name)
    moto.put_raw(
        stream,
        [
            ("k", frame(version, b"\x04" + proto_message(files, "shop.Order", id=9, item="tea"))),
            (
                "k",
                frame(
                    version, b"\x02" + proto_message(files, "shop.B.A.D", d="deep"), compress=True
                ),
            ),
        ],
    )
    expected = [
        ("gsr+protobuf", {"id": "9", "item": "tea", "paid": False, "blob": ""}),
        ("gsr+zlib+protobuf", {"d": "deep"}),
    ]
    compiled = records_of(cli, stream, moto.server.endpoint, cache_env)
    assert [(r["enc"], r["data"]) for r in compiled.records] == expected
    assert compiled.records[0]["schema"]["name"] == name
    assert compiled.stderr == ""
    descriptors = tmp_path / "shop.desc"
    descriptors.write_bytes(files)
    given = records_of(
        cli, stream, moto.server.endpoint, cache_env, "--proto-descriptor", str(descriptors)
    )
    assert [(r["enc"], r["data"]) for r in given.records] == expected


def test_put_gsr_schema_then_read(
    moto: Admin, cli: Cli, stream_name: Names, registry: Registry, cache_env: dict[str, str]
) -> None:
    name = stream_name("put")
    registry.create(name, "AVRO", json.dumps(ORDER))
    stream = moto.create_stream(name)
    endpoint = moto.server.endpoint
    lines = (
        '{"id":1,"total":12.30,"placed":"2026-11-21T21:04:05.123Z","coupon":null}\n'
        '{"id":2,"total":0.99,"placed":"2026-11-21T21:04:06Z","coupon":"WELCOME"}\n'
    )
    put = cli.run(
        "put",
        stream,
        "--gsr-schema",
        f"{registry.name}/{name}",
        endpoint=endpoint,
        stdin=lines,
        env=cache_env,
    )
    assert put.returncode == 0, put.describe()
    result = records_of(cli, stream, endpoint, cache_env)
    assert [r["data"] for r in result.records] == [
        {"id": 1, "total": 12.3, "placed": "2026-11-21T21:04:05.123Z", "coupon": None},
        {"id": 2, "total": 0.99, "placed": "2026-11-21T21:04:06.000Z", "coupon": "WELCOME"},
    ]
    assert {r["enc"] for r in result.records} == {"gsr+avro"}


def test_an_unknown_version_and_a_corrupt_body(
    moto: Admin, cli: Cli, stream_name: Names, registry: Registry, cache_env: dict[str, str]
) -> None:
    name = stream_name("bad")
    version = registry.create(name, "AVRO", json.dumps(ORDER))
    missing = str(uuid.uuid4())
    stream = moto.create_stream(name)
    moto.put_raw(
        stream,
        [("k", frame(missing, b"\x02"))] * 2 + [("k", frame(version, b"\x02\x00"))] * 2,
    )
    result = records_of(cli, stream, moto.server.endpoint, cache_env)
    assert [r["enc"] for r in result.records] == ["base64"] * 4
    assert [r["schema"]["id"] for r in result.records] == [missing] * 2 + [version] * 2
    warnings = result.stderr.splitlines()
    assert len(warnings) == 4, result.stderr
    assert (
        f"GSR schema version {missing}: not in the registry (EntityNotFoundException)"
        in warnings[0]
    )
    assert f"payload does not decode with {registry.name}/{name} v1: not Avro" in warnings[1]
    assert warnings[2].startswith(
        "streamtail: warning: 2 of the 4 records printed: GSR schema version"
    )
    assert warnings[3].startswith(
        "streamtail: warning: 2 of the 4 records printed: payload does not"
    )
