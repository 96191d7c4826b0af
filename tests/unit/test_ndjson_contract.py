"""The NDJSON record schema v1 is a contract (docs/CONTRACT.md, "NDJSON records (schema v1)").

Like pipx's test_result_contract.py: this pins key names, key order and value shapes. If this test
has to change, the change is a CHANGELOG entry, and a breaking one bumps the schema version.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from orjson import OPT_APPEND_NEWLINE as _LINE

from streamtail.decode import Decoded, DecodeMode, decode
from streamtail.env import Env
from streamtail.model import Change, Record
from streamtail.render import RenderContext
from streamtail.render.ndjson import NdjsonRenderer, record_object
from tests.decoding import decoded

#: every key of a Kinesis record, in the contract's order
KINESIS_V1_KEYS = ("stream", "shard", "seq", "subseq", "key", "ts", "enc", "data", "schema", "log")
#: the keys every Kinesis record has (`subseq` only for records unpacked from a KPL aggregate)
KINESIS_V1_REQUIRED = ("stream", "shard", "seq", "key", "ts", "enc", "data")
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ENC = re.compile(r"^(?:[a-z0-9]+\+)*(?:json|text|base64|avro|protobuf)$")
#: the `schema` field: a registry's version (`id` alone when the registry did not answer), or
#: the offline file (and message) given
SCHEMA_REGISTRY_KEYS = ("registry", "name", "version", "id")

CONTRACT_SEQ = "49590338271490256608559692538361571095921575989136588898"
CONTRACT_TS_MS = int(datetime(2026, 11, 21, 21, 4, 5, 123000, tzinfo=UTC).timestamp() * 1000)


def pairs(line: bytes) -> list[tuple[str, Any]]:
    """A JSON object's (key, value) pairs in the order they were written."""
    result: list[tuple[str, Any]] = json.loads(line, object_pairs_hook=list)
    return result


def render_lines(env: Env, records: list[Record], mode: DecodeMode) -> list[bytes]:
    renderer = NdjsonRenderer(RenderContext(env=env, stream="orders"))
    renderer.write([(r, decode(r.data, mode)) for r in records])
    renderer.close()
    out: bytes = env.stdout.getvalue()  # type: ignore[attr-defined]
    assert out.endswith(b"\n")
    return out.split(b"\n")[:-1]


def test_the_contract_example() -> None:
    record = Record("shardId-000000000001", CONTRACT_SEQ, "user-42", CONTRACT_TS_MS, b'{"id": 7}')
    ctx = RenderContext(env=Env(stdout=io.BytesIO(), stderr=io.StringIO()), stream="orders")
    obj = record_object(ctx, (record, Decoded("json", {"id": 7})))
    assert list(obj.items()) == [
        ("stream", "orders"),
        ("shard", "shardId-000000000001"),
        ("seq", CONTRACT_SEQ),
        ("key", "user-42"),
        ("ts", "2026-11-21T21:04:05.123Z"),
        ("enc", "json"),
        ("data", {"id": 7}),
    ]


def test_the_contract_example_as_a_line(make_env: Callable[..., Env]) -> None:
    record = Record("shardId-000000000001", CONTRACT_SEQ, "user-42", CONTRACT_TS_MS, b'{"id": 7}')
    [line] = render_lines(make_env(), [record], DecodeMode.AUTO)
    assert line == (
        b'{"stream":"orders","shard":"shardId-000000000001",'
        b'"seq":"49590338271490256608559692538361571095921575989136588898",'
        b'"key":"user-42","ts":"2026-11-21T21:04:05.123Z","enc":"json","data":{"id": 7}}'
    )


PAYLOADS = [
    b'{"id": 7}',
    b"[1, 2]",
    b"42",
    b"null",
    b"plain text",
    b"",
    b"\x00\x01\xff",
    "\u202e\x1b[31m".encode(),
]


@pytest.mark.parametrize("mode", list(DecodeMode))
def test_every_line_follows_schema_v1(mode: DecodeMode, make_env: Callable[..., Env]) -> None:
    records = [
        Record(f"shardId-00000000000{i}", str(i + 1), f"key-{i}", 1_795_295_045_000 + i, data)
        for i, data in enumerate(PAYLOADS)
    ]
    lines = render_lines(make_env(), records, mode)
    assert len(lines) == len(records)
    for line, record in zip(lines, records, strict=True):
        line.decode("utf-8")  # UTF-8
        items = pairs(line)
        keys = [k for k, _ in items]
        # keys in contract order, no unknown key, no duplicate
        assert keys == [k for k in KINESIS_V1_KEYS if k in keys]
        assert set(KINESIS_V1_REQUIRED) <= set(keys)
        obj = json.loads(line)
        # absent values are left out rather than written as null (data may be JSON null)
        assert all(v is not None for k, v in obj.items() if k != "data")
        assert obj["stream"] == "orders"
        assert obj["shard"] == record.shard
        assert isinstance(obj["seq"], str)
        assert obj["seq"].isdigit()
        assert obj["key"] == record.key
        assert TS.match(obj["ts"]), obj["ts"]
        assert ENC.match(obj["enc"]), obj["enc"]
        if obj["enc"].endswith("base64"):
            assert base64.b64decode(obj["data"], validate=True) == record.data
        elif obj["enc"].endswith("text"):
            assert obj["data"].encode("utf-8") == record.data
        else:
            assert obj["data"] == json.loads(record.data)


