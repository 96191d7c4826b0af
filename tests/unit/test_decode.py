"""Payload decoding: `auto` and the forced modes, `enc`, `warning` and `text_of`.

Containers (gzip, zlib, KPL, CloudWatch Logs) are in test_decoders.py."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamtail.decode import Decoded, DecodeMode, decode, text_of
from streamtail.decode.compress import container
from streamtail.env import Env
from streamtail.model import Record
from streamtail.render import RenderContext
from streamtail.render.ndjson import NdjsonRenderer

from .helpers import plain


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- auto ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "value"),
    [
        (b'{"id": 7, "name": "caf\xc3\xa9"}', {"id": 7, "name": "café"}),
        (b"[1, 2.5, null, true]", [1, 2.5, None, True]),
        (b"  {}\n", {}),
        (b"42", 42),
        (b"-1.5e3", -1500.0),
        (b'"a string"', "a string"),
        (b"true", True),
        (b"null", None),
        (b"18446744073709551615", 18446744073709551615),  # the largest unsigned 64-bit
        (b"-9223372036854775808", -9223372036854775808),  # the smallest signed 64-bit
    ],
)
def test_auto_json(data: bytes, value: Any) -> None:
    decoded = plain(decode(data))
    assert decoded == Decoded("json", value)
    assert type(decoded.value) is type(value)


@pytest.mark.parametrize(
    "data",
    [
        b'{"id": 7, "name": "caf\xc3\xa9"}',
        b'{"price":10.50,"n":1E3,"big":123456789012345678901234,"s":"\\u00e9\\/"}',
        b"[1, 2.5, null, true]",
        b"42",
        b'"a string"',
    ],
)
def test_one_line_json_is_kept_as_it_arrived(data: bytes) -> None:
    # Written back byte for byte: spacing, number forms (10.50, 1E3), escapes and every digit.
    decoded = decode(data)
    assert decoded.enc == "json"
    assert isinstance(decoded.value, orjson.Fragment)
    assert orjson.dumps({"data": decoded.value}) == b'{"data":' + data + b"}"


@pytest.mark.parametrize(
    ("data", "compact"),
    [
        (b'{\n  "id": 7,\n  "tags": ["a"]\n}', b'{"id":7,"tags":["a"]}'),  # pretty-printed
        (b'{"id": 7}\r\n', b'{"id":7}'),  # a line ending
        (b'  {"id": 7}', b'{"id":7}'),  # padded
        (b'{"id": 7}\t', b'{"id":7}'),
        (b'{\n"n": 123456789012345678901234}', b'{"n":123456789012345678901234}'),
        # every token as it came: digits, exponents, escapes, duplicate keys, spaces in strings
        (
            b'{\n "p": 10.50, "e": 1E2,\n "p": "a \\" b\\u00e9" }',
            b'{"p":10.50,"e":1E2,"p":"a \\" b\\u00e9"}',
        ),
    ],
)
def test_json_over_lines_or_padded_is_written_compactly(data: bytes, compact: bytes) -> None:
    # Verbatim it would break an NDJSON line (or carry the padding into `raw` output): only the
    # whitespace between tokens goes.
    decoded = decode(data)
    assert decoded.enc == "json"
    assert isinstance(decoded.value, orjson.Fragment)
    assert orjson.dumps(decoded.value) == compact


def test_text_of_json_is_compact_whatever_the_spacing() -> None:
    # --grep and the table see one form, so a pattern like "status":"paid" fits every producer.
    assert text_of(decode(b'{"status": "paid", "n": 123456789012345678901234}')) == (
        '{"status":"paid","n":123456789012345678901234}'
    )


@pytest.mark.parametrize(
    "data",
    [
        b"plain text line",
        "caf\u00e9 \u65e5\u672c \U0001f600".encode(),
        b"tab\tnewline\ncarriage\r",
        b"\x1b[31mred\x1b[0m ANSI-coloured log line",  # ESC is allowed in text
        b'{"unterminated": ',
        b"NaN",
        "\u202eright-to-left override".encode(),
        "C1 CSI \u009b31m".encode(),
    ],
)
def test_auto_text(data: bytes) -> None:
    assert decode(data) == Decoded("text", data.decode("utf-8"))


def test_auto_empty_payload_is_empty_text() -> None:
    assert decode(b"") == Decoded("text", "")


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x01\xfe\xff",
        b"\xc3\x28",  # invalid UTF-8
        b"\xff",
        b"text with a NUL\x00",
        b"bell\x07",
        b"delete\x7f",
        b"form feed\x0c",
        b"\x1f\x8b\x08\x00",  # a gzip header (no gzip step yet: shown as base64)
    ],
)
def test_auto_binary_is_base64(data: bytes) -> None:
    assert decode(data) == Decoded("base64", b64(data))


@pytest.mark.parametrize(
    ("data", "digits"),
    [
        (b'{"n": 123456789012345678901234567890}', "123456789012345678901234567890"),
        (b"18446744073709551616", "18446744073709551616"),  # 2**64
        (b"[-9223372036854775809]", "-9223372036854775809"),  # -(2**63) - 1
        (b'{"big": 99999999999999999999999999999999999999}', "9" * 38),  # DynamoDB's 38 digits
    ],
)
def test_integers_beyond_64_bits_keep_every_digit(
    data: bytes, digits: str, make_env: Callable[..., Env]
) -> None:
    """No digit of a big integer may be lost, whatever `enc` the payload ends up with."""
    decoded = decode(data)
    assert digits in text_of(decoded)
    env = make_env()
    record = Record("shardId-000000000000", "1", "k", 0, data)
    renderer = NdjsonRenderer(RenderContext(env=env, stream="s"))
    renderer.write([(record, decoded)])
    line = env.stdout.getvalue()  # type: ignore[attr-defined]
    if decoded.enc == "base64":
        assert base64.b64decode(orjson.loads(line)["data"]) == data
    else:
        assert digits.encode() in line


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_auto_never_raises_and_is_lossless_for_text_and_base64(data: bytes) -> None:
    decoded = decode(data)
    if container(data) is not None:  # gzip/zlib look-alikes: test_decoders.py
        return
    assert decoded.warning is None
    assert decoded.enc in {"json", "text", "base64"}
    if decoded.enc == "text":
        assert decoded.value.encode("utf-8") == data
    elif decoded.enc == "base64":
        assert base64.b64decode(decoded.value) == data
    # --grep and the table see text and base64 as they are, JSON as the same value, compact.
    if decoded.enc == "json":
        assert json.loads(text_of(decoded)) == json.loads(data)
        assert text_of(decoded) == text_of(decode(text_of(decoded).encode()))
    else:
        assert text_of(decoded) == decoded.value


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_auto_any_text_renders_as_one_ndjson_line(text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    decoded = decode(data)
    env = Env(stdout=io.BytesIO(), stderr=io.StringIO())
    record = Record("shardId-000000000000", "1", text, 0, data)
    NdjsonRenderer(RenderContext(env=env, stream="s")).write([(record, decoded)])
    out = env.stdout.getvalue()  # type: ignore[attr-defined]
    assert out.endswith(b"\n")
    assert out.count(b"\n") == 1
    assert orjson.loads(out)["key"] == text


# -- forced modes -------------------------------------------------------------------------------

JSON = b'{"a": [1, 2]}'
TEXT = b"hello \x1b[1mworld\x1b[0m"
BINARY = b"\x00\xff\x10"
NOT_JSON = "payload is not JSON; shown as base64"
NOT_TEXT = "payload is not UTF-8 text; shown as base64"


@pytest.mark.parametrize(
    ("mode", "data", "expected"),
    [
        (DecodeMode.JSON, JSON, Decoded("json", {"a": [1, 2]})),
        (DecodeMode.JSON, TEXT, Decoded("base64", b64(TEXT), NOT_JSON)),
        (DecodeMode.JSON, BINARY, Decoded("base64", b64(BINARY), NOT_JSON)),
        (DecodeMode.JSON, b"", Decoded("base64", "", NOT_JSON)),
        (DecodeMode.TEXT, JSON, Decoded("text", '{"a": [1, 2]}')),
        (DecodeMode.TEXT, TEXT, Decoded("text", TEXT.decode())),
        (DecodeMode.TEXT, BINARY, Decoded("base64", b64(BINARY), NOT_TEXT)),
        (DecodeMode.TEXT, b"", Decoded("text", "")),
        (DecodeMode.BASE64, JSON, Decoded("base64", b64(JSON))),
        (DecodeMode.BASE64, TEXT, Decoded("base64", b64(TEXT))),
        (DecodeMode.BASE64, BINARY, Decoded("base64", b64(BINARY))),
        (DecodeMode.NONE, JSON, Decoded("base64", b64(JSON))),
        (DecodeMode.NONE, BINARY, Decoded("base64", b64(BINARY))),
        (DecodeMode.AUTO, JSON, Decoded("json", {"a": [1, 2]})),
        (DecodeMode.AUTO, TEXT, Decoded("text", TEXT.decode())),
        (DecodeMode.AUTO, BINARY, Decoded("base64", b64(BINARY))),
    ],
)
def test_forced_modes(mode: DecodeMode, data: bytes, expected: Decoded) -> None:
    assert plain(decode(data, mode)) == expected


def test_mode_names_match_the_contract() -> None:
    # docs/CONTRACT.md's five, then the schema readings (issue 17: README "Schemas"), then the
    # frames (issue 27: README "What is inside a record").
    assert [m.value for m in DecodeMode] == [
        *("auto", "json", "text", "base64", "none"),
        *("avro", "protobuf", "gsr"),
        *("zstd", "lz4"),
    ]


# -- text_of (what --grep and the table see) ----------------------------------------------------


@pytest.mark.parametrize(
    ("decoded", "text"),
    [
        (Decoded("json", {"id": 7, "name": "café"}), '{"id":7,"name":"café"}'),
        (Decoded("json", [1, None, True]), "[1,null,true]"),
        (Decoded("json", "a string"), '"a string"'),
        (Decoded("json", None), "null"),
        (Decoded("gzip+json", {"a": 1}), '{"a":1}'),
        (Decoded("text", "plain"), "plain"),
        (Decoded("base64", "AAH/"), "AAH/"),
    ],
)
def test_text_of(decoded: Decoded, text: str) -> None:
    assert text_of(decoded) == text


def test_a_decoder_that_raises_makes_that_record_base64_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Whatever a decoder or a library raises: that record is shown as it came, the rest decode.
    import streamtail.decode as decoding
    from streamtail.decode import DecodeOptions, expand_all

    def broken(_data: bytes) -> Any:
        raise RuntimeError("library bug\non two lines")

    monkeypatch.setattr(decoding, "is_aggregate", broken)
    records = [
        Record("shardId-000000000000", "1", "k", 0, b'{"n":1}'),
        Record("shardId-000000000000", "2", "k", 0, b"\xf3\x89\x9a\xc2 kpl?"),
    ]
    items = expand_all(records, DecodeOptions())
    (_, first), (_, second) = items
    assert (first.enc, orjson.dumps(first.value), first.warning) == ("json", b'{"n":1}', None)
    assert (second.enc, second.value, second.warning) == (
        "base64",
        base64.b64encode(b"\xf3\x89\x9a\xc2 kpl?").decode(),
        "not decodable (RuntimeError: library bug on two lines); shown as base64",
    )


@pytest.mark.parametrize(
    ("data", "enc", "warning"),
    [
        (b"[" * 254 + b"]" * 254, "json", None),
        (b"[" * 255 + b"]" * 255, "text", "JSON nested deeper than 254 levels; shown as text"),
        (b'["' + b"[" * 600 + b'"]', "json", None),  # brackets inside a string do not nest
        (b'{"x":1e400}', "json", None),  # valid JSON a double cannot hold
        (b'{"x":1e400', "text", None),
    ],
)
def test_json_depth_is_decided_once_and_valid_json_stays_json(
    data: bytes, enc: str, warning: str | None
) -> None:
    decoded = decode(data)
    assert (decoded.enc, decoded.warning) == (enc, warning)
    if enc == "json":
        assert orjson.dumps(decoded.value) == data  # written as it came
