"""A DynamoDB Streams test double: a day of rollovers, answered the way AWS answers.

No local server behaves this way (moto's stream has one shard that never closes; DynamoDB Local's
shards do not roll over within a test). An HTTP server on a loopback port speaks the JSON 1.0
protocol botocore uses (`X-Amz-Target: DynamoDBStreams_20120810.<Op>`, and
`DynamoDB_20120810.DescribeTable` / `ListStreams` for a `ddb:TABLE` name), built from these facts:

- Shards and rollover (DynamoDB developer guide, "Reading and processing a stream"): a shard is
  created, closes after about four hours, and a child with `ParentShardId` takes over; a
  partition can split in two. Shard ids are `shardId-<20-digit creation ms>-<8 hex>` (the form
  AWS answers; the dynamodb-streams-kinesis-adapter reads the time out of it).
- Trimmed parents: records and shards are kept 24 hours; a child whose parent is past that names
  a parent DescribeStream no longer lists (the adapter's shard syncer treats it as a root).
- DescribeStream (API reference, API_streams_DescribeStream): `Limit` at most 100 a page;
  `ExclusiveStartShardId`; "If LastEvaluatedShardId is empty, then the 'last page' of results has
  been processed ... a non-empty LastEvaluatedShardId does not necessarily mean that there is more
  data": the last page here still carries one, and the page after it is empty without one. Shard
  order is not guaranteed: the double lists in a fixed shuffled order. `ShardFilter {Type:
  CHILD_SHARDS, ShardId}` answers just that shard's children (added July 2025; the adapter uses
  it from v2.0.1). At most 10 calls a second (LimitExceededException beyond).
- GetRecords (API reference, API_streams_GetRecords): at most 1,000 records or 1 MB a call (the
  double gives at most `per_call`); "it might take multiple calls to get to a portion of the shard
  that contains stream records": runs of empty batches with a non-null iterator inside a shard's
  data (`gap` before every `gap_every`-th record, and before a closed shard's last records); only
  a null NextShardIterator says a closed shard has nothing more. No MillisBehindLatest;
  ApproximateCreationDateTime in whole seconds.
- The rollover race (awslabs/dynamodb-streams-kinesis-adapter, "inconsistent" shard state; the
  developer guide: "an application must always process a parent shard before it processes a child
  shard"): `race` lists a child while its parent shows no EndingSequenceNumber and still holds
  its last records back; the parent delivers them after `race_calls` more calls at its end, then
  closes (EndingSequenceNumber listed, a null iterator after its last record).

`calls` records every call (operation, shard, monotonic time) so tests can count them.
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
HOUR_MS = 3_600_000


@dataclass
class Item:
    key: str
    n: int
    seq: int
    ts_s: int


@dataclass
class DShard:
    shard_id: str
    parent: str | None
    created_ms: int
    items: list[Item] = field(default_factory=list)
    closed: bool = False
    listed: bool = True
    #: the rollover race: records written but not delivered yet, and calls at the end left
    held: list[Item] = field(default_factory=list)
    race_left: int = 0


@dataclass
class Cursor:
    shard: DShard
    index: int
    gap_left: int = -1


class StreamsDouble:
    """The stream of one table, with its shards and records; `serve()` answers for it."""

    def __init__(
        self,
        table: str = "orders",
        *,
        per_call: int = 3,
        gap: int = 3,
        gap_every: int = 5,
        race_calls: int = 14,
        seed: int = 20,
    ) -> None:
        self.table = table
        self.label = "2026-12-06T07:00:00.000"
        self.arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}/stream/{self.label}"
        self.per_call, self.gap, self.gap_every, self.race_calls = (
            per_call,
            gap,
            gap_every,
            race_calls,
        )
        self.random = random.Random(seed)
        self.shards: dict[str, DShard] = {}
        self.order: list[str] = []
        self.seq = 10**20
        self.counters: dict[str, int] = {}
        self.cursors: dict[str, Cursor] = {}
        self.calls: list[tuple[str, str, float]] = []
        self.lock = threading.RLock()
        self.child_filter = True

    # -- building the stream ----------------------------------------------------------------

    def new_shard(self, parent: str | None, created_ms: int, *, listed: bool = True) -> str:
        shard_id = f"shardId-{created_ms:020d}-{self.random.getrandbits(32):08x}"
        self.shards[shard_id] = DShard(shard_id, parent, created_ms, listed=listed)
        # shard order is not guaranteed: each new shard goes to a random place in the listing
        self.order.insert(self.random.randrange(len(self.order) + 1), shard_id)
        return shard_id

    def write(self, shard_id: str, key: str, ts_s: int) -> Item:
        with self.lock:
            self.seq += self.random.randrange(1, 1000)
            n = self.counters.get(key, 0)
            self.counters[key] = n + 1
            item = Item(key, n, self.seq, ts_s)
            shard = self.shards[shard_id]
            (shard.held if shard.race_left else shard.items).append(item)
            return item

    def close(self, shard_id: str) -> None:
        self.shards[shard_id].closed = True

    def rollover(self, shard_id: str, created_ms: int, *, split: bool = False) -> list[str]:
        """Close a shard; one child (two on a split) takes over."""
        with self.lock:
            self.close(shard_id)
            return [self.new_shard(shard_id, created_ms + i) for i in range(2 if split else 1)]

    def race(self, shard_id: str, created_ms: int) -> str:
        """List a child while the parent stays open and holds back what is written next."""
        with self.lock:
            self.shards[shard_id].race_left = self.race_calls
            return self.new_shard(shard_id, created_ms)

    def day(self, now_ms: int, *, keys: int = 3, per_shard: int = 8) -> dict[str, list[Item]]:
        """A day of rollovers: `keys` partitions, a generation every ~5 h (the first trimmed),
        one split, and the newest generation's first parent in the race. Returns what each key
        was written, in order."""
        written: dict[str, list[Item]] = {}
        start = now_ms - 25 * HOUR_MS - 42 * 60_000  # the newest generation: 42 minutes old
        for partition in range(keys):
            created = start + partition * 1000
            trimmed = self.new_shard(None, created, listed=False)
            self.shards[trimmed].closed = True
            leaves = [trimmed]
            for generation in range(1, 6):
                created = start + generation * 5 * HOUR_MS + partition * 1000
                next_leaves: list[str] = []
                for leaf in leaves:
                    split = partition == 1 and generation == 3
                    if generation == 5 and partition == 0:
                        next_leaves.append(self.race(leaf, created))
                    else:
                        next_leaves += self.rollover(leaf, created, split=split)
                for place, leaf in enumerate(next_leaves):
                    for i in range(per_shard):
                        # after a split, a key's records go to one child only
                        key = f"k{partition}-{place if len(next_leaves) > 1 else i % 2}"
                        target, ts_ms = leaf, created + i * 300_000  # one every 5 minutes
                        parent = self.shards[leaf].parent
                        if generation == 5 and partition == 0 and i < 3 and parent is not None:
                            # the racing parent's last records, written before the rollover
                            target, ts_ms = parent, created - 60_000 + i * 1000
                        written.setdefault(key, []).append(self.write(target, key, ts_ms // 1000))
                leaves = next_leaves
        return written

    # -- the API ----------------------------------------------------------------------------

    def describe_stream(self, body: dict[str, Any]) -> dict[str, Any]:
        limit = min(int(body.get("Limit", 100)), 100)
        listed = [s for s in self.order if self.shards[s].listed]
        shard_filter = body.get("ShardFilter")
        if shard_filter is not None:
            if not self.child_filter:
                raise ApiError("ValidationException", "ShardFilter is not supported")
            parent = shard_filter["ShardId"]
            listed = [s for s in listed if self.shards[s].parent == parent]
        start = body.get("ExclusiveStartShardId")
        if start is not None:
            listed = listed[listed.index(start) + 1 :] if start in listed else []
        page = listed[:limit]
        description: dict[str, Any] = {
            "StreamArn": self.arn,
            "StreamLabel": self.label,
            "StreamStatus": "ENABLED",
            "StreamViewType": "NEW_IMAGE",
            "TableName": self.table,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "Shards": [self._shard_json(self.shards[s]) for s in page],
        }
        if page:  # a non-empty page always names its last shard, the last page too
            description["LastEvaluatedShardId"] = page[-1]
        return {"StreamDescription": description}

    def _shard_json(self, shard: DShard) -> dict[str, Any]:
        seq_range = {"StartingSequenceNumber": str(shard.items[0].seq if shard.items else self.seq)}
        if shard.closed and not shard.race_left:
            seq_range["EndingSequenceNumber"] = str(
                shard.items[-1].seq if shard.items else self.seq
            )
        item: dict[str, Any] = {"ShardId": shard.shard_id, "SequenceNumberRange": seq_range}
        if shard.parent is not None:
            item["ParentShardId"] = shard.parent
        return item

    def get_shard_iterator(self, body: dict[str, Any]) -> dict[str, Any]:
        shard = self.shards.get(body["ShardId"])
        if shard is None or not shard.listed:
            raise ApiError("ResourceNotFoundException", f"shard {body['ShardId']} not found")
        kind = body["ShardIteratorType"]
        if kind == "TRIM_HORIZON":
            index = 0
        elif kind == "LATEST":
            index = len(shard.items)
        else:
            wanted = int(body["SequenceNumber"])
            index = next(
                (i for i, it in enumerate(shard.items) if it.seq >= wanted), len(shard.items)
            )
            if (
                kind == "AFTER_SEQUENCE_NUMBER"
                and index < len(shard.items)
                and shard.items[index].seq == wanted
            ):
                index += 1
        return {"ShardIterator": self._cursor(Cursor(shard, index))}

    def _cursor(self, cursor: Cursor) -> str:
        token = f"{self.arn}|{len(self.cursors)}|{self.random.getrandbits(64):016x}"
        self.cursors[token] = cursor
        return token

    def get_records(self, body: dict[str, Any]) -> dict[str, Any]:
        cursor = self.cursors.get(body["ShardIterator"])
        if cursor is None:
            raise ApiError("ExpiredIteratorException", "iterator unknown or expired")
        shard = cursor.shard
        self.calls.append(("GetRecords", shard.shard_id, time.monotonic()))
        limit = min(int(body.get("Limit", 1000)), 1000, self.per_call)
        index = cursor.index
        items = shard.items
        gap = self._gap_before(shard, index)
        next_cursor = Cursor(shard, index)
        if gap and cursor.gap_left != 0:
            # empty batches inside the shard's data: the iterator moves on over an empty part
            next_cursor.gap_left = gap - 1 if cursor.gap_left < 0 else cursor.gap_left - 1
            return {"Records": [], "NextShardIterator": self._cursor(next_cursor)}
        end = min(index + limit, len(items))
        end = next((j for j in range(index + 1, end) if self._gap_before(shard, j)), end)
        batch = items[index:end]
        next_cursor.index = index + len(batch)
        if batch:
            next_cursor.gap_left = -1 if self._gap_before(shard, next_cursor.index) else 0
        else:
            next_cursor.gap_left = 0
        if not batch and shard.race_left:
            with self.lock:
                shard.race_left -= 1
                if not shard.race_left:  # the parent delivers its last records, and closes
                    shard.items += shard.held
                    shard.held = []
                    shard.closed = True
        if not batch and shard.closed and not shard.race_left and next_cursor.index >= len(items):
            return {"Records": []}
        if batch and shard.closed and not shard.race_left and next_cursor.index >= len(items):
            return {"Records": [self._record(shard, it) for it in batch]}
        return {
            "Records": [self._record(shard, it) for it in batch],
            "NextShardIterator": self._cursor(next_cursor),
        }

    def _gap_before(self, shard: DShard, index: int) -> int:
        """Empty batches before the record at `index`: every `gap_every`-th record, and a closed
        shard's last record."""
        if index >= len(shard.items) or index == 0:
            return 0
        last = shard.closed and index == len(shard.items) - 1
        return self.gap if last or index % self.gap_every == 0 else 0

    def _record(self, shard: DShard, item: Item) -> dict[str, Any]:
        return {
            "eventID": f"{shard.shard_id[-8:]}{item.seq}",
            "eventName": "INSERT" if item.n == 0 else "MODIFY",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": {
                "ApproximateCreationDateTime": item.ts_s,
                "Keys": {"pk": {"S": item.key}},
                "NewImage": {"pk": {"S": item.key}, "n": {"N": str(item.n)}},
                "SequenceNumber": str(item.seq),
                "SizeBytes": 40,
                "StreamViewType": "NEW_IMAGE",
            },
        }

    def describe_table(self, body: dict[str, Any]) -> dict[str, Any]:
        if body["TableName"] != self.table:
            raise ApiError("ResourceNotFoundException", "Requested resource not found")
        return {
            "Table": {
                "TableName": self.table,
                "TableStatus": "ACTIVE",
                "LatestStreamArn": self.arn,
                "LatestStreamLabel": self.label,
                "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            }
        }

    def list_streams(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "Streams": [{"StreamArn": self.arn, "TableName": self.table, "StreamLabel": self.label}]
        }

    def answer(self, target: str, body: dict[str, Any]) -> dict[str, Any]:
        operation = target.rpartition(".")[2]
        now = time.monotonic()
        if operation == "DescribeStream":
            recent = [t for op, _s, t in self.calls if op.startswith(operation) and now - t < 1.0]
            # the calls with ShardFilter CHILD_SHARDS are counted apart
            self.calls.append(
                (f"{operation}{'Children' if 'ShardFilter' in body else ''}", "", now)
            )
            if len(recent) >= 10:
                raise ApiError("LimitExceededException", "Rate exceeded for DescribeStream")
            return self.describe_stream(body)
        if operation != "GetRecords":
            self.calls.append((operation, "", now))
        handlers = {
            "GetShardIterator": self.get_shard_iterator,
            "GetRecords": self.get_records,
            "DescribeTable": self.describe_table,
            "ListStreams": self.list_streams,
        }
        if operation not in handlers or not target.startswith(("DynamoDBStreams_", "DynamoDB_")):
            # DynamoDB Local's answer to a Kinesis call (docs/SERVERS.md)
            raise ApiError("InvalidAction", "The action or operation requested is invalid")
        with self.lock:
            return handlers[operation](body)

    def count(self, operation: str) -> int:
        return sum(1 for op, _s, _t in self.calls if op == operation)

    def busiest_second(self) -> int:
        """The most GetRecords calls one shard got within any one second."""
        most = 0
        by_shard: dict[str, list[float]] = {}
        for op, shard, t in self.calls:
            if op == "GetRecords":
                by_shard.setdefault(shard, []).append(t)
        for times in by_shard.values():
            for i, t in enumerate(times):
                most = max(most, sum(1 for u in times[i:] if u - t < 1.0))
        return most

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        """Answer on a loopback port for the duration; yields the endpoint URL."""
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                try:
                    status, answer = 200, double.answer(self.headers.get("X-Amz-Target", ""), body)
                except ApiError as exc:
                    status, answer = (
                        400,
                        {
                            "__type": f"com.amazonaws.dynamodb.v20120810#{exc.code}",
                            "message": exc.message,
                        },
                    )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 512  # a reader of hundreds of shards connects at once

        server = Server(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


class ApiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message
