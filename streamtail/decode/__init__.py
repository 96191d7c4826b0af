"""Payload decoding: a record's bytes -> what it really holds. Pure functions, no I/O.

`auto` (docs/CONTRACT.md, `enc`) unwraps containers and then interprets what is left:

- a KPL aggregate (magic f3 89 9a c2, MD5 checked) becomes one item per user record, each with its
  own partition key and `subseq`, each decoded on its own (`kpl+...`);
- gzip, zlib, zstd and lz4 (magic bytes) are inflated and the result decoded again
  (`gzip+...`, `zstd+...`), up to `MAX_LAYERS` deep, within compress.MAX_INFLATED;
- a CloudWatch Logs subscription envelope is JSON; with `expand_logs` it becomes one item per log
  event whose data is the event's message (`gzip+cwlogs+json` or `gzip+cwlogs+text`), and with
  `skip_control` a CONTROL_MESSAGE envelope yields nothing;
- a Glue Schema Registry frame (schema.py) is decoded with its schema version (Avro, JSON Schema,
  Protobuf): `gsr+avro`, `gsr+zlib+json`, with the version in `Decoded.schema`;
- then JSON, UTF-8 text, base64.

A payload that claims a container and is not one (a bad checksum, truncated gzip) is shown as
base64 with a `warning`, never dropped. `json`, `text` and `base64` force one interpretation of
the bytes as they arrived; what does not fit is shown as base64 with a warning. `avro` and
`protobuf` read bare payloads with an offline schema (`--avro-schema`, `--proto-descriptor`), `gsr`
reads every payload as a GSR frame; `zstd` and `lz4` every payload as frames of that kind (a zstd
frame without its magic number too), what they hold then decoded as under `auto`.

A record whose service says how its writer compressed it (`Record.codec`: a Yandex Data Streams
`Codec`) is decompressed that way first, whatever its first bytes, and the codec leads `enc`
(`zstd+json`); one with no decoder here (lzop) is shown as base64 with a warning naming it. Every
mode but `base64` and `none` (the bytes as stored) reads what the codec held.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from streamtail.decode.basic import Leaf, as_base64, as_json, as_text, compact, kept, leaf, too_deep
from streamtail.decode.compress import ZLIB, InflateError, container, decompress, inflate
from streamtail.decode.cwlogs import (
    CONTROL_MESSAGE,
    EnvelopeError,
    LogEvent,
    envelope_kind,
    log_events,
)
from streamtail.decode.kpl import AggregateError, is_aggregate, unpack
from streamtail.decode.schema import is_frame
from streamtail.model import Record
from streamtail.typed_json import plain_item

if TYPE_CHECKING:
    from streamtail.decode.schema import Result, Schemas

_new = tuple.__new__
#: containers inside containers: gzip of gzip happens, deeper is a decompression bomb's shape
MAX_LAYERS = 4
#: the first bytes a container can start with: gzip, KPL, a GSR frame, zstd, lz4, and every zlib
#: CMF (deflate, CINFO <= 7)
_CONTAINER_FIRST_BYTES = frozenset(
    {0x1F, 0xF3, 0x03, 0x28, 0x04, *(cinfo << 4 | 8 for cinfo in range(8))}
)


class DecodeMode(StrEnum):
    AUTO = "auto"
    JSON = "json"
    TEXT = "text"
    BASE64 = "base64"
    NONE = "none"
    AVRO = "avro"
    PROTOBUF = "protobuf"
    GSR = "gsr"
    ZSTD = "zstd"
    LZ4 = "lz4"


class Decoded(NamedTuple):
    #: the steps taken joined by "+", ending in "json", "text" or "base64" ("gzip+json",
    #: "kpl+text"), or "avro" or "protobuf" (then `value` is JSON too: "gsr+avro");
    #: "dynamodb" for a DynamoDB change
    enc: str
    #: a JSON value (the payload's own JSON text as an orjson.Fragment when it can be written
    #: back as it arrived: see `basic.kept`), a string, or a base64 string
    value: Any
    #: set when the payload could not be decoded as it claimed or as forced (then it is shown as
    #: base64, or as it is): one short sentence, the same for every payload with that fault
    warning: str | None = None
    #: the log event this item came from, for an expanded CloudWatch Logs envelope
    log: LogEvent | None = None
    #: the schema a payload was decoded with (the NDJSON `schema` field)
    schema: dict[str, Any] | None = None


#: a record and its decoded payload
Item = tuple[Record, Decoded]


@dataclass(frozen=True)
class DecodeOptions:
    mode: DecodeMode = DecodeMode.AUTO
    #: CloudWatch Logs envelopes: one item per log event
    expand_logs: bool = False
    #: CloudWatch Logs CONTROL_MESSAGE envelopes: no item at all
    skip_control: bool = False
    #: the registry and offline schemas (None: no schema-aware decoding)
    schemas: Schemas | None = None


_NOT_FIT = {
    DecodeMode.JSON: "payload is not JSON",
    DecodeMode.TEXT: "payload is not UTF-8 text",
}


def decode(
    data: bytes, mode: DecodeMode = DecodeMode.AUTO, schemas: Schemas | None = None
) -> Decoded:
    """One payload decoded (compressed layers and GSR frames unwrapped under `auto`); never
    raises."""
    if mode is DecodeMode.AUTO:
        if schemas is not None and is_frame(data):
            return _schema_result(schemas.gsr(data))
        if not data or data[0] not in _CONTAINER_FIRST_BYTES or container(data) is None:
            return Decoded(*leaf(data))
        steps, inner, warning = _unwrap(data)
        last = leaf(inner)
        return Decoded(_enc(steps, last.enc), last.value, warning or last.warning)
    if mode is DecodeMode.JSON or mode is DecodeMode.TEXT:
        fitted = as_json(data) if mode is DecodeMode.JSON else as_text(data)
        if fitted is not None:
            return Decoded(*fitted)
        return Decoded("base64", as_base64(data).value, f"{_NOT_FIT[mode]}; shown as base64")
    if mode in _SCHEMA_MODES:
        return _forced_schema(data, mode, schemas)
    if mode is DecodeMode.ZSTD or mode is DecodeMode.LZ4:
        return _forced_frames(data, mode, schemas)
    return Decoded("base64", as_base64(data).value)


_SCHEMA_MODES = frozenset({DecodeMode.AVRO, DecodeMode.PROTOBUF, DecodeMode.GSR})


def _forced_frames(data: bytes, mode: DecodeMode, schemas: Schemas | None) -> Decoded:
    """`--decode zstd|lz4`: the payload as frames of that kind, what they hold as under `auto`."""
    try:
        inner = decompress(data, str(mode))
    except InflateError as exc:
        return Decoded("base64", as_base64(data).value, f"{exc}; shown as base64")
    return _after(str(mode), decode(inner, DecodeMode.AUTO, schemas))


def _after(step: str, decoded: Decoded) -> Decoded:
    """`decoded`, found inside a layer `step` unwrapped."""
    return decoded._replace(enc=f"{step}+{decoded.enc}")


def _forced_schema(data: bytes, mode: DecodeMode, schemas: Schemas | None) -> Decoded:
    if mode is DecodeMode.GSR:
        if schemas is not None and is_frame(data):
            return _schema_result(schemas.gsr(data))
        return Decoded("base64", as_base64(data).value, "not a GSR frame; shown as base64")
    avro = mode is DecodeMode.AVRO
    if schemas is None or (schemas.avro if avro else schemas.proto) is None:
        return Decoded("base64", as_base64(data).value, f"no {mode} schema given; shown as base64")
    return _schema_result(schemas.bare_avro(data) if avro else schemas.bare_proto(data))


def _schema_result(result: Result) -> Decoded:
    return Decoded(result.enc, result.value, result.warning, None, result.schema)


def expand(record: Record, options: DecodeOptions) -> list[Item]:
    """The items a record shows as: usually one; one per user record of a KPL aggregate, one per
    log event of an expanded CloudWatch Logs envelope, none for a skipped control message.

    Never raises: a payload that no decoder can handle, whatever the reason (a library's
    exception, a payload too large for memory), is shown as base64 with a warning, and the
    records around it are decoded as usual.

    The common case, a Kinesis payload whose first byte no container starts with, is handled
    inline: orjson checks it is JSON and it is kept as it arrived (`basic.kept`).
    """
    data = record.data
    try:
        if record.change is not None:
            return [(record, decode_change(record))]
        if record.codec is not None and options.mode not in _AS_STORED:
            return _coded(record, options)
        if options.mode is not DecodeMode.AUTO:
            return [(record, decode(data, options.mode, options.schemas))]
        if data and data[0] not in _CONTAINER_FIRST_BYTES:
            try:
                value = orjson.loads(data)
            except orjson.JSONDecodeError:
                return [(record, Decoded(*leaf(data)))]
            if value.__class__ is dict and "logEvents" in value:
                return _payload(record, "", options)
            if too_deep(data):
                return [(record, Decoded(*leaf(data)))]
            # Built as a plain tuple: Decoded's generated __new__ costs more than the rest.
            return [(record, _new(Decoded, ("json", kept(data, value), None, None, None)))]
        return _containers(record, options)
    except Exception as exc:  # a poison payload must not stop the read
        return [(record, undecodable(data, exc))]


def undecodable(data: bytes, exc: BaseException) -> Decoded:
    """A payload a decoder failed on, shown as base64 with the failure as its warning."""
    return Decoded(
        "base64", as_base64(data).value, f"not decodable ({_reason(exc)}); shown as base64"
    )


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def expand_all(records: Iterable[Record], options: DecodeOptions) -> list[Item]:
    """`expand` for each record of a batch, in order."""
    items: list[Item] = []
    for record in records:
        items.extend(expand(record, options))
    return items


#: the modes that show a payload's bytes as the service stored them, compressed or not
_AS_STORED = frozenset({DecodeMode.BASE64, DecodeMode.NONE})


def _coded(record: Record, options: DecodeOptions) -> list[Item]:
    """The items of a record its service says was compressed by its writer (`Record.codec`):
    decompressed as it says, whatever the first bytes, then expanded as any record is."""
    codec = record.codec
    assert codec is not None
    inner = _undone(record.data, codec)
    if isinstance(inner, Decoded):
        return [(record, inner)]
    plain = record._replace(data=inner, codec=None)
    return [
        (record if sub is plain else sub, _after(codec, decoded))
        for sub, decoded in expand_all((plain,), options)
    ]


def _undone(data: bytes, codec: str) -> bytes | Decoded:
    """What `codec` compressed into `data`; when it cannot be undone, `data` as base64 with the
    reason as its warning."""
    try:
        return decompress(data, codec)
    except InflateError as exc:
        return Decoded("base64", as_base64(data).value, f"{exc}; shown as base64")


def _containers(record: Record, options: DecodeOptions) -> list[Item]:
    """The items of a payload that may be a KPL aggregate or compressed (or is empty)."""
    data = record.data
    if not is_aggregate(data):
        return _payload(record, "", options)
    try:
        users = unpack(data)
    except AggregateError as exc:
        return [(record, Decoded("base64", as_base64(data).value, f"{exc}; shown as base64"))]
    items: list[Item] = []
    for index, user in enumerate(users):
        sub = record._replace(key=user.key, data=user.data, subseq=index)
        items.extend(_payload(sub, "kpl+", options))
    return items


def decode_change(record: Record) -> Decoded:
    """A DynamoDB change as plain {"keys", "new", "old"}."""
    change = record.change
    assert change is not None
    return Decoded(
        "dynamodb",
        {
            "keys": plain_item(change.keys),
            "new": plain_item(change.new),
            "old": plain_item(change.old),
        },
    )


def decode_record(record: Record, mode: DecodeMode = DecodeMode.AUTO) -> Decoded:
    """A record's payload decoded as one value (no KPL or log expansion; a `codec` undone)."""
    if record.change is not None:
        return decode_change(record)
    if record.codec is not None and mode not in _AS_STORED:
        inner = _undone(record.data, record.codec)
        return inner if isinstance(inner, Decoded) else _after(record.codec, decode(inner, mode))
    return decode(record.data, mode)


