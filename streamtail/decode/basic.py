"""The last step of every decoding: JSON, UTF-8 text, or base64 of the bytes."""

from __future__ import annotations

import base64
import json
import math
import re
from typing import Any, NamedTuple

import orjson

# Text is valid UTF-8 without control characters other than tab, newline, carriage return and ESC
# (ANSI-coloured log lines are text); anything else is binary and shown as base64.
# Looked for in the bytes, before any text is made of them (these are single bytes in UTF-8,
# never part of a longer sequence), by deleting them (translate runs at memory speed, a regex
# search over a 63 MiB payload takes most of a second).
_BINARY_CONTROL = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
# What a JSON text can start with: anything else is not parsed as JSON at all (orjson checks a whole
# payload's UTF-8 before it looks at its first byte: a fifth of a second for 63 MiB of binary).
_JSON_START = re.compile(rb'[ \t\r\n]*[-\[{"0-9tfn]')
_JSON_START_STR = re.compile(_JSON_START.pattern.decode("ascii"))


class Leaf(NamedTuple):
    #: "json", "text" or "base64"
    enc: str
    #: a JSON value, a string, or a base64 string
    value: Any
    #: why the payload is not shown as what it looks like (JSON nested too deep), or None
    warning: str | None = None


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
    """How a JSON payload is shown: its own text, as an orjson.Fragment written verbatim
    (`value` is orjson's reading of `data`).

    Every token keeps its bytes: a number its digits (`10.50`, `1E2`), a string its escapes, an
    object its duplicate keys, and nothing is parsed into objects only to be serialised again
    (the hot path of NDJSON output). A text spread over lines (it would break an NDJSON line) or
    padded with whitespace loses that whitespace between tokens and nothing else (`compact`). A
    CloudWatch Logs envelope stays a value so that it can be looked into.
    """
    if value.__class__ is dict and "logEvents" in value:
        return exact(data, value)
    # In bytes, a byte looked for as a number (memchr) is found 5x quicker than as bytes.
    broken = ("\n" in data or "\r" in data) if isinstance(data, str) else (10 in data or 13 in data)
    if data and not broken and data[0] not in _PADDING and data[-1] not in _PADDING:
        return orjson.Fragment(data)
    return orjson.Fragment(compact(data))


# Whitespace around a JSON text, as bytes (indexing gives ints) and as str (one-character strings).
_PADDING = frozenset({0x20, 0x09, 0x0A, 0x0D, " ", "\t", "\n", "\r"})
# A JSON string (escapes included), or a run of JSON whitespace outside strings.
_TOKEN_SPACE = re.compile(rb'("[^"\\]*(?:\\.[^"\\]*)*")|[ \t\r\n]+')
_TOKEN_SPACE_STR = re.compile(_TOKEN_SPACE.pattern.decode("ascii"))


def compact(data: bytes | str) -> bytes | str:
    """A valid JSON text without the whitespace between its tokens, every token as it was."""
    if isinstance(data, str):
        return _TOKEN_SPACE_STR.sub(lambda m: m.group(1) or "", data)
    return _TOKEN_SPACE.sub(lambda m: m.group(1) or b"", data)


#: How deep a JSON payload may nest, decided once for every place a payload is parsed (decoding,
#: the table, --grep, raw, `put --from-ndjson`, `put --key-field`): orjson, which writes every
#: JSON value streamtail prints, refuses values nested deeper than 254 levels ("Recursion limit
#: reached", its serialiser's limit; it reads up to 1024). A deeper payload is shown as text.
MAX_DEPTH = 254
TOO_DEEP = f"JSON nested deeper than {MAX_DEPTH} levels"
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def too_deep(data: bytes | str, limit: int = MAX_DEPTH) -> bool:
    """Whether a JSON text nests deeper than `limit` (brackets inside strings not counted).
    Quick for what cannot be that deep: a short text, or one with few brackets."""
    if len(data) <= 2 * limit:
        return False
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = deepest = 0
    for byte in _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS):
        depth += _STEP[byte]
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return True
    return False


