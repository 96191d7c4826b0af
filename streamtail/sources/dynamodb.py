"""DynamoDB Streams: a table's change stream through the same `Source` interface as Kinesis.

Differences the reader must not need to know about are absorbed here: a table name resolves to
its LatestStreamArn; shards are listed with DescribeStream (paged by ExclusiveStartShardId);
GetRecords takes at most 1,000 records and reports no MillisBehindLatest; there is no
AT_TIMESTAMP: `supports_timestamp = False` says so, and the reader starts at the trim horizon and
skips older records (reader/start.py); this source refuses an AT_TIMESTAMP iterator.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from streamtail.aws import call
from streamtail.errors import NotFoundError, UsageError
from streamtail.model import Batch, Change, Position, PositionKind, Record, Shard, StreamRef
from streamtail.sources.base import Lag, Service, epoch_ms

#: No MillisBehindLatest, no enhanced fan-out.
#: DynamoDB Streams states no read rate per shard (its GetRecords returns at most 1 MB a call,
#: and "no more than two processes at most should be reading from the same streams shard at the
#: same time", DynamoDB Developer Guide): calls are paced, bytes are not.
DYNAMODB_STREAMS = Service(
    name="DynamoDB Streams", lag=Lag.NONE, lacks=frozenset({"SubscribeToShard"}), read_rate=None
)
#: DynamoDB Streams GetRecords returns at most 1,000 records (or 1 MB).
MAX_LIMIT = 1_000
#: DescribeStream returns at most 100 shards a page.
SHARD_PAGE = 100
_TTL_PRINCIPAL = "dynamodb.amazonaws.com"
#: A DynamoDB Streams shard id: `shardId-` + 20 digits (the creation time in milliseconds, zero-
#: padded) + `-` + 8 hex digits, e.g. shardId-00000001536019099816-a2c34e4c (the API reference
#: gives ShardId a length of 28 to 65; Kinesis's are `shardId-` + 12 digits).
_SHARD_ID = re.compile(r"^shardId-\d{20}-[0-9a-f]{8}$")


def is_shard_id(text: str) -> bool:
    """Whether `text` has the form of a DynamoDB Streams shard id (not a Kinesis one)."""
    return _SHARD_ID.match(text) is not None


def resolve_stream(ref: StreamRef, dynamodb: Any) -> StreamRef:
    """A `ddb:TABLE` reference completed with the table's latest stream ARN."""
    if ref.arn:
        return ref
    assert ref.name is not None
    try:
        table = call(f"table {ref.name!r}", dynamodb.describe_table, TableName=ref.name)["Table"]
    except NotFoundError as exc:
        raise NotFoundError(
            f"DynamoDB table {ref.name!r} not found",
            hint="`streamtail ls` lists tables with streams",
        ) from exc
    arn = table.get("LatestStreamArn")
    enabled = table.get("StreamSpecification", {}).get("StreamEnabled", False)
    if not arn or not enabled:
        raise UsageError(
            f"DynamoDB table {ref.name!r} has no stream enabled",
            hint=f"aws dynamodb update-table --table-name {ref.name} --stream-specification "
            "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES",
        )
    return dataclasses.replace(ref, display=arn, arn=arn)


