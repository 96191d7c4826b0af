"""`record_from_api` and the renderers on hand-built API records: what moto cannot produce.

A Time to Live deletion is a REMOVE whose userIdentity is the DynamoDB service; it gets
`"ttl": true`. Records are built both as boto3's own parser returns them (datetime, bytes) and
as the API sent them (epoch seconds, base64), which is what the lean GetRecords parser hands on.
"""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from streamtail.env import Env
from streamtail.render import RenderContext
from streamtail.render.aws import AwsRenderer
from streamtail.render.ndjson import NdjsonRenderer
from streamtail.render.table import TableRenderer, describe_change
from streamtail.sources.dynamodb import is_ttl_delete, record_from_api
from tests.decoding import decoded

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/Sessions/stream/2026-11-21T00:00:00.000"
SHARD = "shardId-00000001700000000000-abcdef01"
TTL_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
CREATED = datetime(2026, 11, 21, 21, 4, 5, tzinfo=UTC)


def api_record(
    *,
    event: str = "REMOVE",
    identity: dict[str, str] | None = None,
    created: Any = CREATED,
    blob: Any = b"\x00\xff",
) -> dict[str, Any]:
    """A DynamoDB Streams record as GetRecords returns it (NEW_AND_OLD_IMAGES)."""
    old = {
        "pk": {"S": "session-9"},
        "expires": {"N": "1763758800"},
        "token": {"B": blob},
        "scores": {"NS": ["0.5", "12345678901234567890123456789012345678"]},
    }
    record: dict[str, Any] = {
        "eventID": "e2fd9c34eff2d779b297b26f5fef4206",
        "eventName": event,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": {
            "ApproximateCreationDateTime": created,
            "Keys": {"pk": {"S": "session-9"}},
            "OldImage": old,
            "SequenceNumber": "300000000000000499659",
            "SizeBytes": 120,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    if identity is not None:
        record["userIdentity"] = identity
    return record


TTL_LINE = (
    '{"stream":"' + ARN + '","table":"Sessions","shard":"' + SHARD + '",'
    '"seq":"300000000000000499659","id":"e2fd9c34eff2d779b297b26f5fef4206",'
    '"ts":"2026-11-21T21:04:05.000Z","event":"REMOVE","keys":{"pk":"session-9"},'
    '"old":{"pk":"session-9","expires":1763758800,"token":"AP8=",'
    '"scores":[0.5,12345678901234567890123456789012345678]},"ttl":true}'
)


def _env(width: int = 120) -> Env:
    return Env(stdout=io.BytesIO(), stderr=io.StringIO(), width=width)


def _ndjson(record: dict[str, Any]) -> str:
    env = _env()
    item = record_from_api(record, SHARD)
    renderer = NdjsonRenderer(RenderContext(env=env, stream=ARN, table="Sessions"))
    renderer.write([(item, decoded(item))])
    renderer.close()
    out = env.stdout
    assert isinstance(out, io.BytesIO)
    return out.getvalue().decode("utf-8")


@pytest.mark.parametrize(
    ("created", "blob"),
    [
        (CREATED, b"\x00\xff"),  # boto3's parser: datetime, bytes
        (CREATED.timestamp(), "AP8="),  # the API's JSON: epoch seconds, base64
        (int(CREATED.timestamp()), "AP8="),  # real DynamoDB sends whole seconds
    ],
    ids=["boto3", "api-float", "api-int"],
)
def test_ttl_delete_is_marked_ttl_true(created: Any, blob: Any) -> None:
    record = api_record(identity=TTL_IDENTITY, created=created, blob=blob)
    item = record_from_api(record, SHARD)
    assert item.change is not None
    assert item.change.ttl is True
    assert item.change.event == "REMOVE"
    assert item.ts_ms == int(CREATED.timestamp()) * 1000
    assert item.seq == "300000000000000499659"
    assert item.shard == SHARD
    assert _ndjson(record) == TTL_LINE + "\n"


@pytest.mark.parametrize(
    "identity",
    [
        None,  # a user's DeleteItem
        {"Type": "Service", "PrincipalId": "lambda.amazonaws.com"},
        {"Type": "User", "PrincipalId": "dynamodb.amazonaws.com"},
        {},
    ],
)
def test_other_deletes_have_no_ttl_key(identity: dict[str, str] | None) -> None:
    record = api_record(identity=identity)
    assert not is_ttl_delete(record)
    line = _ndjson(record)
    assert line == TTL_LINE.replace(',"ttl":true', "") + "\n"
    assert '"ttl"' not in line


def test_ts_keeps_milliseconds_from_epoch_seconds() -> None:
    for millis in (1, 7, 123, 999):
        created = CREATED.timestamp() + millis / 1000
        item = record_from_api(api_record(created=created), SHARD)
        assert item.ts_ms == int(CREATED.timestamp()) * 1000 + millis


def test_table_row_says_ttl() -> None:
    env = _env()
    record = record_from_api(api_record(identity=TTL_IDENTITY), SHARD)
    renderer = TableRenderer(RenderContext(env=env, stream=ARN, table="Sessions"))
    renderer.write([(record, decoded(record))])
    renderer.close()
    out = env.stdout
    assert isinstance(out, io.BytesIO)
    lines = out.getvalue().decode("utf-8").splitlines()
    assert lines[1] == (
        "21:04:05.000 REMOVE ttl pk=session-9             "
        '{"pk":"session-9","expires":1763758800,"token":"AP8=","scores":[0.5,12…'
    )
    assert len(lines[1]) == 120


def test_output_aws_keeps_the_ttl_identity_and_api_forms() -> None:
    env = _env()
    record = record_from_api(
        api_record(identity=TTL_IDENTITY, created=CREATED.timestamp(), blob="AP8="), SHARD
    )
    renderer = AwsRenderer(RenderContext(env=env, stream=ARN, table="Sessions"))
    renderer.write([(record, decoded(record))])
    out = env.stdout
    assert isinstance(out, io.BytesIO)
    got = orjson.loads(out.getvalue())
    assert got == api_record(identity=TTL_IDENTITY, created=CREATED.timestamp(), blob="AP8=")
    # from boto3's parsed form the same JSON comes out
    env2 = _env()
    record2 = record_from_api(api_record(identity=TTL_IDENTITY), SHARD)
    AwsRenderer(RenderContext(env=env2, stream=ARN)).write([(record2, decoded(record2))])
    out2 = env2.stdout
    assert isinstance(out2, io.BytesIO)
    assert out2.getvalue() == out.getvalue()


def test_describe_change_lists_only_what_changed() -> None:
    old = {"pk": "a", "n": 1, "same": [1, {"x": True}], "gone": "bye"}
    new = {"pk": "a", "n": 2, "same": [1, {"x": True}], "added": None}
    assert describe_change("MODIFY", {"keys": {"pk": "a"}, "new": new, "old": old}) == (
        '+added: null, -gone: "bye", n: 1 -> 2'
    )
    assert describe_change("INSERT", {"keys": {}, "new": new, "old": None}) == (
        orjson.dumps(new).decode()
    )
    assert describe_change("REMOVE", {"keys": {}, "new": None, "old": old}) == (
        orjson.dumps(old).decode()
    )
    assert describe_change("MODIFY", {"keys": {}, "new": old, "old": old}) == (
        "(no attribute changed)"
    )


def test_b_from_boto3_and_from_the_api_render_alike() -> None:
    from_boto3 = _ndjson(api_record(blob=b"\x00\xff"))
    from_api = _ndjson(api_record(blob=base64.b64encode(b"\x00\xff").decode()))
    assert from_boto3 == from_api
