"""The command line's options and choices, shared by the commands in cli.py.

Only Typer and the standard library here: `--help` imports this module.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer


class OutputFormat(StrEnum):
    table = "table"
    ndjson = "ndjson"
    raw = "raw"
    aws = "aws"


class DecodeChoice(StrEnum):
    """`--decode` (decode.DecodeMode, kept apart so `--help` does not load the decoders)."""

    auto = "auto"
    json = "json"
    text = "text"
    base64 = "base64"
    none = "none"


class ListFormat(StrEnum):
    table = "table"
    ndjson = "ndjson"


Profile = Annotated[
    str | None, typer.Option("--profile", help="AWS profile (default: AWS_PROFILE or 'default').")
]
Region = Annotated[
    str | None, typer.Option("--region", help="AWS region (default: AWS_REGION or the profile's).")
]
Endpoint = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        help="Service endpoint, e.g. http://127.0.0.1:4566 (default: AWS_ENDPOINT_URL_KINESIS, "
        "AWS_ENDPOINT_URL or AWS).",
    ),
]
Debug = Annotated[bool, typer.Option("--debug", help="Full tracebacks on errors.")]
NoColor = Annotated[bool, typer.Option("--no-color", help="No colour, even on a terminal.")]
Stream = Annotated[
    str,
    typer.Argument(
        help="Kinesis stream name, Yandex path (/ru-central1/...), Kinesis ARN, ddb:TABLE or "
        "DynamoDB stream ARN.",
        show_default=False,
    ),
]
PutStream = Annotated[
    str,
    typer.Argument(
        help="Kinesis stream name, Yandex path (/ru-central1/...) or Kinesis ARN.",
        show_default=False,
    ),
]
Start = Annotated[
    str | None,
    typer.Option(
        "--from",
        help="Start: trim-horizon, latest, at:SEQ, after:SEQ, an ISO-8601 time or -15m. "
        "[default: trim-horizon for read, latest for follow]",
        show_default=False,
    ),
]
Until = Annotated[
    str | None,
    typer.Option("--until", help="Stop at the first record that arrived after this time."),
]
Limit = Annotated[
    int | None, typer.Option("--limit", "-n", help="Stop after this many records.", min=1)
]
Output = Annotated[
    OutputFormat | None,
    typer.Option(
        "--output",
        "-o",
        help="table (default on a terminal), ndjson (default otherwise), raw or aws.",
        show_default=False,
    ),
]
Decode = Annotated[
    DecodeChoice,
    typer.Option(
        "--decode",
        help="auto: gzip/zlib, KPL aggregates, CloudWatch Logs, JSON, text, base64; or force "
        "json, text, base64 or none.",
        case_sensitive=False,
    ),
]
ShardOpt = Annotated[
    list[str] | None,
    typer.Option("--shard", help="Only this shard and its descendants (repeatable)."),
]
Key = Annotated[str | None, typer.Option("--key", help="Only records with this partition key.")]
Event = Annotated[
    list[str] | None,
    typer.Option("--event", help="DynamoDB: only INSERT, MODIFY or REMOVE records (repeatable)."),
]
Grep = Annotated[
    str | None,
    typer.Option("--grep", help="Only records whose decoded payload matches this regex."),
]
ExpandLogs = Annotated[
    bool,
    typer.Option(
        "--expand-logs",
        help="CloudWatch Logs subscription records: one output record per log event.",
    ),
]
SkipControl = Annotated[
    bool,
    typer.Option(
        "--skip-control", help="Leave out CloudWatch Logs CONTROL_MESSAGE (health check) records."
    ),
]
ListOutput = Annotated[
    ListFormat | None,
    typer.Option("--output", "-o", help="table (default on a terminal) or ndjson."),
]


# -- put -----------------------------------------------------------------------------------------

PutKey = Annotated[
    str | None,
    typer.Option("--key", help="Partition key for every record (default: random per record)."),
]
KeyField = Annotated[
    str | None,
    typer.Option(
        "--key-field",
        help="Partition key from this field of each JSON line (dotted path: user.id).",
    ),
]
FromNdjson = Annotated[
    bool,
    typer.Option(
        "--from-ndjson",
        help="Lines are `read -o ndjson` records: write each one's data (key from its key "
        "field unless --key or --key-field says otherwise).",
    ),
]
Binary = Annotated[
    bool,
    typer.Option("--binary", help="Read stdin as bytes, one record per --chunk-size bytes."),
]
ChunkSize = Annotated[
    int | None,
    typer.Option(
        "--chunk-size",
        help="With --binary: bytes per record (default: 1 MiB less the partition key).",
        min=1,
    ),
]
