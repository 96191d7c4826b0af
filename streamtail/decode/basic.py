"""The last step of every decoding: JSON, UTF-8 text, or base64 of the bytes."""

from __future__ import annotations

import base64
import json
import re
from typing import Any, NamedTuple

import orjson

# Text is valid UTF-8 without control characters other than tab, newline, carriage return and ESC
# (ANSI-coloured log lines are text); anything else is binary and shown as base64.
_BINARY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]")


class Leaf(NamedTuple):
    #: "json", "text" or "base64"
    enc: str
    #: a JSON value, a string, or a base64 string
    value: Any


# orjson reads integers beyond 64 bits and long decimals as floats, losing digits. Payloads with a
# run of 16 or more digits are parsed again with the standard library, keeping such numbers as
# orjson.Fragment (written back digit for digit). The test maps digits to "1" and everything else
# to "0" in C and looks for sixteen ones: under a microsecond, several times quicker than a regex.
_DIGITS = bytes(0x31 if 0x30 <= b <= 0x39 else 0x30 for b in range(256))
_LONG_RUN = b"1" * 16
_LONGEST_INT64 = 20
_INT_MIN, _UINT_MAX = -(2**63), 2**64 - 1
_SAFE_FLOAT_DIGITS = 15


def loads(data: bytes | str) -> Any:
    """JSON with every number kept exactly; raises orjson.JSONDecodeError like orjson.loads."""
    value = orjson.loads(data)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if _LONG_RUN in raw.translate(_DIGITS):
        value = json.loads(
            raw, parse_int=_exact_int, parse_float=_exact_float, parse_constant=_no_constants
        )
    return value


def _exact_int(text: str) -> Any:
    if len(text) <= _LONGEST_INT64:  # what orjson itself writes as a number: -2**63 .. 2**64-1
        number = int(text)
        if _INT_MIN <= number <= _UINT_MAX:
            return number
    return orjson.Fragment(text)


def _exact_float(text: str) -> Any:
    mantissa = text.lower().partition("e")[0]
    digits = len(mantissa.replace("-", "").replace(".", "").lstrip("0"))
    return float(text) if digits <= _SAFE_FLOAT_DIGITS else orjson.Fragment(text)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def as_json(data: bytes | str) -> Leaf | None:
    try:
        return Leaf("json", loads(data))
    except orjson.JSONDecodeError:
        return None


def as_text(data: bytes) -> Leaf | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if _BINARY_CONTROL.search(text):
        return None
    return Leaf("text", text)


def as_base64(data: bytes) -> Leaf:
    return Leaf("base64", base64.b64encode(data).decode("ascii"))


def leaf(data: bytes) -> Leaf:
    """JSON, then text, then base64: the `auto` interpretation of bytes with no container."""
    return as_json(data) or as_text(data) or as_base64(data)