class DynamoDBSource:
    """DynamoDB Streams through a botocore `dynamodbstreams` client."""

    service = DYNAMODB_STREAMS
    max_limit = MAX_LIMIT
    supports_timestamp = False

    def __init__(
        self, ref: StreamRef, client: Any, *, data: Any = None, page_size: int = SHARD_PAGE
    ) -> None:
        assert ref.arn is not None
        self.ref = ref
        self.arn: str = ref.arn
        self.table = ref.name or ""
        self._client = client
        self._data = data if data is not None else client
        self._page_size = page_size
        #: DescribeStream takes ShardFilter CHILD_SHARDS (until the service refuses it)
        self._child_filter = True
        self._what = f"stream of table {self.table!r}" if self.table else f"stream {self.arn!r}"

    def list_shards(self) -> list[Shard]:
        return self._describe({})

    def list_children(self, shard_id: str) -> list[Shard] | None:
        """The shard's children through ShardFilter CHILD_SHARDS (DescribeStream, since July
        2025); None, and never asked again, where the service refuses the filter. A service that
        ignores it (LocalStack) lists every shard: the children are picked out here."""
        if not self._child_filter:
            return None
        try:
            shards = self._describe({"ShardFilter": {"Type": "CHILD_SHARDS", "ShardId": shard_id}})
        except UsageError:
            self._child_filter = False
            return None
        return [shard for shard in shards if shard.parent == shard_id]

    def _describe(self, extra: dict[str, Any]) -> list[Shard]:
        """Every page of DescribeStream. Only an empty LastEvaluatedShardId ends the listing ("a
        non-empty LastEvaluatedShardId does not necessarily mean that there is more data": the
        API reference); shards come in any order (the walk orders them)."""
        shards: list[Shard] = []
        args: dict[str, Any] = {"StreamArn": self.arn, "Limit": self._page_size, **extra}
        while True:
            description = call(self._what, self._client.describe_stream, **args)[
                "StreamDescription"
            ]
            shards.extend(shard_from_api(item) for item in description.get("Shards", []))
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            args["ExclusiveStartShardId"] = last

    def identity(self) -> dict[str, str]:
        """The stream ARN and its label (the time the table's stream was enabled): a table
        created again, or its stream enabled again, has a new label. No call: the ARN is known
        (a table name was resolved to it when the source was opened)."""
        label = self.arn.rpartition("/stream/")[2]
        return {"arn": self.arn, "label": label} if label else {"arn": self.arn}

    def close(self) -> None:
        """Nothing to let go: the clients are the run's."""

    def get_iterator(self, shard: Shard, position: Position) -> str:
        if position.kind is PositionKind.AT_TIMESTAMP:
            # `supports_timestamp` is False: the reader asks for the trim horizon and skips by
            # time (reader/start.py); an AT_TIMESTAMP here is a bug, never silently rewritten.
            raise ValueError("DynamoDB Streams has no AT_TIMESTAMP iterator")
        args: dict[str, Any] = {
            "StreamArn": self.arn,
            "ShardId": shard.shard_id,
            "ShardIteratorType": position.kind.value,
        }
        if position.sequence is not None:
            args["SequenceNumber"] = position.sequence
        response = call(
            f"{self._what} shard {shard.shard_id}", self._client.get_shard_iterator, **args
        )
        return str(response["ShardIterator"])

    def get_records(self, shard: Shard, iterator: str, limit: int) -> Batch:
        response = call(self._what, self._data.get_records, ShardIterator=iterator, Limit=limit)
        return Batch(
            records=[record_from_api(item, shard.shard_id) for item in response.get("Records", [])],
            next_iterator=response.get("NextShardIterator"),
            millis_behind=None,
            limit=limit,
        )


def shard_from_api(item: dict[str, Any]) -> Shard:
    seq = item.get("SequenceNumberRange", {})
    return Shard(
        shard_id=item["ShardId"],
        parent=item.get("ParentShardId"),
        start_seq=seq.get("StartingSequenceNumber"),
        end_seq=seq.get("EndingSequenceNumber"),
    )


def is_ttl_delete(item: dict[str, Any]) -> bool:
    identity = item.get("userIdentity") or {}
    return identity.get("Type") == "Service" and identity.get("PrincipalId") == _TTL_PRINCIPAL


def record_from_api(item: dict[str, Any], shard: str) -> Record:
    body = item.get("dynamodb", {})
    return Record(
        shard=shard,
        seq=body.get("SequenceNumber", ""),
        key="",
        ts_ms=epoch_ms(body.get("ApproximateCreationDateTime")),
        data=b"",
        extra=item,
        change=Change(
            event=item.get("eventName", ""),
            event_id=item.get("eventID", ""),
            keys=body.get("Keys", {}),
            new=body.get("NewImage"),
            old=body.get("OldImage"),
            ttl=is_ttl_delete(item),
        ),
    )


def list_table_streams(client: Any) -> list[dict[str, Any]]:
    """Every DynamoDB stream of the account: table, view type, status, ARN."""
    rows: list[dict[str, Any]] = []
    args: dict[str, Any] = {}
    while True:
        page = call("the DynamoDB stream list", client.list_streams, **args)
        for stream in page.get("Streams", []):
            arn = stream["StreamArn"]
            description = call(f"stream {arn!r}", client.describe_stream, StreamArn=arn, Limit=1)[
                "StreamDescription"
            ]
            rows.append(
                {
                    "kind": "dynamodb",
                    "stream": f"ddb:{stream.get('TableName', '')}",
                    "status": description.get("StreamStatus"),
                    "view": description.get("StreamViewType"),
                    "arn": arn,
                }
            )
        last = page.get("LastEvaluatedStreamArn")
        if not last:
            return rows
        args["ExclusiveStartStreamArn"] = last


def table_names(client: Any) -> list[str]:
    """The tables that have a DynamoDB stream (ListStreams only, no DescribeStream per stream)."""
    names: set[str] = set()
    args: dict[str, Any] = {}
    while True:
        page = call("the DynamoDB stream list", client.list_streams, **args)
        names.update(s["TableName"] for s in page.get("Streams", []) if s.get("TableName"))
        last = page.get("LastEvaluatedStreamArn")
        if not last:
            return sorted(names)
        args["ExclusiveStartStreamArn"] = last