def test_schema_decoded_lines_follow_schema_v1(make_env: Callable[..., Env]) -> None:
    import uuid

    from aws_schema_registry import codec

    from streamtail.decode import DecodeOptions, expand_all
    from streamtail.decode.schema import Schemas
    from tests.unit.schema_fixtures import ORDER_AVRO, ORDER_JSON, ORDER_VALUE
    from tests.unit.test_schemas import AVRO_VERSION, FakeRegistry, avro_bytes

    body = avro_bytes(ORDER_AVRO, ORDER_VALUE)
    known = codec.encode(body, uuid.UUID(AVRO_VERSION.id))
    unknown = codec.encode(body, uuid.UUID(int=1))
    records = [
        Record("shardId-000000000001", str(i), "k", CONTRACT_TS_MS, data)
        for i, data in enumerate(
            [known, codec.encode(body, uuid.UUID(AVRO_VERSION.id), True), unknown]
        )
    ]
    options = DecodeOptions(schemas=Schemas(resolver=FakeRegistry(AVRO_VERSION)))
    env = make_env()
    renderer = NdjsonRenderer(RenderContext(env=env, stream="orders"))
    renderer.write(expand_all(records, options))
    lines = env.stdout.getvalue().splitlines()  # type: ignore[attr-defined]
    objs = [json.loads(line) for line in lines]
    for line in lines:
        keys = [k for k, _ in pairs(line)]
        assert keys == [k for k in KINESIS_V1_KEYS if k in keys]
        assert ENC.match(json.loads(line)["enc"])
    assert [o["enc"] for o in objs] == ["gsr+avro", "gsr+zlib+avro", "base64"]
    assert list(objs[0]["schema"]) == list(SCHEMA_REGISTRY_KEYS)
    assert objs[0]["schema"]["id"] == AVRO_VERSION.id
    assert objs[2]["schema"] == {"id": str(uuid.UUID(int=1))}
    assert lines[0].endswith(
        b'"data":'
        + ORDER_JSON
        + b',"schema":{"registry":"reg","name":"orders","version":3,"id":"'
        + AVRO_VERSION.id.encode()
        + b'"}}'
    )
    assert base64.b64decode(objs[2]["data"]) == unknown


# -- DynamoDB change records ----------------------------------------------------------------------

#: every key of a DynamoDB change record, in the contract's order
DYNAMODB_V1_KEYS = (
    "stream",
    "table",
    "shard",
    "seq",
    "id",
    "ts",
    "event",
    "keys",
    "new",
    "old",
    "ttl",
)
DDB_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2026-11-21T00:00:00.000"
DDB_SHARD = "shardId-00000001700000000000-abcdef01"
DDB_TS_MS = int(datetime(2026, 11, 21, 21, 4, 5, tzinfo=UTC).timestamp() * 1000)


def change_record(change: Change) -> Record:
    return Record(DDB_SHARD, "300000000000000499659", "", DDB_TS_MS, b"", change=change)


def render_changes(env: Env, records: list[Record]) -> list[bytes]:
    renderer = NdjsonRenderer(RenderContext(env=env, stream=DDB_ARN, table="Orders"))
    renderer.write([(r, decoded(r)) for r in records])
    renderer.close()
    out: bytes = env.stdout.getvalue()  # type: ignore[attr-defined]
    return out.split(b"\n")[:-1]


def test_the_dynamodb_contract_example(make_env: Callable[..., Env]) -> None:
    change = Change(
        event="MODIFY",
        event_id="e2fd9c34eff2d779b297b26f5fef4206",
        keys={"pk": {"S": "a"}},
        new={"pk": {"S": "a"}, "n": {"N": "2"}},
        old={"pk": {"S": "a"}, "n": {"N": "1"}},
    )
    [line] = render_changes(make_env(), [change_record(change)])
    assert pairs(line) == [
        ("stream", DDB_ARN),
        ("table", "Orders"),
        ("shard", DDB_SHARD),
        ("seq", "300000000000000499659"),
        ("id", "e2fd9c34eff2d779b297b26f5fef4206"),
        ("ts", "2026-11-21T21:04:05.000Z"),
        ("event", "MODIFY"),
        ("keys", [("pk", "a")]),
        ("new", [("pk", "a"), ("n", 2)]),
        ("old", [("pk", "a"), ("n", 1)]),
    ]


