"""Resolving what the user typed into a `StreamRef` (docs/CONTRACT.md, "Naming a stream")."""

from __future__ import annotations

import re

from streamtail.errors import UsageError
from streamtail.model import SourceKind, StreamRef

_KINESIS_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
# Yandex Data Streams: /<region>/<folder id>/<database id>/<stream>; slashes are part of the name.
_YANDEX_PATH = re.compile(r"^(/[A-Za-z0-9_.-]+){2,}$")
_KINESIS_ARN = re.compile(
    r"^arn:(aws[a-z-]*):kinesis:([a-z0-9-]+):(\d{12}):stream/([A-Za-z0-9_.-]{1,128})$"
)
_DDB_STREAM_ARN = re.compile(
    r"^arn:(aws[a-z-]*):dynamodb:([a-z0-9-]+):(\d{12}):table/([A-Za-z0-9_.-]{3,255})/stream/(\S+)$"
)
_DDB_TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_DDB_PREFIXES = ("ddb:", "dynamodb:")

_FORMS = (
    "a Kinesis stream name, a Yandex path (/ru-central1/...), a Kinesis stream ARN, "
    "ddb:TABLE or a DynamoDB stream ARN"
)


def resolve(text: str) -> StreamRef:
    """Parse a stream name; raises UsageError (exit 2) for anything malformed."""
    name = text.strip()
    if not name:
        raise UsageError("empty stream name", hint=f"name {_FORMS}")
    lowered = name.lower()
    for prefix in _DDB_PREFIXES:
        if lowered.startswith(prefix):
            table = name[len(prefix) :]
            if not _DDB_TABLE.match(table):
                raise UsageError(
                    f"invalid DynamoDB table name {table!r}",
                    hint="table names are 3-255 characters: letters, digits, _ . -",
                )
            return StreamRef(SourceKind.DYNAMODB, display=table, name=table)
    if lowered.startswith("arn:"):
        return _resolve_arn(name)
    if name.startswith("/"):
        if not _YANDEX_PATH.match(name):
            raise UsageError(f"invalid stream path {name!r}", hint=f"name {_FORMS}")
        region = name.split("/")[1]
        return StreamRef(
            SourceKind.KINESIS,
            display=name,
            name=name,
            default_region=region if region.startswith("ru-") else None,
        )
    if not _KINESIS_NAME.match(name):
        raise UsageError(
            f"invalid stream name {name!r}",
            hint="Kinesis stream names are 1-128 characters: letters, digits, _ . -",
        )
    return StreamRef(SourceKind.KINESIS, display=name, name=name)


def _resolve_arn(arn: str) -> StreamRef:
    match = _KINESIS_ARN.match(arn)
    if match:
        _, region, _, stream = match.groups()
        return StreamRef(SourceKind.KINESIS, display=stream, arn=arn, region=region)
    match = _DDB_STREAM_ARN.match(arn)
    if match:
        _, region, _, table, _ = match.groups()
        return StreamRef(SourceKind.DYNAMODB, display=arn, name=table, arn=arn, region=region)
    raise UsageError(f"invalid or unsupported ARN {arn!r}", hint=f"name {_FORMS}")
