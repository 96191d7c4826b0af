"""stdin to PutRecords entries: lines, keys, --from-ndjson payloads, binary chunks, bad lines."""

from __future__ import annotations

import base64
import gzip
import io

import pytest

from streamtail.decode import DecodeOptions, expand_all
from streamtail.entries import (
    MAX_RECORD_BYTES,
    KeySource,
    Rejected,
    chunk_entries,
    default_chunk_size,
    line_entries,
    payload_of,
)
from streamtail.errors import UsageError
from streamtail.model import PutEntry
from tests.unit import kplbuild
from tests.unit.helpers import record, render


def lines(text: bytes, keys: KeySource, *, from_ndjson: bool = False) -> list[object]:
    return list(line_entries(io.BytesIO(text), keys, from_ndjson=from_ndjson))


FIXED = KeySource.build("k", None, from_ndjson=False)
KEY_FIELD_HINT = (
    "--key-field needs each JSON line to hold that field: a string, or a number (its literal "
    "text), of 1 to 256 characters"
)


def test_one_entry_per_line_without_its_line_ending() -> None:
    got = lines(b"a\nb\r\n\n\r\nc", FIXED)
    assert got == [PutEntry(b"a", "k", 1), PutEntry(b"b", "k", 2), PutEntry(b"c", "k", 5)]


def test_random_keys_differ_and_are_32_hex_digits() -> None:
    got = lines(b"a\nb\nc\n", KeySource.build(None, None, from_ndjson=False))
    keys = [e.key for e in got]  # type: ignore[attr-defined]
    assert len(set(keys)) == 3
    assert all(len(k) == 32 and int(k, 16) >= 0 for k in keys)


def test_key_field_takes_a_dotted_path() -> None:
    keys = KeySource.build(None, "user.id", from_ndjson=False)
    got = lines(b'{"user":{"id":"u1"}}\n{"user":{"id":42}}\n{"user":{}}\nnope\n', keys)
    assert got == [
        PutEntry(b'{"user":{"id":"u1"}}', "u1", 1),
        PutEntry(b'{"user":{"id":42}}', "42", 2),
        Rejected(3, "no usable partition key at user.id", KEY_FIELD_HINT),
        Rejected(4, "not JSON", KEY_FIELD_HINT),
    ]


def test_key_field_indexes_lists_and_keeps_big_numbers_exact() -> None:
    keys = KeySource.build(None, "items.1.sku", from_ndjson=False)
    assert lines(b'{"items":[{"sku":"a"},{"sku":"b"}]}', keys)[0].key == "b"  # type: ignore[attr-defined]
    big = KeySource.build(None, "id", from_ndjson=False)
    assert lines(b'{"id":123456789012345678901}', big)[0].key == "123456789012345678901"  # type: ignore[attr-defined]


def test_key_options_are_checked() -> None:
    with pytest.raises(UsageError, match="cannot be used together"):
        KeySource.build("a", "b", from_ndjson=False)
    with pytest.raises(UsageError, match="1 to 256"):
        KeySource.build("x" * 257, None, from_ndjson=False)
    with pytest.raises(UsageError, match="invalid --key-field"):
        KeySource.build(None, "a..b", from_ndjson=False)


def test_a_record_over_1_mib_is_rejected() -> None:
    got = lines(b"x" * MAX_RECORD_BYTES + b"\n" + b"y" * (MAX_RECORD_BYTES - 1), FIXED)
    assert isinstance(got[0], Rejected)
    assert "over the 1 MiB" in got[0].reason
    assert got[0].hint == "put --binary cuts a large input into records of --chunk-size bytes"
    assert got[1] == PutEntry(b"y" * (MAX_RECORD_BYTES - 1), "k", 2)


def test_binary_chunks() -> None:
    data = bytes(range(256)) * 40
    got = list(chunk_entries(io.BytesIO(data), FIXED, 4000))
    assert [len(e.data) for e in got] == [4000, 4000, 2240]  # type: ignore[union-attr]
    assert b"".join(e.data for e in got) == data  # type: ignore[union-attr]
    assert default_chunk_size(FIXED) == MAX_RECORD_BYTES - 1
    assert default_chunk_size(KeySource()) == MAX_RECORD_BYTES - 32


# -- --from-ndjson: what `read -o ndjson` printed, back to payload bytes --------------------------


def _read_lines(data: bytes) -> bytes:
    return render(expand_all([record(data)], DecodeOptions())).encode()


