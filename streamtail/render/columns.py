"""`--columns LIST`: dotted paths into the schema-v1 object, and each one's value as a cell.

Shared by `table`, `csv` and `tsv`. A path is the names of fields joined by dots
(`data.order.id`), a number picking an element of an array (`data.items.0.sku`); a path that
leads nowhere gives an empty cell. A cell is a string as it is, nothing (null or absent) as
empty, and any other value as compact JSON with every digit of its numbers (`true`, `42`,
`{"a":1}`); numbers keep the text they arrived with (`19.90`, 38-digit DynamoDB numbers).

Standard library and orjson only: checked in core before any call.
"""

from __future__ import annotations

from typing import Any

import orjson

from streamtail.errors import UsageError
from streamtail.paths import Path, read_fragment, value_at

#: the formats that show columns (`--columns` with any other is a usage error)
COLUMN_FORMATS = ("table", "csv", "tsv")
#: the columns `csv` and `tsv` write by default: those of the table (TIME, SHARD, SEQ, KEY, DATA;
#: for DynamoDB TIME, EVENT, KEYS and the change as its images)
KINESIS_COLUMNS = ("ts", "shard", "seq", "key", "data")
CHANGE_COLUMNS = ("ts", "event", "keys", "new", "old")


def parse_columns(text: str) -> tuple[str, ...]:
    """`ts,shard,data.order_id` -> its paths; an empty path or field name is a usage error."""
    paths = tuple(part.strip() for part in text.split(","))
    for path in paths:
        if not path or any(not name for name in path.split(".")):
            raise UsageError(
                f"invalid --columns {text!r}: give dotted paths into the NDJSON object, "
                "separated by commas (ts,key,data.status)"
            )
    return paths


def columns_for(text: str | None, output: str) -> tuple[str, ...] | None:
    """`--columns` for this output format, checked: None when not given."""
    if text is None:
        return None
    paths = parse_columns(text)
    if output not in COLUMN_FORMATS:
        raise UsageError(
            f"--columns applies to -o table, csv and tsv, not to -o {output}",
            hint="add -o table, -o csv or -o tsv",
        )
    return paths


def split(paths: tuple[str, ...]) -> tuple[Path, ...]:
    return tuple(tuple(path.split(".")) for path in paths)


def values_at(obj: dict[str, Any], paths: tuple[Path, ...]) -> list[Any]:
    """The value at each path (`value_at`), a payload kept as it arrived read once for all."""
    top = {path[0] for path in paths if len(path) > 1}
    fields = {
        name: read_fragment(value) if value.__class__ is orjson.Fragment and name in top else value
        for name, value in obj.items()
    }
    return [value_at(fields, path) for path in paths]


def cell(value: Any) -> str:
    """A value as the text of one cell: strings as they are, null as empty, the rest as
    compact JSON (a payload kept as it arrived compacted too)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if value.__class__ is orjson.Fragment:
        text = orjson.dumps(value)
        if text[:1] in _CONTAINERS and b" " not in text and b"\t" not in text:
            return text.decode("utf-8")  # compact already (no line breaks: basic.kept)
        value = read_fragment(value)
        if isinstance(value, str):
            return value
    return orjson.dumps(value).decode("utf-8")


_CONTAINERS = frozenset({b"{", b"["})
