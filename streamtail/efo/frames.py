"""A SubscribeToShard answer's event stream, decoded into shard events.

The body of a successful SubscribeToShard is an `application/vnd.amazon.eventstream`: binary
frames (prelude, headers, JSON payload, CRCs) decoded by botocore.eventstream.EventStreamBuffer.
Each frame's headers say what it is (botocore/parsers.py, BaseEventStreamParser):

- `:message-type` `event`, `:event-type` `initial-response`: sent first by AWS (an empty JSON
  object); kinesis-mock sends none (docs/SERVERS.md): skipped either way;
- `:message-type` `event`, `:event-type` `SubscribeToShardEvent`: Records,
  ContinuationSequenceNumber, MillisBehindLatest and, at the shard's end, ChildShards
  (botocore's kinesis service-2.json, shape SubscribeToShardEvent);
- `:message-type` `exception`, `:exception-type` one of the stream's error members
  (ResourceNotFoundException, ResourceInUseException, KMS*, InternalFailureException), the
  payload `{"message": ...}`;
- `:message-type` `error`, `:error-code` and `:error-message` headers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from botocore.eventstream import EventStreamBuffer, ParserError

from streamtail.errors import ServiceError, StreamtailError, from_client_error
from streamtail.model import Record, Shard
from streamtail.sources.kinesis import child_from_api, records_from_api

INITIAL_RESPONSE = "initial-response"
SHARD_EVENT = "SubscribeToShardEvent"


@dataclass(frozen=True)
class ShardEvent:
    """One SubscribeToShardEvent."""

    records: list[Record]
    #: where the next subscription continues (AFTER_SEQUENCE_NUMBER); None: the shard has ended
    continuation: str | None
    millis_behind: int | None
    #: the shard's children, sent with its last event (AWS; never by kinesis-mock)
    child_shards: list[Shard] | None


class _Answer(Exception):
    """What `from_client_error` reads from a botocore ClientError: `.response`."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(code)
        self.response: dict[str, Any] = {"Error": {"Code": code, "Message": message}}
        if status is not None:
            self.response["ResponseMetadata"] = {"HTTPStatusCode": status}


def service_error(what: str, code: str, message: str, status: int | None = None) -> StreamtailError:
    """An error the service sent (an exception event or an error answer) as a streamtail error,
    mapped like every other call's: not found (3), credentials (4), usage (2), otherwise 1."""
    return from_client_error(_Answer(code, message, status), what)


class EventDecoder:
    """Feed it the body's bytes as they come; iterate the shard events they complete."""

    def __init__(self, shard_id: str, what: str) -> None:
        self._buffer = EventStreamBuffer()
        self._shard_id = shard_id
        self._what = what
        #: an initial-response frame was seen (AWS sends one first; kinesis-mock does not)
        self.initial_response = False

    def feed(self, chunk: bytes) -> Iterator[ShardEvent]:
        """The events completed by `chunk`; raises a StreamtailError for an exception event."""
        self._buffer.add_data(chunk)
        messages = iter(self._buffer)
        while True:
            try:
                message = next(messages)
            except StopIteration:
                return
            except ParserError as exc:  # a corrupt frame (CRC, lengths): the connection is bad
                raise ServiceError(
                    f"{self._what}: corrupt event-stream frame ({type(exc).__name__}: {exc})"
                ) from exc
            event = self._event(message.headers, message.payload)
            if event is not None:
                yield event

    def _event(self, headers: dict[str, Any], payload: bytes) -> ShardEvent | None:
        kind = headers.get(":message-type")
        if kind == "event":
            event_type = headers.get(":event-type")
            if event_type == SHARD_EVENT:
                return self._shard_event(orjson.loads(payload) if payload else {})
            if event_type == INITIAL_RESPONSE:
                self.initial_response = True
            return None  # initial-response, and event types added later: nothing to read
        if kind == "exception":
            code = str(headers.get(":exception-type", ""))
            body = orjson.loads(payload) if payload else {}
            message = ""
            if isinstance(body, dict):
                message = str(body.get("message") or body.get("Message") or "")
            raise service_error(self._what, code, message)
        if kind == "error":
            raise service_error(
                self._what,
                str(headers.get(":error-code", "")),
                str(headers.get(":error-message", "")),
            )
        return None

    def _shard_event(self, body: dict[str, Any]) -> ShardEvent:
        children = body.get("ChildShards")
        behind = body.get("MillisBehindLatest")
        return ShardEvent(
            # The JSON protocol carries Data as base64 text and arrival times as epoch seconds,
            # as GetRecords does: the same conversion.
            records=records_from_api(body.get("Records") or [], self._shard_id),
            continuation=body.get("ContinuationSequenceNumber"),
            millis_behind=int(behind) if behind is not None else None,
            child_shards=[child_from_api(c) for c in children] if children else None,
        )
