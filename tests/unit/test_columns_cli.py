"""`-o csv`, `-o tsv` and `--columns` through the CLI on moto in-process: csv parses back into the
NDJSON's values, the exact table of chosen columns, usage errors; and the table's widths in
display cells (wide characters, narrow terminals)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rich.cells import cell_len

from tests.unit import kplbuild
from tests.unit.helpers import csv_matches_ndjson, run_cli

PAYLOADS: list[tuple[str, bytes]] = [
    ("a", b'{"id": 1, "note": "comma, \\"quote\\"\\nnewline", "tags": ["x"], "n": 19.90}'),
    ("b,c", b"text, with a comma\nand a line break\r\n"),
    ("d", b"\x00\x01\xfe\xff"),
    ("e", b'{"big":123456789012345678901234567890,"nested":{"deep":[1,{"k":null}]}}'),
    ("f", kplbuild.aggregate([("u1", b'{"id":7}'), ("u2", b"tab\there")])),
    ("g", b'"a JSON string"'),
    ("h", b"\xe6\x9d\xb1\xe4\xba\xac"),  # 東京: text
]


@pytest.fixture
def mixed(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="mixed", ShardCount=1)
    for key, data in PAYLOADS:
        kinesis.put_record(StreamName="mixed", PartitionKey=key, Data=data)


@pytest.mark.parametrize(
    "columns", [None, "key,subseq,data.id,data.note,data.tags,data.nested.deep.1,data.big,enc"]
)
def test_csv_parses_back_into_the_ndjson_values(mixed: None, columns: str | None) -> None:
    chosen = [] if columns is None else ["--columns", columns]
    objects = [json.loads(line) for line in run_cli("read", "mixed", "-o", "ndjson").lines]
    result = run_cli("read", "mixed", "-o", "csv", *chosen)
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    text = result.stdout.decode("utf-8")
    header = (columns or "ts,shard,seq,key,data").split(",")
    rows = csv_matches_ndjson(text, header, objects)
    assert len(rows) == 9
    assert text.count("\r\n") >= len(rows)  # RFC 4180 row ends (and a payload's own CRLF)
    if columns is not None:  # numbers as they were written
        assert rows[1][header.index("data.note")] == 'comma, "quote"\nnewline'
    else:
        assert rows[1][4] == '{"id":1,"note":"comma, \\"quote\\"\\nnewline","tags":["x"],"n":19.90}'
        assert rows[4][4] == (
            '{"big":123456789012345678901234567890,"nested":{"deep":[1,{"k":null}]}}'
        )


def test_tsv_one_line_a_record(mixed: None) -> None:
    result = run_cli("read", "mixed", "-o", "tsv", "--columns", "key,data.n,data")
    assert result.code == 0, result.stderr
    lines = result.stdout.decode("utf-8").split("\n")
    assert lines[:4] == [
        "key\tdata.n\tdata",
        'a\t19.90\t{"id":1,"note":"comma, \\\\"quote\\\\"\\\\nnewline","tags":["x"],"n":19.90}',
        "b,c\t\ttext, with a comma\\nand a line break\\r\\n",
        "d\t\tAAH+/w==",
    ]
    assert lines[6] == "u2\t\ttab\\there"
    assert lines[-1] == "" and len(lines) == 10


def test_columns_table(mixed: None) -> None:
    result = run_cli(
        "read", "mixed", "-o", "table", "--columns", "key,subseq,data.id,enc,data",
        "--where", "enc != 'base64'", env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert result.stdout.decode("utf-8").splitlines() == [
        "key              subseq data.id          enc        data",
        "a                       1                json       "
        '{"id":1,"note":"comma, \\"quote\\"\\nnewline","tags":["x"],"n":19.90}',
        "b,c                                      text       "
        "text, with a comma\\nand a line break\\r\\n",
        "e                                        json       "
        '{"big":123456789012345678901234567890,"nested":{"deep":[1,{"k":null}]}}',
        'u1               0      7                kpl+json   {"id":7}',
        "u2               1                       kpl+text   tab\\there",
        "g                                        json       a JSON string",
        "h                                        text       東京",
    ]


NOT_THERE = "--columns applies to -o table, csv and tsv, not to -o"
PATHS = "give dotted paths into the NDJSON object, separated by commas (ts,key,data.status)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--columns", "key", "-o", "ndjson"], f"{NOT_THERE} ndjson"),
        (["--columns", "key", "-o", "raw"], f"{NOT_THERE} raw"),
        (["--columns", "key,,data", "-o", "csv"], f"invalid --columns 'key,,data': {PATHS}"),
        (["--columns", "data..id", "-o", "csv"], f"invalid --columns 'data..id': {PATHS}"),
    ],
)  # fmt: skip
def test_columns_usage_errors_before_any_call(aws_env: None, args: list[str], message: str) -> None:
    result = run_cli("read", "nope", *args)
    assert result.code == 2
    assert result.stdout == b""
    assert result.stderr.splitlines()[0] == f"streamtail: error: {message}"


# -- the table in display cells ------------------------------------------------------------------

CJK_KEY = "東京都渋谷区神宮前一丁目二番地"  # 15 characters, 30 cells


def _table(kinesis: Any, width: int, *args: str) -> list[str]:
    kinesis.create_stream(StreamName="wide", ShardCount=1)
    for key, data in [
        (CJK_KEY, '{"city":"東京","n":1}'),
        ("k", '{"n":2,"pad":"' + "x" * 99 + '"}'),
        ("短い", "渋谷区神宮前一丁目二番地渋谷区神宮前一丁目二番地渋谷区神宮前一丁目二番地"),
    ]:
        kinesis.put_record(StreamName="wide", PartitionKey=key, Data=data.encode())
    result = run_cli("read", "wide", "-o", "table", *args, env={"COLUMNS": str(width)})
    assert result.code == 0, result.stderr
    return result.stdout.decode("utf-8").splitlines()


def _data_starts(lines: list[str], title: str = "DATA") -> set[int]:
    """The cell each line's last column starts at (after the header's title)."""
    start = cell_len(lines[0][: lines[0].rindex(title)])
    starts = set()
    for line in lines:
        used, index = 0, 0
        while used < start:
            used += cell_len(line[index])
            index += 1
        starts.add(used)
        assert line[index - 1] == " ", line  # a column boundary, not inside a wide character
    return starts


def test_wide_characters_count_two_cells_and_keep_data_in_line(
    kinesis: Any, arrival_clock: Any
) -> None:
    lines = _table(kinesis, 80)
    assert lines == [
        "TIME (UTC)   SHARD    SEQ          KEY              DATA",
        '03:04:05.250 0        1            東京都渋谷区神…  {"city":"東京","n":1}',
        '03:04:05.250 0        2            k                {"n":2,"pad":"xxxxxxxxxxxxx…',
        "03:04:05.250 0        3            短い             渋谷区神宮前一丁目二番地渋…",
    ]
    assert _data_starts(lines) == {52}
    assert max(cell_len(line) for line in lines) == 80


def test_on_a_narrow_terminal_data_keeps_its_minimum(kinesis: Any, arrival_clock: Any) -> None:
    lines = _table(kinesis, 50)
    assert lines == [
        "TIME     SHARD SEQ    KEY     DATA",
        '03:04:05 0     1      東京都… {"city":"東京","n":…',
        '03:04:05 0     2      k       {"n":2,"pad":"xxxxx…',
        "03:04:05 0     3      短い    渋谷区神宮前一丁目…",
    ]
    assert _data_starts(lines) == {30}
    assert [cell_len(line) for line in lines[1:]] == [50, 50, 49]


def test_chosen_columns_in_display_cells(kinesis: Any, arrival_clock: Any) -> None:
    lines = _table(kinesis, 50, "--columns", "ts,key,data.city,data")
    assert lines == [
        "ts        key       data.city data",
        '2026-01-… 東京都渋… 東京      {"city":"東京","n":…',
        '2026-01-… k                   {"n":2,"pad":"xxxxx…',
        "2026-01-… 短い                渋谷区神宮前一丁目…",
    ]
    assert _data_starts(lines, "data") == {30}
