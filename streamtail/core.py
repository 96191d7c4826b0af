"""Wiring for each command: resolve the stream, open its source, walk, decode, filter, render.

Knows nothing of Typer; takes frozen requests from cli.py and an `Env`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamtail import memory
from streamtail.decode import DecodeMode, DecodeOptions
from streamtail.efo import check_consumer_option
from streamtail.env import Env
from streamtail.errors import (
    CredentialsError,
    NotFoundError,
    ServiceError,
    StreamtailError,
    UsageError,
)
from streamtail.filters import RecordFilter, check_filters, parse_hash_key, shards_for
from streamtail.formats import LISTING_FORMATS
from streamtail.model import SourceKind, StreamRef
from streamtail.names import resolve
from streamtail.positions import check_window, parse_duration, parse_position, parse_until
from streamtail.render import RenderContext, make_listing, make_renderer, output_format
from streamtail.render.columns import columns_for
from streamtail.render.raw import parse_delimiter
from streamtail.status import status_line

if TYPE_CHECKING:
    from streamtail.aws import Clients, Connection
    from streamtail.checkpoint import Checkpoint
    from streamtail.reader import Pacing, WalkPlan
    from streamtail.sources.base import Source


@dataclass(frozen=True)
class ReadRequest:
    """Everything `read` and `follow` were asked to do."""

    stream: str
    conn: Connection
    follow: bool = False
    start: str | None = None
    until: str | None = None
    limit: int | None = None
    #: --idle-exit DURATION (positions.parse_duration)
    idle_exit: str | None = None
    output: str | None = None
    #: --delimiter TEXT of `-o raw` (render.raw.parse_delimiter; None: a newline)
    delimiter: str | None = None
    decode: DecodeMode = DecodeMode.AUTO
    shards: tuple[str, ...] = ()
    key: str | None = None
    #: --hash-key HASH (decimal text, checked in read_setup)
    hash_key: str | None = None
    grep: str | None = None
    events: tuple[str, ...] = ()
    #: --where EXPR: JMESPath on each record's schema-v1 object (checked in read_setup)
    where: str | None = None
    #: --columns LIST: dotted paths for -o table, csv and tsv
    columns: str | None = None
    expand_logs: bool = False
    skip_control: bool = False
    #: --checkpoint FILE
    checkpoint: str | None = None
    #: --retry-timeout DURATION (None: the default of the command; inf: never give up)
    retry_timeout: str | None = None
    #: --avro-schema FILE, --proto-descriptor FILE, --proto-message NAME
    avro_schema: str | None = None
    proto_descriptor: str | None = None
    proto_message: str | None = None
    #: --efo: records pushed by SubscribeToShard to a registered consumer (enhanced fan-out)
    efo: bool = False
    #: --consumer NAME: the consumer --efo uses (registered if missing, left registered)
    consumer: str | None = None


@contextmanager
def open_stream(name: str, conn: Connection, env: Env) -> Iterator[Source]:
    """Resolve a stream name and open its polling source for the block (`source.ref` is the
    resolved name): `shards` and `lag`."""
    from streamtail.aws import clients_for
    from streamtail.sources import open_source

    ref = resolve(name)
    with open_source(ref, clients_for(conn, env, ref), clock=env.time_source) as source:
        yield source


@dataclass(frozen=True)
class ReadSetup:
    """A read request checked before any call: the walk's plan, the output format, the record
    filter and the stream."""

    request: ReadRequest
    plan: WalkPlan
    output: str
    record_filter: RecordFilter
    ref: StreamRef
    #: --columns, parsed (None: the format's own)
    columns: tuple[str, ...] | None = None
    #: what `raw` writes after each payload
    delimiter: bytes = b"\n"


def run_read(request: ReadRequest, env: Env, *, pacing: Pacing | None = None) -> None:
    """`read` and `follow`: stream records to env.stdout until a stop rule holds."""
    from streamtail.aws import clients_for
    from streamtail.sources import open_source

    setup = read_setup(request, env)
    # A bad checkpoint file is refused before anything is asked of the service.
    checkpoint = None if request.checkpoint is None else _open_checkpoint(request.checkpoint)
    memory.tune()
    try:
        clients = clients_for(request.conn, env, setup.ref, pool=64)
        options = decode_options(request, clients)  # a bad schema file costs no call
        # --efo: the source is a subscription one while the run's consumer is registered
        with open_source(
            setup.ref,
            clients,
            efo=request.efo,
            consumer=request.consumer,
            clock=env.time_source,
            env=env,
        ) as source:
            _read(setup, env, source=source, options=options, checkpoint=checkpoint, pacing=pacing)
    finally:
        if checkpoint is not None:
            checkpoint.close()


def _open_checkpoint(path: str) -> Checkpoint:
    from streamtail.checkpoint import Checkpoint

    if not path.strip():
        raise UsageError("invalid --checkpoint '': a file name is needed")
    return Checkpoint.open(Path(path))


def _read(
    setup: ReadSetup,
    env: Env,
    *,
    source: Source,
    options: DecodeOptions,
    checkpoint: Checkpoint | None,
    pacing: Pacing | None,
) -> None:
    from streamtail.printing import (
        DecodeProblems,
        PartialRecords,
        Printing,
        guarded,
        save_last,
        wind_down,
    )
    from streamtail.reader import Walker
    from streamtail.reader.start import skips_by_time
    from streamtail.render.ndjson import record_object

    request, plan, record_filter = setup.request, setup.plan, setup.record_filter
    if checkpoint is not None:
        plan = _resumed(plan, checkpoint, source, env, from_given=request.start is not None)
    if skips_by_time(plan.position, source):
        start = "the checkpoint's start" if checkpoint and checkpoint.existed else "--from"
        env.warn(
            "this stream has no AT_TIMESTAMP: reading from the trim horizon and skipping "
            f"records older than {start}",
            once="no-timestamp",
        )
    ref = source.ref
    ctx = RenderContext(
        env=env,
        stream=ref.display,
        raw_bytes=options.mode is DecodeMode.NONE,
        table=ref.name if ref.kind is SourceKind.DYNAMODB else None,
        columns=setup.columns,
        delimiter=setup.delimiter,
    )
    renderer = make_renderer(setup.output, ctx)
    # --where asks its expression of the object NDJSON prints for each record.
    record_filter = record_filter.seeing(partial(record_object, ctx))
    # `aws` prints records as the API returned them; filters still look at what they hold.
    decoding = renderer.needs_decoded or record_filter.active or request.skip_control
    printing = Printing(
        renderer=renderer,
        record_filter=record_filter,
        options=options,
        decoding=decoding,
        originals=decoding and not renderer.needs_decoded,
        problems=DecodeProblems(env),
        parts=PartialRecords(plan.resume),
        checkpoint=checkpoint,
        remaining=request.limit,
        write=renderer.write,
    )
    # The walker rate-limits its own retry notices; other repeats are limited here. It reports
    # its progress to the printing, which saves the checkpoint with it (first once the stream is
    # known to exist, before anything is printed).
    walker = Walker(
        source,
        plan,
        pacing=pacing,
        warn=lambda m: env.warn(m, every=10.0),
        clock=env.time_source,
        on_progress=printing.progressed,
    )
    batches = walker.batches()
    # A reader of stdout gone (`| head`) stops the walk at once, even while nothing arrives to
    # be written (an idle `follow` would otherwise poll on until its next record).
    watch = env.watch_reader(walker.stop)
    with status_line(env, walker.stats, ref.display, lambda: printing.shown) as status, watch as w:
        printing.write = guarded(
            renderer.write, env, shared=status is not None and env.stdout_isatty
        )
        failing = True
        try:
            for records in batches:
                if printing.batch(records):
                    break
            failing = False
        finally:
            steps = (
                batches.close,
                renderer.close,
                lambda: printing.problems.close(printing.shown),
                lambda: record_filter.report(env.warn),
                lambda: save_last(checkpoint, printing.progress),
            )
            wind_down(steps, env, failing=failing)
    if w.gone:
        raise BrokenPipeError("the reader of stdout went away")
    if walker.unended:
        shards = ", ".join(walker.unended)
        raise StreamtailError(
            f"read incomplete: shard(s) {shards} did not end, and their child shards were not read",
            hint="read again later, or `streamtail follow` reads on as they end",
        )


def _resumed(
    plan: WalkPlan, checkpoint: Checkpoint, source: Source, env: Env, *, from_given: bool
) -> WalkPlan:
    """The plan with the checkpoint's positions (the checkpoint checks it is this stream's)."""
    ref = source.ref
    position = checkpoint.adopt(ref, plan.position, env.wall(), _identity(source, env))
    if checkpoint.existed and from_given:
        env.warn(
            f"resuming from checkpoint {checkpoint.path}: --from applies to a new checkpoint only"
        )
    return dataclasses.replace(
        plan,
        position=position,
        resume=dict(checkpoint.positions),
        finished=frozenset(checkpoint.finished),
    )


def _identity(source: Source, env: Env) -> dict[str, str] | None:
    """The stream's identity for the checkpoint (one call), or None when the service will not
    tell (no kinesis:DescribeStreamSummary in the policy): checked by name only, as it says."""
    try:
        return source.identity()
    except NotFoundError:
        raise
    except StreamtailError as exc:
        env.warn(
            f"checkpoint checked by the stream's name only: its identity is unknown ({exc.message})"
        )
        return None


def decode_options(request: ReadRequest, clients: Clients) -> DecodeOptions:
    """How payloads are decoded: `--decode` as the schema options make it (schemas.decode_mode),
    and the schemas (the registry for GSR frames, the files given)."""
    from streamtail.schemas import GlueResolver, decode_mode, offline_schemas

    mode = decode_mode(
        request.decode, request.avro_schema, request.proto_descriptor, request.proto_message
    )
    resolver = None
    if mode in (DecodeMode.AUTO, DecodeMode.GSR):
        resolver = GlueResolver(lambda: clients.client("glue"))
    schemas = offline_schemas(
        request.avro_schema, request.proto_descriptor, request.proto_message, resolver
    )
    return DecodeOptions(mode, request.expand_logs, request.skip_control, schemas)


def read_setup(request: ReadRequest, env: Env) -> ReadSetup:
    """Check a read request: the walk plan, the output format, the filter, the stream."""
    from streamtail.model import LATEST, TRIM_HORIZON
    from streamtail.reader import WalkPlan

    now = env.wall()
    default = LATEST if request.follow else TRIM_HORIZON
    position = default if request.start is None else parse_position(request.start, now)
    until = None if request.until is None else parse_until(request.until, now)
    if until is not None and (request.start is not None or request.checkpoint is None):
        check_window(position, until, now, request.until or "")
    if request.limit is not None and request.limit < 1:
        raise UsageError(f"invalid --limit {request.limit}: must be 1 or more")
    idle_exit = None
    if request.idle_exit is not None:
        idle_exit = parse_duration(request.idle_exit, "--idle-exit")
        if not idle_exit > 0:
            raise UsageError(f"invalid --idle-exit {request.idle_exit!r}: must be more than 0")
    retry_timeout = None
    if request.retry_timeout is not None:
        retry_timeout = parse_duration(request.retry_timeout, "--retry-timeout", never=True)
    output = output_format(request.output, env)
    columns = columns_for(request.columns, output)
    delimiter = b"\n"
    if request.delimiter is not None:
        if output != "raw":
            raise UsageError(f"--delimiter is for -o raw, not -o {output}")
        delimiter = parse_delimiter(request.delimiter)
    check_consumer_option(request.efo, request.consumer)
    record_filter = RecordFilter.build(request.key, request.grep, request.events, request.where)
    for caution in record_filter.cautions():
        env.warn(caution)
    hash_key = None if request.hash_key is None else parse_hash_key(request.hash_key)
    ref = resolve(request.stream)
    check_filters(record_filter, ref.kind, hash_key=hash_key is not None)  # before any call
    plan = WalkPlan(
        position=position,
        follow=request.follow,
        until=until,
        idle_exit=idle_exit,
        shards=frozenset(request.shards),
        accept=shards_for(record_filter.key, hash_key),
        retry_timeout=retry_timeout,
    )
    return ReadSetup(request, plan, output, record_filter, ref, columns, delimiter)


def run_shards(name: str, conn: Connection, env: Env, output: str | None) -> None:
    """`shards STREAM`: the lineage as a tree on a terminal, NDJSON otherwise."""
    from streamtail.lineage import Lineage

    listing = make_listing(output_format(output, env, LISTING_FORMATS), env)
    with open_stream(name, conn, env) as source:
        listing.shards(source.ref.display, Lineage(source.list_shards()))


def run_ls(conn: Connection, env: Env, output: str | None) -> None:
    """`ls`: the account's Kinesis streams and DynamoDB tables that have a stream."""
    from streamtail import yandex
    from streamtail.aws import clients_for
    from streamtail.sources.dynamodb import list_table_streams
    from streamtail.sources.kinesis import list_streams

    listing = make_listing(output_format(output, env, LISTING_FORMATS), env)
    clients = clients_for(conn, env)
    kinesis = clients.client("kinesis")
    sides: list[tuple[str, Callable[[], list[dict[str, Any]]]]] = [
        ("Kinesis streams", lambda: list_streams(kinesis))
    ]
    # Yandex Data Streams has no DynamoDB Streams (sources/yds.YDS.lacks): not asked there.
    if not yandex.recognise(kinesis.meta.endpoint_url):
        sides.append(
            ("DynamoDB streams", lambda: list_table_streams(clients.client("dynamodbstreams")))
        )
    # Each side is asked on its own: an endpoint that serves one API only (DynamoDB Local answers
    # InvalidAction to Kinesis, kinesis-mock knows no DynamoDB) or a policy that allows one is
    # normal. Only when no side answers is it an error.
    streams: list[dict[str, Any]] = []
    failed: list[tuple[str, StreamtailError]] = []
    for what, ask in sides:
        try:
            streams += ask()
        except (ServiceError, CredentialsError, UsageError) as exc:
            failed.append((what, exc))
    if len(failed) == len(sides):
        raise failed[0][1]
    for what, error in failed:
        env.warn(f"{what} not listed: {error.message}")
    listing.streams(streams)