def parse(data: bytes | str, *, literal_numbers: bool = False) -> Any:
    """A JSON text's value, also where orjson refuses valid JSON (a number beyond a double,
    `1e400`, becomes an orjson.Fragment of its text); with `literal_numbers` every number is a
    Fragment of its text (`1.50` stays `1.50`). Raises ValueError (orjson.JSONDecodeError is
    one) for what is not JSON; the caller checks `too_deep` first."""
    if not literal_numbers:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            if "number" not in str(exc):
                raise
    floats = orjson.Fragment if literal_numbers else _float_or_text
    ints = orjson.Fragment if literal_numbers else _exact_int
    try:
        return json.loads(data, parse_float=floats, parse_int=ints, parse_constant=_no_constants)
    except RecursionError:
        raise ValueError(TOO_DEEP) from None


def _float_or_text(text: str) -> Any:
    """A JSON number with a fraction or exponent: exact (basic._exact_float), its text where a
    double cannot hold it (`1e400`)."""
    value = _exact_float(text)
    if value.__class__ is float and not math.isfinite(value):
        return orjson.Fragment(text)
    return value


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\r\n]*")


def raw_member(text: str, name: str) -> str | None:
    """The JSON text of the top-level object member `name` exactly as it stands in `text` (the
    last one where the name repeats), or None when `text` is not an object that has it. Every
    member is scanned by the standard library's own parser, so strings holding brackets or
    quotes cannot mislead it; raises ValueError where `text` is not JSON."""
    at = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
    if text[at : at + 1] != "{":
        return None
    at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
    found = None
    while text[at : at + 1] == '"':
        key, at = json.decoder.scanstring(text, at + 1)  # type: ignore[attr-defined]
        at = _SPACE.match(text, at).end()  # type: ignore[union-attr]
        if text[at : at + 1] != ":":
            raise ValueError("expected ':'")
        start = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
        _value, end = _DECODER.raw_decode(text, start)
        if key == name:
            found = text[start:end]
        at = _SPACE.match(text, end).end()  # type: ignore[union-attr]
        if text[at : at + 1] != ",":
            break
        at = _SPACE.match(text, at + 1).end()  # type: ignore[union-attr]
    return found


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
    """JSON kept as it arrived, or None; a JSON text nested too deep is text with a warning."""
    if not (_JSON_START_STR if isinstance(data, str) else _JSON_START).match(data):  # type: ignore[arg-type]
        return None
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return _beyond_orjson(data, str(exc))
    if too_deep(data):
        return _deep(data)
    return Leaf("json", kept(data, value))


def _beyond_orjson(data: bytes | str, error: str) -> Leaf | None:
    """Valid JSON that orjson will not read: a number beyond a double (`1e400`) is still JSON,
    kept as its text; nesting beyond orjson's reach is text."""
    if "depth" in error:
        return _deep(data)
    if "number" not in error:
        return None
    try:
        json.loads(data, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        return None
    if too_deep(data):
        return _deep(data)
    return Leaf("json", orjson.Fragment(compact(data)))


def _deep(data: bytes | str) -> Leaf | None:
    text = as_text(data.encode("utf-8") if isinstance(data, str) else data)
    if text is None:
        return None
    return Leaf(text.enc, text.value, f"{TOO_DEEP}; shown as text")


def as_text(data: bytes) -> Leaf | None:
    if len(data.translate(None, _BINARY_CONTROL)) != len(data):
        return None
    try:
        return Leaf("text", data.decode("utf-8"))
    except UnicodeDecodeError:
        return None


def as_base64(data: bytes) -> Leaf:
    return Leaf("base64", base64.b64encode(data).decode("ascii"))


def leaf(data: bytes) -> Leaf:
    """JSON, then text, then base64: the `auto` interpretation of bytes with no container."""
    return as_json(data) or as_text(data) or as_base64(data)
