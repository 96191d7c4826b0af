"""CloudWatch Logs subscription envelopes.

A subscription filter writes gzip-compressed JSON to Kinesis:

    {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/checkout",
     "logStream": "2026/11/21/[$LATEST]0f3c...", "subscriptionFilters": ["to-kinesis"],
     "logEvents": [{"id": "3779...", "timestamp": 1763759045123, "message": "..."}]}

and, when the subscription is created or checked, a CONTROL_MESSAGE envelope whose one event says
"CWL CONTROL MESSAGE: Checking health of destination Kinesis stream.".
"""

from __future__ import annotations

from typing import Any, NamedTuple

DATA_MESSAGE = "DATA_MESSAGE"
CONTROL_MESSAGE = "CONTROL_MESSAGE"
_KINDS = frozenset({DATA_MESSAGE, CONTROL_MESSAGE})


class LogEvent(NamedTuple):
    """Where one log event came from; its message is the record's data."""

    group: str
    stream: str
    id: str
    #: the event's own timestamp, epoch milliseconds
    ts_ms: int
    owner: str | None = None


class EnvelopeError(ValueError):
    """An envelope whose logEvents cannot be read; the message says why."""


def envelope_kind(value: Any) -> str | None:
    """DATA_MESSAGE or CONTROL_MESSAGE for a subscription envelope, otherwise None."""
    if isinstance(value, dict) and "logEvents" in value:
        kind = value.get("messageType")
        if kind in _KINDS:
            return str(kind)
    return None


def log_events(envelope: dict[str, Any]) -> list[tuple[LogEvent, str]]:
    """Each event of an envelope with its message; raises EnvelopeError."""
    events = envelope.get("logEvents")
    if not isinstance(events, list):
        raise EnvelopeError("CloudWatch Logs envelope: logEvents is not a list")
    group = envelope.get("logGroup")
    stream = envelope.get("logStream")
    owner = envelope.get("owner")
    if not isinstance(group, str) or not isinstance(stream, str):
        raise EnvelopeError("CloudWatch Logs envelope without logGroup or logStream")
    result: list[tuple[LogEvent, str]] = []
    for event in events:
        if not isinstance(event, dict):
            raise EnvelopeError("CloudWatch Logs envelope: a log event is not an object")
        message = event.get("message")
        ts = event.get("timestamp")
        if not isinstance(message, str) or not isinstance(ts, int) or isinstance(ts, bool):
            raise EnvelopeError("CloudWatch Logs envelope: a log event lacks message or timestamp")
        meta = LogEvent(
            group, stream, str(event.get("id", "")), ts, owner if isinstance(owner, str) else None
        )
        result.append((meta, message))
    return result
