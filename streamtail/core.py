"""Wiring for each command: resolve the stream, open its source, walk, decode, filter, render.

Knows nothing of Typer; takes frozen requests from cli.py and an `Env`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from streamtail.decode import Decoded, DecodeMode, DecodeOptions, Item, expand
from streamtail.env import Env
from streamtail.errors import CredentialsError, ServiceError, UsageError
from streamtail.filters import RecordFilter, key_shards
from streamtail.model import Record, SourceKind, StreamRef
from streamtail.names import resolve
from streamtail.positions import parse_position, parse_until
from streamtail.render import FORMATS, RenderContext, make_renderer

if TYPE_CHECKING:
    from streamtail.aws import Connection
    from streamtail.reader import Pacing, WalkPlan
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
    expand_logs: bool = False
    skip_control: bool = False


def open_stream(name: str, conn: Connection, *, pool: int = 16) -> Source:
    """Resolve a stream name and open its source (`source.ref` is the resolved name)."""
    return open_ref(resolve(name), conn, pool=pool)


def open_ref(ref: StreamRef, conn: Connection, *, pool: int = 16) -> Source:
    from streamtail.aws import Clients
    from streamtail.sources import open_source

    clients = Clients(conn, region_hint=ref.region, pool=pool)
    return open_source(ref, clients)


def run_read(request: ReadRequest, env: Env, *, pacing: Pacing | None = None) -> None:
    """`read` and `follow`: stream records to env.stdout until a stop rule holds."""
    from streamtail.reader import Walker

    plan, output, record_filter, ref = _read_plan(request, env)
    source = open_ref(ref, request.conn, pool=64)
    if plan.position.timestamp is not None and not source.supports_timestamp:
        env.warn(
            "this stream has no AT_TIMESTAMP: reading from the trim horizon and skipping "
            "records older than --from",
            once="no-timestamp",
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
    options = DecodeOptions(request.decode, request.expand_logs, request.skip_control)
    # `aws` prints records as the API returned them; filters still look at what they hold.
    decoding = renderer.needs_decoded or record_filter.active or request.skip_control
    problems = DecodeProblems(env)
    remaining = request.limit
    batches = walker.batches()
    try:
        for records in batches:
            items: list[Item]
            if decoding:
                items = [item for record in records for item in expand(record, options)]
            else:
                items = [(record, _NOT_DECODED) for record in records]
            if renderer.needs_decoded:
                problems.note(items)
            kept = record_filter.apply(items)
            if decoding and not renderer.needs_decoded:
                kept = _originals(records, kept)
            if remaining is not None:
                kept = kept[:remaining]
                remaining -= len(kept)
            if kept:
                renderer.write(kept)
            if remaining == 0:
                break
    finally:
        batches.close()
        renderer.close()
        problems.close()


def _read_plan(request: ReadRequest, env: Env) -> tuple[WalkPlan, str, RecordFilter, StreamRef]:
    """Check a read request: the walk plan, the output format, the filter, the stream."""
    from streamtail.model import LATEST, TRIM_HORIZON
    from streamtail.reader import WalkPlan

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
    ref = resolve(request.stream)
    if request.key is not None and ref.kind is SourceKind.DYNAMODB:
        raise UsageError(
            "--key selects Kinesis partition keys; DynamoDB stream records have none",
            hint='match a DynamoDB key with --grep, e.g. --grep \'"pk":"a"\'',
        )
    if request.events and ref.kind is SourceKind.KINESIS:
        raise UsageError("--event applies to DynamoDB streams (ddb:TABLE)")
    plan = WalkPlan(
        position=position,
        follow=request.follow,
        until=until,
        idle_exit=request.idle_exit,
        shards=frozenset(request.shards),
        # A partition key lives in the shards whose hash-key range holds its MD5: read only those.
        accept=None if record_filter.key is None else key_shards(record_filter.key),
    )
    return plan, output, record_filter, ref


def _originals(records: list[Record], kept: Sequence[Item]) -> list[Item]:
    """The records (as read) that any kept item came from, once each, in order."""
    wanted = {record.seq for record, _ in kept}
    return [(record, _NOT_DECODED) for record in records if record.seq in wanted]


class DecodeProblems:
    """Payloads that did not decode as they claimed: the first of each kind named on stderr
    (shard and sequence number), a count of each kind at the end."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.counts: dict[str, int] = {}

    def note(self, items: Sequence[Item]) -> None:
        for record, decoded in items:
            warning = decoded.warning
            if warning is None:
                continue
            count = self.counts.get(warning, 0)
            self.counts[warning] = count + 1
            if count == 0:
                self.env.warn(f"shard {record.shard} seq {record.seq}: {warning}")

    def close(self) -> None:
        for warning, count in self.counts.items():
            if count > 1:
                self.env.warn(f"{count} records in all: {warning}")


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
