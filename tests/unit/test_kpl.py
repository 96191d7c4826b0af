"""KPL aggregates: the reference format (aws-kinesis-agg's output, kpl_reference.json), any shape
the format allows (hypothesis), and every way an aggregate can be damaged."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamtail.decode.kpl import MAGIC, AggregateError, UserRecord, is_aggregate, unpack
from tests.unit import kplbuild

REFERENCE = json.loads((Path(__file__).parent / "kpl_reference.json").read_text())


def test_reference_aggregates_unpack_to_their_user_records() -> None:
    three = bytes.fromhex(REFERENCE["three_json"]["hex"])
    assert unpack(three) == [
        UserRecord("user-1", b'{"id":1,"name":"ada"}'),
        UserRecord("user-2", b'{"id":2}'),
        UserRecord("user-1", b'{"id":3}'),
    ]
    mixed = unpack(bytes.fromhex(REFERENCE["mixed"]["hex"]))
    assert [r.key for r in mixed] == ["k\u00e9y", "bin", "gz"]
    assert mixed[1].data == bytes([0, 1, 2, 255])
    assert mixed[2].data[:2] == b"\x1f\x8b"
    explicit = unpack(bytes.fromhex(REFERENCE["explicit_hash"]["hex"]))
    assert explicit == [
        UserRecord("a", b"one", "12345678901234567890"),
        UserRecord("b", b"two", None),
    ]


def test_the_test_builder_writes_what_the_reference_aggregator_writes() -> None:
    assert kplbuild.aggregate(
        [("user-1", b'{"id":1,"name":"ada"}'), ("user-2", b'{"id":2}'), ("user-1", b'{"id":3}')]
    ) == bytes.fromhex(REFERENCE["three_json"]["hex"])
    assert kplbuild.aggregate(
        [("a", b"one", "12345678901234567890"), ("b", b"two")]
    ) == bytes.fromhex(REFERENCE["explicit_hash"]["hex"])


keys = st.text(min_size=1, max_size=20)
records = st.lists(st.tuples(keys, st.binary(max_size=300)), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(records)
def test_any_aggregate_unpacks_to_what_was_packed(recs: list[tuple[str, bytes]]) -> None:
    assert unpack(kplbuild.aggregate(recs)) == [UserRecord(k, d) for k, d in recs]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_body_with_a_good_checksum_unpacks_or_raises_aggregate_error(body: bytes) -> None:
    try:
        result = unpack(kplbuild.wrap(body))
    except AggregateError:
        return
    assert all(isinstance(r, UserRecord) for r in result)


def test_unknown_fields_and_tags_are_skipped_like_protobuf_does() -> None:
    tag = kplbuild.field_len(1, b"team") + kplbuild.field_len(2, b"red")
    record = kplbuild.record_message(0, b"hello") + kplbuild.field_len(4, tag)
    body = (
        kplbuild.field_len(1, b"k")
        + kplbuild.field_len(3, record)
        + kplbuild.field_varint(15, 7)  # a field from a newer format version
        + kplbuild.varint(16 << 3 | 5)
        + b"\x00\x00\x00\x00"  # fixed32
        + kplbuild.varint(17 << 3 | 1)
        + b"\x00" * 8  # fixed64
    )
    assert unpack(kplbuild.wrap(body)) == [UserRecord("k", b"hello")]


def _damaged(body: bytes) -> str:
    with pytest.raises(AggregateError) as caught:
        unpack(kplbuild.wrap(body))
    return str(caught.value)


def test_bad_checksum() -> None:
    good = kplbuild.aggregate([("k", b"data")])
    bad = good[:-1] + bytes([good[-1] ^ 1])
    with pytest.raises(AggregateError, match="bad MD5 checksum"):
        unpack(bad)
    flipped = good[:8] + bytes([good[8] ^ 0x40]) + good[9:]
    with pytest.raises(AggregateError, match="bad MD5 checksum"):
        unpack(flipped)


def test_too_short_and_not_an_aggregate() -> None:
    with pytest.raises(AggregateError, match="too short"):
        unpack(MAGIC + b"\x00" * 5)
    assert not is_aggregate(b"\xf3\x89\x9a")
    assert is_aggregate(MAGIC)


def test_malformed_bodies_name_their_fault() -> None:
    key = kplbuild.field_len(1, b"k")
    assert "no user records" in _damaged(key)
    assert "index out of range" in _damaged(
        key + kplbuild.field_len(3, kplbuild.record_message(1, b"x"))
    )
    assert "explicit hash key index out of range" in _damaged(
        key + kplbuild.field_len(3, kplbuild.record_message(0, b"x", hash_index=0))
    )
    assert "lacks" in _damaged(key + kplbuild.field_len(3, kplbuild.field_varint(1, 0)))
    assert "lacks" in _damaged(key + kplbuild.field_len(3, kplbuild.field_len(3, b"x")))
    assert "truncated field" in _damaged(key + kplbuild.varint(3 << 3 | 2) + b"\x10abc")
    assert "truncated varint" in _damaged(key + kplbuild.field_len(3, b"\x08\xff"))
    assert "longer than 64 bits" in _damaged(
        key + kplbuild.field_len(3, b"\x08" + b"\xff" * 10 + b"\x01")
    )
    assert "wire type 3" in _damaged(key + kplbuild.varint(9 << 3 | 3))
    assert "wire type 3" in _damaged(key + kplbuild.field_len(3, b"\x08\x00\x23"))
    assert "field number 0" in _damaged(b"\x02\x00")
    assert "not valid UTF-8" in _damaged(kplbuild.field_len(1, b"\xff\xfe"))
    assert "not length-delimited" in _damaged(kplbuild.field_varint(1, 5))
    assert "a key index is not a varint" in _damaged(
        key + kplbuild.field_len(3, kplbuild.field_len(1, b"0") + kplbuild.field_len(3, b"x"))
    )


def test_checksum_is_md5_of_the_protobuf_body() -> None:
    data = kplbuild.aggregate([("k", b"v")])
    assert data[-16:] == hashlib.md5(data[4:-16]).digest()
