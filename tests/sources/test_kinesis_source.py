"""KinesisSource against moto in-process: listing pages, lineage fields, record conversion."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from streamtail.errors import NotFoundError
from streamtail.model import TRIM_HORIZON, SourceKind, StreamRef
from streamtail.sources.base import KINESIS
from streamtail.sources.kinesis import KinesisSource
from streamtail.sources.moto import MOTO_KINESIS, hands_out
from tests.inprocess_moto import mock_aws_as_aws


@pytest.fixture
def kinesis(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws_as_aws():
        yield boto3.client("kinesis", region_name="us-east-1")


def _source(client: Any, name: str, **kwargs: Any) -> KinesisSource:
    return KinesisSource(StreamRef(SourceKind.KINESIS, display=name, name=name), client, **kwargs)


def test_listing_pages_through_moto_which_wants_the_name_beside_the_token(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="paged", ShardCount=5)
    source = _source(kinesis, "paged", page_size=2)
    shards = source.list_shards()
    assert [s.shard_id for s in shards] == [f"shardId-00000000000{i}" for i in range(5)]
    assert all(not s.closed for s in shards)


def test_listing_by_arn(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="byarn", ShardCount=3)
    arn = kinesis.describe_stream_summary(StreamName="byarn")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    ref = StreamRef(SourceKind.KINESIS, display="byarn", arn=arn, region="us-east-1")
    shards = KinesisSource(ref, kinesis, page_size=2).list_shards()
    assert len(shards) == 3


def test_split_lineage_and_closed_shards_are_listed(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="split", ShardCount=1)
    kinesis.put_record(StreamName="split", PartitionKey="a", Data=b"1")
    kinesis.split_shard(
        StreamName="split",
        ShardToSplit="shardId-000000000000",
        NewStartingHashKey=str(2**127),
    )
    shards = {s.shard_id: s for s in _source(kinesis, "split").list_shards()}
    parent = shards["shardId-000000000000"]
    assert parent.closed
    children = [s for s in shards.values() if s.parent == parent.shard_id]
    assert len(children) == 2
    assert {c.hash_start for c in children} == {0, 2**127}


def test_records_carry_shard_key_ms_timestamp_and_bytes(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="recs", ShardCount=1)
    kinesis.put_record(StreamName="recs", PartitionKey="user-1", Data=b"\x00\xffpayload")
    source = _source(kinesis, "recs")
    shard = source.list_shards()[0]
    batch = source.get_records(shard, source.get_iterator(shard, TRIM_HORIZON), 100)
    (record,) = batch.records
    assert record.shard == shard.shard_id
    assert record.key == "user-1"
    assert record.data == b"\x00\xffpayload"
    assert record.seq == "1"
    assert record.ts_ms > 1_600_000_000_000
    assert batch.next_iterator
    assert batch.millis_behind == 0


def test_missing_stream_is_not_found(kinesis: Any) -> None:
    with pytest.raises(NotFoundError) as caught:
        _source(kinesis, "nope").list_shards()
    assert caught.value.code == 3
    assert "nope" in caught.value.message


def test_moto_is_known_by_its_first_iterator_and_ends_closed_shards_empty(kinesis: Any) -> None:
    """moto composes iterators as base64 of `stream:shard:n` (moto/kinesis/utils.py) and never
    answers a null one at a closed shard's end: its Service says so (sources/moto.py)."""
    kinesis.create_stream(StreamName="known", ShardCount=1)
    source = _source(kinesis, "known")
    (shard,) = source.list_shards()
    assert source.service is KINESIS
    source.get_iterator(shard, TRIM_HORIZON)
    assert source.service is MOTO_KINESIS
    assert not source.service.null_iterator_at_end


def test_iterators_of_other_services_are_not_motos() -> None:
    aws_like = base64.b64encode(bytes(range(200))).decode()
    assert not hands_out(aws_like, "shardId-000000000000")
    assert not hands_out("not base64 at all", "shardId-000000000000")
    moto_like = base64.encodebytes(b"s:shardId-000000000001:5").decode()
    assert hands_out(moto_like, "shardId-000000000001")
    assert not hands_out(moto_like, "shardId-000000000000")  # another shard's
