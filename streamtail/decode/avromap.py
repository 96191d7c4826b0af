"""The converters between fastavro's Python values and plain JSON, compiled once per schema.

`converter(parsed, named, to_json=True)` maps what fastavro read to the JSON avro.py's table
promises; `to_json=False` maps JSON lines back to what fastavro writes (`put --avro-schema`).
None means identity: the parts of a schema that need no mapping cost nothing per record.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import struct
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson

Convert = Callable[[Any], Any]
_FLOAT32 = struct.Struct("<f")
_DURATION = struct.Struct("<III")


def converter(parsed: Any, named: dict[str, Any], *, to_json: bool) -> Convert | None:
    """The converter of a schema fastavro parsed (`named`: its `__named_schemas`)."""
    return _Compiler(named, _out=to_json).build(parsed)


# -- the converters --------------------------------------------------------------------------------


class _Compiler:
    """Builds the converter of a parsed schema: to JSON (`_out`) or from JSON; None = identity."""

    def __init__(self, named: dict[str, Any], *, _out: bool) -> None:
        self.named = named
        self.out = _out
        self.done: dict[str, Convert | None] = {}
        self.building: dict[str, list[Convert | None]] = {}

    def build(self, schema: Any) -> Convert | None:
        if isinstance(schema, list):
            return self._union(schema)
        if isinstance(schema, str):
            if schema in self.named:
                return self._named(schema)
            return self._primitive(schema)
        kind = schema["type"]
        logical = schema.get("logicalType")
        if logical is not None:
            conv = self._logical(logical)
            if conv is not _UNKNOWN:
                return conv  # type: ignore[no-any-return]
        if kind in {"record", "error"}:
            return self._record(schema)
        if kind == "array":
            items = self.build(schema["items"])
            return None if items is None else (lambda v: [items(x) for x in v])
        if kind == "map":
            values = self.build(schema["values"])
            return None if values is None else (lambda v: {k: values(x) for k, x in v.items()})
        if kind == "fixed":
            return _b64 if self.out else _unb64
        if kind == "enum":
            return None
        if isinstance(kind, str | list | dict):
            return self.build(kind)
        return None

    def _named(self, name: str) -> Convert | None:
        if name in self.done:
            return self.done[name]
        if name in self.building:  # a recursive type: resolved when called
            pending = self.building[name]
            return lambda v: v if pending[0] is None else pending[0](v)
        cell: list[Convert | None] = [None]
        self.building[name] = cell
        conv = self.build(self.named[name])
        cell[0] = conv
        self.done[name] = conv
        return conv

    def _primitive(self, name: str) -> Convert | None:
        if name == "bytes":
            return _b64 if self.out else _unb64
        if name == "float" and self.out:
            return _float32
        if name in ("float", "double") and not self.out:
            return _float_in
        return None

    def _record(self, schema: dict[str, Any]) -> Convert | None:
        name = schema.get("name")
        if name and name not in self.building and name in self.named:
            return self._named(name)
        fields = [(f["name"], self.build(f["type"])) for f in schema["fields"]]
        convs = [(n, c) for n, c in fields if c is not None]
        if not convs:
            return None

        def record(value: dict[str, Any]) -> dict[str, Any]:
            # In place: fastavro made the dict for this value alone.
            for field, conv in convs:
                if field in value:
                    value[field] = conv(value[field])
            return value

        return record

    def _union(self, branches: list[Any]) -> Convert | None:
        built = [(b, self.build(b)) for b in branches]
        # Several records in one union come back from fastavro as (name, record) to unwrap.
        records = sum(1 for b in branches if self._is_record(b))
        if all(conv is None for _, conv in built) and (records < 2 or not self.out):
            return None
        by_name = {_name_of(b): conv for b, conv in built}
        if self.out:
            return lambda v: _union_out(v, built, by_name)
        return lambda v: _union_in(v, built)

    def _is_record(self, branch: Any) -> bool:
        if isinstance(branch, str):
            branch = self.named.get(branch)
        return isinstance(branch, dict) and branch.get("type") in {"record", "error"}

    def _logical(self, logical: str) -> Any:
        if self.out:
            return _LOGICAL_OUT.get(logical, _UNKNOWN)
        if logical == "decimal":
            return _decimal_in
        return _LOGICAL_IN.get(logical, _UNKNOWN)


_UNKNOWN = object()


def _name_of(branch: Any) -> str:
    if isinstance(branch, str):
        return branch
    if isinstance(branch, dict):
        return str(branch.get("name") or branch.get("type"))
    return "union"


def _union_out(value: Any, built: list[tuple[Any, Convert | None]], by_name: dict[str, Any]) -> Any:
    if value.__class__ is tuple:  # a union of several records: (full name, record)
        name, value = value
        conv = by_name.get(name)
        return value if conv is None else conv(value)
    for branch, conv in built:
        if _fits(value, branch):
            return value if conv is None else conv(value)
    return value


def _union_in(value: Any, built: list[tuple[Any, Convert | None]]) -> Any:
    if value is None:
        return None
    for branch, conv in built:
        if branch == "null":
            continue
        if conv is None:
            if _fits(value, branch):
                return value
            continue
        try:
            return conv(value)
        except (ValueError, TypeError, ArithmeticError):
            continue
    return value


# What a Python value read by fastavro (out), or a JSON value (in), can be for a union branch.
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "null": (type(None),),
    "boolean": (bool,),
    "int": (int,),
    "long": (int,),
    "float": (float, int),
    "double": (float, int),
    "string": (str,),
    "bytes": (bytes,),
    "fixed": (bytes,),
    "enum": (str,),
    "array": (list,),
    "map": (dict,),
    "record": (dict,),
    "error": (dict,),
}


def _fits(value: Any, branch: Any) -> bool:
    kind = branch if isinstance(branch, str) else branch.get("type", "record")
    if isinstance(branch, dict) and branch.get("logicalType"):
        return not isinstance(value, dict | list | bool) and value is not None
    types = _PY_TYPES.get(kind if isinstance(kind, str) else "record", (dict,))
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


# -- to JSON --------------------------------------------------------------------------------


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _float32(value: float) -> float:
    """The shortest decimal that reads back as the same float32."""
    if not math.isfinite(value):
        return value
    for digits in range(6, 10):
        shorter = float(f"{value:.{digits}g}")
        if _FLOAT32.unpack(_FLOAT32.pack(shorter))[0] == value:
            return shorter
    return value


def _decimal_out(value: Decimal) -> Any:
    return orjson.Fragment(format(value, "f"))


def _timestamp(digits: int, zone: str) -> Convert:
    # isoformat() is several times quicker than strftime (a fifth of an Avro record's cost).
    scale = 10 ** (6 - digits)

    def convert(value: Any) -> Any:
        if not isinstance(value, dt.datetime):
            return value
        if value.tzinfo is not None and value.utcoffset():
            value = value.astimezone(dt.UTC)
        whole = value.isoformat()[:19]
        return f"{whole}.{value.microsecond // scale:0{digits}d}{zone}"

    return convert


def _time(digits: int) -> Convert:
    def convert(value: Any) -> Any:
        if not isinstance(value, dt.time):
            return value
        return f"{value:%H:%M:%S}.{value.microsecond // 10 ** (6 - digits):0{digits}d}"

    return convert


def _duration_out(value: bytes) -> Any:
    months, days, millis = _DURATION.unpack(value)
    return {"months": months, "days": days, "milliseconds": millis}


_LOGICAL_OUT: dict[str, Convert | None] = {
    "decimal": _decimal_out,
    "date": lambda v: v.isoformat() if isinstance(v, dt.date) else v,
    "time-millis": _time(3),
    "time-micros": _time(6),
    "timestamp-millis": _timestamp(3, "Z"),
    "timestamp-micros": _timestamp(6, "Z"),
    "local-timestamp-millis": _timestamp(3, ""),
    "local-timestamp-micros": _timestamp(6, ""),
    "uuid": str,
    "duration": _duration_out,
}


# -- from JSON (put) ------------------------------------------------------------------------


def _unb64(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected base64 text, got {type(value).__name__}")
    return base64.b64decode(value, validate=True)


def _float_in(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _decimal_in(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise TypeError(f"expected a decimal number, got {type(value).__name__}")
    return Decimal(str(value)) if not isinstance(value, Decimal) else value


def _parsed(parse: Callable[[str], Any]) -> Convert:
    def convert(value: Any) -> Any:
        return parse(value) if isinstance(value, str) else value

    return convert


def _aware(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _duration_in(value: Any) -> bytes:
    if isinstance(value, dict):
        return _DURATION.pack(value["months"], value["days"], value["milliseconds"])
    return _unb64(value)


_LOGICAL_IN: dict[str, Convert | None] = {
    "date": _parsed(dt.date.fromisoformat),
    "time-millis": _parsed(dt.time.fromisoformat),
    "time-micros": _parsed(dt.time.fromisoformat),
    "timestamp-millis": _parsed(_aware),
    "timestamp-micros": _parsed(_aware),
    "local-timestamp-millis": _parsed(dt.datetime.fromisoformat),
    "local-timestamp-micros": _parsed(dt.datetime.fromisoformat),
    "uuid": None,
    "duration": _duration_in,
}
