"""Kinesis Producer Library (KPL) aggregated records.

The format (amazon-kinesis-producer, aggregation-format.md): the magic f3 89 9a c2, a protobuf
`AggregatedRecord`, then the MD5 digest of the protobuf bytes.

    message AggregatedRecord {
      repeated string partition_key_table = 1;
      repeated string explicit_hash_key_table = 2;
      repeated Record records = 3;
    }
    message Record {
      required uint64 partition_key_index = 1;
      optional uint64 explicit_hash_key_index = 2;
      required bytes data = 3;
      repeated Tag tags = 4;
    }

Three message types with a handful of fields do not need the protobuf runtime: this reader walks the
wire format directly (varints and length-delimited fields), skips fields it does not know (as
protobuf does), and is as strict as the reference deaggregators about what it does know (required
fields present, indexes inside their tables, valid UTF-8 keys). Why not aws-kinesis-agg: see
docs/ARCHITECTURE.md, "Decoding".
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

MAGIC = b"\xf3\x89\x9a\xc2"
_DIGEST = 16

_VARINT = 0
_I64 = 1
_LEN = 2
_I32 = 5


class UserRecord(NamedTuple):
    """One record the producer put, as unpacked from an aggregate."""

    key: str
    data: bytes
    explicit_hash_key: str | None = None


class AggregateError(ValueError):
    """The payload starts with the KPL magic but is not a valid aggregate; the message says why."""


def is_aggregate(data: bytes) -> bool:
    return data[:4] == MAGIC


def unpack(data: bytes) -> list[UserRecord]:
    """The user records of an aggregate, in order; raises AggregateError."""
    if len(data) < len(MAGIC) + _DIGEST or not is_aggregate(data):
        raise AggregateError("KPL aggregate too short")
    body = data[len(MAGIC) : -_DIGEST]
    if hashlib.md5(body).digest() != data[-_DIGEST:]:
        raise AggregateError("KPL aggregate with a bad MD5 checksum")
    keys: list[str] = []
    hash_keys: list[str] = []
    spans: list[tuple[int, int]] = []
    pos, end = 0, len(body)
    while pos < end:
        number, wire, pos = _tag(body, pos, end)
        if wire != _LEN:
            if number <= 3:
                raise AggregateError(
                    "KPL aggregate: a table entry or record is not length-delimited"
                )
            pos = _skip(body, pos, end, wire)
            continue
        start, pos = _span(body, pos, end)
        if number == 1:
            keys.append(_string(body, start, pos, "partition key"))
        elif number == 2:
            hash_keys.append(_string(body, start, pos, "explicit hash key"))
        elif number == 3:
            spans.append((start, pos))
    if not spans:
        raise AggregateError("KPL aggregate with no user records")
    return [_record(body, start, stop, keys, hash_keys) for start, stop in spans]


def _record(body: bytes, pos: int, end: int, keys: list[str], hash_keys: list[str]) -> UserRecord:
    # The layout every producer writes: 08 <key index> [10 <hash index>] 1a <length> <data>.
    # Read that directly (twice as fast as the general loop), anything else the general way.
    if end - pos >= 4 and body[pos] == 0x08 and body[pos + 1] < 0x80:
        at = pos + 2
        hash_index = None
        if body[at] == 0x10 and at + 1 < end and body[at + 1] < 0x80:
            hash_index = body[at + 1]
            at += 2
        if at + 1 < end and body[at] == 0x1A:
            start, stop = _span(body, at + 1, end)
            if stop == end:
                return _user(keys, hash_keys, body[pos + 1], hash_index, body[start:stop])
    return _record_fields(body, pos, end, keys, hash_keys)


def _record_fields(
    body: bytes, pos: int, end: int, keys: list[str], hash_keys: list[str]
) -> UserRecord:
    key_index: int | None = None
    hash_index: int | None = None
    data: bytes | None = None
    while pos < end:
        number, wire, pos = _tag(body, pos, end)
        if number in (1, 2):
            if wire != _VARINT:
                raise AggregateError("KPL aggregate: a key index is not a varint")
            value, pos = _varint(body, pos, end)
            if number == 1:
                key_index = value
            else:
                hash_index = value
        elif number == 3:
            if wire != _LEN:
                raise AggregateError("KPL aggregate: record data is not length-delimited")
            start, pos = _span(body, pos, end)
            data = body[start:pos]
        else:
            pos = _skip(body, pos, end, wire)  # tags (field 4) and fields from later versions
    if key_index is None or data is None:
        raise AggregateError("KPL aggregate: a record lacks its partition key index or data")
    return _user(keys, hash_keys, key_index, hash_index, data)


def _user(
    keys: list[str], hash_keys: list[str], key_index: int, hash_index: int | None, data: bytes
) -> UserRecord:
    if key_index >= len(keys):
        raise AggregateError("KPL aggregate: partition key index out of range")
    if hash_index is None:
        return UserRecord(keys[key_index], data)
    if hash_index >= len(hash_keys):
        raise AggregateError("KPL aggregate: explicit hash key index out of range")
    return UserRecord(keys[key_index], data, hash_keys[hash_index])


def _tag(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(field number, wire type, position after the tag)."""
    tag = buf[pos]
    if tag < 0x80:  # field numbers up to 15: one byte
        pos += 1
    else:
        tag, pos = _varint(buf, pos, end)
    number = tag >> 3
    if number == 0:
        raise AggregateError("KPL aggregate: field number 0")
    return number, tag & 7, pos


def _span(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """A length-delimited field's (start, end), given the position of its length."""
    length = buf[pos] if pos < end else 0x80
    if length < 0x80:
        pos += 1
    else:
        length, pos = _varint(buf, pos, end)
    stop = pos + length
    if stop > end:
        raise AggregateError("KPL aggregate: truncated field")
    return pos, stop


def _skip(buf: bytes, pos: int, end: int, wire: int) -> int:
    """The position after a field this reader does not use."""
    if wire == _VARINT:
        return _varint(buf, pos, end)[1]
    if wire == _LEN:
        return _span(buf, pos, end)[1]
    if wire in (_I64, _I32):
        pos += 8 if wire == _I64 else 4
        if pos > end:
            raise AggregateError("KPL aggregate: truncated field")
        return pos
    raise AggregateError(f"KPL aggregate: unsupported wire type {wire}")


def _string(body: bytes, start: int, end: int, what: str) -> str:
    try:
        return body[start:end].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AggregateError(f"KPL aggregate: {what} is not valid UTF-8") from exc


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while pos < end:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift >= 64:
            raise AggregateError("KPL aggregate: varint longer than 64 bits")
    raise AggregateError("KPL aggregate: truncated varint")