#: the last steps of `enc` whose value is JSON
_JSON_ENDINGS = ("json", "avro", "protobuf")


def is_json(decoded: Decoded) -> bool:
    """Whether `decoded.value` is a JSON value (a JSON payload or a DynamoDB change)."""
    return decoded.enc.endswith(_JSON_ENDINGS) or decoded.enc == "dynamodb"


def text_of(decoded: Decoded) -> str:
    """The decoded payload as one string (for --grep and previews).

    JSON in its compact form, whatever spacing it arrived with, so that a pattern such as
    `"status":"paid"` matches every producer's payload.
    """
    if not is_json(decoded):
        return str(decoded.value)
    value = decoded.value
    if value.__class__ is orjson.Fragment:  # kept as it arrived: spaces between tokens dropped
        return compact(orjson.dumps(value)).decode("utf-8")  # type: ignore[union-attr]
    return orjson.dumps(value).decode("utf-8")


def _payload(record: Record, prefix: str, options: DecodeOptions) -> list[Item]:
    decoded = decode(record.data, DecodeMode.AUTO, options.schemas)
    kind = envelope_kind(decoded.value) if decoded.enc.endswith("json") else None
    if prefix:
        decoded = decoded._replace(enc=prefix + decoded.enc)
    if kind is None:
        return [(record, decoded)]
    if kind == CONTROL_MESSAGE and options.skip_control:
        return []
    if not options.expand_logs:
        return [(record, decoded)]
    try:
        events = log_events(decoded.value)
    except EnvelopeError as exc:
        return [(record, decoded._replace(warning=f"{exc}; shown as it is"))]
    if not events:
        return [(record, decoded)]
    steps = decoded.enc.removesuffix("json") + "cwlogs+"
    items: list[Item] = []
    for meta, message in events:
        # A message is JSON when it parses (structured logs), otherwise text as it was logged.
        shown = as_json(message) or Leaf("text", message)
        items.append((record, Decoded(steps + shown.enc, shown.value, shown.warning, meta)))
    return items


def _unwrap(data: bytes) -> tuple[list[str], bytes, str | None]:
    """Inflate compressed layers: (steps taken, innermost bytes, why a layer failed or None)."""
    steps: list[str] = []
    for _ in range(MAX_LAYERS):
        kind = container(data)
        if kind is None:
            break
        try:
            data = inflate(data, kind)
        except InflateError as exc:
            if kind == ZLIB:
                break  # the zlib check is weak: a payload that does not inflate is not zlib
            return steps, data, f"{exc}; shown as base64"
        steps.append(kind)
    return steps, data, None


def _enc(steps: list[str], last: str) -> str:
    return "+".join([*steps, last]) if steps else last


__all__ = [
    "DecodeMode",
    "DecodeOptions",
    "Decoded",
    "Item",
    "LogEvent",
    "decode",
    "decode_change",
    "decode_record",
    "expand",
    "expand_all",
    "is_json",
    "text_of",
]
