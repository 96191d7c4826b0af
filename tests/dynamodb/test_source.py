"""DynamoDBSource below the CLI: table resolution on moto, and the paging and requests that moto
does not exercise (DescribeStream and ListStreams pages), on a recording fake client."""

from __future__ import annotations

from typing import Any

import pytest

from streamtail.errors import NotFoundError, UsageError
from streamtail.model import (
    LATEST,
    TRIM_HORIZON,
    Position,
    PositionKind,
    Shard,
    SourceKind,
    StreamRef,
)
from streamtail.sources.dynamodb import (
    MAX_LIMIT,
    DynamoDBSource,
    list_table_streams,
    resolve_stream,
)

from .helpers import create_table

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Big/stream/2026-11-21T00:00:00.000"


def test_resolve_stream_gives_the_latest_stream_arn(ddb: Any) -> None:
    arn = create_table(ddb, "Orders")
    ref = resolve_stream(StreamRef(SourceKind.DYNAMODB, display="Orders", name="Orders"), ddb)
    assert ref == StreamRef(
        SourceKind.DYNAMODB, display=str(arn), name="Orders", arn=arn, region=None
    )


def test_resolve_stream_errors(ddb: Any) -> None:
    create_table(ddb, "Plain", view=None)
    with pytest.raises(NotFoundError, match=r"^DynamoDB table 'Nope' not found$"):
        resolve_stream(StreamRef(SourceKind.DYNAMODB, display="Nope", name="Nope"), ddb)
    with pytest.raises(UsageError, match="has no stream enabled"):
        resolve_stream(StreamRef(SourceKind.DYNAMODB, display="Plain", name="Plain"), ddb)


class FakeStreams:
    """A dynamodbstreams client with `count` shards, paged like AWS; records every call.

    Shards roll over as on DynamoDB: each is the child of the one before, all closed but the last.
    """

    def __init__(self, count: int) -> None:
        self.ids = [f"shardId-{n:020d}-abcdef01" for n in range(count)]
        self.shards: list[dict[str, Any]] = []
        for n, shard_id in enumerate(self.ids):
            shard: dict[str, Any] = {
                "ShardId": shard_id,
                "SequenceNumberRange": {"StartingSequenceNumber": str(100 * n + 1)},
            }
            if n:
                shard["ParentShardId"] = self.ids[n - 1]
            if n < count - 1:
                shard["SequenceNumberRange"]["EndingSequenceNumber"] = str(100 * n + 99)
            self.shards.append(shard)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def describe_stream(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("describe_stream", kwargs))
        start = 0
        if "ExclusiveStartShardId" in kwargs:
            start = self.ids.index(kwargs["ExclusiveStartShardId"]) + 1
        page = self.shards[start : start + kwargs.get("Limit", 100)]
        description: dict[str, Any] = {
            "StreamArn": kwargs["StreamArn"],
            "StreamStatus": "ENABLED",
            "StreamViewType": "KEYS_ONLY",
            "Shards": page,
        }
        if start + len(page) < len(self.shards):
            description["LastEvaluatedShardId"] = page[-1]["ShardId"]
        return {"StreamDescription": description}

    def get_shard_iterator(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("get_shard_iterator", kwargs))
        return {"ShardIterator": "it-1"}

    def get_records(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("get_records", kwargs))
        return {"Records": [], "NextShardIterator": None}

    def list_streams(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("list_streams", kwargs))
        names = ["A", "B", "C"]
        start = 0
        if "ExclusiveStartStreamArn" in kwargs:
            start = names.index(kwargs["ExclusiveStartStreamArn"].split("/")[1]) + 1
        page = names[start : start + 2]
        result: dict[str, Any] = {
            "Streams": [{"StreamArn": ARN.replace("Big", n), "TableName": n} for n in page]
        }
        if start + 2 < len(names):
            result["LastEvaluatedStreamArn"] = ARN.replace("Big", page[-1])
        return result


def _source(fake: FakeStreams, page_size: int = 100) -> DynamoDBSource:
    ref = StreamRef(SourceKind.DYNAMODB, display=ARN, name="Big", arn=ARN)
    return DynamoDBSource(ref, fake, page_size=page_size)


def test_list_shards_pages_with_exclusive_start_shard_id() -> None:
    fake = FakeStreams(250)
    shards = _source(fake).list_shards()
    assert [s.shard_id for s in shards] == fake.ids
    pages = [kwargs for name, kwargs in fake.calls if name == "describe_stream"]
    assert [p.get("ExclusiveStartShardId") for p in pages] == [None, fake.ids[99], fake.ids[199]]
    assert all(p["Limit"] == 100 and p["StreamArn"] == ARN for p in pages)
    # DynamoDB shards roll over: closed parents carry an end, the newest is open
    assert shards[1] == Shard(
        shard_id=fake.ids[1], parent=fake.ids[0], start_seq="101", end_seq="199"
    )
    assert not shards[-1].closed
    assert all(s.closed for s in shards[:-1])


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        (TRIM_HORIZON, {"ShardIteratorType": "TRIM_HORIZON"}),
        (LATEST, {"ShardIteratorType": "LATEST"}),
        (
            Position(PositionKind.AT_SEQUENCE_NUMBER, sequence="123"),
            {"ShardIteratorType": "AT_SEQUENCE_NUMBER", "SequenceNumber": "123"},
        ),
        (
            Position(PositionKind.AFTER_SEQUENCE_NUMBER, sequence="123"),
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": "123"},
        ),
    ],
)
def test_get_iterator_requests(position: Position, expected: dict[str, str]) -> None:
    fake = FakeStreams(1)
    source = _source(fake)
    assert source.supports_timestamp is False
    shard = Shard(shard_id=fake.ids[0])
    assert source.get_iterator(shard, position) == "it-1"
    assert fake.calls == [
        ("get_shard_iterator", {"StreamArn": ARN, "ShardId": fake.ids[0], **expected})
    ]


