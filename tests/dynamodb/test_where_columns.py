"""`read ddb:TABLE` with `--where`, `--columns` and `-o csv`/`tsv` through the CLI on moto
in-process: the expression sees keys, new and old as plain JSON with exact numbers; csv parses
back into the NDJSON's values."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.unit.helpers import csv_matches_ndjson

from .helpers import ChangeClock, cli, create_table, explain

BASE = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
BIG = "12345678901234567890123456789012345678"  # 38 digits: DynamoDB's most


@pytest.fixture
def orders(ddb: Any, change_clock: ChangeClock) -> None:
    """Table `Orders`: o1 inserted, paid (status changes), paid again (nothing changes), o2 with
    a 38-digit total and a nested map, o1 removed."""
    create_table(ddb, "Orders")
    first = {"pk": {"S": "o1"}, "status": {"S": "new"}, "total": {"N": "19.90"}}
    paid = {**first, "status": {"S": "paid"}}
    big = {
        "pk": {"S": "o2"},
        "status": {"S": "new"},
        "total": {"N": BIG},
        "ship": {"M": {"city": {"S": "Zürich, CH"}, "tags": {"SS": ["a\tb", 'say "hi"']}}},
    }
    writes = [
        lambda: ddb.put_item(TableName="Orders", Item=first),
        lambda: ddb.put_item(TableName="Orders", Item=paid),
        lambda: ddb.put_item(TableName="Orders", Item=paid),
        lambda: ddb.put_item(TableName="Orders", Item=big),
        lambda: ddb.delete_item(TableName="Orders", Key={"pk": {"S": "o1"}}),
    ]
    for n, write in enumerate(writes):
        change_clock.current = BASE + timedelta(seconds=n)
        write()


def _events(stdout: str) -> list[tuple[str, Any]]:
    return [(r["event"], r["keys"]["pk"]) for r in map(json.loads, stdout.splitlines())]


@pytest.mark.parametrize(
    ("expression", "events"),
    [
        ("new.status != old.status", [("INSERT", "o1"), ("MODIFY", "o1"), ("INSERT", "o2"),
                                      ("REMOVE", "o1")]),
        ("event == 'MODIFY' && new.status != old.status", [("MODIFY", "o1")]),
        ("keys.pk == 'o2'", [("INSERT", "o2")]),
        (f"new.total == `{BIG}`", [("INSERT", "o2")]),
        (f"new.total < `{BIG}`", [("INSERT", "o1"), ("MODIFY", "o1"), ("MODIFY", "o1")]),
        ("old.total == `19.9`", [("MODIFY", "o1"), ("MODIFY", "o1"), ("REMOVE", "o1")]),
        ("contains(new.ship.tags || `[]`, 'a\tb')", [("INSERT", "o2")]),
    ],
)  # fmt: skip
def test_where_on_changes(orders: None, expression: str, events: list[tuple[str, Any]]) -> None:
    result = cli("read", "ddb:Orders", "-o", "ndjson", "--where", expression)
    assert result.exit_code == 0, explain(result)
    assert result.stderr == ""
    assert _events(result.stdout) == events


def test_where_and_event_filters_are_and(orders: None) -> None:
    result = cli(
        "read", "ddb:Orders", "-o", "ndjson", "--event", "MODIFY", "--where", "keys.pk == 'o1'"
    )
    assert _events(result.stdout) == [("MODIFY", "o1"), ("MODIFY", "o1")]


@pytest.mark.parametrize("columns", [None, "ts,event,keys.pk,new.total,new.ship,old,ttl"])
def test_csv_parses_back_into_the_ndjson_values(orders: None, columns: str | None) -> None:
    chosen = [] if columns is None else ["--columns", columns]
    ndjson = cli("read", "ddb:Orders", "-o", "ndjson")
    result = cli("read", "ddb:Orders", "-o", "csv", *chosen)
    assert result.exit_code == 0, explain(result)
    text = result.stdout_bytes.decode("utf-8")
    assert text.count("\r\n") == 6  # RFC 4180: every row ends in CRLF
    header = (columns or "ts,event,keys,new,old").split(",")
    objects = [json.loads(line) for line in ndjson.stdout.splitlines()]
    rows = csv_matches_ndjson(text, header, objects)
    assert len(rows) == 6
    if columns is not None:  # numbers with the digits they were written with
        assert [row[3] for row in rows[1:]] == ["19.90", "19.90", "19.90", BIG, ""]


def test_tsv_escapes_tabs_and_line_breaks(orders: None) -> None:
    result = cli("read", "ddb:Orders", "-o", "tsv", "--columns", "keys.pk,new.ship.tags")
    assert result.exit_code == 0, explain(result)
    lines = result.stdout.split("\n")
    assert lines[0] == "keys.pk\tnew.ship.tags"
    # the JSON's own escapes (\t, \") with their backslash escaped in turn
    assert lines[4] == 'o2\t["a\\\\tb","say \\\\"hi\\\\""]'


def test_columns_table_of_changes(orders: None) -> None:
    result = cli(
        "read", "ddb:Orders", "-o", "table", "--columns", "event,keys.pk,new.total,new.status",
        env={"COLUMNS": "80"},
    )  # fmt: skip
    assert result.exit_code == 0, explain(result)
    assert result.stdout.splitlines() == [
        "event  keys.pk          new.total        new.status",
        "INSERT o1               19.90            new",
        "MODIFY o1               19.90            paid",
        "MODIFY o1               19.90            paid",
        f"INSERT o2               {BIG[:15]}… new",
        "REMOVE o1                                ",
    ]


def test_change_table_on_a_narrow_terminal(orders: None) -> None:
    result = cli("read", "ddb:Orders", "-o", "table", env={"COLUMNS": "50"})
    assert result.exit_code == 0, explain(result)
    # the keys and the time give way; CHANGE keeps 20 cells
    assert result.stdout.splitlines() == [
        "TIME     EVENT     KEYS       CHANGE",
        '03:04:05 INSERT    pk=o1      {"pk":"o1","status"…',
        '03:04:06 MODIFY    pk=o1      status: "new" -> "p…',
        "03:04:07 MODIFY    pk=o1      (no attribute chang…",
        '03:04:08 INSERT    pk=o2      {"pk":"o2","status"…',
        '03:04:09 REMOVE    pk=o1      {"pk":"o1","status"…',
    ]
