"""streamtail.typed_json: DynamoDB typed JSON to plain JSON, numbers with their exact digits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamtail.typed_json import number, plain, plain_item


def _text(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


@pytest.mark.parametrize(
    "digits",
    [
        "0",
        "42",
        "-7",
        "999999999999999999",  # 18 digits: an int
        "9223372036854775807",  # int64 max, 19 digits
        "9223372036854775808",  # one past int64
        "-9223372036854775809",
        "18446744073709551616",  # past uint64
        "12345678901234567890123456789012345678",  # 38 digits, DynamoDB's most
        "-99999999999999999999999999999999999999",
        "-0.000123",
        "0.1",
        "1.50",
        "3.1415926535897932384626433832795028",
        "1E+2",
        "1e-130",
        "9.9999999999999999999999999999999999999E+125",
    ],
)
def test_numbers_keep_their_exact_digits(digits: str) -> None:
    assert _text(number(digits)) == digits
    assert _text(plain({"N": digits})) == digits
    assert _text(plain({"NS": [digits, "1"]})) == f"[{digits},1]"


def test_small_integers_are_ints_and_the_rest_never_floats() -> None:
    assert number("42") == 42
    assert type(number("42")) is int
    assert type(number("-999999999999999999")) is int
    for text in ("0.1", "1E+2", "12345678901234567890123456789012345678"):
        assert isinstance(number(text), orjson.Fragment)


@given(st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1))
def test_any_38_digit_integer_round_trips(value: int) -> None:
    assert _text(number(str(value))) == str(value)


@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
        lambda d: d.adjusted() < 126 and len(d.as_tuple().digits) <= 38
    )
)
def test_any_decimal_in_dynamodb_notation_round_trips(value: Decimal) -> None:
    text = str(value)  # the notation DynamoDB writes: 1E+2, 0.000123, -1.5E-7
    if text == "-0":
        return  # DynamoDB has no negative zero (and as an int it prints as 0)
    assert _text(number(text)) == text
    assert Decimal(_text(number(text))) == value


def test_every_type() -> None:
    item = {
        "s": {"S": "x"},
        "n": {"N": "1"},
        "b_bytes": {"B": b"\x00\xff"},  # boto3's parser
        "b_text": {"B": "AP8="},  # the API's JSON, kept as it is
        "t": {"BOOL": True},
        "f": {"BOOL": False},
        "null": {"NULL": True},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2.5"]},
        "bs": {"BS": [b"\x01", "AQ=="]},
        "m": {"M": {"l": {"L": [{"M": {"deep": {"L": [{"N": "-1.0"}, {"L": []}]}}}, {"M": {}}]}}},
    }
    assert _text(plain_item(item)) == (
        '{"s":"x","n":1,"b_bytes":"AP8=","b_text":"AP8=","t":true,"f":false,"null":null,'
        '"ss":["a","b"],"ns":[1,2.5],"bs":["AQ==","AQ=="],'
        '"m":{"l":[{"deep":[-1.0,[]]},{}]}}'
    )


def test_unknown_types_are_kept_as_written() -> None:
    assert plain({"XX": "future"}) == {"XX": "future"}
    assert plain({}) == {}
    assert plain_item(None) is None
    assert plain_item({}) == {}
