"""Kinesis Data Streams, and every service that speaks its API (Yandex Data Streams, LocalStack,
kinesis-mock, moto)."""

from __future__ import annotations

from binascii import a2b_base64
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from streamtail import yandex
from streamtail.aws import call
from streamtail.errors import NotFoundError, ServiceError, StreamtailError, UsageError
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
from streamtail.positions import format_ts
from streamtail.sources import moto, yds
from streamtail.sources.base import KINESIS, Service, epoch_ms
from streamtail.sources.yds import YDS

#: GetRecords accepts a Limit of 1 to 10,000.
MAX_LIMIT = 10_000
#: ListShards accepts MaxResults up to 10,000; 1,000 keeps each page small.
LIST_PAGE = 1_000
#: What a page turn with a bare NextToken (what AWS requires) answers on a server that wants the
#: stream beside it: moto up to 5.2.5 checks the token against the first page's parameters
#: (InvalidToken); moto 5.2.6 pages ListShards generically (moto/kinesis/responses.py
#: `list_shards` returns a `PaginatedResult`) and looks the stream up by the parameters of the
#: page itself, so a bare token finds no stream (ResourceNotFoundException).
_TOKEN_WANTS_STREAM = frozenset(
    {
        "InvalidToken",
        "InvalidArgumentException",
        "ValidationException",
        "ResourceNotFoundException",
    }
)


def _arn_refused(exc: StreamtailError) -> bool:
    """The service did not take StreamARN: YDS answers "Unexpected json key: StreamARN"
    (json_proto_conversion.h, `JsonToProto`); a Kinesis look-alike from before StreamARN (2022)
    "Either NextToken or StreamName should be provided"."""
    return "StreamARN" in exc.message or "StreamName" in exc.message


#: kinesis-mock's ResourceNotFoundException for a sequence number not in the shard
_UNPLACED = "Unable to find record with provided SequenceNumber"


