"""Reading a Kinesis Client Library lease table: one `Lease` per shard, read-only.

The attribute names and types are the ones KCL's serializers write (awslabs/amazon-kinesis-client):
- 1.x `KinesisClientLeaseSerializer` (com.amazonaws.services.kinesis.leases.impl) and 2.x/3.x
  `DynamoDBLeaseSerializer` (software.amazon.kinesis.leases.dynamodb): hash key `leaseKey` (S);
  `leaseOwner` (S, absent when nobody holds the lease), `leaseCounter` (N, +1 on every renewal),
  `ownerSwitchesSinceCheckpoint` (N), `checkpoint` (S: a sequence number or TRIM_HORIZON, LATEST,
  SHARD_END, AT_TIMESTAMP), `checkpointSubSequenceNumber` (N), `pendingCheckpoint*`,
  `parentShardId` (SS), from 1.14/2.3 `childShardIds` (SS), `startingHashKey`/`endingHashKey` (S);
  3.x adds `checkpointOwner` (S, set during a graceful hand-off) and `throughputKBps` (N).
- `DynamoDBMultiStreamLeaseSerializer`: `streamName` (S, the serialized StreamIdentifier
  `account:stream:creationEpoch`) and `shardId` (S); the leaseKey is `streamName:shardId`
  (`MultiStreamLease.getLeaseKey`).
- Newer 3.x releases may keep other entities in the lease table, told apart by `entityType`
  (`EntityType`: LEASE, STREAM, LEADER, CLIENT_VERSION_MIGRATION, TABLE_MIGRATION,
  WORKER_METRIC_STATS): only LEASE rows (or rows without the attribute) are leases.

Only DescribeTable and Scan are called: nothing is ever written to the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from streamtail.aws import call
from streamtail.errors import NotFoundError, UsageError

LEASE_KEY = "leaseKey"
#: checkpoint sentinels (ExtendedSequenceNumber / SentinelCheckpoint)
TRIM_HORIZON = "TRIM_HORIZON"
LATEST = "LATEST"
SHARD_END = "SHARD_END"
AT_TIMESTAMP = "AT_TIMESTAMP"
#: MultiStreamLease.getLeaseKey: StreamIdentifier.serialize() (`account:stream:epoch`) + ":" + shard
_MULTI_KEY = re.compile(r"^(\d{12}:[^:]+:\d+):([^:]+)$")


@dataclass(frozen=True)
class Lease:
    """One lease row as KCL wrote it."""

    key: str
    shard: str
    #: the stream name of a multi-stream lease (from `streamName`); None for single-stream apps
    stream: str | None
    owner: str | None
    counter: int
    checkpoint: str | None
    subseq: int
    owner_switches: int
    parents: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    #: KCL 3.x: the worker a graceful hand-off moves the lease from
    checkpoint_owner: str | None = None

    @property
    def finished(self) -> bool:
        return self.checkpoint == SHARD_END


def stream_name(identifier: str) -> str:
    """The stream name in a serialized StreamIdentifier (`account:stream:creationEpoch`), or in a
    stream ARN; anything else is taken as the name itself."""
    if identifier.startswith("arn:"):
        return identifier.rpartition("stream/")[2] or identifier
    parts = identifier.split(":")
    if len(parts) == 3 and parts[2].isdigit():
        return parts[1]
    return identifier


def _s(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    return value.get("S") if isinstance(value, dict) else None


def _n(item: dict[str, Any], name: str) -> int:
    value = item.get(name)
    number = value.get("N") if isinstance(value, dict) else None
    try:
        return int(number) if number is not None else 0
    except ValueError:  # throughputKBps-like decimals are not counters; counters are integers
        return int(float(number)) if number is not None else 0


def _ss(item: dict[str, Any], name: str) -> tuple[str, ...]:
    value = item.get(name)
    members = value.get("SS") if isinstance(value, dict) else None
    return tuple(sorted(members)) if members else ()


def lease_from_item(item: dict[str, Any]) -> Lease | None:
    """A lease from a Scan item (DynamoDB typed JSON), or None for a row that is no lease."""
    key = _s(item, LEASE_KEY)
    entity = _s(item, "entityType")
    if key is None or (entity is not None and entity != "LEASE"):
        return None
    if "checkpoint" not in item and "leaseCounter" not in item:
        return None  # not written by a lease serializer (every lease has both)
    identifier = _s(item, "streamName")
    shard = _s(item, "shardId")
    multi = _MULTI_KEY.match(key)
    if identifier is None and multi is not None:
        # a multi-stream leaseKey (`account:stream:creationEpoch:shardId`) names both
        identifier, shard = multi.group(1), shard or multi.group(2)
    if shard is None:
        shard = key.rsplit(":", 1)[-1] if identifier else key
    return Lease(
        key=key,
        shard=shard,
        stream=stream_name(identifier) if identifier else None,
        owner=_s(item, "leaseOwner"),
        counter=_n(item, "leaseCounter"),
        checkpoint=_s(item, "checkpoint"),
        subseq=_n(item, "checkpointSubSequenceNumber"),
        owner_switches=_n(item, "ownerSwitchesSinceCheckpoint"),
        parents=_ss(item, "parentShardId"),
        children=_ss(item, "childShardIds"),
        checkpoint_owner=_s(item, "checkpointOwner"),
    )


def check_lease_table(client: Any, table: str) -> None:
    """Exit 3 when the table is missing, 2 when its key is not KCL's (`leaseKey`, a string)."""
    what = f"lease table {table!r}"
    try:
        description = call(what, client.describe_table, TableName=table)["Table"]
    except NotFoundError as exc:
        # One line: the table is named after the application (KCL's applicationName).
        raise NotFoundError(f"{what} not found (--table NAME names another)") from exc
    keys = description.get("KeySchema", [])
    definitions = description.get("AttributeDefinitions", [])
    types = {a["AttributeName"]: a["AttributeType"] for a in definitions}
    if [(k["AttributeName"], k["KeyType"]) for k in keys] != [(LEASE_KEY, "HASH")] or types.get(
        LEASE_KEY
    ) != "S":
        shown = ", ".join(f"{k['AttributeName']} ({k['KeyType']})" for k in keys)
        raise UsageError(
            f"table {table!r} is not a KCL lease table (its key is {shown or 'unknown'}, not "
            "leaseKey)"
        )


def read_leases(client: Any, table: str) -> list[Lease]:
    """Every lease in the table (a consistent Scan, page by page)."""
    leases: list[Lease] = []
    args: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = call(f"lease table {table!r}", client.scan, **args)
        for item in page.get("Items", []):
            lease = lease_from_item(item)
            if lease is not None:
                leases.append(lease)
        last = page.get("LastEvaluatedKey")
        if not last:
            return leases
        args["ExclusiveStartKey"] = last
