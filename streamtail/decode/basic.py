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
    return exact(data, orjson.loads(data))


def exact(data: bytes | str, value: Any) -> Any:
    """`value`, orjson's reading of the JSON text `data`, with any number orjson rounded kept
    digit for digit (parsed again by the standard library)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if has_long_number(raw):
        value = json.loads(
            raw, parse_int=_exact_int, parse_float=_exact_float, parse_constant=_no_constants
        )
    return value


def has_long_number(raw: bytes) -> bool:
    """Whether a JSON text holds a run of 16 or more digits (a number orjson may round)."""
    return _LONG_RUN in raw.translate(_DIGITS)


def kept(data: bytes | str, value: Any) -> Any:
    """How a JSON payload is shown: its own text when that can be written back as it arrived,
    otherwise its value (`value` is orjson's reading of `data`).

    A JSON text on one line, with no whitespace around it, goes out verbatim as an
    orjson.Fragment: every number keeps its digits, and nothing is parsed into objects only to
    be serialised again (the hot path of NDJSON output). A text spread over lines (it would break
    an NDJSON line) or padded with whitespace is written compactly from its value instead, and a
    CloudWatch Logs envelope stays a value so that it can be looked into.
    """
    if isinstance(data, str):
        broken = "\n" in data or "\r" in data
    else:
        broken = b"\n" in data or b"\r" in data
    if (
        data
        and not broken
        and data[0] not in _PADDING
        and data[-1] not in _PADDING
        and not (value.__class__ is dict and "logEvents" in value)
    ):
        return orjson.Fragment(data)
    return exact(data, value)


# Whitespace around a JSON text, as bytes (indexing gives ints) and as str (one-character strings).
_PADDING = frozenset({0x20, 0x09, 0x0A, 0x0D, " ", "\t", "\n", "\r"})


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
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return Leaf("json", kept(data, value))


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