@pytest.mark.parametrize(
    ("payload", "written"),
    [
        (b'{"id":7,"tags":["a"]}', b'{"id":7,"tags":["a"]}'),
        # JSON comes back as the bytes it was (issue 25): spacing, digits, exponents, duplicates
        (b'{ "id" : 7 }', b'{ "id" : 7 }'),
        (
            b'{"p":10.50,"e":1E2,"p":"again","big":1e400}',
            b'{"p":10.50,"e":1E2,"p":"again","big":1e400}',
        ),
        (b'{\n  "id": 7\n}', b'{"id":7}'),  # over lines: only the whitespace between tokens goes
        (b'{"id":123456789012345678901}', b'{"id":123456789012345678901}'),
        (b"plain text", b"plain text"),
        (b"\x00\x01\xff", b"\x00\x01\xff"),
        (gzip.compress(b'{"z":1}', mtime=0), b'{"z":1}'),  # the decoded payload, not the gzip bytes
    ],
)
def test_ndjson_records_give_back_their_payload(payload: bytes, written: bytes) -> None:
    keys = KeySource.build(None, None, from_ndjson=True)
    (entry,) = lines(_read_lines(payload), keys, from_ndjson=True)
    assert entry == PutEntry(written, "user-42", 1)


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("1.50", "1.50"),
        ("1e2", "1e2"),
        ("-0", "-0"),
        ("123456789012345678901", "123456789012345678901"),
    ],
)
def test_key_field_uses_a_number_as_its_literal_text(value: str, key: str) -> None:
    # issue 26: `{"u":1.50}` gave key `1.5` and `1e2` gave `100.0`
    keys = KeySource.build(None, "u", from_ndjson=False)
    (entry,) = lines(f'{{"u":{value}}}'.encode(), keys, from_ndjson=False)
    assert entry.key == key


@pytest.mark.parametrize("value", ["true", "false", "null", "{}", "[]", '""'])
def test_key_field_refuses_what_is_not_a_string_or_a_number(value: str) -> None:
    keys = KeySource.build(None, "u", from_ndjson=False)
    (rejected,) = lines(f'{{"u":{value}}}'.encode(), keys, from_ndjson=False)
    why = f" ({value}: not a string or a number)" if value in ("true", "false") else ""
    assert rejected == Rejected(1, f"no usable partition key at u{why}", KEY_FIELD_HINT)


def test_lines_nested_deeper_than_orjson_writes_are_named() -> None:
    deep = b'{"u":"k","d":' + b"[" * 254 + b"]" * 254 + b"}"
    keys = KeySource.build(None, "u", from_ndjson=False)
    assert lines(deep + b"\n" + b'{"u":"k"}', keys, from_ndjson=False) == [
        Rejected(1, "JSON nested deeper than 254 levels"),
        PutEntry(b'{"u":"k"}', "k", 2),
    ]


def test_kpl_records_come_back_as_their_user_records() -> None:
    ndjson = _read_lines(kplbuild.aggregate([("a", b"one"), ("b", b'{"n":2}')]))
    keys = KeySource.build(None, "key", from_ndjson=True)
    assert lines(ndjson, keys, from_ndjson=True) == [
        PutEntry(b"one", "a", 1),
        PutEntry(b'{"n":2}', "b", 2),
    ]


def test_ndjson_key_options() -> None:
    line = b'{"key":"k1","enc":"json","data":{"user":"u7"}}'
    assert (
        lines(line, KeySource.build("fixed", None, from_ndjson=True), from_ndjson=True)[0].key
        == "fixed"
    )  # type: ignore[attr-defined]
    assert (
        lines(line, KeySource.build(None, "data.user", from_ndjson=True), from_ndjson=True)[0].key
        == "u7"
    )  # type: ignore[attr-defined]
    no_key = lines(b'{"data":"x"}', KeySource.build(None, None, from_ndjson=True), from_ndjson=True)
    assert len(no_key[0].key) == 32  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"[1,2]", "not a JSON object"),
        (b'{"event":"INSERT","keys":{}}', "no data field"),
        (b'{"enc":"base64","data":"%%%"}', "data is not valid base64"),
        (b'{"enc":"base64","data":5}', "enc is base64 but data is not a string"),
        (b'{"enc":"text","data":5}', "enc is text but data is not a string"),
        (b'{"enc":"rot13","data":"x"}', "unknown enc 'rot13'"),
        (b"{not json", "not JSON"),
    ],
)
def test_bad_ndjson_lines(line: bytes, reason: str) -> None:
    (got,) = lines(line, KeySource.build(None, None, from_ndjson=True), from_ndjson=True)
    assert isinstance(got, Rejected)
    assert got.reason.startswith(reason)
    assert got.hint == "--from-ndjson reads the lines `read -o ndjson` prints"


def test_payload_without_enc_follows_the_data_type() -> None:
    assert payload_of({"data": "text"}) == b"text"
    assert payload_of({"data": {"a": 1}}) == b'{"a":1}'
    assert payload_of({"enc": "kpl+base64", "data": base64.b64encode(b"\x00").decode()}) == b"\x00"
