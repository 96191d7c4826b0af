"""`-o table` for DynamoDB changes (golden, width 120): INSERT shows the new image, REMOVE the old
one, MODIFY only what changed; record content never acts as markup or terminal escapes."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .helpers import ChangeClock, cli, create_table, explain

BASE = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
KEY = {"pk": {"S": "c1"}, "sk": {"N": "1"}}
CART = {
    **KEY,
    "items": {"L": [{"M": {"q": {"N": "2"}}}]},
    "total": {"N": "19.90"},
    "note": {"S": "[red]x[/]"},
}
CHANGED = {
    **KEY,
    "items": {"L": [{"M": {"q": {"N": "2"}}}]},
    "total": {"N": "24.90"},
    "coupon": {"S": "SAVE5"},
}
HOSTILE = {
    "pk": {"S": "\x1b[31mred\x1b[0m"},
    "sk": {"N": "2"},
    "title": {"S": "\x1b]0;pwned\x07 \u202eevil\u202c \x9b2J"},
    "long": {"S": "x" * 200},
}


@pytest.fixture
def carts(ddb: Any, change_clock: ChangeClock) -> None:
    """Table `Carts`: INSERT, MODIFY, a MODIFY that changes nothing, a hostile INSERT, REMOVE."""
    create_table(ddb, "Carts", range_key=True)
    writes: list[Callable[[], Any]] = [
        lambda: ddb.put_item(TableName="Carts", Item=CART),
        lambda: ddb.put_item(TableName="Carts", Item=CHANGED),
        lambda: ddb.put_item(TableName="Carts", Item=CHANGED),  # moto: MODIFY all the same
        lambda: ddb.put_item(TableName="Carts", Item=HOSTILE),
        lambda: ddb.delete_item(TableName="Carts", Key=KEY),
    ]
    for n, write in enumerate(writes):
        change_clock.current = BASE + timedelta(seconds=n)
        write()


def test_table_golden(carts: None, golden: Callable[[str, str], None]) -> None:
    result = cli("read", "ddb:Carts", "-o", "table", "--no-color", env={"COLUMNS": "120"})
    assert result.exit_code == 0, explain(result)
    golden("table_changes_w120.txt", result.stdout)
    lines = result.stdout.splitlines()
    assert all(len(line) <= 120 for line in lines)
    # Spelled out, so the golden file cannot drift into wrong behaviour unnoticed:
    assert lines[0].split() == ["TIME", "(UTC)", "EVENT", "KEYS", "CHANGE"]
    insert, modify, same, hostile, remove = lines[1:]
    assert insert.startswith("03:04:05.678 INSERT     pk=c1 sk=1 ")
    assert insert.endswith('{"pk":"c1","sk":1,"items":[{"q":2}],"total":19.90,"note":"[red]x[/]"}')
    assert modify.endswith('+coupon: "SAVE5", -note: "[red]x[/]", total: 19.90 -> 24.90')
    assert same.endswith("(no attribute changed)")
    assert hostile.startswith("03:04:08.678 INSERT     pk=\\e[31mred\\e[0m sk=2 ")
    assert hostile.endswith("…")
    assert remove.startswith("03:04:09.678 REMOVE     pk=c1 sk=1 ")
    assert remove.endswith('{"pk":"c1","sk":1,"items":[{"q":2}],"total":24.90,"coupon":"SAVE5"}')


def test_attribute_values_stay_inert_without_colour(carts: None) -> None:
    result = cli("read", "ddb:Carts", "-o", "table", "--no-color", env={"COLUMNS": "200"})
    assert result.exit_code == 0, explain(result)
    out = result.stdout_bytes.decode("utf-8")
    for raw in ("\x1b", "\x07", "\x9b", "\u202e", "\u202c"):
        assert raw not in out
    assert "\\u001b]0;pwned\\u0007 \\u202eevil\\u202c \\x9b2J" in out
    assert "[red]x[/]" in out


def test_attribute_values_stay_inert_with_colour(carts: None) -> None:
    result = cli("read", "ddb:Carts", "-o", "table", env={"COLUMNS": "200", "FORCE_COLOR": "1"})
    assert result.exit_code == 0, explain(result)
    out = result.stdout_bytes.decode("utf-8")
    assert "\x1b[" in out  # colour is on...
    # ...and rich's SGR colour codes are the only escape sequences that reach the terminal.
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    for raw in ("\x1b", "\x07", "\x9b", "\u202e", "\u202c"):
        assert raw not in plain
    assert "[red]x[/]" in plain
    assert "pk=\\e[31mred\\e[0m" in plain


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        # without both images a MODIFY shows the image it has
        ("NEW_IMAGE", ['{"pk":"a","v":1}', '{"pk":"a","v":2}', ""]),
        ("OLD_IMAGE", ["", '{"pk":"a","v":1}', '{"pk":"a","v":2}']),
        ("KEYS_ONLY", ["", "", ""]),
    ],
)
def test_table_shows_what_the_view_type_provides(ddb: Any, view: str, expected: list[str]) -> None:
    create_table(ddb, "Views", view)
    ddb.put_item(TableName="Views", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.put_item(TableName="Views", Item={"pk": {"S": "a"}, "v": {"N": "2"}})
    ddb.delete_item(TableName="Views", Key={"pk": {"S": "a"}})
    result = cli("read", "ddb:Views", "-o", "table", "--no-color", env={"COLUMNS": "120"})
    assert result.exit_code == 0, explain(result)
    rows = result.stdout.splitlines()[1:]
    prefix = 12 + 1 + 10 + 1 + 24 + 1  # TIME, EVENT and KEYS columns
    assert [row[prefix - 25 : prefix].rstrip() for row in rows] == ["pk=a"] * 3
    assert [row[prefix:] for row in rows] == expected


def test_modify_ignores_map_key_and_set_member_order(ddb: Any) -> None:
    create_table(ddb, "Order")
    m = {"a": {"N": "1"}, "b": {"N": "2"}}
    ddb.put_item(
        TableName="Order", Item={"pk": {"S": "a"}, "ss": {"SS": ["x", "y"]}, "m": {"M": m}}
    )
    # The same values: DynamoDB maps have no key order and sets no member order.
    again = {"pk": {"S": "a"}, "ss": {"SS": ["y", "x"]}, "m": {"M": dict(reversed(m.items()))}}
    ddb.put_item(TableName="Order", Item=again)
    result = cli("read", "ddb:Order", "-o", "table", "--no-color", env={"COLUMNS": "120"})
    assert result.exit_code == 0, explain(result)
    assert result.stdout.splitlines()[2].endswith("(no attribute changed)")
