"""Wiring for each command: resolve the stream, open its source, walk, decode, filter, render.

Knows nothing of Typer; takes frozen requests from cli.py and an `Env`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from streamtail import memory
from streamtail.decode import Decoded, DecodeMode, DecodeOptions, Item, expand_all
from streamtail.env import Env
from streamtail.errors import CredentialsError, ServiceError, UsageError
from streamtail.filters import RecordFilter, key_shards
from streamtail.model import Record, SourceKind, StreamRef
from streamtail.names import resolve
from streamtail.positions import parse_position, parse_until
from streamtail.render import LISTINGS, RenderContext, make_listing, make_renderer, output_format
from streamtail.signals import shielded
from streamtail.status import status_line

if TYPE_CHECKING:
    from streamtail.aws import Clients, Connection
    from streamtail.checkpoint import Checkpoint, PartialRecords
    from streamtail.reader import Pacing, Walker, WalkPlan
    from streamtail.render import Renderer
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
    #: --checkpoint FILE
    checkpoint: str | None = None
    #: --retry-timeout SECONDS (None: the default of the command; inf: never give up)
    retry_timeout: float | None = None


def open_stream(name: str, conn: Connection, env: Env, *, pool: int = 16) -> Source:
    """Resolve a stream name and open its source (`source.ref` is the resolved name)."""
    return open_ref(resolve(name), conn, env, pool=pool)


def open_ref(ref: StreamRef, conn: Connection, env: Env, *, pool: int = 16) -> Source:
    from streamtail.sources import open_source

    return open_source(ref, clients_for(ref, conn, env, pool=pool))


def clients_for(ref: StreamRef, conn: Connection, env: Env, *, pool: int = 16) -> Clients:
    from streamtail.aws import Clients

    return Clients(
        conn,
        region_hint=ref.region,
        default_region=ref.default_region,
        pool=pool,
        log=_debug_log(env),
    )


def _debug_log(env: Env) -> Callable[[str], None] | None:
    """Where `--debug` request logs go: stderr, as lines that keep clear of the status line."""
    return env.line if env.debug else None


def run_read(request: ReadRequest, env: Env, *, pacing: Pacing | None = None) -> None:
    """`read` and `follow`: stream records to env.stdout until a stop rule holds."""
    plan, output, record_filter, ref = _read_plan(request, env)
    # A bad checkpoint file is refused before anything is asked of the service.
    checkpoint = None if request.checkpoint is None else _open_checkpoint(request.checkpoint)
    memory.tune()
    try:
        _read(request, env, plan, output, record_filter, ref, checkpoint, pacing)
    finally:
        if checkpoint is not None:
            checkpoint.close()


def _open_checkpoint(path: str) -> Checkpoint:
    from streamtail.checkpoint import Checkpoint

    if not path.strip():
        raise UsageError("invalid --checkpoint '': a file name is needed")
    return Checkpoint.open(Path(path))


def _read(  # noqa: PLR0917  (the parts of a checked request, passed on)
    request: ReadRequest,
    env: Env,
    plan: WalkPlan,
    output: str,
    record_filter: RecordFilter,
    ref: StreamRef,
    checkpoint: Checkpoint | None,
    pacing: Pacing | None,
) -> None:
    from streamtail.checkpoint import PartialRecords
    from streamtail.reader import Walker

    source = open_ref(ref, request.conn, env, pool=64)
    if checkpoint is not None:
        plan = _resumed(plan, checkpoint, source.ref, env, from_given=request.start is not None)
    if plan.position.timestamp is not None and not source.supports_timestamp:
        start = "the checkpoint's start" if checkpoint and checkpoint.existed else "--from"
        env.warn(
            "this stream has no AT_TIMESTAMP: reading from the trim horizon and skipping "
            f"records older than {start}",
            once="no-timestamp",
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
    # `aws` prints records as the API returned them; filters still look at what they hold.
    decoding = renderer.needs_decoded or record_filter.active or request.skip_control
    printing = _Printing(
        renderer=renderer,
        record_filter=record_filter,
        options=DecodeOptions(request.decode, request.expand_logs, request.skip_control),
        decoding=decoding,
        originals=decoding and not renderer.needs_decoded,
        problems=DecodeProblems(env),
        parts=PartialRecords(plan.resume),
        checkpoint=checkpoint,
        walker=walker,
        remaining=request.limit,
        write=renderer.write,
    )
    batches = walker.batches()
    with status_line(env, walker.stats, ref.display, lambda: printing.shown) as status:
        printing.write = _guarded(
            renderer.write, env, shared=status is not None and env.stdout_isatty
        )
        try:
            for records in batches:
                if printing.batch(records):
                    break
        finally:
            try:
                batches.close()
                renderer.close()
                printing.problems.close()
            finally:
                _save_last(checkpoint, walker)


@dataclass
class _Printing:
    """One read's way from batches to stdout: expand, filter, --limit, print, checkpoint."""

    renderer: Renderer
    record_filter: RecordFilter
    options: DecodeOptions
    decoding: bool
    #: print the records themselves (`aws`) rather than what they expand to
    originals: bool
    problems: DecodeProblems
    parts: PartialRecords
    checkpoint: Checkpoint | None
    walker: Walker
    remaining: int | None
    write: Callable[[Sequence[Item]], None]
    shown: int = 0

    def batch(self, records: list[Record]) -> bool:
        """Print one batch; True once --limit is reached."""
        items: list[Item]
        if self.decoding:
            items = self.parts.unprinted(expand_all(records, self.options))
        else:
            items = [(record, _NOT_DECODED) for record in records]
        if self.renderer.needs_decoded:
            self.problems.note(items)
        kept = self.record_filter.apply(items)
        kept = _originals(records, kept) if self.originals else list(kept)
        partial = None
        if self.remaining is not None:
            if len(kept) > self.remaining and not self.originals:
                partial = self.parts.cut(items, kept[self.remaining - 1])
            kept = kept[: self.remaining]
            self.remaining -= len(kept)
        # Printed and recorded together, or neither: Ctrl-C and SIGTERM wait for this.
        with shielded():
            if kept:
                self.write(kept)
                self.shown += len(kept)
            if self.checkpoint is not None:
                self.checkpoint.note((r for r, _ in kept), partial)
                _save(self.checkpoint, self.walker)
        return self.remaining == 0


