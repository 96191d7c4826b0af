"""Wiring for each command: resolve the stream, open its source, walk, decode, filter, render.

Knows nothing of Typer; takes frozen requests from cli.py and an `Env`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from streamtail.decode import Decoded, DecodeMode, decode_record
from streamtail.env import Env
from streamtail.errors import CredentialsError, ServiceError, UsageError
from streamtail.filters import RecordFilter
from streamtail.model import Position, Resume, SourceKind
from streamtail.names import resolve
from streamtail.positions import parse_position, parse_until
from streamtail.render import FORMATS, Item, RenderContext, make_renderer
from streamtail.signals import shielded

if TYPE_CHECKING:
    from streamtail.aws import Connection
    from streamtail.checkpoint import Checkpoint
    from streamtail.reader import Pacing, Walker
    from streamtail.sources.base import Source

_NOT_DECODED = Decoded("base64", None)


@dataclass(frozen=True)
class ReadRequest:
    """Everything `read` and `follow` were asked to do."""

    stream: str
    conn: Connection
    follow: bool = False
    start: str | None = None
    until: str | None = None
    limit: int | None = None
    idle_exit: float | None = None
    output: str | None = None
    decode: DecodeMode = DecodeMode.AUTO
    shards: tuple[str, ...] = ()
    key: str | None = None
    grep: str | None = None
    events: tuple[str, ...] = ()
    #: --checkpoint FILE
    checkpoint: str | None = None
    #: --retry-timeout SECONDS (None: the default of the command; inf: never give up)
    retry_timeout: float | None = None


def open_stream(name: str, conn: Connection, *, pool: int = 16) -> Source:
    """Resolve a stream name and open its source (`source.ref` is the resolved name)."""
    from streamtail.aws import Clients
    from streamtail.sources import open_source

    ref = resolve(name)
    clients = Clients(conn, region_hint=ref.region, default_region=ref.default_region, pool=pool)
    return open_source(ref, clients)


def run_read(request: ReadRequest, env: Env, *, pacing: Pacing | None = None) -> None:
    """`read` and `follow`: stream records to env.stdout until a stop rule holds."""
    from streamtail.model import LATEST, TRIM_HORIZON

    now = env.wall()
    default = LATEST if request.follow else TRIM_HORIZON
    position = default if request.start is None else parse_position(request.start, now)
    until = None if request.until is None else parse_until(request.until, now)
    if request.limit is not None and request.limit < 1:
        raise UsageError(f"invalid --limit {request.limit}: must be 1 or more")
    if request.idle_exit is not None and not request.idle_exit > 0:
        raise UsageError(f"invalid --idle-exit {request.idle_exit}: must be more than 0")
    if request.retry_timeout is not None and not request.retry_timeout >= 0:
        raise UsageError(
            f"invalid --retry-timeout {request.retry_timeout}: must be 0 or more (inf: never)"
        )
    output = request.output or ("table" if env.stdout_isatty else "ndjson")
    if output not in FORMATS:
        raise UsageError(f"invalid --output {output!r}: choose one of {', '.join(FORMATS)}")
    record_filter = RecordFilter.build(request.key, request.grep, request.events)
    # A bad checkpoint file is refused before anything is asked of the service.
    checkpoint = None if request.checkpoint is None else _open_checkpoint(request.checkpoint)
    try:
        _read(
            request,
            env,
            position=position,
            until=until,
            output=output,
            record_filter=record_filter,
            checkpoint=checkpoint,
            pacing=pacing,
        )
    finally:
        if checkpoint is not None:
            checkpoint.close()


def _open_checkpoint(path: str) -> Checkpoint:
    from streamtail.checkpoint import Checkpoint

    if not path.strip():
        raise UsageError("invalid --checkpoint '': a file name is needed")
    return Checkpoint.open(Path(path))


def _read(
    request: ReadRequest,
    env: Env,
    *,
    position: Position,
    until: float | None,
    output: str,
    record_filter: RecordFilter,
    checkpoint: Checkpoint | None,
    pacing: Pacing | None,
) -> None:
    from streamtail.reader import Walker, WalkPlan

    source = open_stream(request.stream, request.conn, pool=64)
    _check_filters(record_filter, source.ref.kind)
    resume: dict[str, Resume] = {}
    finished: frozenset[str] = frozenset()
    if checkpoint is not None:
        position = checkpoint.adopt(source.ref, position, env.wall())
        resume, finished = dict(checkpoint.positions), frozenset(checkpoint.finished)
        if checkpoint.existed and request.start is not None:
            env.warn(
                f"resuming from checkpoint {checkpoint.path}: --from applies to a new "
                "checkpoint only"
            )
    if position.timestamp is not None and not source.supports_timestamp:
        start = (
            "--from" if checkpoint is None or not checkpoint.existed else "the checkpoint's start"
        )
        env.warn(
            "this stream has no AT_TIMESTAMP: reading from the trim horizon and skipping "
            f"records older than {start}",
            once="no-timestamp",
        )
    plan = WalkPlan(
        position=position,
        follow=request.follow,
        until=until,
        idle_exit=request.idle_exit,
        shards=frozenset(request.shards),
        retry_timeout=request.retry_timeout,
        resume=resume,
        finished=finished,
    )
    # The walker rate-limits its own retry notices; other repeats are limited here. A checkpoint
    # is first saved once the stream is known to exist, before anything is printed.
    walker = Walker(
        source,
        plan,
        pacing=pacing,
        warn=lambda m: env.warn(m, every=10.0),
        on_start=None if checkpoint is None else lambda: _save(checkpoint, walker),
    )
    ref = source.ref
    ctx = RenderContext(
        env=env,
        stream=ref.display,
        raw_bytes=request.decode is DecodeMode.NONE,
        table=ref.name if ref.kind is SourceKind.DYNAMODB else None,
    )
    renderer = make_renderer(output, ctx)
    decoding = renderer.needs_decoded or record_filter.grep is not None
    remaining = request.limit
    batches = walker.batches()
    try:
        for records in batches:
            items: list[Item] = [
                (r, decode_record(r, request.decode) if decoding else _NOT_DECODED) for r in records
            ]
            if decoding and not all(decoded.fits for _, decoded in items):
                env.warn(
                    f"some payloads do not decode as {request.decode.value}; shown as base64",
                    once="decode-fit",
                )
            kept = record_filter.apply(items)
            if remaining is not None:
                kept = kept[:remaining]
                remaining -= len(kept)
            # Printed and recorded together, or neither: Ctrl-C and SIGTERM wait for this.
            with shielded():
                if kept:
                    renderer.write(kept)
                if checkpoint is not None:
                    checkpoint.note(r for r, _ in kept)
                    _save(checkpoint, walker)
            if remaining == 0:
                break
    finally:
        try:
            batches.close()
            renderer.close()
        finally:
            # Saved even when stdout went away (| head) or the walk failed; not when the stream
            # was never listed (a mistyped name leaves no checkpoint behind).
            if checkpoint is not None and (checkpoint.existed or walker.lineage.shards):
                with shielded():
                    _save(checkpoint, walker)


def _save(checkpoint: Checkpoint, walker: Walker) -> None:
    """Save what has been printed, and which shards have nothing left to read."""
    checkpoint.save(walker.finished, walker.lineage.shards.keys())


def _check_filters(record_filter: RecordFilter, kind: SourceKind) -> None:
    """Filters that cannot match on this kind of stream are a usage error, not silence."""
    if record_filter.events and kind is not SourceKind.DYNAMODB:
        raise UsageError("--event applies to DynamoDB streams only (ddb:TABLE)")
    if record_filter.key is not None and kind is not SourceKind.KINESIS:
        raise UsageError(
            "--key applies to Kinesis streams only", hint="use --grep to match DynamoDB keys"
        )


def run_shards(name: str, conn: Connection, env: Env, output: str | None) -> None:
    """`shards STREAM`: the lineage as a tree on a terminal, NDJSON otherwise."""
    from streamtail.lineage import Lineage
    from streamtail.render.listing import shards_ndjson, shards_tree

    source = open_stream(name, conn)
    lineage = Lineage(source.list_shards())
    if (output or ("table" if env.stdout_isatty else "ndjson")) == "ndjson":
        shards_ndjson(env, source.ref.display, lineage)
    else:
        shards_tree(env, source.ref.display, lineage)


def run_ls(conn: Connection, env: Env, output: str | None) -> None:
    """`ls`: the account's Kinesis streams and DynamoDB tables that have a stream."""
    from streamtail.aws import Clients
    from streamtail.render.listing import streams_ndjson, streams_table
    from streamtail.sources.dynamodb import list_table_streams
    from streamtail.sources.kinesis import list_streams

    clients = Clients(conn)
    streams = list_streams(clients.client("kinesis"))
    try:
        streams += list_table_streams(clients.client("dynamodbstreams"))
    except (ServiceError, CredentialsError, UsageError) as exc:
        # Kinesis-only endpoints (Yandex, kinesis-mock) and Kinesis-only IAM policies are normal.
        env.warn(f"DynamoDB streams not listed: {exc.message}")
    if (output or ("table" if env.stdout_isatty else "ndjson")) == "ndjson":
        streams_ndjson(env, streams)
    else:
        streams_table(env, streams)