def test_an_at_timestamp_iterator_is_refused_not_rewritten() -> None:
    """No AT_TIMESTAMP in DynamoDB Streams: the source says so (`supports_timestamp`), the
    reader decides what to ask instead (reader/start.py), and asking anyway is a bug."""
    fake = FakeStreams(1)
    source = _source(fake)
    at = Position(PositionKind.AT_TIMESTAMP, timestamp=1_700_000_000.0)
    with pytest.raises(ValueError, match="no AT_TIMESTAMP"):
        source.get_iterator(Shard(shard_id=fake.ids[0]), at)
    assert fake.calls == []


def test_the_reader_starts_a_time_position_at_the_trim_horizon_with_a_time_floor() -> None:
    from streamtail.reader.start import Start, skips_by_time, start_for

    source = _source(FakeStreams(1))
    at = Position(PositionKind.AT_TIMESTAMP, timestamp=1_700_000_000.25)
    assert skips_by_time(at, source)
    assert start_for(at, source) == Start(TRIM_HORIZON, 1_700_000_000_250)
    assert not skips_by_time(LATEST, source)
    assert start_for(LATEST, source) == Start(LATEST, None)


def test_get_records_sends_the_limit_and_reports_no_lag() -> None:
    fake = FakeStreams(1)
    source = _source(fake)
    assert source.max_limit == MAX_LIMIT == 1000
    batch = source.get_records(Shard(shard_id=fake.ids[0]), "it-1", 1000)
    assert fake.calls == [("get_records", {"ShardIterator": "it-1", "Limit": 1000})]
    assert batch.records == []
    assert batch.next_iterator is None
    assert batch.millis_behind is None


def test_list_table_streams_pages_with_exclusive_start_stream_arn() -> None:
    fake = FakeStreams(1)
    rows = list_table_streams(fake)
    assert [r["stream"] for r in rows] == ["ddb:A", "ddb:B", "ddb:C"]
    assert rows[0] == {
        "kind": "dynamodb",
        "stream": "ddb:A",
        "status": "ENABLED",
        "view": "KEYS_ONLY",
        "arn": ARN.replace("Big", "A"),
    }
    starts = [k.get("ExclusiveStartStreamArn") for n, k in fake.calls if n == "list_streams"]
    assert starts == [None, ARN.replace("Big", "B")]


class TrimmedStreams(FakeStreams):
    """A sequence number older than the 24-hour retention: DynamoDB Streams answers
    TrimmedDataAccessException (moto cannot); the trim horizon holds one record."""

    def get_shard_iterator(self, **kwargs: Any) -> dict[str, Any]:
        import botocore.exceptions

        self.calls.append(("get_shard_iterator", kwargs))
        if "SequenceNumber" in kwargs:
            error = {
                "Code": "TrimmedDataAccessException",
                "Message": "The operation attempted to read past the oldest stream record",
            }
            raise botocore.exceptions.ClientError({"Error": error}, "GetShardIterator")
        return {"ShardIterator": "horizon"}

    def get_records(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("get_records", kwargs))
        records = []
        if kwargs["ShardIterator"] == "horizon":
            records = [
                {
                    "eventID": "1",
                    "eventName": "INSERT",
                    "dynamodb": {
                        "ApproximateCreationDateTime": 1_763_759_045.0,
                        "Keys": {"pk": {"S": "a"}},
                        "SequenceNumber": "101",
                    },
                }
            ]
        return {"Records": records, "NextShardIterator": "after"}


@pytest.mark.parametrize("follow", [False, True], ids=["read", "follow"])
def test_trimmed_data_is_not_retried_as_a_transient_fault(follow: bool) -> None:
    from streamtail.reader import Pacing, Walker, WalkPlan

    source = _source(TrimmedStreams(1))
    plan = WalkPlan(
        position=Position(PositionKind.AT_SEQUENCE_NUMBER, sequence="5"),
        follow=follow,
        idle_exit=1.0 if follow else None,  # bounds the test if follow keeps retrying
    )
    pacing = Pacing(
        window=0.05, idle_interval=0.05, retry_base=0.01, retry_cap=0.05, retry_window=1.0
    )
    warnings: list[str] = []
    walker = Walker(source, plan, pacing=pacing, warn=warnings.append)
    records = [record for batch in walker.batches() for record in batch]
    # No retry loop: the shard moves to its trim horizon at once, reads what is kept there, and
    # says once that older records are gone (README, "Under faults").
    assert walker.stats.retries == 0, warnings
    assert [r.seq for r in records] == ["101"]
    assert warnings == [
        "shard shardId-00000000000000000000-abcdef01: the start position was trimmed (past the "
        "stream's retention); reading on from the oldest record retained, seq 101 (arrived "
        "2025-11-21T21:04:05.000Z)"
    ]
