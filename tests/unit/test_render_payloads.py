"""Golden table rows and raw lines for each kind of payload, and terminal safety of decoded data."""

from __future__ import annotations

import gzip
import json

from streamtail.decode import DecodeOptions, expand_all
from tests.unit import kplbuild
from tests.unit.helpers import record, render
from tests.unit.test_decoders import ENVELOPE

PAYLOADS = [
    b'{"order_id":"ord-000001","status":"created","items":[{"sku":"SKU-1001","qty":2}]}',
    b"GET /health 200 3ms\n",
    gzip.compress(b'{"level":"info"}'),
    bytes(range(200)),
    kplbuild.aggregate([("u1", b"one"), ("u2", b'{"n":3}')]),
    gzip.compress(json.dumps(ENVELOPE).encode()),
]


def _items() -> list:  # type: ignore[type-arg]
    options = DecodeOptions(expand_logs=True)
    return [item for data in PAYLOADS for item in expand_all([record(data)], options)]


def test_table_rows() -> None:
    row = "21:04:05.123 1        …25660855969 user-42          "
    sub = "21:04:05.123 1        …660855969:%d %-16s "
    assert render(_items(), "table", width=100).splitlines() == [
        "TIME (UTC)   SHARD    SEQ          KEY              DATA",
        row + '{"order_id":"ord-000001","status":"created","it…',
        row + "GET /health 200 3ms",
        row + 'gzip {"level":"info"}',
        row + "<200 B> 00 01 02 03 04 05 06 07 08 09 0a 0b …",
        sub % (0, "u1") + "kpl one",
        sub % (1, "u2") + 'kpl {"n":3}',
        row + "/aws/lambda/che… START RequestId: 42",
        row + '/aws/lambda/che… {"level":"error","msg":"boom"}',
    ]


def test_table_rows_fit_any_width() -> None:
    for width in (60, 80, 132, 200):
        lines = render(_items(), "table", width=width).splitlines()
        assert all(len(line) <= width for line in lines), width


def test_small_binary_is_shown_whole() -> None:
    row = render(expand_all([record(b"\x00\x01\xfe\xff")], DecodeOptions()), "table", width=100)
    assert row.splitlines()[1].endswith("<4 B> 00 01 fe ff")


def test_escape_sequences_in_decoded_data_are_inert() -> None:
    evil = gzip.compress(b"\x1b]0;pwned\x1b\\\x1b[2J hello")
    row = render(expand_all([record(evil)], DecodeOptions()), "table", width=100).splitlines()[1]
    assert "\x1b" not in row
    assert row.endswith("gzip \\e]0;pwned\\e\\\\e[2J hello")


def test_raw_lines() -> None:
    assert render(_items(), "raw").splitlines()[:3] == [
        '{"order_id":"ord-000001","status":"created","items":[{"sku":"SKU-1001","qty":2}]}',
        "GET /health 200 3ms",  # the payload's own newline ends its line
        '{"level":"info"}',
    ]
