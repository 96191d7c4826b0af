"""The Kinesis source on Yandex Data Streams: declared capabilities, recognising YDS, the shard tree
from DescribeStream, and StreamARN never sent alone where the service does not take it.

The client here is a recording fake that answers with YDS's shapes (sources/yds.py cites the YDB
source of each); tests/integration/test_yds.py drives the whole CLI against the YDS double."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from streamtail.aws import Clients, Connection
from streamtail.errors import ExitCode, UnsupportedError
from streamtail.model import Shard, SourceKind, StreamRef
from streamtail.names import resolve
from streamtail.sources import open_source
from streamtail.sources.base import KINESIS, Lag
from streamtail.sources.dynamodb import DYNAMODB_STREAMS
from streamtail.sources.kinesis import KinesisSource, records_from_api
from streamtail.sources.yds import (
    YDS,
    answers_like_yds,
    endpoint_is_yds,
    recognise,
    seal_parents,
    with_codecs,
)

ARN = "arn:aws:kinesis:ru-central1:000000000000:stream/orders"


class Meta:
    def __init__(self, endpoint: str) -> None:
        self.endpoint_url = endpoint


class FakeYds:
    """A botocore-like Kinesis client answering as YDS does, recording every call's arguments."""

    def __init__(self, shards: int, endpoint: str = "http://127.0.0.1:4567") -> None:
        self.meta = Meta(endpoint)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.ids = [f"shard-{n:06d}" for n in range(shards)]

    def _refuse_arn(self, operation: str, args: dict[str, Any]) -> None:
        self.calls.append((operation, args))
        if "StreamARN" in args:
            raise botocore.exceptions.ClientError(
                {
                    "Error": {
                        "Code": "InvalidArgumentException",
                        "Message": "Unexpected json key: StreamARN",
                    }
                },
                operation,
            )

    def list_shards(self, **args: Any) -> dict[str, Any]:
        self._refuse_arn("ListShards", args)
        # No lineage, no EndingSequenceNumber (TListShardsActor::SendResponse).
        return {
            "Shards": [
                {"ShardId": i, "SequenceNumberRange": {"StartingSequenceNumber": "0"}}
                for i in self.ids
            ]
        }

    def describe_stream(self, **args: Any) -> dict[str, Any]:
        self._refuse_arn("DescribeStream", args)
        start = args.get("ExclusiveStartShardId")
        rest = self.ids[self.ids.index(start) + 1 :] if start else self.ids
        page = rest[: args.get("Limit") or 100]
        shards = [
            {"ShardId": i, "SequenceNumberRange": {"StartingSequenceNumber": "0"}} for i in page
        ]
        for shard in shards:
            if shard["ShardId"] in {"shard-000002", "shard-000003"}:
                shard["ParentShardId"] = "shard-000000"
        return {"StreamDescription": {"Shards": shards, "HasMoreShards": len(rest) > len(page)}}

    def get_shard_iterator(self, **args: Any) -> dict[str, Any]:
        self._refuse_arn("GetShardIterator", args)
        return {"ShardIterator": "it"}

    def get_records(self, **args: Any) -> dict[str, Any]:
        self._refuse_arn("GetRecords", args)
        return {
            "Records": [],
            "NextShardIterator": "it",
            "MillisBehindLatest": 0,
            "ChildShards": [],
        }


def test_services_declare_what_they_lack() -> None:
    with pytest.raises(UnsupportedError) as caught:
        YDS.require("SubscribeToShard", "--efo")
    assert (
        caught.value.message
        == "Yandex Data Streams does not implement SubscribeToShard, which --efo needs"
    )
    assert caught.value.code is ExitCode.USAGE
    YDS.require("GetRecords", "read")
    KINESIS.require("SubscribeToShard", "--efo")
    with pytest.raises(UnsupportedError):
        DYNAMODB_STREAMS.require("SubscribeToShard", "--efo")
    assert {"SplitShard", "MergeShards", "DescribeStreamConsumer", "DescribeLimits"} <= YDS.lacks
    assert (YDS.lag, KINESIS.lag, DYNAMODB_STREAMS.lag) == (Lag.AGE, Lag.TIP, Lag.NONE)
    assert not YDS.stream_arn and not YDS.listing_has_lineage


@pytest.mark.parametrize(
    ("endpoint", "name", "yds"),
    [
        ("https://yds.serverless.yandexcloud.net", "orders", True),
        ("https://yds.serverless.yandexcloud.net/ru-central1/b1g/etn", "orders", True),
        (None, "/ru-central1/b1g/etn/orders", True),
        ("http://127.0.0.1:4567", "/ru-central1/b1g/etn/orders", True),
        ("http://127.0.0.1:4567", "orders", False),
        ("https://kinesis.us-east-1.amazonaws.com", "orders", False),
        ("https://evil-yandexcloud.net.example.com", "orders", False),
    ],
)
def test_recognise(endpoint: str | None, name: str, yds: bool) -> None:
    assert recognise(endpoint, resolve(name)) is yds


def test_answers_like_yds_by_ydb_shard_ids() -> None:
    assert answers_like_yds(["shard-000000", "shard-000001"])
    assert not answers_like_yds(["shardId-000000000000"])
    assert not answers_like_yds(["shardId-00000001700000000000-abcdef01"])


