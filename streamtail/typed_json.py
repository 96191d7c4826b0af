"""DynamoDB's typed JSON (`{"N": "42"}`) to plain JSON values, on the hot path.

- S -> str, BOOL -> bool, NULL -> None, M -> dict, L -> list, SS/NS/BS -> lists;
- N -> the number with its exact digits (DynamoDB keeps up to 38): an `int` when it is an integer
  that fits 64 bits, otherwise an `orjson.Fragment` holding the digits, so orjson writes them
  unchanged; never through float;
- B -> base64 text (boto3 hands bytes; a raw API response already holds base64).
"""

from __future__ import annotations

import base64
import re
from typing import Any

import orjson

# JSON's number grammar: what DynamoDB returns for N is always of this form, but check anyway.
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_INT64_DIGITS = 18  # any integer with at most 18 digits fits 64 bits


def number(text: str) -> Any:
    """A DynamoDB N as an exact JSON number (int or orjson.Fragment)."""
    digits = text[1:] if text[:1] == "-" else text
    if digits.isdigit() and len(digits) <= _INT64_DIGITS:
        return int(text)
    if _JSON_NUMBER.fullmatch(text):
        return orjson.Fragment(text)
    return text  # not a JSON number (never seen from DynamoDB): keep the text, lose nothing


def binary(value: bytes | str) -> str:
    if isinstance(value, str):
        return value
    return base64.b64encode(value).decode("ascii")


def _set_of_numbers(values: list[str]) -> list[Any]:
    return [number(v) for v in values]


def _set_of_binaries(values: list[bytes | str]) -> list[str]:
    return [binary(v) for v in values]


def plain(attr: dict[str, Any]) -> Any:
    """One typed attribute value as a plain JSON value.

    The hot path of DynamoDB output: the common tags are tested inline (a chain of string
    comparisons beats a dispatch table plus a call), maps and lists recurse.
    """
    for tag, value in attr.items():
        if tag == "S":
            return value
        if tag == "N":
            digits = value[1:] if value[:1] == "-" else value
            if digits.isdigit() and len(digits) <= _INT64_DIGITS:
                return int(value)
            return number(value)
        if tag == "M":
            return {name: plain(item) for name, item in value.items()}
        if tag == "L":
            return [plain(item) for item in value]
        if tag in {"BOOL", "SS"}:
            return value
        if tag == "NULL":
            return None
        if tag == "B":
            return binary(value)
        if tag == "NS":
            return _set_of_numbers(value)
        if tag == "BS":
            return _set_of_binaries(value)
        # A type this version does not know is kept as DynamoDB wrote it rather than dropped.
        return attr
    return attr


def plain_item(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """A typed item (Keys, NewImage, OldImage) as a plain JSON object."""
    if item is None:
        return None
    return {name: plain(attr) for name, attr in item.items()}
