"""Golden tests for each decoder: real payloads built here, the exact NDJSON line `read` prints."""

from __future__ import annotations

import base64
import gzip
import json
import zlib

import orjson
import pytest

from streamtail.decode import DecodeMode, DecodeOptions, decode, expand_all, text_of
from streamtail.decode.compress import InflateError, container, inflate
from tests.unit import kplbuild
from tests.unit.helpers import ndjson, record

HEAD = (
    '{"stream":"orders","shard":"shardId-000000000001","seq":"4959033827149025660855969",'
    '"key":"user-42","ts":"2026-11-21T21:04:05.123Z",'
)


def line(rest: str, head: str = HEAD) -> str:
    return head + rest + "\n"


# -- JSON, text, base64 ---------------------------------------------------------------------------


def test_json() -> None:
    # As it arrived, on one line; over several lines, compacted (basic.kept)
    assert ndjson(b'{"id": 7, "tags": ["a"]}') == line(
        '"enc":"json","data":{"id": 7, "tags": ["a"]}}'
    )
    assert ndjson(b'{\n "id": 7,\n "tags": ["a"]\n}\n') == line(
        '"enc":"json","data":{"id":7,"tags":["a"]}}'
    )


def test_json_scalars_are_json() -> None:
    assert ndjson(b"42") == line('"enc":"json","data":42}')


def test_text() -> None:
    assert ndjson(b"GET /health 200 3ms") == line('"enc":"text","data":"GET /health 200 3ms"}')


def test_ansi_coloured_text_is_text() -> None:
    assert ndjson(b"\x1b[31mred\x1b[0m\n") == line(
        '"enc":"text","data":"\\u001b[31mred\\u001b[0m\\n"}'
    )


def test_binary_is_base64() -> None:
    assert ndjson(bytes([0, 1, 2, 253, 254, 255])) == line('"enc":"base64","data":"AAEC/f7/"}')


def test_invalid_utf8_is_base64() -> None:
    assert ndjson(b"caf\xe9") == line('"enc":"base64","data":"Y2Fm6Q=="}')


def test_empty_payload_is_empty_text() -> None:
    assert ndjson(b"") == line('"enc":"text","data":""}')


def test_numbers_beyond_64_bits_keep_every_digit() -> None:
    payload = b'{"id": 123456789012345678901234, "price": 0.10000000000000000555, "n": 1.5}'
    assert ndjson(payload) == line(f'"enc":"json","data":{payload.decode()}}}')
    # compacted (the payload ends in a line break): parsed, and every digit kept all the same
    assert ndjson(payload + b"\n") == line(
        '"enc":"json","data":{"id":123456789012345678901234,"price":0.10000000000000000555,"n":1.5}}'
    )


def test_long_digit_strings_stay_strings() -> None:
    assert ndjson(b'{"card":"4111111111111111"}') == line(
        '"enc":"json","data":{"card":"4111111111111111"}}'
    )


# -- gzip and zlib --------------------------------------------------------------------------------


def test_gzip_json() -> None:
    assert ndjson(gzip.compress(b'{"level":"info"}')) == line(
        '"enc":"gzip+json","data":{"level":"info"}}'
    )


def test_gzip_text_and_binary() -> None:
    assert ndjson(gzip.compress(b"hello")) == line('"enc":"gzip+text","data":"hello"}')
    assert ndjson(gzip.compress(b"\x00\x01")) == line('"enc":"gzip+base64","data":"AAE="}')


def test_gzip_with_several_members() -> None:
    assert ndjson(gzip.compress(b"[1,") + gzip.compress(b"2]")) == line(
        '"enc":"gzip+json","data":[1,2]}'
    )


def test_zlib_json() -> None:
    assert ndjson(zlib.compress(b'{"a":1}')) == line('"enc":"zlib+json","data":{"a":1}}')


def test_gzip_inside_gzip() -> None:
    assert ndjson(gzip.compress(gzip.compress(b"{}"))) == line('"enc":"gzip+gzip+json","data":{}}')


def test_layers_stop_at_four() -> None:
    data = b"{}"
    for _ in range(5):
        data = gzip.compress(data)
    decoded = decode(data)
    assert decoded.enc == "gzip+gzip+gzip+gzip+base64"
    assert decoded.warning is None
    assert decode(base64.b64decode(decoded.value)).enc == "gzip+json"