def test_a_records_codec_becomes_its_codec_name_on_yds_only() -> None:
    # GetRecords as YDS writes it: Codec on every record, 0 when raw (json_proto_conversion.h)
    items = [
        {
            "ApproximateArrivalTimestamp": 1764633600.5,
            "Codec": codec,
            "Data": "",
            "EncryptionType": "NONE",
            "PartitionKey": "k",
            "SequenceNumber": str(n),
        }
        for n, codec in enumerate([0, 2, 3, 4, 1, 10000])
    ]
    records = with_codecs(records_from_api(items, "shard-000000"))
    assert [r.codec for r in records] == [None, "gzip", "lzop", "zstd", None, "custom codec 10000"]
    assert records[1].extra == {"Codec": 2, "EncryptionType": "NONE"}  # kept for -o aws
    plain = records_from_api(items[:1], "shard-000000")
    assert with_codecs(plain) is plain
    assert YDS.record_codecs and not KINESIS.record_codecs


def test_seal_parents_closes_shards_with_children() -> None:
    shards = seal_parents(
        [Shard("shard-000000"), Shard("shard-000001"), Shard("shard-000002", parent="shard-000000")]
    )
    assert [s.closed for s in shards] == [True, False, False]
    assert shards[0].end_seq is None and shards[0].last_seq is None


def test_yds_endpoint_lists_with_describe_stream_and_never_sends_an_arn() -> None:
    client = FakeYds(150, endpoint="https://yds.serverless.yandexcloud.net")
    notes: list[str] = []
    source = KinesisSource(resolve(ARN), client, note=notes.append)

    shards = source.list_shards()
    iterator = source.get_iterator(shards[2], _trim())
    source.get_records(shards[2], iterator, 100)

    assert source.service is YDS
    assert [s.shard_id for s in shards] == client.ids
    assert [c[0] for c in client.calls] == [
        "DescribeStream",
        "DescribeStream",
        "GetShardIterator",
        "GetRecords",
    ]
    assert client.calls[1][1]["ExclusiveStartShardId"] == "shard-000099"
    assert all("StreamARN" not in args for _, args in client.calls)
    assert all(
        args.get("StreamName") == "orders" for op, args in client.calls if op != "GetRecords"
    )
    assert shards[0].closed and shards[2].parent == "shard-000000" and not shards[1].closed
    assert notes == [
        "Yandex Data Streams (by its endpoint): the shard tree comes from DescribeStream",
        "Yandex Data Streams takes no StreamARN: using the stream name in the ARN, 'orders'",
    ]


def test_ydb_shard_ids_switch_a_plain_endpoint_to_describe_stream() -> None:
    client = FakeYds(4)
    source = KinesisSource(resolve("orders"), client)

    shards = source.list_shards()

    assert source.service is YDS
    assert [c[0] for c in client.calls] == ["ListShards", "DescribeStream"]
    assert {s.shard_id: s.parent for s in shards}["shard-000003"] == "shard-000000"


def test_an_arn_refused_once_falls_back_to_its_name() -> None:
    client = FakeYds(1)
    notes: list[str] = []
    source = KinesisSource(resolve(ARN), client, note=notes.append)

    source.list_shards()
    source.list_shards()

    refused = [op for op, args in client.calls if "StreamARN" in args]
    assert refused == ["ListShards"]
    assert len(notes) == 2  # the fallback, then what the shard ids told
    assert notes[0] == (
        "the service refused StreamARN (InvalidArgumentException): "
        "using the stream name in the ARN, 'orders'"
    )


def test_yds_endpoint_defaults_to_ru_central1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    assert (
        Clients(Connection(endpoint_url="https://yds.serverless.yandexcloud.net")).region
        == "ru-central1"
    )
    assert Clients(Connection(endpoint_url="http://127.0.0.1:4567")).region == "us-east-1"
    assert endpoint_is_yds("https://yds.serverless.yandexcloud.net")


def test_a_dynamodb_stream_on_yds_names_the_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    clients = Clients(
        Connection(endpoint_url="https://yds.serverless.yandexcloud.net", region="ru-central1")
    )
    with pytest.raises(UnsupportedError) as caught:
        open_source(StreamRef(SourceKind.DYNAMODB, display="Orders", name="Orders"), clients)
    assert caught.value.message.startswith(
        "Yandex Data Streams does not implement DynamoDB Streams"
    )


def _trim() -> Any:
    from streamtail.model import TRIM_HORIZON

    return TRIM_HORIZON


def test_an_iam_token_is_never_sent_to_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamtail.aws import iam_token_for

    monkeypatch.delenv("YC_IAM_TOKEN", raising=False)
    assert iam_token_for("https://yds.serverless.yandexcloud.net") is None
    monkeypatch.setenv("YC_IAM_TOKEN", "t1.token")
    assert iam_token_for("https://yds.serverless.yandexcloud.net") == "t1.token"
    assert iam_token_for("http://127.0.0.1:4567") == "t1.token"
    assert iam_token_for(None) is None
    assert iam_token_for("https://kinesis.us-east-1.amazonaws.com") is None
    assert iam_token_for("https://kinesis.cn-north-1.amazonaws.com.cn") is None


def test_ls_on_a_yds_endpoint_does_not_ask_for_dynamodb_streams(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from streamtail import core
    from streamtail.env import Env
    from streamtail.sources import dynamodb, kinesis

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    seen: list[str] = []
    monkeypatch.setattr(kinesis, "list_streams", lambda client: seen.append("kinesis") or [])

    def no_dynamodb(client: Any) -> list[dict[str, Any]]:
        raise AssertionError("DynamoDB Streams asked of YDS")

    monkeypatch.setattr(dynamodb, "list_table_streams", no_dynamodb)
    env = Env(stdout=io.BytesIO(), stderr=io.StringIO())
    conn = Connection(endpoint_url="https://yds.serverless.yandexcloud.net", region="ru-central1")

    core.run_ls(conn, env, "ndjson")

    assert seen == ["kinesis"]
    assert env.stderr.getvalue() == ""  # no "DynamoDB streams not listed" warning