class KinesisSource:
    """The Kinesis API through a botocore client.

    What the service supports is `self.service` (sources/base.py): AWS and its look-alikes by
    default, Yandex Data Streams (sources/yds.py) when the endpoint or the stream name says so
    before the first call, or the first listing's shard ids do after it.
    """

    max_limit = MAX_LIMIT
    supports_timestamp = True

    def __init__(
        self,
        ref: StreamRef,
        client: Any,
        *,
        data: Any = None,
        page_size: int = LIST_PAGE,
        note: Callable[[str], None] | None = None,
    ) -> None:
        self.ref = ref
        self._client = client
        #: the client for GetRecords (no botocore retries: the reader retries, paced)
        self._data = data if data is not None else client
        self._page_size = page_size
        #: `--debug` lines (what the source decided about the service)
        self._note = note or (lambda _line: None)
        self._what = f"stream {ref.display!r}"
        # AWS forbids StreamName beside NextToken; moto requires it. Learnt on the first page turn.
        self._name_with_token = False
        endpoint = getattr(getattr(client, "meta", None), "endpoint_url", None)
        self.service: Service = KINESIS
        sign = yandex.recognise(endpoint, ref.name)
        if sign is not None:
            self.service = YDS
            self._note(f"{YDS.name} (by its {sign}): the shard tree comes from DescribeStream")
        #: address the stream by the name in its ARN: the service takes no StreamARN
        self._by_name = False
        if ref.arn and not self.service.stream_arn:
            self._use_name(f"{self.service.name} takes no StreamARN")

    def _use_name(self, why: str) -> None:
        self._by_name = True
        self._note(f"{why}: using the stream name in the ARN, {self.ref.display!r}")

    def _stream_args(self) -> dict[str, str]:
        if self.ref.arn and not self._by_name:
            return {"StreamARN": self.ref.arn}
        return {"StreamName": self.ref.name or self.ref.display}

    def _named(self, fn: Callable[..., Any], **args: Any) -> Any:
        """A call that names the stream: by ARN, or, on a server that does not know StreamARN
        (YDS; Kinesis look-alikes from before 2023), once more by the name in the ARN."""
        try:
            return call(self._what, fn, **self._stream_args(), **args)
        except (UsageError, ServiceError) as exc:
            if not (self.ref.arn and not self._by_name and _arn_refused(exc)):
                raise
            self._use_name(f"the service refused StreamARN ({exc.aws_code or exc.message})")
            return call(self._what, fn, **self._stream_args(), **args)

    def list_shards(self) -> list[Shard]:
        if not self.service.listing_has_lineage:
            return yds.describe_shards(
                self._client, self._stream_args()["StreamName"], self._what, shard_from_api
            )
        shards: list[Shard] = []
        response = self._named(self._client.list_shards, MaxResults=self._page_size)
        while True:
            shards.extend(shard_from_api(item) for item in response.get("Shards", []))
            token = response.get("NextToken")
            if not token:
                break
            response = self._next_page(token)
        if yandex.recognise(None, shard_ids=(s.shard_id for s in shards)):
            # ListShards' tree is made up there (no parents, even-share ranges): ask again.
            self.service = YDS
            self._note(
                f"{YDS.name}: shard ids of YDB's form; the shard tree comes from DescribeStream"
            )
            if self.ref.arn and not self._by_name:
                self._use_name(f"{YDS.name} takes no StreamARN")
            return self.list_shards()
        return shards

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
                # moto wants the stream beside the token (`_TOKEN_WANTS_STREAM`): send it. A
                # stream deleted between the pages is still not found, and that is raised.
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

    def close(self) -> None:
        """Nothing to let go: the clients are the run's."""

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
        what = f"{self._what} shard {shard.shard_id}"
        try:
            response = call(what, self._client.get_shard_iterator, **args)
        except NotFoundError as exc:
            if position.sequence is None or _UNPLACED not in exc.message:
                raise
            # A sequence number the service cannot place in this shard. AWS answers
            # InvalidArgumentException ("Invalid StartingSequenceNumber...", API reference,
            # GetShardIterator, Errors), on which the reader falls back to the shard's start and
            # skips the records up to the number (README, "Positions in detail"). kinesis-mock
            # answers ResourceNotFoundException "Unable to find record with provided
            # SequenceNumber ..." for any number that is not one of the shard's records
            # (kinesis-mock, src/main/scala/kinesis/mock/api/GetShardIteratorRequest.scala):
            # the same answer, not a missing shard or stream.
            raise UsageError(
                f"the service rejected the request for {what} ({exc.message})",
                aws_code="InvalidArgumentException",
            ) from exc
        iterator = str(response["ShardIterator"])
        if self.service is KINESIS and moto.hands_out(iterator, shard.shard_id):
            self.service = moto.MOTO_KINESIS
            self._note(f"{moto.MOTO_KINESIS.name}, by its iterators: closed shards end empty")
        return iterator

    def get_records(self, shard: Shard, iterator: str, limit: int) -> Batch:
        args: dict[str, Any] = {"ShardIterator": iterator, "Limit": limit}
        if self.ref.arn and not self._by_name:
            # AWS accepts the ARN beside the iterator; moto needs it for iterators it handed out
            # for a stream named by ARN.
            args["StreamARN"] = self.ref.arn
        response = call(self._what, self._data.get_records, **args)
        children = response.get("ChildShards")
        records = records_from_api(response.get("Records", []), shard.shard_id)
        if self.service.record_codecs:
            records = yds.with_codecs(records)
        return Batch(
            records=records,
            next_iterator=response.get("NextShardIterator"),
            millis_behind=response.get("MillisBehindLatest"),
            child_shards=[child_from_api(c) for c in children] if children else None,
            limit=limit,
        )

    def identity(self) -> dict[str, str]:
        """The account and region (from the StreamARN), the name and the creation time
        (StreamCreationTimestamp), from one DescribeStreamSummary call. A field the service
        leaves out is left out (a stream created again under its name still differs by its
        creation time)."""
        summary = self._named(self._client.describe_stream_summary)["StreamDescriptionSummary"]
        identity: dict[str, str] = {}
        # arn:PARTITION:kinesis:REGION:ACCOUNT:stream/NAME
        parts = str(summary.get("StreamARN") or self.ref.arn or "").split(":", 5)
        if len(parts) == 6 and parts[3] and parts[4]:
            identity["account"], identity["region"] = parts[4], parts[3]
        name = summary.get("StreamName") or self.ref.name
        if name:
            identity["name"] = str(name)
        created = summary.get("StreamCreationTimestamp")
        if created is not None:
            identity["created"] = format_ts(epoch_ms(created))
        return identity

    def check(self) -> None:
        """Raise NotFoundError (or a credentials error) now, before `put` reads its input."""
        self._named(self._client.list_shards, MaxResults=1)

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
