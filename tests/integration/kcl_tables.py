"""Lease tables written as the Kinesis Client Library writes them, for the `lag` tests.

Attribute names and DynamoDB types follow KCL's serializers (awslabs/amazon-kinesis-client):
- 1.x `KinesisClientLeaseSerializer` (src/main/java/com/amazonaws/services/kinesis/leases/impl/):
  the base `LeaseSerializer` writes leaseKey (S), leaseCounter (N), leaseOwner (S, only when
  owned); it adds ownerSwitchesSinceCheckpoint (N), checkpoint (S),
  checkpointSubSequenceNumber (N), parentShardId (SS, only when there are parents),
  pendingCheckpoint (S) and pendingCheckpointSubSequenceNumber (N) only while a two-phase
  checkpoint is pending;
  1.14 added childShardIds (SS) and startingHashKey / endingHashKey (S, the 128-bit hash range as
  decimal strings). The DynamoDB Streams Kinesis adapter runs on KCL 1.x and writes this shape.
- 2.x `DynamoDBLeaseSerializer` (amazon-kinesis-client/src/main/java/software/amazon/kinesis/
  leases/dynamodb/): the same attributes (childShardIds and the hash range from 2.3).
- 2.x/3.x `DynamoDBMultiStreamLeaseSerializer`: adds streamName (S, the StreamIdentifier serialized
  as `account:stream:creationEpoch`, StreamIdentifier.serialize()) and shardId (S); the leaseKey is
  `streamName:shardId` (MultiStreamLease.getLeaseKey).
- 3.x `DynamoDBLeaseSerializer` adds checkpointOwner (S, during a graceful hand-off) and
  throughputKBps (N); 3.x creates the table with the global secondary index
  `LeaseOwnerToLeaseKeyIndex` (DynamoDBLeaseRefresher.LEASE_OWNER_TO_LEASE_KEY_INDEX_NAME), hash key
  leaseOwner, range key leaseKey. Newer 3.x releases can keep other entities in the same table,
  marked by `entityType` (EntityType: LEASE, STREAM, LEADER, ...).
- Every shape: the table's only key is leaseKey, a HASH key of type S
  (LeaseSerializer.getKeySchema / getAttributeDefinitions).
- A renewal (DynamoDBLeaseRenewer via getDynamoLeaseCounterUpdate) PUTs leaseCounter + 1,
  conditional on the counter the worker last saw.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

ACCOUNT = "123456789012"


def create_lease_table(ddb: Any, name: str, *, v3: bool = False) -> None:
    args: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "leaseKey", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "leaseKey", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if v3:
        args["AttributeDefinitions"].append({"AttributeName": "leaseOwner", "AttributeType": "S"})
        args["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "LeaseOwnerToLeaseKeyIndex",
                "KeySchema": [
                    {"AttributeName": "leaseOwner", "KeyType": "HASH"},
                    {"AttributeName": "leaseKey", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ]
    ddb.create_table(**args)


def stream_identifier(stream: str, epoch: int = 1_700_000_000) -> str:
    return f"{ACCOUNT}:{stream}:{epoch}"


def lease(
    shard: str,
    *,
    shape: str,
    checkpoint: str,
    owner: str | None = None,
    counter: int = 1,
    subseq: int = 0,
    switches: int = 0,
    parents: Sequence[str] = (),
    children: Sequence[str] = (),
    hash_range: tuple[int, int] | None = None,
    stream: str | None = None,
    checkpoint_owner: str | None = None,
    throughput: float | None = None,
) -> dict[str, Any]:
    """One lease item in DynamoDB typed JSON; `shape` is "1.x", "1.14", "2.x", "multi" or "3.x"."""
    key = shard if stream is None else f"{stream_identifier(stream)}:{shard}"
    item: dict[str, Any] = {
        "leaseKey": {"S": key},
        "leaseCounter": {"N": str(counter)},
        "ownerSwitchesSinceCheckpoint": {"N": str(switches)},
        "checkpoint": {"S": checkpoint},
        "checkpointSubSequenceNumber": {"N": str(subseq)},
    }
    if owner is not None:
        item["leaseOwner"] = {"S": owner}
    if parents:
        item["parentShardId"] = {"SS": list(parents)}
    if shape != "1.x":
        if children:
            item["childShardIds"] = {"SS": list(children)}
        if hash_range is not None:
            item["startingHashKey"] = {"S": str(hash_range[0])}
            item["endingHashKey"] = {"S": str(hash_range[1])}
    if stream is not None:
        item["streamName"] = {"S": stream_identifier(stream)}
        item["shardId"] = {"S": shard}
    if shape == "3.x":
        if checkpoint_owner is not None:
            item["checkpointOwner"] = {"S": checkpoint_owner}
        if throughput is not None:
            item["throughputKBps"] = {"N": repr(throughput)}
    return item


def put_items(ddb: Any, table: str, items: Iterable[dict[str, Any]]) -> None:
    for item in items:
        ddb.put_item(TableName=table, Item=item)


def renew(ddb: Any, table: str, key: str) -> None:
    """What the owner's renewer does: leaseCounter + 1, if it is still the counter it saw."""
    current = ddb.get_item(TableName=table, Key={"leaseKey": {"S": key}}, ConsistentRead=True)
    counter = int(current["Item"]["leaseCounter"]["N"])
    ddb.update_item(
        TableName=table,
        Key={"leaseKey": {"S": key}},
        UpdateExpression="SET leaseCounter = :next",
        ConditionExpression="leaseCounter = :seen",
        ExpressionAttributeValues={":next": {"N": str(counter + 1)}, ":seen": {"N": str(counter)}},
    )


def scan_all(ddb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    args: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = ddb.scan(**args)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: i["leaseKey"]["S"])
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
