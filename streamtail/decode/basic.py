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


# orjson reads every number as a 64-bit int or a double: an integer of 20 digits would come back
# as a float and a long decimal would lose digits. A payload with a run of 16 or more digits is
# read again keeping such numbers exactly (orjson.Fragment writes their digits back unchanged).
_DIGIT_MAP = bytes(0x30 if 0x30 <= i <= 0x39 else 0x20 for i in range(256))
_SIXTEEN_DIGITS = b"0" * 16
_EXACT_INT_DIGITS = 18  # any integer with at most 18 digits fits 64 bits
_EXACT_FLOAT_DIGITS = 15  # any decimal with at most 15 significant digits survives a double


def loads(data: bytes | str) -> Any:
    """JSON with every number kept exactly; raises orjson.JSONDecodeError like orjson.loads."""
    value = orjson.loads(data)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    # bytes.translate and `in` beat a regex here by a factor of eight (a hot path)
    if _SIXTEEN_DIGITS in raw.translate(_DIGIT_MAP):
        value = json.loads(raw, parse_int=_exact_int, parse_float=_exact_float)
    return value


def _exact_int(text: str) -> Any:
    if len(text.lstrip("-")) <= _EXACT_INT_DIGITS:
        return int(text)
    return orjson.Fragment(text)


def _exact_float(text: str) -> Any:
    mantissa = text.lower().partition("e")[0]
    digits = mantissa.replace("-", "").replace(".", "").lstrip("0")
    if len(digits) <= _EXACT_FLOAT_DIGITS:
        return float(text)
    return orjson.Fragment(text)


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
