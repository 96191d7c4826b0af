"""The options of `put`, `consumers`, `lag` and `top` (what is `top`'s alone: it shares read's
options), as cli_options.py declares those of `read` and `follow` and the ones every command
shares.

Only Typer and the standard library at import: `--help` imports this module.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from streamtail.cli_options import complete_position, complete_stream
from streamtail.formats import TOP_FORMATS

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


# -- consumers -----------------------------------------------------------------------------------

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
        autocompletion=complete_stream,
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


# -- top -----------------------------------------------------------------------------------------

#: `-o` of `top`: the live screen (or one report) and NDJSON (streamtail/formats.py)
TopFormat = StrEnum("TopFormat", {name: name for name in TOP_FORMATS})  # type: ignore[misc]


class ByChoice(StrEnum):
    """`top --by`: what ranks shards' keys and the stream's keys."""

    records = "records"
    bytes = "bytes"


TopOutput = Annotated[
    TopFormat | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FMT",
        help="table (a live screen on a terminal, the default there) or ndjson (default "
        "otherwise).",
        show_default=False,
    ),
]
TopFrom = Annotated[
    str | None,
    typer.Option(
        "--from",
        metavar="POS",
        autocompletion=complete_position,
        help="Report on a past window from here (trim-horizon, an ISO-8601 time, -15m, ...), "
        "read as `read` reads it, then exit. [default: a live view from latest]",
        show_default=False,
    ),
]
By = Annotated[
    ByChoice,
    typer.Option("--by", help="Rank keys by records or by bytes.", case_sensitive=False),
]
TopKeys = Annotated[
    int,
    typer.Option(
        "--top", metavar="N", help="How many of the stream's busiest keys to show.", min=1
    ),
]
Duration = Annotated[
    str | None,
    typer.Option(
        "--duration",
        metavar="DURATION",
        help="Live view: stop after this long (e.g. 30s, 5m) and exit 0.",
    ),
]
TopInterval = Annotated[
    str,
    typer.Option(
        "--interval",
        metavar="DURATION",
        help="-o ndjson, live: one set of objects per interval of this many whole seconds of "
        "arrival time.",
    ),
]
GroupBy = Annotated[
    str | None,
    typer.Option(
        "--group-by",
        metavar="PATH",
        help="Count by this field of each JSON payload (dotted path: tenant.id) instead of the "
        "partition key.",
    ),
]
