"""Test helper: KPL aggregates written from the format spec (aggregation-format.md), field by field,
so tests can build valid aggregates of any shape and damage them on purpose. The reference
aggregator (aws-kinesis-agg) made kpl_reference.json; test_kpl.py checks that this helper writes the
same bytes for the same input."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

MAGIC = b"\xf3\x89\x9a\xc2"


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_len(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def record_message(key_index: int, data: bytes, hash_index: int | None = None) -> bytes:
    body = field_varint(1, key_index)
    if hash_index is not None:
        body += field_varint(2, hash_index)
    return body + field_len(3, data)


def body(
    records: Sequence[tuple[str, bytes] | tuple[str, bytes, str]],
) -> bytes:
    """The protobuf AggregatedRecord for (key, data[, explicit hash key]) records, with key tables
    in first-use order as the reference aggregator builds them."""
    keys: list[str] = []
    hash_keys: list[str] = []
    messages = b""
    for record in records:
        key, data = record[0], record[1]
        if key not in keys:
            keys.append(key)
        hash_index = None
        if len(record) == 3:
            ehk = record[2]  # type: ignore[misc]
            if ehk not in hash_keys:
                hash_keys.append(ehk)
            hash_index = hash_keys.index(ehk)
        messages += field_len(3, record_message(keys.index(key), data, hash_index))
    out = b"".join(field_len(1, k.encode()) for k in keys)
    out += b"".join(field_len(2, k.encode()) for k in hash_keys)
    return out + messages


def wrap(protobuf: bytes) -> bytes:
    """Magic, body, MD5 of the body."""
    return MAGIC + protobuf + hashlib.md5(protobuf).digest()


def aggregate(records: Sequence[tuple[str, bytes] | tuple[str, bytes, str]]) -> bytes:
    return wrap(body(records))
