"""The event stream of a SubscribeToShard answer: frames built by hand per the event-stream
format botocore decodes (botocore/eventstream.py: a prelude of total length, headers length and
prelude CRC32; headers as name-length, name, type 7 (string), value-length, value; the payload;
a CRC32 of everything before it), with and without the initial-response event AWS sends first
and kinesis-mock does not (docs/SERVERS.md), and exception events (botocore's kinesis
service-2.json: the error members of SubscribeToShardEventStream)."""

from __future__ import annotations

import base64
import binascii
import json
import struct
from typing import Any

import pytest

from streamtail.efo.frames import EventDecoder
from streamtail.errors import (
    CredentialsError,
    ExitCode,
    NotFoundError,
    ServiceError,
)


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    encoded = b""
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        encoded += struct.pack("!B", len(raw_name)) + raw_name
        encoded += struct.pack("!BH", 7, len(raw_value)) + raw_value
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack("!II", total, len(encoded))
    prelude += struct.pack("!I", binascii.crc32(prelude))
    message = prelude + encoded + payload
    return message + struct.pack("!I", binascii.crc32(message))


def event(body: dict[str, Any], event_type: str = "SubscribeToShardEvent") -> bytes:
    headers = {
        ":message-type": "event",
        ":event-type": event_type,
        ":content-type": "application/json",
    }
    return frame(headers, json.dumps(body).encode())


def exception(code: str, message: str) -> bytes:
    headers = {
        ":message-type": "exception",
        ":exception-type": code,
        ":content-type": "application/json",
    }
    return frame(headers, json.dumps({"message": message}).encode())


def record(seq: str, data: bytes, key: str = "k") -> dict[str, Any]:
    return {
        "SequenceNumber": seq,
        "PartitionKey": key,
        "Data": base64.b64encode(data).decode(),
        "ApproximateArrivalTimestamp": 1764700000.125,
    }


FIRST = {
    "Records": [record("11", b"one"), record("12", b"two")],
    "ContinuationSequenceNumber": "12",
    "MillisBehindLatest": 1500,
    "ChildShards": None,  # as kinesis-mock sends it
}
SECOND = {"Records": [], "ContinuationSequenceNumber": "12", "MillisBehindLatest": 0}


def decode(data: bytes, *, chunk: int | None = None) -> tuple[EventDecoder, list[Any]]:
    decoder = EventDecoder("shardId-000000000001", "stream 's' shard shardId-000000000001")
    step = chunk or len(data)
    events = [e for i in range(0, len(data), step) for e in decoder.feed(data[i : i + step])]
    return decoder, events


@pytest.mark.parametrize("initial", [False, True], ids=["kinesis-mock", "aws-initial-response"])
@pytest.mark.parametrize("chunk", [None, 1, 7])
def test_events_with_and_without_initial_response(initial: bool, chunk: int | None) -> None:
    body = event(FIRST) + event(SECOND)
    if initial:
        body = event({}, "initial-response") + body
    decoder, events = decode(body, chunk=chunk)
    assert decoder.initial_response is initial
    assert len(events) == 2
    first, second = events
    assert [(r.shard, r.seq, r.key, r.data, r.ts_ms) for r in first.records] == [
        ("shardId-000000000001", "11", "k", b"one", 1764700000125),
        ("shardId-000000000001", "12", "k", b"two", 1764700000125),
    ]
    assert (first.continuation, first.millis_behind, first.child_shards) == ("12", 1500, None)
    assert (second.records, second.continuation, second.millis_behind) == ([], "12", 0)


def test_a_shard_end_carries_children_and_no_continuation() -> None:
    end = {
        "Records": [],
        "ContinuationSequenceNumber": None,
        "MillisBehindLatest": 0,
        "ChildShards": [
            {
                "ShardId": "shardId-000000000002",
                "ParentShards": ["shardId-000000000001"],
                "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": "99"},
            }
        ],
    }
    _, [last] = decode(event(end))
    assert last.continuation is None
    assert last.child_shards is not None
    [child] = last.child_shards
    assert (child.shard_id, child.parents, child.hash_end) == (
        "shardId-000000000002",
        ("shardId-000000000001",),
        99,
    )


@pytest.mark.parametrize(
    ("code", "kind", "exit_code", "retryable"),
    [
        ("ResourceNotFoundException", NotFoundError, ExitCode.NOT_FOUND, None),
        ("KMSAccessDeniedException", CredentialsError, ExitCode.CREDENTIALS, None),
        ("ResourceInUseException", ServiceError, ExitCode.RUNTIME, True),
        ("InternalFailureException", ServiceError, ExitCode.RUNTIME, True),
        ("KMSThrottlingException", ServiceError, ExitCode.RUNTIME, True),
    ],
)
def test_exception_events_map_to_exit_codes(
    code: str, kind: type[Exception], exit_code: ExitCode, retryable: bool | None
) -> None:
    decoder = EventDecoder("shardId-000000000001", "stream 's'")
    events = decoder.feed(event(FIRST) + exception(code, "it went wrong"))
    assert next(events).continuation == "12"  # what came before the exception is delivered
    with pytest.raises(kind) as raised:
        next(events)
    error = raised.value
    assert type(error) is kind
    assert error.code == exit_code  # type: ignore[attr-defined]
    assert error.aws_code == code  # type: ignore[attr-defined]
    assert "it went wrong" in error.message  # type: ignore[attr-defined]
    if retryable is not None:
        assert error.retryable is retryable  # type: ignore[attr-defined]


def test_error_messages_use_their_headers() -> None:
    headers = {
        ":message-type": "error",
        ":error-code": "InternalFailure",
        ":error-message": "try again",
    }
    with pytest.raises(ServiceError, match="InternalFailure: try again"):
        list(EventDecoder("s", "stream 's'").feed(frame(headers, b"")))


def test_a_corrupt_frame_is_a_retryable_service_error() -> None:
    data = bytearray(event(FIRST))
    data[-1] ^= 0xFF  # the message CRC
    with pytest.raises(ServiceError, match="corrupt event-stream frame") as raised:
        list(EventDecoder("s", "stream 's'").feed(bytes(data)))
    assert raised.value.retryable


def test_botocore_decodes_the_hand_built_frames_the_same_way() -> None:
    """The test's encoder agrees with botocore's own parser of these frames."""
    from botocore.eventstream import EventStreamMessage

    from_botocore = EventStreamMessage
    from botocore.eventstream import EventStreamBuffer

    buffer = EventStreamBuffer()
    buffer.add_data(event(FIRST))
    [message] = list(buffer)
    assert isinstance(message, from_botocore)
    assert message.headers[":event-type"] == "SubscribeToShardEvent"
    assert json.loads(message.payload)["ContinuationSequenceNumber"] == "12"
