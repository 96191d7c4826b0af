"""Schema-aware decoding: Glue Schema Registry frames, bare Avro, bare Protobuf. No I/O here.

A GSR frame (awslabs/aws-glue-schema-registry, common/.../utils/AWSSchemaRegistryConstants.java;
the PyPI package's aws_schema_registry/codec.py writes the same):

    byte 0      3, the header version (HEADER_VERSION_BYTE)
    byte 1      0: no compression (COMPRESSION_DEFAULT_BYTE); 5: zlib (COMPRESSION_BYTE), as
                java.util.zip.Deflater and zlib.compress write it (with the zlib header)
    bytes 2-17  the schema version id, a UUID
    bytes 18-   the Avro binary value, the JSON document, or the Protobuf message (after its
                message index: proto.py)

The schema of a version id comes from a `Resolver` that core builds (Glue GetSchemaVersion and a
disk cache: streamtail/schemas.py); this module asks it once per id and remembers the answer,
failures included, so a registry that fails is asked once per run, not once per record. The
libraries (fastavro, protobuf) are imported when the first schema is compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from streamtail.decode.basic import TOO_DEEP, as_base64, kept, too_deep
from streamtail.decode.compress import ZLIB, InflateError, inflate

HEADER_VERSION = 3
NO_COMPRESSION = 0
ZLIB_COMPRESSION = 5
HEADER_SIZE = 18

AVRO = "AVRO"
JSON = "JSON"
PROTOBUF = "PROTOBUF"


class SchemaVersion(NamedTuple):
    """One schema version as the registry describes it (GetSchemaVersion)."""

    id: str
    data_format: str
    definition: str
    registry: str | None = None
    name: str | None = None
    version: int | None = None

    @property
    def label(self) -> str:
        where = "/".join(p for p in (self.registry, self.name) if p) or "schema"
        return f"{where} v{self.version}" if self.version is not None else where

    def ref(self) -> dict[str, Any]:
        """The NDJSON `schema` field."""
        return {
            "registry": self.registry,
            "name": self.name,
            "version": self.version,
            "id": self.id,
        }


class SchemaUnavailable(Exception):
    """A schema version the resolver could not provide; the message says why, once per cause.
    `registry_down`: the registry itself failed (network, credentials), not this version."""

    def __init__(self, message: str, *, registry_down: bool = False) -> None:
        super().__init__(message)
        self.registry_down = registry_down


#: distinct version ids the registry did not hold, none found yet, before frames stop being
#: looked up: binary payloads that merely start like a frame (03 00 ...) must not cost a registry
#: call each
MAX_MISSES = 8


class Resolver(Protocol):
    def schema_version(self, version_id: str) -> SchemaVersion:
        """The version with this id; raises SchemaUnavailable."""
        ...


class Codec(Protocol):
    enc: str

    def decode(self, body: bytes) -> Any: ...


class Result(NamedTuple):
    """What a schema made of a payload: `enc` and the JSON value, or base64 with a warning."""

    enc: str
    value: Any
    warning: str | None
    schema: dict[str, Any] | None


def is_frame(data: bytes) -> bool:
    return len(data) >= HEADER_SIZE and data[0] == HEADER_VERSION and data[1] in _COMPRESSIONS


_COMPRESSIONS = frozenset({NO_COMPRESSION, ZLIB_COMPRESSION})


def frame(version_id: str, body: bytes, *, compress: bool = False) -> bytes:
    """A GSR frame, as the serializers write it (`put --gsr-schema`)."""
    import uuid
    import zlib

    header = bytes((HEADER_VERSION, ZLIB_COMPRESSION if compress else NO_COMPRESSION))
    return header + uuid.UUID(version_id).bytes + (zlib.compress(body) if compress else body)


def frame_version(data: bytes) -> str:
    """The schema version id of a frame, as Glue writes it."""
    import uuid  # here: it imports `platform`, 2 ms that a read without frames need not pay

    return str(uuid.UUID(bytes=bytes(data[2:HEADER_SIZE])))


class _Json:
    """A GSR JSON Schema payload is the JSON document itself (not validated against the schema:
    it is shown, not checked)."""

    enc = "json"

    def decode(self, body: bytes) -> Any:
        import orjson

        if too_deep(body):
            raise ValueError(TOO_DEEP)
        return kept(body, orjson.loads(body))


@dataclass
class Schemas:
    """The schemas one read decodes with: a registry (GSR frames) and offline schemas."""

    resolver: Resolver | None = None
    #: --avro-schema: bare Avro payloads
    avro: Codec | None = None
    avro_ref: dict[str, Any] | None = None
    #: --proto-descriptor with --proto-message: bare Protobuf payloads
    proto: Codec | None = None
    proto_ref: dict[str, Any] | None = None
    #: --proto-descriptor: how a GSR PROTOBUF schema is compiled (None: it cannot be)
    gsr_proto: Callable[[SchemaVersion], Codec] | None = None
    #: the 16 id bytes of a frame -> (its version, the compiled schema or why there is none, ref)
    _codecs: dict[bytes, tuple[SchemaVersion | None, Codec | str, dict[str, Any]]] = field(
        default_factory=dict
    )

    _misses: int = 0
    _found: bool = False
    #: why the registry is not asked any more (it failed as a whole)
    _down: str | None = None

    def gsr(self, data: bytes) -> Result:
        """A GSR frame decoded with its schema version; base64 with a warning when it cannot be."""
        raw = data[2:HEADER_SIZE]
        known = self._codecs.get(raw)
        if known is None:
            known = self._codecs[raw] = self._compile(frame_version(data))
        version, codec, ref = known
        version_id = ref["id"]
        if isinstance(codec, str):
            return Result("base64", as_base64(data).value, codec, ref)
        steps = "gsr+"
        body = data[HEADER_SIZE:]
        if data[1] == ZLIB_COMPRESSION:
            steps = "gsr+zlib+"
            try:
                body = inflate(body, ZLIB)
            except InflateError as exc:
                warning = f"GSR frame: {exc}; shown as base64"
                return Result("base64", as_base64(data).value, warning, ref)
        label = version.label if version else version_id
        return self._read(codec, body, data, steps=steps, ref=ref, what=label)

    def bare_avro(self, data: bytes) -> Result:
        assert self.avro is not None
        return self._read(self.avro, data, data, steps="", ref=self.avro_ref, what="--avro-schema")

    def bare_proto(self, data: bytes) -> Result:
        assert self.proto is not None
        return self._read(
            self.proto, data, data, steps="", ref=self.proto_ref, what="--proto-message"
        )

    @staticmethod
    def _read(
        codec: Codec,
        body: bytes,
        data: bytes,
        *,
        steps: str,
        ref: dict[str, Any] | None,
        what: str,
    ) -> Result:
        try:
            value = codec.decode(body)
        except ValueError as exc:  # AvroError, ProtoError, orjson.JSONDecodeError
            reason = "not JSON" if codec.enc == "json" else str(exc)
            warning = f"payload does not decode with {what}: {reason}; shown as base64"
            return Result("base64", as_base64(data).value, warning, ref)
        return Result(steps + codec.enc, value, None, ref)

    def _compile(self, version_id: str) -> tuple[SchemaVersion | None, Codec | str, dict[str, Any]]:
        """The compiled schema of a version id, or why there is none (asked once per id)."""
        unknown = {"id": version_id}
        if self.resolver is None:
            why = f"GSR schema version {version_id}: no registry to ask; shown as base64"
            return None, why, unknown
        if self._down is not None:
            return None, self._down, unknown
        if not self._found and self._misses >= MAX_MISSES:
            why = (
                f"GSR-like frame not looked up: the registry held none of the first {MAX_MISSES} "
                "schema versions named; shown as base64"
            )
            return None, why, unknown
        try:
            version = self.resolver.schema_version(version_id)
        except SchemaUnavailable as exc:
            if exc.registry_down:  # asked once per run, not once per version id
                self._down = f"Glue Schema Registry unavailable ({exc}); GSR frames shown as base64"
                return None, self._down, unknown
            self._misses += 1
            return None, f"GSR schema version {version_id}: {exc}; shown as base64", unknown
        self._found = True
        try:
            return version, self._codec_for(version), version.ref()
        except ValueError as exc:
            why = f"GSR schema {version.label} ({version_id}): {exc}; shown as base64"
            return version, why, version.ref()

    def _codec_for(self, version: SchemaVersion) -> Codec:
        if version.data_format == AVRO:
            from streamtail.decode.avro import AvroCodec

            return AvroCodec(version.definition)
        if version.data_format == JSON:
            return _Json()
        if version.data_format == PROTOBUF:
            if self.gsr_proto is None:
                raise ValueError(
                    "PROTOBUF schemas are .proto text, which the protobuf package cannot "
                    "compile; give the descriptors with --proto-descriptor FILE "
                    "(protoc --descriptor_set_out)"
                )
            return self.gsr_proto(version)
        raise ValueError(f"data format {version.data_format!r} is not one streamtail reads")
