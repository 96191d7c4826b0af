"""Dotted paths into JSON values: `user.id`, `data.items.0.sku`.

One reading for the three options that name a field of a record: `put --key-field`,
`top --group-by` and `--columns`. A path is field names joined by dots, a number picking an
element of an array; a path that leads nowhere gives None. A JSON payload kept as it arrived (an
`orjson.Fragment`, decode/basic.kept) is read only when a path goes into it, and then with every
number as the text it was written in (`1.50` stays `1.50`), so a number used as a key or shown in
a cell keeps its digits.

Standard library and orjson only.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from streamtail.errors import UsageError

Path = tuple[str, ...]


def parse_path(text: str, option: str) -> Path:
    """`user.id` -> ("user", "id"); an empty field name is a usage error naming `option`."""
    path = tuple(text.split("."))
    if not all(path):
        raise UsageError(f"invalid {option} {text!r}", hint="use a dotted path such as user.id")
    return path


def value_at(obj: Any, path: Path) -> Any:
    """The value at `path` in `obj`, None when there is none."""
    value = obj
    for name in path:
        if value.__class__ is orjson.Fragment:
            value = read_fragment(value)
        if isinstance(value, dict):
            value = value.get(name)
        elif isinstance(value, list) and name.isdigit() and int(name) < len(value):
            value = value[int(name)]
        else:
            return None
    return value


def read_fragment(fragment: orjson.Fragment) -> Any:
    """The JSON text of a Fragment as a value whose numbers are Fragments of their own text:
    written back compact, each number as it was written (`19.90` stays `19.90`)."""
    return json.loads(
        orjson.dumps(fragment), parse_int=orjson.Fragment, parse_float=orjson.Fragment
    )
