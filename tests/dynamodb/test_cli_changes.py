"""`read ddb:TABLE` through the CLI on moto in-process: the exact NDJSON lines of docs/CONTRACT.md
for every view type and every attribute type, and `-o aws` (each record as the API returned it)."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import pytest

from .helpers import (
    JsonText,
    api_records,
    change_line,
    cli,
    create_table,
    explain,
    shard_of,
    with_shard,
)

KEYS = {"pk": {"S": "order-1"}, "sk": {"N": "1"}}
FIRST = {**KEYS, "status": {"S": "new"}, "qty": {"N": "2"}}
SECOND = {**KEYS, "status": {"S": "paid"}, "qty": {"N": "2"}, "paid_by": {"S": "card"}}
PLAIN_KEYS = {"pk": "order-1", "sk": 1}
PLAIN_FIRST = {"pk": "order-1", "sk": 1, "status": "new", "qty": 2}
PLAIN_SECOND = {"pk": "order-1", "sk": 1, "status": "paid", "qty": 2, "paid_by": "card"}

# view type -> (images INSERT, MODIFY, REMOVE carry): (new, old) per event
VIEWS: dict[str, list[tuple[Any, Any]]] = {
    "KEYS_ONLY": [(None, None), (None, None), (None, None)],
    "NEW_IMAGE": [(PLAIN_FIRST, None), (PLAIN_SECOND, None), (None, None)],
    "OLD_IMAGE": [(None, None), (None, PLAIN_FIRST), (None, PLAIN_SECOND)],
    "NEW_AND_OLD_IMAGES": [
        (PLAIN_FIRST, None),
        (PLAIN_SECOND, PLAIN_FIRST),
        (None, PLAIN_SECOND),
    ],
}


def _insert_modify_remove(ddb: Any) -> None:
    ddb.put_item(TableName="Orders", Item=FIRST)
    ddb.put_item(TableName="Orders", Item=SECOND)
    ddb.delete_item(TableName="Orders", Key=KEYS)


@pytest.mark.parametrize("view", list(VIEWS))
def test_each_view_type_gives_exactly_the_contract_lines(ddb: Any, streams: Any, view: str) -> None:
    arn = create_table(ddb, "Orders", view, range_key=True)
    assert arn is not None
    _insert_modify_remove(ddb)
    records = with_shard(api_records(streams, arn), shard_of(streams, arn))
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]

    result = cli("read", "ddb:Orders", "-o", "ndjson")

    assert result.exit_code == 0, explain(result)
    assert result.stderr == ""
    expected = [
        change_line(record, stream=arn, table="Orders", keys=PLAIN_KEYS, new=new, old=old)
        for record, (new, old) in zip(records, VIEWS[view], strict=True)
    ]
    assert result.stdout.splitlines() == expected
    assert result.stdout.endswith("\n")


# Every attribute type; numbers that a float would change, at several nesting levels.
EVERY_TYPE = {
    "pk": {"S": "every-type"},
    "s": {"S": 'ünïcødé "quoted" \\ tab\t'},
    "n_int": {"N": "42"},
    "n_zero": {"N": "0"},
    "n_big": {"N": "12345678901234567890123456789012345678"},
    "n_negbig": {"N": "-99999999999999999999999999999999999999"},
    "n_int64_edge": {"N": "9223372036854775808"},
    "n_neg_dec": {"N": "-0.000123"},
    "n_exp": {"N": "1E+2"},
    "n_pi": {"N": "3.1415926535897932384626433832795028"},
    "b": {"B": b"\x00\x01\xfe\xff"},
    "bool_t": {"BOOL": True},
    "bool_f": {"BOOL": False},
    "nothing": {"NULL": True},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "-0.5", "12345678901234567890123456789012345678"]},
    "bs": {"BS": [b"\x00", b"hi"]},
    "nested": {
        "M": {
            "l1": {
                "L": [
                    {
                        "M": {
                            "l2": {
                                "M": {
                                    "l3": {
                                        "L": [
                                            {"N": "7"},
                                            {"S": "deep"},
                                            {"M": {"l4": {"N": "-1.000000000000000000001"}}},
                                            {"L": []},
                                            {"M": {}},
                                        ]
                                    }
                                }
                            }
                        }
                    },
                    {"NULL": True},
                ]
            }
        }
    },
}
# The same item as the JSON text docs/CONTRACT.md promises: exact digits, B as base64.
EVERY_TYPE_JSON = (
    '{"pk":"every-type","s":"ünïcødé \\"quoted\\" \\\\ tab\\t","n_int":42,"n_zero":0,'
    '"n_big":12345678901234567890123456789012345678,'
    '"n_negbig":-99999999999999999999999999999999999999,'
    '"n_int64_edge":9223372036854775808,"n_neg_dec":-0.000123,"n_exp":1E+2,'
    '"n_pi":3.1415926535897932384626433832795028,"b":"AAH+/w==","bool_t":true,"bool_f":false,'
    '"nothing":null,"ss":["a","b"],"ns":[1,-0.5,12345678901234567890123456789012345678],'
    '"bs":["AA==","aGk="],'
    '"nested":{"l1":[{"l2":{"l3":[7,"deep",{"l4":-1.000000000000000000001},[],{}]}},null]}}'
)


def test_every_attribute_type_with_exact_digits(ddb: Any, streams: Any) -> None:
    arn = create_table(ddb, "Orders", "NEW_IMAGE")
    assert arn is not None
    ddb.put_item(TableName="Orders", Item=EVERY_TYPE)
    (record,) = with_shard(api_records(streams, arn), shard_of(streams, arn))
    # moto keeps N text as written (DynamoDB itself would normalise 1E+2 to 100).
    assert record["dynamodb"]["NewImage"]["n_exp"] == {"N": "1E+2"}

    result = cli("read", "ddb:Orders", "-o", "ndjson")

    assert result.exit_code == 0, explain(result)
    expected = change_line(
        record,
        stream=arn,
        table="Orders",
        keys={"pk": "every-type"},
        new=JsonText(EVERY_TYPE_JSON),
    )
    assert result.stdout.splitlines() == [expected]
    # Parsed without floats, every number is exactly what was written.
    new = json.loads(result.stdout, parse_float=Decimal)["new"]
    assert new["n_big"] == 12345678901234567890123456789012345678
    assert new["n_negbig"] == -99999999999999999999999999999999999999
    assert new["n_neg_dec"] == Decimal("-0.000123")
    assert new["n_exp"] == Decimal("1E+2")
    assert new["n_pi"] == Decimal("3.1415926535897932384626433832795028")
    assert new["nested"]["l1"][0]["l2"]["l3"][2]["l4"] == Decimal("-1.000000000000000000001")


def _api_value(value: Any) -> Any:
    """What the API wrote for what boto3 parsed, for the expected `-o aws` objects."""
    if isinstance(value, dict):
        return {k: _api_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_api_value(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def test_output_aws_prints_each_record_as_the_api_returned_it(ddb: Any, streams: Any) -> None:
    arn = create_table(ddb, "Orders", "NEW_AND_OLD_IMAGES")
    assert arn is not None
    ddb.put_item(TableName="Orders", Item=EVERY_TYPE)
    ddb.put_item(TableName="Orders", Item={"pk": {"S": "every-type"}, "b": {"B": b"\xff"}})
    ddb.delete_item(TableName="Orders", Key={"pk": {"S": "every-type"}})
    records = api_records(streams, arn)

    result = cli("read", "ddb:Orders", "-o", "aws")

    assert result.exit_code == 0, explain(result)
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    typed_every = _api_value(EVERY_TYPE)
    typed_small = {"pk": {"S": "every-type"}, "b": {"B": "/w=="}}
    images = [
        {"NewImage": typed_every},
        {"NewImage": typed_small, "OldImage": typed_every},
        {"OldImage": typed_small},
    ]
    for line, record, image in zip(lines, records, images, strict=True):
        got = json.loads(line)
        body = record["dynamodb"]
        # The whole record, key for key and in the API's order.
        assert list(got) == list(record)
        assert list(got["dynamodb"]) == list(body)
        assert got["eventID"] == record["eventID"]
        assert got["eventName"] == record["eventName"]
        assert got["eventSource"] == "aws:dynamodb"
        assert got["awsRegion"] == "us-east-1"
        assert got["dynamodb"]["Keys"] == {"pk": {"S": "every-type"}}
        for name, value in image.items():
            assert got["dynamodb"][name] == value
        assert got["dynamodb"]["SequenceNumber"] == body["SequenceNumber"]
        assert got["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        # ApproximateCreationDateTime as epoch seconds, a JSON number
        created = got["dynamodb"]["ApproximateCreationDateTime"]
        assert isinstance(created, int | float)
        assert created == pytest.approx(body["ApproximateCreationDateTime"].timestamp(), abs=1e-3)
    # N stays typed JSON text: digits untouched.
    assert '"n_big":{"N":"12345678901234567890123456789012345678"}' in lines[0]
    assert '"n_neg_dec":{"N":"-0.000123"}' in lines[0]