def test_text_that_looks_like_a_zlib_header_stays_text() -> None:
    # "x^" is a valid zlib CMF/FLG pair (0x785e % 31 == 0); the rest does not inflate.
    assert container(b"x^2 + y^2 = z^2") == "zlib"
    assert ndjson(b"x^2 + y^2 = z^2") == line('"enc":"text","data":"x^2 + y^2 = z^2"}')


def test_truncated_gzip_is_base64_with_a_warning() -> None:
    broken = gzip.compress(b'{"level":"info","message":"hello"}')[:-6]
    decoded = decode(broken)
    assert decoded.enc == "base64"
    assert decoded.warning == "truncated gzip data; shown as base64"
    assert base64.b64decode(decoded.value) == broken


def test_corrupt_gzip_is_base64_with_a_warning() -> None:
    data = bytearray(gzip.compress(b"some text that is long enough to matter" * 3))
    data[12] ^= 0xFF
    decoded = decode(bytes(data))
    assert decoded.enc == "base64"
    assert decoded.warning is not None
    assert decoded.warning.startswith("corrupt gzip data")


def test_trailing_garbage_after_gzip_is_reported() -> None:
    decoded = decode(gzip.compress(b"{}") + b"junk")
    assert decoded.enc == "base64"
    assert decoded.warning == "unexpected bytes after the gzip data; shown as base64"


def test_inflating_is_capped() -> None:
    bomb = gzip.compress(b"\x00" * 100_000)
    with pytest.raises(InflateError, match="inflates beyond"):
        inflate(bomb, "gzip", limit=50_000)
    assert inflate(bomb, "gzip", limit=100_000) == b"\x00" * 100_000


def test_inner_layer_failure_keeps_outer_layer() -> None:
    inner = gzip.compress(b"payload")[:-3]
    decoded = decode(gzip.compress(inner))
    assert decoded.enc == "gzip+base64"
    assert decoded.warning == "truncated gzip data; shown as base64"


# -- KPL aggregates -------------------------------------------------------------------------------


def test_kpl_aggregate_becomes_one_line_per_user_record() -> None:
    data = kplbuild.aggregate(
        [
            ("user-1", b'{"id":1}'),
            ("user-2", b"plain text"),
            ("user-1", gzip.compress(b'{"id":3}')),
            ("bin", b"\xff\x00"),
        ]
    )
    head = (
        '{"stream":"orders","shard":"shardId-000000000001","seq":"4959033827149025660855969",'
        '"subseq":%d,"key":"%s","ts":"2026-11-21T21:04:05.123Z",'
    )
    assert ndjson(data) == (
        line('"enc":"kpl+json","data":{"id":1}}', head % (0, "user-1"))
        + line('"enc":"kpl+text","data":"plain text"}', head % (1, "user-2"))
        + line('"enc":"kpl+gzip+json","data":{"id":3}}', head % (2, "user-1"))
        + line('"enc":"kpl+base64","data":"/wA="}', head % (3, "bin"))
    )


def test_kpl_with_a_bad_checksum_is_base64_with_a_warning() -> None:
    data = kplbuild.aggregate([("k", b"v")])
    data = data[:-1] + bytes([data[-1] ^ 0xFF])
    (item,) = expand_all([record(data)], DecodeOptions())
    assert item[0].subseq is None
    assert item[0].key == "user-42"
    assert item[1].enc == "base64"
    assert item[1].warning == "KPL aggregate with a bad MD5 checksum; shown as base64"


def test_kpl_is_not_unpacked_when_a_mode_is_forced() -> None:
    data = kplbuild.aggregate([("k", b"v")])
    (item,) = expand_all([record(data)], DecodeOptions(DecodeMode.BASE64))
    assert item[1].enc == "base64"
    assert item[1].warning is None


# -- CloudWatch Logs ------------------------------------------------------------------------------

ENVELOPE = {
    "messageType": "DATA_MESSAGE",
    "owner": "123456789012",
    "logGroup": "/aws/lambda/checkout",
    "logStream": "2026/11/21/[$LATEST]0f3c",
    "subscriptionFilters": ["to-kinesis"],
    "logEvents": [
        {"id": "37790", "timestamp": 1795295044000, "message": "START RequestId: 42\n"},
        {"id": "37791", "timestamp": 1795295044500, "message": '{"level":"error","msg":"boom"}'},
    ],
}
CONTROL = {
    "messageType": "CONTROL_MESSAGE",
    "owner": "CloudwatchLogs",
    "logGroup": "",
    "logStream": "",
    "subscriptionFilters": [],
    "logEvents": [
        {
            "id": "",
            "timestamp": 1795295044000,
            "message": "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream.",
        }
    ],
}


