"""The command line's options and choices, shared by the commands in cli.py.

Only Typer, the standard library and streamtail/formats.py at import: `--help` imports this
module. The completion callbacks import streamtail.completion when a shell asks for candidates.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from streamtail.formats import LISTING_FORMATS, RECORD_FORMATS

#: `-o` of `read`, `follow`, `demo`: one choice per renderer (streamtail/formats.py)
OutputFormat = StrEnum("OutputFormat", {name: name for name in RECORD_FORMATS})  # type: ignore[misc]


class DecodeChoice(StrEnum):
    """`--decode` (decode.DecodeMode, kept apart so `--help` does not load the decoders)."""

    auto = "auto"
    json = "json"
    text = "text"
    base64 = "base64"
    none = "none"
    avro = "avro"
    protobuf = "protobuf"
    gsr = "gsr"
    zstd = "zstd"
    lz4 = "lz4"


#: `-o` of `ls`, `shards`: one choice per listing (streamtail/formats.py)
ListFormat = StrEnum("ListFormat", {name: name for name in LISTING_FORMATS})  # type: ignore[misc]


# -- shell completion callbacks (completion.py is imported only when a shell asks) -------------


def _complete_stream(ctx: typer.Context, incomplete: str) -> list[str]:
    """Stream names from the account for the shell (cached, time-boxed, silent on failure)."""
    from streamtail.completion import stream_candidates

    return stream_candidates(ctx.params, incomplete)


def _complete_profile(incomplete: str) -> list[str]:
    from streamtail.completion import profile_candidates

    return profile_candidates(incomplete)


def _complete_position(incomplete: str) -> list[str]:
    from streamtail.completion import POSITIONS, static_candidates

    return static_candidates(POSITIONS, incomplete)


def _complete_event(incomplete: str) -> list[str]:
    from streamtail.completion import EVENTS, static_candidates

    return static_candidates(EVENTS, incomplete)


# -- shared options ------------------------------------------------------------------------------

Profile = Annotated[
    str | None,
    typer.Option(
        "--profile",
        metavar="NAME",
        help="AWS profile (default: AWS_PROFILE or 'default').",
        autocompletion=_complete_profile,
    ),
]
Region = Annotated[
    str | None,
    typer.Option(
        "--region", metavar="REGION", help="AWS region (default: AWS_REGION or the profile's)."
    ),
]
Endpoint = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        metavar="URL",
        help="Service endpoint, e.g. http://127.0.0.1:4566 (default: AWS_ENDPOINT_URL_KINESIS, "
        "AWS_ENDPOINT_URL or AWS).",
    ),
]
Debug = Annotated[
    bool,
    typer.Option(
        "--debug",
        help="Log every AWS request and response on stderr (credentials and signatures "
        "redacted), and show full tracebacks on errors.",
    ),
]
NoColor = Annotated[
    bool, typer.Option("--no-color", help="No colour, even on a terminal (NO_COLOR works too).")
]
Quiet = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="No live status line on stderr (warnings still shown)."),
]
Stream = Annotated[
    str,
    typer.Argument(
        metavar="STREAM",
        help="Kinesis stream name, Yandex path (/ru-central1/...), Kinesis ARN, ddb:TABLE or "
        "DynamoDB stream ARN.",
        show_default=False,
        autocompletion=_complete_stream,
    ),
]
Start = Annotated[
    str | None,
    typer.Option(
        "--from",
        metavar="POS",
        autocompletion=_complete_position,
        help="Start: trim-horizon, latest, at:SEQ, after:SEQ, an ISO-8601 time or -15m. "
        "[default: trim-horizon for read, latest for follow]",
        show_default=False,
    ),
]
Until = Annotated[
    str | None,
    typer.Option(
        "--until", metavar="TIME", help="Stop at the first record that arrived after this time."
    ),
]


def _count(text: str) -> int:
    """`--limit N`: a whole number, 1 or more (Click's own words for these are its types')."""
    try:
        count = int(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a whole number") from None
    if count < 1:
        raise typer.BadParameter(f"{count} prints nothing: give 1 or more")
    return count


Limit = Annotated[
    int | None,
    typer.Option("--limit", "-n", metavar="N", help="Stop after this many records.", parser=_count),
]
Output = Annotated[
    OutputFormat | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FMT",
        help="table (default on a terminal), ndjson (default otherwise), raw, aws, csv or tsv.",
        show_default=False,
    ),
]
Delimiter = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        "-D",
        metavar="TEXT",
        help="With -o raw: what follows each payload (default \\n; '' none, \\0 NUL; escapes "
        "\\n \\t \\r \\0 \\\\ \\xHH).",
        show_default=False,
    ),
]
Decode = Annotated[
    DecodeChoice,
    typer.Option(
        "--decode",
        metavar="MODE",
        help="auto: gzip/zlib/zstd/lz4, KPL aggregates, Glue Schema Registry frames, CloudWatch "
        "Logs, JSON, text, base64; or force json, text, base64, none, avro (--avro-schema), "
        "protobuf (--proto-message), gsr, zstd or lz4.",
        case_sensitive=False,
    ),
]
ShardOpt = Annotated[
    list[str] | None,
    typer.Option("--shard", metavar="ID", help="Only this shard and its descendants (repeatable)."),
]
Key = Annotated[
    str | None,
    typer.Option("--key", metavar="PK", help="Only records with this partition key."),
]
HashKey = Annotated[
    str | None,
    typer.Option(
        "--hash-key",
        metavar="HASH",
        help="Only the shards whose hash-key range holds HASH (records written with this "
        "ExplicitHashKey), across splits and merges.",
    ),
]
Event = Annotated[
    list[str] | None,
    typer.Option(
        "--event",
        metavar="NAME",
        autocompletion=_complete_event,
        help="DynamoDB: only INSERT, MODIFY or REMOVE records (repeatable).",
    ),
]
Grep = Annotated[
    str | None,
    typer.Option(
        "--grep", metavar="REGEX", help="Only records whose decoded payload matches this regex."
    ),
]
Where = Annotated[
    str | None,
    typer.Option(
        "--where",
        metavar="EXPR",
        help="Only records for which this JMESPath expression on the NDJSON object is true, e.g. "
        '"data.status == \'failed\'" or "new.total > `100`".',
    ),
]
Columns = Annotated[
    str | None,
    typer.Option(
        "--columns",
        metavar="LIST",
        help="With -o table, csv or tsv: the columns, as dotted paths into the NDJSON object "
        "(ts,key,data.status).",
    ),
]
ListOutput = Annotated[
    ListFormat | None,
    typer.Option("--output", "-o", metavar="FMT", help="table (default on a terminal) or ndjson."),
]
PutStream = Annotated[
    str,
    typer.Argument(
        metavar="STREAM",
        help="Kinesis stream name, Yandex path (/ru-central1/...) or Kinesis ARN.",
        show_default=False,
        autocompletion=_complete_stream,
    ),
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

CheckpointOpt = Annotated[
    str | None,
    typer.Option(
        "--checkpoint",
        metavar="FILE",
        help="Resume after the last record printed per shard, and record progress in FILE "
        "(created if missing; written atomically after every batch and on Ctrl-C/SIGTERM).",
    ),
]
RetryTimeout = Annotated[
    str | None,
    typer.Option(
        "--retry-timeout",
        metavar="DURATION",
        help="Give up (exit 1) once a shard has failed this long without a break, e.g. 90s or 3m "
        "(default: 3m for read; follow never gives up); inf: never.",
        show_default=False,
    ),
]
AvroSchema = Annotated[
    str | None,
    typer.Option(
        "--avro-schema",
        metavar="FILE",
        help="Payloads are bare Avro binary written with this schema (.avsc); implies --decode "
        "avro.",
    ),
]
ProtoDescriptor = Annotated[
    str | None,
    typer.Option(
        "--proto-descriptor",
        metavar="FILE",
        help="Protobuf descriptors (protoc --descriptor_set_out): for --proto-message, and for "
        "Glue Schema Registry PROTOBUF schemas.",
    ),
]
ProtoMessage = Annotated[
    str | None,
    typer.Option(
        "--proto-message",
        metavar="NAME",
        help="Payloads are bare Protobuf messages of this type (package.Message); implies "
        "--decode protobuf.",
    ),
]


IdleExit = Annotated[
    str | None,
    typer.Option(
        "--idle-exit",
        metavar="DURATION",
        help="Exit 0 after this long with no new record, e.g. 30s, 2m or 1.5 (seconds).",
    ),
]


# -- put -----------------------------------------------------------------------------------------

PutKey = Annotated[
    str | None,
    typer.Option(
        "--key",
        metavar="VALUE",
        help="Partition key for every record (default: random per record).",
    ),
]
KeyField = Annotated[
    str | None,
    typer.Option(
        "--key-field",
        metavar="PATH",
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
        metavar="BYTES",
        help="With --binary: bytes per record (default: 1 MiB less the partition key).",
        min=1,
    ),
]
Efo = Annotated[
    bool,
    typer.Option(
        "--efo",
        help="Enhanced fan-out: registers a stream consumer (named streamtail-HOST-PID-..., "
        "deregistered on exit) and receives records pushed over HTTP/2 (SubscribeToShard), "
        "leaving the stream's shared 5 reads/s per shard to its other consumers. Billed by AWS "
        "per consumer-shard-hour and per GB retrieved. Kinesis only.",
    ),
]
Consumer = Annotated[
    str | None,
    typer.Option(
        "--consumer",
        metavar="NAME",
        help="With --efo: use this consumer (registered if missing) and leave it registered.",
    ),
]
Prune = Annotated[
    bool,
    typer.Option(
        "--prune",
        help="Deregister streamtail's leftover consumers (from runs that were killed: their "
        "process is gone from this host, or they are over 7 days old).",
    ),
]
Deregister = Annotated[
    list[str] | None,
    typer.Option(
        "--deregister",
        metavar="NAME",
        help="Deregister this consumer (any, e.g. one kept by --consumer NAME), without asking; "
        "repeatable.",
    ),
]
PutAvroSchema = Annotated[
    str | None,
    typer.Option(
        "--avro-schema",
        metavar="FILE",
        help="Write each JSON line as bare Avro binary with this schema (.avsc).",
    ),
]


class CompressChoice(StrEnum):
    """`put --compress` (decode.compress.compressor)."""

    gzip = "gzip"
    zstd = "zstd"


Compress = Annotated[
    CompressChoice | None,
    typer.Option(
        "--compress",
        metavar="CODEC",
        help="Compress each record's data: gzip or zstd (read decodes either).",
        case_sensitive=False,
    ),
]
GsrSchema = Annotated[
    str | None,
    typer.Option(
        "--gsr-schema",
        metavar="NAME",
        help="Write each JSON line as a Glue Schema Registry frame of this schema's latest "
        "version ([REGISTRY/]NAME, default registry default-registry; AVRO or JSON).",
    ),
]


# -- lag -----------------------------------------------------------------------------------------

LagApp = Annotated[
    str,
    typer.Argument(
        metavar="APP",
        help="KCL application name: its DynamoDB lease table has the same name.",
        show_default=False,
    ),
]
LagTable = Annotated[
    str | None,
    typer.Option("--table", metavar="NAME", help="Lease table, when it is not named APP."),
]
LagStream = Annotated[
    str | None,
    typer.Option(
        "--stream",
        metavar="STREAM",
        help="The stream the application reads (Kinesis name or ARN, ddb:TABLE, DynamoDB stream "
        "ARN): needed for single-stream apps, picks one stream of a multi-stream app.",
        autocompletion=_complete_stream,
    ),
]
LagInterval = Annotated[
    str,
    typer.Option(
        "--interval",
        metavar="DURATION",
        help="Read the lease table twice this far apart to see which leases are renewed (more "
        "than KCL's renewal period, failoverTimeMillis/3); 0: read once.",
    ),
]
Watch = Annotated[
    bool,
    typer.Option("--watch", "-w", help="Redraw every --interval until Ctrl-C."),
]
MaxLag = Annotated[
    str | None,
    typer.Option(
        "--max-lag",
        metavar="DURATION",
        help="Exit 1 when a shard is further behind than this (e.g. 5m) or a lease with work is "
        "not renewed.",
    ),
]
