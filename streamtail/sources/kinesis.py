"""Kinesis Data Streams, and every service that speaks its API (Yandex Data Streams, LocalStack,
kinesis-mock, moto)."""

from __future__ import annotations

from binascii import a2b_base64
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from streamtail.aws import call
from streamtail.errors import StreamtailError
from streamtail.model import (
    Batch,
    Position,
    PositionKind,
    PutEntry,
    PutResult,
    Record,
    Shard,
    StreamRef,
)
from streamtail.sources.base import epoch_ms

#: GetRecords accepts a Limit of 1 to 10,000.
MAX_LIMIT = 10_000
#: ListShards accepts MaxResults up to 10,000; 1,000 keeps each page small.
LIST_PAGE = 1_000
_TOKEN_WANTS_STREAM = frozenset({"InvalidToken", "InvalidArgumentException", "ValidationException"})


class KinesisSource:
    """The Kinesis API through a botocore client."""

    max_limit = MAX_LIMIT
    supports_timestamp = True

    def __init__(
        self, ref: StreamRef, client: Any, *, data: Any = None, page_size: int = LIST_PAGE
    ) -> None:
        self.ref = ref
        self._client = client
        #: the client for GetRecords (no botocore retries: the reader retries, paced)
        self._data = data if data is not None else client
        self._page_size = page_size
        self._what = f"stream {ref.display!r}"
        #: SubscribeToShard (`--efo`): Kinesis has it; Yandex Data Streams (a /region/... path)
        #: does not
        self.supports_efo = not (ref.name or "").startswith("/")
        # AWS forbids StreamName beside NextToken; moto requires it. Learnt on the first page turn.
        self._name_with_token = False

    def _stream_args(self) -> dict[str, str]:
        if self.ref.arn:
            return {"StreamARN": self.ref.arn}
        assert self.ref.name is not None
        return {"StreamName": self.ref.name}

    def list_shards(self) -> list[Shard]:
        shards: list[Shard] = []
        response = call(
            self._what, self._client.list_shards, MaxResults=self._page_size, **self._stream_args()
        )
        while True:
            shards.extend(shard_from_api(item) for item in response.get("Shards", []))
            token = response.get("NextToken")
            if not token:
                return shards
            response = self._next_page(token)

    def _next_page(self, token: str) -> Any:
        if not self._name_with_token:
            try:
                return call(
                    self._what,
                    self._client.list_shards,
                    NextToken=token,
                    MaxResults=self._page_size,
                )
            except StreamtailError as exc:
                # moto checks the token against the first page's parameters, so a bare NextToken
                # (what AWS requires) fails there with InvalidToken: send the stream beside it.
                if exc.aws_code not in _TOKEN_WANTS_STREAM:
                    raise
                self._name_with_token = True
        return call(
            self._what,
            self._client.list_shards,
            NextToken=token,
            MaxResults=self._page_size,
            **self._stream_args(),
        )

    def get_iterator(self, shard: Shard, position: Position) -> str:
        args: dict[str, Any] = {
            "ShardId": shard.shard_id,
            "ShardIteratorType": position.kind.value,
            **self._stream_args(),
        }
        if position.sequence is not None:
            args["StartingSequenceNumber"] = position.sequence
        if position.kind is PositionKind.AT_TIMESTAMP:
            assert position.timestamp is not None
            args["Timestamp"] = datetime.fromtimestamp(position.timestamp, UTC)
        response = call(
            f"{self._what} shard {shard.shard_id}", self._client.get_shard_iterator, **args
        )
        return str(response["ShardIterator"])

    def get_records(self, shard: Shard, iterator: str, limit: int) -> Batch:
        args: dict[str, Any] = {"ShardIterator": iterator, "Limit": limit}
        if self.ref.arn:
            # AWS accepts the ARN beside the iterator; moto needs it for iterators it handed out
            # for a stream named by ARN.
            args["StreamARN"] = self.ref.arn
        response = call(self._what, self._data.get_records, **args)
        children = response.get("ChildShards")
        return Batch(
            records=records_from_api(response.get("Records", []), shard.shard_id),
            next_iterator=response.get("NextShardIterator"),
            millis_behind=response.get("MillisBehindLatest"),
            child_shards=[child_from_api(c) for c in children] if children else None,
            limit=limit,
        )

    def check(self) -> None:
        """Raise NotFoundError (or a credentials error) now, before `put` reads its input."""
        call(self._what, self._client.list_shards, MaxResults=1, **self._stream_args())

    def put_records(self, entries: Sequence[PutEntry]) -> list[PutResult]:
        """One PutRecords call: a result per entry, in order (failed entries carry ErrorCode)."""
        response = call(
            self._what,
            self._data.put_records,
            Records=[{"Data": e.data, "PartitionKey": e.key} for e in entries],
            **self._stream_args(),
        )
        return [
            PutResult(
                error_code=r.get("ErrorCode"),
                error_message=r.get("ErrorMessage"),
                shard=r.get("ShardId"),
                seq=r.get("SequenceNumber"),
            )
            for r in response.get("Records", [])
        ]


