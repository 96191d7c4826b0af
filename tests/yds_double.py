"""A Yandex Data Streams (YDS) test double: an HTTP proxy in front of kinesis-mock that asks the
real server for the data and answers the way YDS's proxy does.

No local server behaves like YDS; these are the behaviours of YDB's Data Streams proxy, read in
github.com/ydb-platform/ydb (ydb/services/datastreams/datastreams_proxy.cpp unless said):

- ListShards (`TListShardsActor`): no ParentShardId/AdjacentParentShardId (a TODO), no
  EndingSequenceNumber, each HashKeyRange the even share of the partition's number among all
  partitions (`RangeFromShardNumber`, ydb/services/lib/sharding/sharding.cpp); MaxResults 100 by
  default, at most 10,000; StreamName and NextToken together refused (InvalidParameterCombination).
- DescribeStream (`TDescribeStreamActor::ReplyAndDie`): parents and real key ranges (split/merge
  on, as autopartitioned streams have it), StartingSequenceNumber only, StreamARN = the name;
  Limit 100 by default, ExclusiveStartShardId, HasMoreShards.
- GetRecords (`TGetRecordsActor`): NextShardIterator never null (a drained closed shard keeps
  answering empty batches), no ChildShards, MillisBehindLatest = now minus the last record's
  write time (0 on an empty batch), sequence numbers are partition offsets, Limit 1..10,000,
  every field printed at its default (json_proto_conversion.h `MissingKeyDefault`: EncryptionType,
  Codec, ChildShards []). `Codec` is the stored persqueue codec + 1 for a message its writer
  compressed through YDB's topic API (`if (proto.GetCodec() > 0) set_codec(GetCodec() + 1)`:
  ydb_topic.proto's 2 GZIP, 3 LZOP, 4 ZSTD), Data then the compressed bytes; 0 otherwise.
  `write_compressed` stores such messages (the Kinesis API itself only writes raw ones).
- GetShardIterator (`TGetShardIteratorActor`): a malformed sequence number or an AT_TIMESTAMP more
  than 10 s ahead (shard_iterator.h, TIMESTAMP_DELTA_ALLOWED_MS) is InvalidArgumentException.
- A JSON key the request's proto lacks (StreamARN in ListShards, GetShardIterator, GetRecords,
  DescribeStream, PutRecords: ydb/public/api/protos/draft/datastreams.proto) fails the request
  (json_proto_conversion.h `JsonToProto` "Unexpected json key"; http_proxy/datastreams.cpp
  `THttpRequestActor::Bootstrap` answers InvalidArgumentException).
- Methods declared `DECLARE_RPC_NI` answer "Method is not implemented yet"; SubscribeToShard is not
  routed by the HTTP proxy at all ("Missing method name"); both as InvalidAction
  (http_proxy/exceptions_mapping.cpp `UnsupportedExceptions`).
- Shard ids `shard-%06d` (sharding.cpp `GetShardName`).

An IAM token in X-YaCloud-SubjectToken replaces the signature (http_req.cpp `ParseHeaders`,
`GetSignature`); the double accepts any token and records it (`tokens`).

Modelled, not read: requests signed for a region other than ru-central1 are refused with
AccessDeniedException (Yandex Cloud checks the SigV4 scope in its access service, outside YDB).

kinesis-mock under it does the real work (records, resharding with true lineage); the double maps
stream paths to kinesis-mock names (`/ru-central1/b1g/etn/orders` becomes
`ru-central1__b1g__etn__orders`), shard ids both ways, and kinesis-mock's sequence numbers to
offsets.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

REGION = "ru-central1"
NOT_IMPLEMENTED = frozenset(
    {"SplitShard", "MergeShards", "DescribeStreamConsumer", "DescribeLimits", "AddTagsToStream"}
)
#: requests whose proto has no stream_arn field
NO_ARN = frozenset(
    {"ListShards", "GetShardIterator", "GetRecords", "DescribeStream", "PutRecords", "PutRecord"}
)
_U128 = 2**128 - 1
_SCOPE = re.compile(r"Credential=[^/]+/\d+/([^/]+)/")
_BACKEND_ID = re.compile(r"^shardId-(\d+)$")
_END = "yds-end|"


class YdsError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _check_region(authorization: str) -> None:
    scope = _SCOPE.search(authorization)
    region = scope.group(1) if scope else "none"
    if region != REGION:
        raise YdsError("AccessDeniedException", f"signature region {region} is not {REGION}")


def range_from_shard_number(number: int, count: int) -> tuple[int, int]:
    """sharding.cpp `RangeFromShardNumber`."""
    if count == 1:
        return 0, _U128
    piece = _U128 // count
    right = _U128 if number + 1 == count else (number + 1) * piece - 1
    return number * piece, right


def backend_name(name: str) -> str:
    return name.strip("/").replace("/", "__") if name.startswith("/") else name


def yds_shard(backend_id: str) -> str:
    match = _BACKEND_ID.match(backend_id)
    assert match, backend_id
    return f"shard-{int(match.group(1)):06d}"


def backend_shard(yds_id: str) -> str:
    if not re.match(r"^shard-\d{6,}$", yds_id):
        raise YdsError("ResourceNotFoundException", f"No such shard: {yds_id}")
    return f"shardId-{int(yds_id[6:]):012d}"


@dataclass(frozen=True)
class Call:
    operation: str
    status: int
    request: dict[str, Any]


@dataclass
class YdsDouble:
    upstream: str
    calls: list[Call] = field(default_factory=list)
    #: IAM tokens the requests carried
    tokens: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    #: backend shard -> its sequence numbers in order (offset = index)
    _offsets: dict[str, list[str]] = field(default_factory=dict)
    #: iterator -> (backend stream, backend shard)
    _iterators: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: (backend shard, backend sequence number) -> the Codec GetRecords gives that record
    _codecs: dict[tuple[str, str], int] = field(default_factory=dict)
    _local: threading.local = field(default_factory=threading.local)
    _server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> YdsDouble:
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                double._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def write_compressed(self, path: str, messages: list[tuple[str, bytes, int]]) -> None:
        """(key, compressed bytes, ydb_topic.proto codec) messages, stored as YDB stores a
        message written compressed through its topic API: GetRecords gives the bytes as they
        are, with that `Codec`."""
        records = [
            {"PartitionKey": k, "Data": base64.b64encode(d).decode()} for k, d, _ in messages
        ]
        answer = self._backend("PutRecords", {"StreamName": backend_name(path), "Records": records})
        with self._lock:
            for (_, _, codec), entry in zip(messages, answer["Records"], strict=True):
                self._codecs[(entry["ShardId"], entry["SequenceNumber"])] = codec

    def operations(self) -> list[str]:
        with self._lock:
            return [c.operation for c in self.calls]

    def refused(self) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.status != 200]

    # -- HTTP -----------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        operation = handler.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
        request = json.loads(body) if body else {}
        try:
            # An IAM token stands in for a signature (http_req.cpp, `GetSignature`).
            token = handler.headers.get("X-YaCloud-SubjectToken")
            if token:
                with self._lock:
                    self.tokens.append(token)
            else:
                _check_region(handler.headers.get("Authorization", ""))
            status, answer = 200, self._answer(operation, request)
        except YdsError as exc:
            status, answer = exc.status, {"__type": exc.code, "message": exc.message}
        with self._lock:
            self.calls.append(Call(operation, status, request))
        payload = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/x-amz-json-1.1")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _backend(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            parts = urlsplit(self.upstream)
            conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
            self._local.conn = conn
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Date": "20260101T000000Z",
            "X-Amz-Target": f"Kinesis_20131202.{operation}",
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/"
            "aws4_request, SignedHeaders=host, Signature=0",
        }
        try:
            conn.request("POST", "/", body=json.dumps(request), headers=headers)
            response = conn.getresponse()
            data = json.loads(response.read() or b"{}")
        except (OSError, http.client.HTTPException):
            conn.close()
            self._local.conn = None
            raise
        if response.status != 200:
            code = str(data.get("__type", "InternalFailure")).rsplit("#", 1)[-1]
            raise YdsError(code, str(data.get("message", "")), response.status)
        return dict(data)

    # -- operations -----------------------------------------------------------------------------

    def _answer(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        if operation == "SubscribeToShard":
            raise YdsError("InvalidAction", f"Missing method name {operation}")
        if operation in NOT_IMPLEMENTED:
            raise YdsError("InvalidAction", "Method is not implemented yet")
        if operation in NO_ARN and "StreamARN" in request:
            raise YdsError("InvalidArgumentException", "Unexpected json key: StreamARN")
        handler: Callable[[dict[str, Any]], dict[str, Any]] | None = getattr(
            self, f"_op_{operation}", None
        )
        if handler is None:
            if "StreamName" in request:
                request = {**request, "StreamName": backend_name(request["StreamName"])}
            return self._backend(operation, request)
        return handler(request)

    def _all_shards(self, stream: str) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        response = self._backend("ListShards", {"StreamName": stream})
        while True:
            shards.extend(response["Shards"])
            if not response.get("NextToken"):
                return sorted(shards, key=lambda s: s["ShardId"])
            response = self._backend("ListShards", {"NextToken": response["NextToken"]})

    def _op_ListShards(self, request: dict[str, Any]) -> dict[str, Any]:
        token = request.get("NextToken")
        if token and request.get("StreamName"):
            raise YdsError(
                "InvalidParameterCombination",
                "StreamName and NextToken can not be provided together",
            )
        if token:
            state = json.loads(base64.b64decode(token))
            name, done, size = state["stream"], state["read"], state["max"]
        else:
            name, done, size = request.get("StreamName", ""), 0, request.get("MaxResults") or 100
        if size > 10_000:
            raise YdsError(
                "ValidationException", f"Max results '{size}' is out of bound [1; 10000]"
            )
        shards = self._all_shards(backend_name(name))
        page = shards[done : done + size]
        out: dict[str, Any] = {"NextToken": "", "Shards": []}
        for shard in page:
            number = int(_BACKEND_ID.match(shard["ShardId"]).group(1))  # type: ignore[union-attr]
            low, high = range_from_shard_number(number, len(shards))
            out["Shards"].append(
                {
                    "HashKeyRange": {"StartingHashKey": str(low), "EndingHashKey": str(high)},
                    "SequenceNumberRange": {"StartingSequenceNumber": "0"},
                    "ShardId": yds_shard(shard["ShardId"]),
                }
            )
        if done + len(page) < len(shards):
            state = {"stream": name, "read": done + len(page), "max": size}
            out["NextToken"] = base64.b64encode(json.dumps(state).encode()).decode()
        return out

    def _op_DescribeStream(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request.get("StreamName", "")
        limit = request.get("Limit") or 100
        start = request.get("ExclusiveStartShardId")
        shards = self._all_shards(backend_name(name))
        ids = [yds_shard(s["ShardId"]) for s in shards]
        if start and start not in ids:
            raise YdsError("ValidationException", f"Bad shard id {start}")
        rest = shards[ids.index(start) + 1 :] if start else shards
        listed = []
        for shard in rest[:limit]:
            entry: dict[str, Any] = {
                "HashKeyRange": shard["HashKeyRange"],
                "SequenceNumberRange": {"StartingSequenceNumber": "0"},
                "ShardId": yds_shard(shard["ShardId"]),
            }
            for key in ("ParentShardId", "AdjacentParentShardId"):
                if shard.get(key):
                    entry[key] = yds_shard(shard[key])
            listed.append(entry)
        return {
            "StreamDescription": {
                "EncryptionType": "ENCRYPTION_UNDEFINED",
                "EnhancedMonitoring": [],
                "HasMoreShards": len(rest) > limit,
                "KeyId": "",
                "RetentionPeriodHours": 24,
                "Shards": listed,
                "StreamARN": name,
                "StreamCreationTimestamp": 1764633600.0,
                "StreamStatus": "ACTIVE",
                "StreamName": name,
                "WriteQuotaKbPerSec": 1024,
                "Owner": "test-owner",
                "StorageLimitMb": 0,
            }
        }

    def _op_DescribeStreamSummary(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request.get("StreamName", "")
        summary = self._backend("DescribeStreamSummary", {"StreamName": backend_name(name)})
        inner = summary["StreamDescriptionSummary"]
        inner.update({"StreamName": name, "StreamARN": name, "KeyId": ""})
        return summary

    def _op_GetShardIterator(self, request: dict[str, Any]) -> dict[str, Any]:
        stream = backend_name(request.get("StreamName", ""))
        shard = backend_shard(request.get("ShardId", ""))
        forwarded = {
            "StreamName": stream,
            "ShardId": shard,
            "ShardIteratorType": request["ShardIteratorType"],
        }
        kind = request["ShardIteratorType"]
        if kind in {"AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"}:
            text = str(request.get("StartingSequenceNumber", ""))
            if not text.isdigit():
                raise YdsError("InvalidArgumentException", "Malformed sequence number")
            offset = int(text) + (kind == "AFTER_SEQUENCE_NUMBER")
            forwarded.update(self._at_offset(stream, shard, offset))
        elif kind == "AT_TIMESTAMP":
            moment = float(request.get("Timestamp") or 0)
            if moment * 1000 > time.time() * 1000 + 10_000:
                raise YdsError(
                    "InvalidArgumentException",
                    "Shard iterator type is AT_TIMESTAMP, but a timestamp is in the future",
                )
            forwarded["Timestamp"] = moment
        iterator = self._backend("GetShardIterator", forwarded)["ShardIterator"]
        with self._lock:
            self._iterators[iterator] = (stream, shard)
        return {"ShardIterator": iterator}

    def _at_offset(self, stream: str, shard: str, offset: int) -> dict[str, Any]:
        seqs = self._seqs(stream, shard)
        if offset < len(seqs):
            return {
                "ShardIteratorType": "AT_SEQUENCE_NUMBER",
                "StartingSequenceNumber": seqs[offset],
            }
        if not seqs:
            return {"ShardIteratorType": "TRIM_HORIZON"}
        return {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": seqs[-1]}

    def _seqs(self, stream: str, shard: str, must_hold: str | None = None) -> list[str]:
        """The shard's sequence numbers in order, read again from kinesis-mock when unknown."""
        with self._lock:
            known = self._offsets.get(shard)
        if known is not None and (must_hold is None or must_hold in known):
            return known
        iterator = self._backend(
            "GetShardIterator",
            {"StreamName": stream, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"},
        )["ShardIterator"]
        seqs: list[str] = []
        while iterator:
            response = self._backend("GetRecords", {"ShardIterator": iterator, "Limit": 10_000})
            seqs.extend(r["SequenceNumber"] for r in response["Records"])
            if not response["Records"] and response.get("MillisBehindLatest", 0) == 0:
                break
            iterator = response.get("NextShardIterator")
        with self._lock:
            self._offsets[shard] = seqs
        return seqs

    def _offset(self, stream: str, shard: str, seq: str) -> str:
        return str(self._seqs(stream, shard, must_hold=seq).index(seq))

    def _op_GetRecords(self, request: dict[str, Any]) -> dict[str, Any]:
        iterator = str(request.get("ShardIterator", ""))
        limit = request.get("Limit") or 10_000
        if not 1 <= limit <= 10_000:
            raise YdsError("ValidationException", f"Limit '{limit}' is out of bounds [1; 10000]")
        empty = {"ChildShards": [], "MillisBehindLatest": 0, "NextShardIterator": iterator}
        if iterator.startswith(_END):
            return {**empty, "Records": []}
        with self._lock:
            where = self._iterators.get(iterator)
        if where is None:
            raise YdsError("InvalidArgumentException", "Provided shard iterator is malformed")
        stream, shard = where
        response = self._backend("GetRecords", {"ShardIterator": iterator, "Limit": limit})
        with self._lock:
            codecs = dict(self._codecs)
        records = [
            {
                "ApproximateArrivalTimestamp": r["ApproximateArrivalTimestamp"],
                "Codec": codecs.get((shard, r["SequenceNumber"]), 0),
                "Data": r["Data"],
                "EncryptionType": "NONE",
                "PartitionKey": r["PartitionKey"],
                "SequenceNumber": self._offset(stream, shard, r["SequenceNumber"]),
            }
            for r in response["Records"]
        ]
        following = response.get("NextShardIterator") or f"{_END}{shard}"
        with self._lock:
            self._iterators[following] = where
        behind = 0
        if records:
            behind = int(time.time() * 1000 - records[-1]["ApproximateArrivalTimestamp"] * 1000)
        return {
            **empty,
            "MillisBehindLatest": behind,
            "NextShardIterator": following,
            "Records": records,
        }

    def _op_PutRecords(self, request: dict[str, Any]) -> dict[str, Any]:
        stream = backend_name(request.get("StreamName", ""))
        response = self._backend("PutRecords", {**request, "StreamName": stream})
        for entry in response["Records"]:
            if "ShardId" in entry:
                entry["SequenceNumber"] = self._offset(
                    stream, entry["ShardId"], entry["SequenceNumber"]
                )
                entry["ShardId"] = yds_shard(entry["ShardId"])
        return response

    def _op_ListStreams(self, request: dict[str, Any]) -> dict[str, Any]:
        response = self._backend("ListStreams", request)
        names = [
            "/" + n.replace("__", "/") if "__" in n else n for n in response.get("StreamNames", [])
        ]
        return {"HasMoreStreams": bool(response.get("HasMoreStreams")), "StreamNames": names}


@contextlib.contextmanager
def running(upstream: str) -> Any:
    double = YdsDouble(upstream).start()
    try:
        yield double
    finally:
        double.stop()
