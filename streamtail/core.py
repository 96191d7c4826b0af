"""Wiring for each command: resolve the stream, open its source, walk, decode, filter, render.

Knows nothing of Typer; takes frozen requests from cli.py and an `Env`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from streamtail.decode import Decoded, DecodeMode, decode_record
from streamtail.env import Env
from streamtail.errors import CredentialsError, ServiceError, UsageError
from streamtail.filters import RecordFilter
from streamtail.model import SourceKind
from streamtail.names import resolve
from streamtail.positions import parse_position, parse_until
from streamtail.render import FORMATS, Item, RenderContext, make_renderer
from streamtail.status import status_line

if TYPE_CHECKING:
    from streamtail.aws import Connection
    from streamtail.reader import Pacing
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


def open_stream(name: str, conn: Connection, env: Env, *, pool: int = 16) -> Source:
    """Resolve a stream name and open its source (`source.ref` is the resolved name)."""
    from streamtail.aws import Clients
    from streamtail.sources import open_source

    ref = resolve(name)
    clients = Clients(
        conn,
        region_hint=ref.region,
        default_region=ref.default_region,
        pool=pool,
        log=_debug_log(env),
    )
    return open_source(ref, clients)


def _debug_log(env: Env) -> Callable[[str], None] | None:
    """Where `--debug` request logs go: stderr, as lines that keep clear of the status line."""
    return env.line if env.debug else None


def run_read(request: ReadRequest, env: Env, *, pacing: Pacing | None = None) -> None:
    """`read` and `follow`: stream records to env.stdout until a stop rule holds."""
    from streamtail.model import LATEST, TRIM_HORIZON
    from streamtail.reader import Walker, WalkPlan

    now = env.wall()
    default = LATEST if request.follow else TRIM_HORIZON
    position = default if request.start is None else parse_position(request.start, now)
    until = None if request.until is None else parse_until(request.until, now)
    if request.limit is not None and request.limit < 1:
        raise UsageError(f"invalid --limit {request.limit}: must be 1 or more")
    if request.idle_exit is not None and request.idle_exit <= 0:
        raise UsageError(f"invalid --idle-exit {request.idle_exit}: must be more than 0")
    output = request.output or ("table" if env.stdout_isatty else "ndjson")
    if output not in FORMATS:
        raise UsageError(f"invalid --output {output!r}: choose one of {', '.join(FORMATS)}")
    record_filter = RecordFilter.build(request.key, request.grep, request.events)

    source = open_stream(request.stream, request.conn, env, pool=64)
    _check_filters(record_filter, source.ref.kind)
    if position.timestamp is not None and not source.supports_timestamp:
        env.warn(
            "this stream has no AT_TIMESTAMP: reading from the trim horizon and skipping "
            "records older than --from",
            once="no-timestamp",
        )
    plan = WalkPlan(
        position=position,
        follow=request.follow,
        until=until,
        idle_exit=request.idle_exit,
        shards=frozenset(request.shards),
    )
    walker = Walker(source, plan, pacing=pacing, warn=lambda m: env.warn(m, every=10.0))
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
    shown = 0
    batches = walker.batches()
    with status_line(env, walker.stats, ref.display, lambda: shown) as status:
        write = _guarded(renderer.write, env, shared=status is not None and env.stdout_isatty)
        try:
            for records in batches:
                items: list[Item] = [
                    (r, decode_record(r, request.decode) if decoding else _NOT_DECODED)
                    for r in records
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
                if kept:
                    write(kept)
                    shown += len(kept)
                if remaining == 0:
                    break
        finally:
            batches.close()
            renderer.close()


def _guarded(
    write: Callable[[Sequence[Item]], None], env: Env, *, shared: bool
) -> Callable[[Sequence[Item]], None]:
    """Records on the terminal that also shows the status line: erase it first, under the lock
    that every writer of that terminal holds, so a row never lands on the status line."""
    if not shared:
        return write

    def guarded(items: Sequence[Item]) -> None:
        with env.terminal_lock:
            env.erase_status()
            write(items)

    return guarded


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

    source = open_stream(name, conn, env)
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

    clients = Clients(conn, log=_debug_log(env))
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