def _gz(obj: object) -> bytes:
    return gzip.compress(json.dumps(obj).encode())


def test_cloudwatch_logs_envelope_is_json() -> None:
    assert ndjson(_gz(ENVELOPE)) == line(
        '"enc":"gzip+json","data":' + orjson.dumps(ENVELOPE).decode() + "}"
    )


def test_cloudwatch_logs_expanded_to_one_line_per_event() -> None:
    log = (
        '"log":{"group":"/aws/lambda/checkout","stream":"2026/11/21/[$LATEST]0f3c","id":"%s",'
        '"ts":"%s","owner":"123456789012"}'
    )
    assert ndjson(_gz(ENVELOPE), expand_logs=True) == (
        line(
            '"enc":"gzip+cwlogs+text","data":"START RequestId: 42\\n",'
            + log % ("37790", "2026-11-21T21:04:04.000Z")
            + "}"
        )
        + line(
            '"enc":"gzip+cwlogs+json","data":{"level":"error","msg":"boom"},'
            + log % ("37791", "2026-11-21T21:04:04.500Z")
            + "}"
        )
    )


def test_control_messages_are_shown_unless_skipped() -> None:
    assert '"messageType":"CONTROL_MESSAGE"' in ndjson(_gz(CONTROL))
    assert ndjson(_gz(CONTROL), skip_control=True) == ""
    assert ndjson(_gz(CONTROL), skip_control=True, expand_logs=True) == ""
    assert ndjson(_gz(ENVELOPE), skip_control=True).count("\n") == 1


def test_malformed_envelope_is_shown_as_it_is_with_a_warning() -> None:
    bad = {**ENVELOPE, "logEvents": [{"id": "1", "message": "no timestamp"}]}
    (item,) = expand_all([record(_gz(bad))], DecodeOptions(expand_logs=True))
    assert item[1].enc == "gzip+json"
    assert item[1].value == bad
    assert item[1].warning == (
        "CloudWatch Logs envelope: a log event lacks message or timestamp; shown as it is"
    )
    not_list = {**ENVELOPE, "logEvents": "nope"}
    (item,) = expand_all([record(_gz(not_list))], DecodeOptions(expand_logs=True))
    assert item[1].warning is not None


def test_kpl_of_cloudwatch_envelopes() -> None:
    data = kplbuild.aggregate([("a", _gz(ENVELOPE)), ("b", _gz(CONTROL))])
    items = expand_all([record(data)], DecodeOptions(expand_logs=True, skip_control=True))
    assert [(r.subseq, r.key, d.enc) for r, d in items] == [
        (0, "a", "kpl+gzip+cwlogs+text"),
        (0, "a", "kpl+gzip+cwlogs+json"),
    ]


# -- forced modes ---------------------------------------------------------------------------------


def test_forced_json_on_text_is_base64_with_a_warning() -> None:
    decoded = decode(b"not json", DecodeMode.JSON)
    assert decoded == ("base64", "bm90IGpzb24=", "payload is not JSON; shown as base64", None, None)


def test_forced_text_on_binary_is_base64_with_a_warning() -> None:
    decoded = decode(b"\x00\xff", DecodeMode.TEXT)
    assert decoded.enc == "base64"
    assert decoded.warning == "payload is not UTF-8 text; shown as base64"


def test_forced_modes_take_the_bytes_as_they_arrived() -> None:
    packed = gzip.compress(b'{"a":1}')
    assert decode(packed, DecodeMode.JSON).enc == "base64"
    assert decode(b'{"a":1}', DecodeMode.TEXT) == ("text", '{"a":1}', None, None, None)
    assert decode(b'{"a":1}', DecodeMode.BASE64).value == "eyJhIjoxfQ=="
    assert decode(b'{"a":1}', DecodeMode.NONE).enc == "base64"


def test_text_of_each_kind() -> None:
    assert text_of(decode(b'{"a": 1}')) == '{"a":1}'
    assert text_of(decode(b"hi")) == "hi"
    assert text_of(decode(gzip.compress(b"[1]"))) == "[1]"