def _resumed(
    plan: WalkPlan, checkpoint: Checkpoint, ref: StreamRef, env: Env, *, from_given: bool
) -> WalkPlan:
    """The plan with the checkpoint's positions (the checkpoint checks it is this stream's)."""
    position = checkpoint.adopt(ref, plan.position, env.wall())
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


def _save_last(checkpoint: Checkpoint | None, walker: Walker) -> None:
    """The save on the way out: even when stdout went away (| head) or the walk failed; not
    when the stream was never listed (a mistyped name leaves no checkpoint behind)."""
    if checkpoint is not None and (checkpoint.existed or walker.lineage.shards):
        with shielded():
            _save(checkpoint, walker)


def _save(checkpoint: Checkpoint, walker: Walker) -> None:
    """Save what has been printed, and which shards have nothing left to read."""
    checkpoint.save(walker.finished, walker.lineage.shards.keys())


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
    if request.idle_exit is not None and not request.idle_exit > 0:
        raise UsageError(f"invalid --idle-exit {request.idle_exit}: must be more than 0")
    if request.retry_timeout is not None and not request.retry_timeout >= 0:
        raise UsageError(
            f"invalid --retry-timeout {request.retry_timeout}: must be 0 or more (inf: never)"
        )
    output = output_format(request.output, env)
    record_filter = RecordFilter.build(request.key, request.grep, request.events)
    ref = resolve(request.stream)
    _check_filters(record_filter, ref.kind)  # before any request: a usage error costs no call
    plan = WalkPlan(
        position=position,
        follow=request.follow,
        until=until,
        idle_exit=request.idle_exit,
        shards=frozenset(request.shards),
        # A partition key lives in the shards whose hash-key range holds its MD5: read only those.
        accept=None if record_filter.key is None else key_shards(record_filter.key),
        retry_timeout=request.retry_timeout,
    )
    return plan, output, record_filter, ref


def _check_filters(record_filter: RecordFilter, kind: SourceKind) -> None:
    """Filters that cannot match on this kind of stream are a usage error, not silence."""
    if record_filter.events and kind is not SourceKind.DYNAMODB:
        raise UsageError("--event applies to DynamoDB streams only (ddb:TABLE)")
    if record_filter.key is not None and kind is not SourceKind.KINESIS:
        raise UsageError(
            "--key applies to Kinesis streams only", hint="use --grep to match DynamoDB keys"
        )


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

    listing = make_listing(output_format(output, env, LISTINGS), env)
    source = open_stream(name, conn, env)
    listing.shards(source.ref.display, Lineage(source.list_shards()))


def run_ls(conn: Connection, env: Env, output: str | None) -> None:
    """`ls`: the account's Kinesis streams and DynamoDB tables that have a stream."""
    from streamtail.aws import Clients
    from streamtail.sources.dynamodb import list_table_streams
    from streamtail.sources.kinesis import list_streams

    listing = make_listing(output_format(output, env, LISTINGS), env)
    clients = Clients(conn, log=_debug_log(env))
    streams = list_streams(clients.client("kinesis"))
    try:
        streams += list_table_streams(clients.client("dynamodbstreams"))
    except (ServiceError, CredentialsError, UsageError) as exc:
        # Kinesis-only endpoints (Yandex, kinesis-mock) and Kinesis-only IAM policies are normal.
        env.warn(f"DynamoDB streams not listed: {exc.message}")
    listing.streams(streams)