def shard_from_api(item: dict[str, Any]) -> Shard:
    seq = item.get("SequenceNumberRange", {})
    keys = item.get("HashKeyRange", {})
    return Shard(
        shard_id=item["ShardId"],
        parent=item.get("ParentShardId"),
        adjacent_parent=item.get("AdjacentParentShardId"),
        hash_start=int(keys["StartingHashKey"]) if "StartingHashKey" in keys else None,
        hash_end=int(keys["EndingHashKey"]) if "EndingHashKey" in keys else None,
        start_seq=seq.get("StartingSequenceNumber"),
        end_seq=seq.get("EndingSequenceNumber"),
    )


def child_from_api(item: dict[str, Any]) -> Shard:
    parents = list(item.get("ParentShards", []))
    keys = item.get("HashKeyRange", {})
    return Shard(
        shard_id=item["ShardId"],
        parent=parents[0] if parents else None,
        adjacent_parent=parents[1] if len(parents) > 1 else None,
        hash_start=int(keys["StartingHashKey"]) if "StartingHashKey" in keys else None,
        hash_end=int(keys["EndingHashKey"]) if "EndingHashKey" in keys else None,
    )


def records_from_api(items: list[dict[str, Any]], shard: str) -> list[Record]:
    """A GetRecords response's records, in order: the loop every record read goes through.

    Records are built as plain tuples (Record's generated __new__ costs more than the rest), and
    the lean parser's types (base64 text, float epoch seconds) are handled inline; botocore's
    (bytes, datetime) are the other case.
    """
    records: list[Record] = []
    add = records.append
    for item in items:
        data = item.get("Data", b"")
        arrival = item.get("ApproximateArrivalTimestamp")
        add(
            _new(
                Record,
                (
                    shard,
                    item["SequenceNumber"],
                    item.get("PartitionKey", ""),
                    round(arrival * 1000) if arrival.__class__ is float else epoch_ms(arrival),
                    a2b_base64(data) if data.__class__ is str else data,
                    {k: v for k, v in item.items() if k not in _RECORD_FIELDS}
                    if len(item) > _PLAIN_FIELDS
                    else None,
                    None,
                    None,
                ),
            )
        )
    return records


_new = tuple.__new__
_RECORD_FIELDS = frozenset(
    {"SequenceNumber", "PartitionKey", "ApproximateArrivalTimestamp", "Data"}
)
_PLAIN_FIELDS = len(_RECORD_FIELDS)


def stream_names(client: Any) -> list[str]:
    """The names of every stream of the account (ListStreams only: one call per 100 names)."""
    names: list[str] = []
    paginator = client.get_paginator("list_streams")
    for page in call("the stream list", lambda: list(paginator.paginate())):
        summaries = page.get("StreamSummaries")
        if summaries is not None:
            names.extend(s["StreamName"] for s in summaries)
        else:
            names.extend(page.get("StreamNames", []))
    return sorted(set(names))


def list_streams(client: Any) -> list[dict[str, Any]]:
    """Every stream of the account with its summary (status, open shards, retention)."""
    rows: list[dict[str, Any]] = []
    for name in stream_names(client):
        summary = call(f"stream {name!r}", client.describe_stream_summary, StreamName=name)[
            "StreamDescriptionSummary"
        ]
        mode = summary.get("StreamModeDetails", {}).get("StreamMode")
        rows.append(
            {
                "kind": "kinesis",
                "stream": name,
                "status": summary.get("StreamStatus"),
                "shards": summary.get("OpenShardCount"),
                "retention_hours": summary.get("RetentionPeriodHours"),
                "mode": mode,
                "arn": summary.get("StreamARN"),
            }
        )
    return rows
