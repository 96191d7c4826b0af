"""Schema-aware decoding without a registry: the Avro -> JSON mapping (README "Schemas"), the GSR
frame (checked against the PyPI serializer's codec), Protobuf with descriptors built by
descriptor_pb2 and GSR's message index, failures as base64 with one warning per cause, and the
disk cache of schema versions."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

import fastavro
import orjson
import pytest
from aws_schema_registry import codec as gsr_codec

from streamtail.decode import DecodeMode, DecodeOptions, decode, expand_all
from streamtail.decode.avro import AvroCodec, AvroError
from streamtail.decode.proto import ProtoCodec, ProtoFiles, gsr_message_types
from streamtail.decode.schema import Schemas, SchemaUnavailable, SchemaVersion, frame
from streamtail.model import Record
from streamtail.schemas import GlueResolver, offline_schemas

from .schema_fixtures import ORDER_AVRO, ORDER_JSON, ORDER_VALUE, proto_message, shop_descriptor_set

VERSION_ID = "b4cd8a9b-c86e-4a0d-9e2c-baa864502962"


def avro_bytes(schema: Any, value: Any) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), value)
    return out.getvalue()


class FakeRegistry:
    """A Resolver that knows some versions and counts the questions it is asked."""

    def __init__(self, *versions: SchemaVersion) -> None:
        self.versions = {v.id: v for v in versions}
        self.asked: list[str] = []

    def schema_version(self, version_id: str) -> SchemaVersion:
        self.asked.append(version_id)
        if version_id not in self.versions:
            raise SchemaUnavailable("EntityNotFoundException: Schema version is not found.")
        return self.versions[version_id]


AVRO_VERSION = SchemaVersion(VERSION_ID, "AVRO", json.dumps(ORDER_AVRO), "reg", "orders", 3)


# -- Avro ----------------------------------------------------------------------------------------


def test_every_avro_type_maps_to_the_json_the_readme_promises() -> None:
    value = AvroCodec(ORDER_AVRO).decode(avro_bytes(ORDER_AVRO, ORDER_VALUE))
    assert orjson.dumps(value) == ORDER_JSON


def test_avro_json_goes_back_to_the_same_binary() -> None:
    codec = AvroCodec(ORDER_AVRO)
    binary = avro_bytes(ORDER_AVRO, ORDER_VALUE)
    # What put --avro-schema reads: the printed JSON, decimals parsed exactly.
    from decimal import Decimal

    printed = json.loads(ORDER_JSON, parse_float=Decimal)
    printed["party"] = {"vat": "GB1"}
    assert codec.encode(printed) == binary


def test_float32_prints_its_shortest_decimal_and_doubles_stay_as_they_are() -> None:
    schema = {
        "type": "record",
        "name": "F",
        "fields": [{"name": "f", "type": "float"}, {"name": "d", "type": "double"}],
    }
    value = AvroCodec(schema).decode(avro_bytes(schema, {"f": 3.14, "d": 0.1}))
    assert value == {"f": 3.14, "d": 0.1}


def test_a_recursive_schema_decodes() -> None:
    schema = {
        "type": "record",
        "name": "Node",
        "fields": [{"name": "v", "type": "bytes"}, {"name": "next", "type": ["null", "Node"]}],
    }
    data = avro_bytes(schema, {"v": b"a", "next": {"v": b"b", "next": None}})
    assert AvroCodec(schema).decode(data) == {"v": "YQ==", "next": {"v": "Yg==", "next": None}}


def test_leftover_or_missing_bytes_are_not_this_schema() -> None:
    codec = AvroCodec(ORDER_AVRO)
    data = avro_bytes(ORDER_AVRO, ORDER_VALUE)
    with pytest.raises(AvroError, match="bytes left over"):
        codec.decode(data + b"\x00")
    with pytest.raises(AvroError, match="ends too soon"):
        codec.decode(data[:10])


def test_an_invalid_avro_schema_is_refused() -> None:
    with pytest.raises(AvroError, match="not a valid Avro schema"):
        AvroCodec('{"type": "record", "name": "X", "fields": [{"name": "a", "type": "nope"}]}')


# -- GSR frames ----------------------------------------------------------------------------------


def test_our_frame_is_the_pypi_serializers_frame() -> None:
    body = avro_bytes(ORDER_AVRO, ORDER_VALUE)
    version = uuid.UUID(VERSION_ID)
    assert frame(VERSION_ID, body) == gsr_codec.encode(body, version)
    assert gsr_codec.decode(frame(VERSION_ID, body, compress=True)) == (body, version)


@pytest.mark.parametrize("compression", [False, True])
def test_a_gsr_avro_frame_decodes_with_its_version(compression: bool) -> None:
    body = avro_bytes(ORDER_AVRO, ORDER_VALUE)
    data = gsr_codec.encode(body, uuid.UUID(VERSION_ID), compression=compression)
    decoded = decode(data, schemas=Schemas(resolver=FakeRegistry(AVRO_VERSION)))
    assert decoded.enc == ("gsr+zlib+avro" if compression else "gsr+avro")
    assert orjson.dumps(decoded.value) == ORDER_JSON
    assert decoded.warning is None
    assert decoded.schema == {"registry": "reg", "name": "orders", "version": 3, "id": VERSION_ID}


def test_a_gsr_json_frame_is_its_document_as_it_arrived() -> None:
    version = SchemaVersion(VERSION_ID, "JSON", '{"type": "object"}', "reg", "events", 1)
    data = gsr_codec.encode(b'{"id":7,"n":12345678901234567890}', uuid.UUID(VERSION_ID))
    decoded = decode(data, schemas=Schemas(resolver=FakeRegistry(version)))
    assert decoded.enc == "gsr+json"
    assert orjson.dumps(decoded.value) == b'{"id":7,"n":12345678901234567890}'


def test_an_unknown_version_is_asked_once_and_every_record_kept_with_one_warning() -> None:
    registry = FakeRegistry()
    missing = "00000000-0000-4000-8000-000000000001"
    data = gsr_codec.encode(b"\x02", uuid.UUID(missing))
    records = [Record("shardId-0", str(i), "k", 0, data) for i in range(5)]
    options = DecodeOptions(schemas=Schemas(resolver=registry))
    items = expand_all(records, options)
    assert len(items) == 5
    assert registry.asked == [missing]
    warnings = {d.warning for _, d in items}
    assert warnings == {
        f"GSR schema version {missing}: EntityNotFoundException: Schema version is not found.; "
        "shown as base64"
    }
    assert {d.enc for _, d in items} == {"base64"}
    assert {json.dumps(d.schema) for _, d in items} == {json.dumps({"id": missing})}


def test_a_corrupt_body_is_base64_with_a_warning_naming_the_schema() -> None:
    body = avro_bytes(ORDER_AVRO, ORDER_VALUE)
    schemas = Schemas(resolver=FakeRegistry(AVRO_VERSION))
    truncated = decode(gsr_codec.encode(body[:12], uuid.UUID(VERSION_ID)), schemas=schemas)
    assert truncated.enc == "base64"
    assert truncated.warning == (
        "payload does not decode with reg/orders v3: not Avro of this schema (it ends too soon); "
        "shown as base64"
    )
    bad_zlib = gsr_codec.encode(body, uuid.UUID(VERSION_ID))[:18]
    bad_zlib = bytes([3, 5]) + bad_zlib[2:] + b"not zlib"
    decoded = decode(bad_zlib, schemas=schemas)
    assert decoded.enc == "base64"
    assert decoded.warning is not None
    assert decoded.warning.startswith("GSR frame: corrupt zlib data")


def test_without_a_registry_a_frame_is_base64_as_before() -> None:
    data = gsr_codec.encode(b"\x02", uuid.UUID(VERSION_ID))
    assert decode(data).enc == "base64"
    assert decode(data, DecodeMode.GSR).warning == "not a GSR frame; shown as base64"
    assert (
        decode(b'{"a":1}', DecodeMode.GSR, Schemas()).warning == "not a GSR frame; shown as base64"
    )


def test_a_protobuf_version_without_descriptors_says_what_is_missing() -> None:
    version = SchemaVersion(VERSION_ID, "PROTOBUF", "syntax = 'proto3';", "reg", "p", 1)
    decoded = decode(frame(VERSION_ID, b"\x00"), schemas=Schemas(resolver=FakeRegistry(version)))
    assert decoded.enc == "base64"
    assert decoded.warning is not None
    assert "the protobuf package cannot compile" in decoded.warning
    assert "--proto-descriptor FILE" in decoded.warning


# -- Protobuf ------------------------------------------------------------------------------------


def test_gsr_message_index_order_is_the_java_librarys() -> None:
    # MessageIndexFinder.getAll's Javadoc: B = 0, B.A = 1, B.A.D = 2, B.C = 3 (then Order).
    [file] = ProtoFiles(shop_descriptor_set()).files
    names = [d.full_name for d in gsr_message_types(file)]
    assert names == ["shop.B", "shop.B.A", "shop.B.A.D", "shop.B.C", "shop.Order"]


def test_a_gsr_protobuf_frame_decodes_the_message_its_index_names(tmp_path: Path) -> None:
    files = shop_descriptor_set()
    path = tmp_path / "shop.desc"
    path.write_bytes(files)
    version = SchemaVersion(VERSION_ID, "PROTOBUF", "message B {...}", "reg", "shop", 2)
    schemas = offline_schemas(None, str(path), None, None)
    schemas.resolver = FakeRegistry(version)
    # index 2 is B.A.D: one varint byte, then the message (ProtobufWireFormatEncoder writes
    # writeUInt32NoTag(index) before the message bytes).
    data = frame(VERSION_ID, b"\x02" + proto_message(files, "shop.B.A.D", d="deep"))
    decoded = decode(data, schemas=schemas)
    assert (decoded.enc, decoded.value, decoded.warning) == ("gsr+protobuf", {"d": "deep"}, None)
    order = frame(VERSION_ID, b"\x04" + proto_message(files, "shop.Order", id=2**40, item="tea"))
    decoded = decode(order, schemas=schemas)
    assert decoded.value == {"id": str(2**40), "item": "tea", "paid": False, "blob": ""}
    out_of_range = decode(frame(VERSION_ID, b"\x09"), schemas=schemas)
    assert out_of_range.enc == "base64"
    assert out_of_range.warning is not None
    assert "message index 9: the schema has 5 message types" in out_of_range.warning


def test_bare_protobuf_with_a_message_name() -> None:
    files = ProtoFiles(shop_descriptor_set())
    codec = ProtoCodec(message=files.message("shop.Order"))
    data = proto_message(shop_descriptor_set(), "shop.Order", id=7, paid=True, blob=b"\x00\xff")
    assert codec.decode(data) == {"id": "7", "item": "", "paid": True, "blob": "AP8="}


def test_bare_protobuf_corrupt_payload_is_base64_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "shop.desc"
    path.write_bytes(shop_descriptor_set())
    schemas = offline_schemas(None, str(path), "shop.Order", None)
    decoded = decode(b"\x0a\xff\xff", DecodeMode.PROTOBUF, schemas)
    assert decoded.enc == "base64"
    assert decoded.warning is not None
    assert decoded.warning.startswith(
        "payload does not decode with --proto-message: not a shop.Order"
    )


# -- the disk cache --------------------------------------------------------------------------------


class CountingGlue:
    def __init__(self, answer: dict[str, Any] | None) -> None:
        self.answer = answer
        self.calls = 0

    def get_schema_version(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        assert kwargs == {"SchemaVersionId": VERSION_ID}
        if self.answer is None:
            raise AssertionError("the cache should have answered")
        return self.answer


GLUE_ANSWER = {
    "SchemaVersionId": VERSION_ID,
    "SchemaDefinition": json.dumps(ORDER_AVRO),
    "DataFormat": "AVRO",
    "SchemaArn": "arn:aws:glue:us-east-1:123456789012:schema/reg/orders",
    "VersionNumber": 3,
    "Status": "AVAILABLE",
}


def test_a_version_is_cached_on_disk_by_id_and_the_next_run_does_not_ask(tmp_path: Path) -> None:
    glue = CountingGlue(GLUE_ANSWER)
    first = GlueResolver(lambda: glue, cache=tmp_path)
    assert first.schema_version(VERSION_ID) == AVRO_VERSION
    assert glue.calls == 1
    assert [p.name for p in tmp_path.iterdir()] == [f"{VERSION_ID}.json"]
    untouched = CountingGlue(None)
    second = GlueResolver(lambda: untouched, cache=tmp_path)
    assert second.schema_version(VERSION_ID) == AVRO_VERSION
    assert untouched.calls == 0


def test_the_cache_lives_under_xdg_cache_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert GlueResolver(lambda: None).cache == tmp_path / "streamtail" / "schemas"


def test_a_damaged_cache_file_is_asked_again(tmp_path: Path) -> None:
    (tmp_path / f"{VERSION_ID}.json").write_text("{not json")
    glue = CountingGlue(GLUE_ANSWER)
    assert GlueResolver(lambda: glue, cache=tmp_path).schema_version(VERSION_ID) == AVRO_VERSION
    assert glue.calls == 1


def test_a_version_not_available_is_not_cached(tmp_path: Path) -> None:
    glue = CountingGlue({**GLUE_ANSWER, "Status": "PENDING"})
    with pytest.raises(SchemaUnavailable, match="PENDING"):
        GlueResolver(lambda: glue, cache=tmp_path).schema_version(VERSION_ID)
    assert list(tmp_path.iterdir()) == []


# -- registry Protobuf compiled with protoc (grpcio-tools, the protoc extra) --------------------


def test_a_registry_proto_definition_is_compiled_with_protoc_and_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamtail.schemas import ProtocCompiler

    from .schema_fixtures import SHOP_PROTO

    version = SchemaVersion(VERSION_ID, "PROTOBUF", SHOP_PROTO, "reg", "shop", 1)
    schemas = Schemas(resolver=FakeRegistry(version), gsr_proto=ProtocCompiler(tmp_path))
    files = shop_descriptor_set()
    decoded = decode(
        frame(VERSION_ID, b"\x02" + proto_message(files, "shop.B.A.D", d="x")), schemas=schemas
    )
    assert (decoded.enc, decoded.value, decoded.warning) == ("gsr+protobuf", {"d": "x"}, None)
    assert (tmp_path / f"{VERSION_ID}.desc").exists()

    def no_protoc(definition: str) -> bytes:
        raise AssertionError("the cached descriptors should have been used")

    monkeypatch.setattr(ProtocCompiler, "_compile", staticmethod(no_protoc))
    again = Schemas(resolver=FakeRegistry(version), gsr_proto=ProtocCompiler(tmp_path))
    order = frame(VERSION_ID, b"\x04" + proto_message(files, "shop.Order", id=1))
    assert decode(order, schemas=again).value == {"id": "1", "item": "", "paid": False, "blob": ""}


def test_a_definition_protoc_refuses_is_base64_with_protocs_reason(tmp_path: Path) -> None:
    from streamtail.schemas import ProtocCompiler

    version = SchemaVersion(VERSION_ID, "PROTOBUF", "message {", "reg", "shop", 1)
    schemas = Schemas(resolver=FakeRegistry(version), gsr_proto=ProtocCompiler(tmp_path))
    decoded = decode(frame(VERSION_ID, b"\x00"), schemas=schemas)
    assert decoded.enc == "base64"
    assert decoded.warning is not None
    assert decoded.warning.startswith(
        f"GSR schema reg/shop v1 ({VERSION_ID}): protoc cannot compile the definition "
        "(schema.proto:"
    )


def test_without_grpcio_tools_the_warning_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    from streamtail.schemas import ProtocCompiler

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "grpc_tools" else real(name, *a),
    )
    version = SchemaVersion(VERSION_ID, "PROTOBUF", "syntax = 'proto3';", "reg", "shop", 1)
    schemas = Schemas(resolver=FakeRegistry(version), gsr_proto=ProtocCompiler(tmp_path))
    warning = decode(frame(VERSION_ID, b"\x00"), schemas=schemas).warning
    assert warning is not None
    assert "pip install 'streamtail[protoc]' (grpcio-tools)" in warning


# -- where frames meet the rest of decoding and output ------------------------------------------


def test_gsr_frames_inside_a_kpl_aggregate_decode_one_by_one() -> None:
    from . import kplbuild

    body = avro_bytes(ORDER_AVRO, ORDER_VALUE)
    aggregate = kplbuild.aggregate(
        [("user-1", frame(VERSION_ID, body)), ("user-2", frame(VERSION_ID, body, compress=True))]
    )
    options = DecodeOptions(schemas=Schemas(resolver=FakeRegistry(AVRO_VERSION)))
    items = expand_all([Record("shardId-0", "1", "agg", 0, aggregate)], options)
    assert [(r.key, r.subseq, d.enc) for r, d in items] == [
        ("user-1", 0, "kpl+gsr+avro"),
        ("user-2", 1, "kpl+gsr+zlib+avro"),
    ]
    assert {orjson.dumps(d.value) for _, d in items} == {ORDER_JSON}


def test_schema_values_are_json_to_the_table_raw_and_grep() -> None:
    from streamtail.decode import text_of

    from .helpers import record, render

    version = SchemaVersion(VERSION_ID, "JSON", "{}", "reg", "events", 1)
    data = frame(VERSION_ID, b'{"id":7}')
    decoded = decode(data, schemas=Schemas(resolver=FakeRegistry(version)))
    item = (record(data), decoded)
    assert text_of(decoded) == '{"id":7}'
    assert render([item], "raw") == '{"id":7}\n'
    row = render([item], "table", width=100).splitlines()[-1]
    assert row.endswith('gsr {"id":7}')


def test_forced_gsr_reads_frames_and_warns_on_anything_else() -> None:
    schemas = Schemas(resolver=FakeRegistry(AVRO_VERSION))
    good = decode(frame(VERSION_ID, avro_bytes(ORDER_AVRO, ORDER_VALUE)), DecodeMode.GSR, schemas)
    assert good.enc == "gsr+avro"
    plain = decode(b'{"id":7}', DecodeMode.GSR, schemas)
    assert (plain.enc, plain.warning) == ("base64", "not a GSR frame; shown as base64")


def test_a_message_index_past_127_is_a_plain_two_byte_varint() -> None:
    # writeUInt32NoTag(129) is 81 01; a zig-zag varint (what the Javadoc says) would be 82 02.
    from google.protobuf import descriptor_pb2

    fdp = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(name="many.proto", package="many", syntax="proto3")
    for n in range(130):
        file.message_type.add(name=f"M{n:03d}").field.add(
            name="n", number=1, type=fdp.TYPE_INT32, label=fdp.LABEL_OPTIONAL
        )
    files = descriptor_pb2.FileDescriptorSet(file=[file]).SerializeToString()
    codec = ProtoCodec(gsr_file=ProtoFiles(files).files[0])
    body = proto_message(files, "many.M129", n=5)
    assert codec.decode(b"\x81\x01" + body) == {"n": 5}
    with pytest.raises(ValueError, match="message index 258: the schema has 130 message types"):
        codec.decode(b"\x82\x02" + body)


def test_binary_that_only_looks_like_frames_stops_costing_registry_calls() -> None:
    from streamtail.decode.schema import MAX_MISSES

    registry = FakeRegistry(AVRO_VERSION)
    schemas = Schemas(resolver=registry)
    lookalikes = [bytes([3, 0]) + uuid.uuid4().bytes + b"\x00" for _ in range(3 * MAX_MISSES)]
    decoded = [decode(data, schemas=schemas) for data in lookalikes]
    assert len(registry.asked) == MAX_MISSES
    assert {d.enc for d in decoded} == {"base64"}
    later = {d.warning for d in decoded[MAX_MISSES:]}
    assert later == {
        f"GSR-like frame not looked up: the registry held none of the first {MAX_MISSES} "
        "schema versions named; shown as base64"
    }


def test_once_a_version_is_found_unknown_ids_are_still_asked() -> None:
    from streamtail.decode.schema import MAX_MISSES

    registry = FakeRegistry(AVRO_VERSION)
    schemas = Schemas(resolver=registry)
    decode(frame(VERSION_ID, avro_bytes(ORDER_AVRO, ORDER_VALUE)), schemas=schemas)
    for _ in range(2 * MAX_MISSES):
        decode(bytes([3, 0]) + uuid.uuid4().bytes + b"\x00", schemas=schemas)
    assert len(registry.asked) == 1 + 2 * MAX_MISSES


def test_a_registry_that_fails_as_a_whole_is_asked_once() -> None:
    class Down:
        asked = 0

        def schema_version(self, version_id: str) -> SchemaVersion:
            Down.asked += 1
            raise SchemaUnavailable("Glue GetSchemaVersion failed: timeout", registry_down=True)

    schemas = Schemas(resolver=Down())
    warnings = {
        decode(frame(str(uuid.uuid4()), b"\x00"), schemas=schemas).warning for _ in range(5)
    }
    assert Down.asked == 1
    assert warnings == {
        "Glue Schema Registry unavailable (Glue GetSchemaVersion failed: timeout); "
        "GSR frames shown as base64"
    }


_FUZZ_SCHEMAS = Schemas(
    resolver=FakeRegistry(
        AVRO_VERSION,
        SchemaVersion("00000000-0000-4000-8000-0000000000aa", "JSON", "{}", "reg", "j", 1),
    )
)


@pytest.mark.parametrize("version_id", [VERSION_ID, "00000000-0000-4000-8000-0000000000aa"])
def test_any_body_decodes_or_is_base64_never_an_exception(version_id: str) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=300, deadline=None)
    @given(st.binary(max_size=200), st.booleans())
    def check(body: bytes, compress: bool) -> None:
        decoded = decode(frame(version_id, body, compress=compress), schemas=_FUZZ_SCHEMAS)
        assert decoded.enc.endswith(("avro", "json", "base64"))
        assert (decoded.enc == "base64") == (decoded.warning is not None)
        orjson.dumps(decoded.value)  # always writable as NDJSON

    check()
