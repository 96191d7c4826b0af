"""Yandex Data Streams (YDS): how it answers the Kinesis API, and how to tell it is YDS.

YDS is YDB's Data Streams proxy (github.com/ydb-platform/ydb). What streamtail relies on, read in
its source (ydb/services/datastreams/datastreams_proxy.cpp unless said otherwise):

- ListShards (`TListShardsActor::SendResponse`) leaves ParentShardId and AdjacentParentShardId
  out ("TODO") and EndingSequenceNumber too, and gives every shard the even share of the key space
  for its partition number among all partitions (`RangeFromShardNumber`), not its real range.
- DescribeStream (`TDescribeStreamActor::ReplyAndDie`) fills ParentShardId and
  AdjacentParentShardId from the partition's parents and, with split/merge on, the real key
  ranges; it pages by Limit (100 when left out) and ExclusiveStartShardId, with HasMoreShards.
  It gives no EndingSequenceNumber either: a shard that is another's parent is closed (YDB
  topics split and merge partitions by themselves, and a parent then takes no more writes).
- GetRecords (`TGetRecordsActor::Handle`) always returns a NextShardIterator and never
  ChildShards; MillisBehindLatest is now minus the last returned record's write time, 0 on an
  empty batch: the data's age, not the distance to the tip.
- GetRecords gives each record a `Codec` (int32 in datastreams.proto's Record): how the writer
  compressed Data through YDB's topic API. `TGetRecordsActor::Handle` sets it to the stored
  (persqueue) codec + 1 when that is not 0 (raw), which is ydb_topic.proto's Codec enum: 2 GZIP,
  3 LZOP, 4 ZSTD (10000 to 19999 user-defined); the JSON printer writes the unset field as 0
  (json_proto_conversion.h, `MissingKeyDefault`). The topic SDK writes GZIP as a gzip stream and
  reads it back as gzip or zlib (ydb/public/sdk/cpp/client/ydb_topic/codecs/codecs.cpp,
  `TZLibDecompress`), writes ZSTD as zstd frames, and has LZOP disabled.
- GetShardIterator, GetRecords and ListShards requests have no StreamARN field
  (ydb/public/api/protos/draft/datastreams.proto), and the HTTP proxy refuses a key it does not
  know (ydb/core/http_proxy/json_proto_conversion.h, `JsonToProto`: "Unexpected json key"), as
  InvalidArgumentException (ydb/core/http_proxy/datastreams.cpp, `THttpRequestActor::Bootstrap`).
- SubscribeToShard, SplitShard, MergeShards, DescribeStreamConsumer and DescribeLimits answer
  "Method is not implemented yet" (`DECLARE_RPC_NI`), as InvalidAction
  (ydb/core/http_proxy/exceptions_mapping.cpp, `UnsupportedExceptions`).
- Shard ids are `shard-000001` (streamtail/yandex.py); sequence numbers are partition offsets
  ("0", "1", ...: `TGetRecordsActor::Handle` writes the record's offset), so each shard counts
  from its own start, and GetShardIterator takes any offset for any shard
  (`TGetShardIteratorActor`): a number from one shard cannot place a read in another.

Telling YDS apart is streamtail/yandex.py's `recognise`, the one place that decides it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from streamtail.aws import call
from streamtail.model import Record, Shard
from streamtail.sources.base import Lag, Service

YDS = Service(
    name="Yandex Data Streams",
    lag=Lag.AGE,
    lacks=frozenset(
        {
            "SubscribeToShard",
            "SplitShard",
            "MergeShards",
            "DescribeStreamConsumer",
            "DescribeLimits",
            "AddTagsToStream",
            "ListTagsForStream",
            "RemoveTagsFromStream",
            "EnableEnhancedMonitoring",
            "DisableEnhancedMonitoring",
            "StartStreamEncryption",
            "StopStreamEncryption",
            # a Kinesis API only: a DynamoDB table's stream cannot be read there
            "DynamoDB Streams",
        }
    ),
    stream_arn=False,
    listing_has_lineage=False,
    shard_sequences=True,
    # `TGetRecordsActor::Handle` always returns a NextShardIterator (see above)
    null_iterator_at_end=False,
    record_codecs=True,
    # Read budget: AWS's (the default). "The maximum data write speed per shard is 1 MB/sec and
    # the maximum data read speed is 2 MB/sec", shared by all consumers (YDS docs, Terms and
    # definitions, "Shard throughput"); READ_RATE stretched by the call window is under it. A
    # stream created with less ("user-defined throughput") is throttled now and then, and retried.
)
#: ydb_topic.proto's Codec enum, as GetRecords' `Codec` gives it (0 unset and 1 RAW: not
#: compressed; 10000 to 19999 are user-defined)
CODECS = {2: "gzip", 3: "lzop", 4: "zstd"}
_UNCOMPRESSED = (0, 1)
#: DescribeStream's page when Limit is left out (`TDescribeStreamActor::ReplyAndDie`)
DESCRIBE_PAGE = 100


def describe_shards(
    client: Any, name: str, what: str, shard_from_api: Callable[[dict[str, Any]], Shard]
) -> list[Shard]:
    """Every shard with its lineage and real key range, paged as YDS pages DescribeStream."""
    shards: list[Shard] = []
    start: str | None = None
    while True:
        args: dict[str, Any] = {"StreamName": name, "Limit": DESCRIBE_PAGE}
        if start is not None:
            args["ExclusiveStartShardId"] = start
        description = call(what, client.describe_stream, **args)["StreamDescription"]
        page = description.get("Shards", [])
        shards.extend(shard_from_api(item) for item in page)
        if not description.get("HasMoreShards") or not page:
            return seal_parents(shards)
        start = page[-1]["ShardId"]


def seal_parents(shards: list[Shard]) -> list[Shard]:
    """Mark closed every shard another listed shard names as its parent (YDS gives no
    EndingSequenceNumber: a split or merged partition is known by its children)."""
    parents = {p for shard in shards for p in shard.parents}
    return [
        dataclasses.replace(s, sealed=True) if s.shard_id in parents and not s.closed else s
        for s in shards
    ]


def with_codecs(records: list[Record]) -> list[Record]:
    """The records with `codec` set from the `Codec` their GetRecords answer gave (kept in
    `extra`), for those written compressed; the same list when none was."""
    out = records
    for index, record in enumerate(records):
        number = record.extra.get("Codec") if record.extra else None
        if number is None or number in _UNCOMPRESSED:
            continue
        if out is records:
            out = list(records)
        out[index] = record._replace(codec=CODECS.get(number) or f"custom codec {number}")
    return out