def test_dynamodb_typed_json_becomes_plain_json_with_exact_digits(
    make_env: Callable[..., Env],
) -> None:
    new = {
        "pk": {"S": "a"},
        "big": {"N": "12345678901234567890123456789012345678"},  # 38 digits
        "neg": {"N": "-99999999999999999999"},
        "dec": {"N": "0.1000000000000000000000000000000000001"},
        "small": {"N": "-5"},
        "flag": {"BOOL": True},
        "nothing": {"NULL": True},
        "blob": {"B": b"\x00\xff"},
        "map": {"M": {"s": {"S": "x"}, "l": {"L": [{"N": "1"}, {"S": "y"}]}}},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "18446744073709551616"]},
        "bs": {"BS": [b"\x01"]},
    }
    change = Change(event="INSERT", event_id="1", keys={"pk": {"S": "a"}}, new=new)
    [line] = render_changes(make_env(), [change_record(change)])
    assert line.split(b',"new":', 1)[1] == (
        b'{"pk":"a","big":12345678901234567890123456789012345678,"neg":-99999999999999999999,'
        b'"dec":0.1000000000000000000000000000000000001,"small":-5,"flag":true,"nothing":null,'
        b'"blob":"AP8=","map":{"s":"x","l":[1,"y"]},"ss":["a","b"],'
        b'"ns":[1,18446744073709551616],"bs":["AQ=="]}}'
    )


@pytest.mark.parametrize(
    ("change", "keys"),
    [
        (
            Change("INSERT", "1", {"pk": {"S": "a"}}, new={"pk": {"S": "a"}}),
            ["stream", "table", "shard", "seq", "id", "ts", "event", "keys", "new"],
        ),
        (
            Change("REMOVE", "2", {"pk": {"S": "a"}}, old={"pk": {"S": "a"}}),
            ["stream", "table", "shard", "seq", "id", "ts", "event", "keys", "old"],
        ),
        (
            Change("REMOVE", "3", {"pk": {"S": "a"}}, old={"pk": {"S": "a"}}, ttl=True),
            ["stream", "table", "shard", "seq", "id", "ts", "event", "keys", "old", "ttl"],
        ),
        (
            # KEYS_ONLY view: no image at all
            Change("MODIFY", "4", {"pk": {"S": "a"}}),
            ["stream", "table", "shard", "seq", "id", "ts", "event", "keys"],
        ),
    ],
)
def test_dynamodb_keys_follow_schema_v1(
    change: Change, keys: list[str], make_env: Callable[..., Env]
) -> None:
    [line] = render_changes(make_env(), [change_record(change)])
    written = [k for k, _ in pairs(line)]
    assert written == keys
    assert written == [k for k in DYNAMODB_V1_KEYS if k in written]
    obj = json.loads(line)
    assert TS.match(obj["ts"])
    assert obj["event"] in {"INSERT", "MODIFY", "REMOVE"}
    assert obj.get("ttl", True) is True


_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)  # orjson writes any such str
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    stream=_TEXT,
    shards=st.lists(_TEXT, min_size=1, max_size=3),
    rows=st.lists(
        st.tuples(
            _TEXT,  # seq
            _TEXT,  # key
            st.integers(0, 4_102_444_800_000),  # ts_ms, up to 2100
            st.sampled_from(["json", "text", "base64", "gzip+json", "kpl+text"]),
            _VALUES | st.binary(max_size=20).map(lambda b: orjson.Fragment(orjson.dumps(b.hex()))),
            st.booleans(),  # a KPL user record (subseq): the dict's way
        ),
        max_size=6,
    ),
)
def test_a_line_joined_from_its_parts_is_the_objects_line(
    stream: str, shards: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """NdjsonRenderer joins the common record's line from its parts: the same bytes as orjson
    writing `record_object`, whatever the names, keys, times and values."""
    env = Env(stdout=io.BytesIO(), stderr=io.StringIO())
    ctx = RenderContext(env=env, stream=stream)
    renderer = NdjsonRenderer(ctx)
    items = [
        (
            Record(shards[n % len(shards)], seq, key, ts_ms, b"", subseq=n if kpl else None),
            Decoded(enc, value),
        )
        for n, (seq, key, ts_ms, enc, value, kpl) in enumerate(rows)
    ]
    expected = b"".join(orjson.dumps(record_object(ctx, item), option=_LINE) for item in items)
    renderer.write(items)
    assert env.stdout.getvalue() == expected  # type: ignore[attr-defined]
