"""`streamtail lag APP`: where a KCL application is in its stream, shard by shard.

Wiring only: read the lease table twice `--interval` apart (leases.py), list each stream's
shards, build the rows (rows.py), measure each checkpoint's lag (measure.py), write
the output (output.py), and turn `--max-lag` into an exit status. `--watch` repeats it until Ctrl-C.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from streamtail.clock import pause
from streamtail.env import Env
from streamtail.errors import NotFoundError, StreamtailError, UsageError
from streamtail.positions import format_duration, parse_duration

if TYPE_CHECKING:
    from streamtail.aws import Connection
    from streamtail.lag.leases import Lease
    from streamtail.lag.rows import LagRow
    from streamtail.model import Shard
    from streamtail.reader import Pacing
    from streamtail.sources.base import Source

#: KCL renews each lease every failoverTimeMillis / 3 (10 s / 3 by default): two reads this far
#: apart see a live owner's counter move
DEFAULT_INTERVAL = "5s"
NO_STREAM = (
    "the lease table does not name its stream (a single-stream application): pass --stream NAME "
    "to measure lag and to list shards without a lease"
)


@dataclass(frozen=True)
class LagRequest:
    """Everything `lag` was asked to do."""

    app: str
    conn: Connection
    table: str | None = None
    stream: str | None = None
    interval: str = DEFAULT_INTERVAL
    watch: bool = False
    max_lag: str | None = None
    output: str | None = None


class LagExceeded(StreamtailError):
    """`--max-lag`: a shard is further behind, or a lease is not renewed (exit 1)."""


@dataclass
class _Streams:
    """Sources opened once per stream, for every round of `--watch`."""

    request: LagRequest
    env: Env
    #: closes the sources when the command ends
    opened: ExitStack
    sources: dict[str, Source | None] = field(default_factory=dict)

    def source(self, name: str, *, named_by_table: bool) -> Source | None:
        if name not in self.sources:
            from streamtail.core import open_stream

            try:
                self.sources[name] = self.opened.enter_context(
                    open_stream(name, self.request.conn, self.env)
                )
            except NotFoundError as exc:
                if not named_by_table:
                    raise
                self.env.warn(f"{exc.message}: its leases are shown without lag", once=name)
                self.sources[name] = None
        return self.sources[name]


def run_lag(
    request: LagRequest,
    env: Env,
    *,
    pacing: Pacing | None = None,
) -> None:
    """Show the application's progress; raise LagExceeded for `--max-lag`."""
    from streamtail.aws import clients_for
    from streamtail.formats import LAG_FORMATS
    from streamtail.lag.leases import check_lease_table
    from streamtail.render import load, output_format

    interval = parse_duration(request.interval, "--interval")
    max_lag = None if request.max_lag is None else parse_duration(request.max_lag, "--max-lag")
    if request.watch and max_lag is not None:
        raise UsageError(
            "--max-lag checks once and sets the exit status: it cannot go with --watch"
        )
    if request.watch and interval <= 0:
        raise UsageError("--watch needs an --interval above 0")
    table = request.table or request.app
    dynamodb = clients_for(request.conn, env).client("dynamodb")
    check_lease_table(dynamodb, table)
    renderer = load(LAG_FORMATS[output_format(request.output, env, LAG_FORMATS)])(
        env, redraw=request.watch
    )
    from streamtail.lag.leases import read_leases
    from streamtail.lag.rows import summarize

    leases = read_leases(dynamodb, table)
    if request.stream is not None:
        check_stream(request.app, request.stream, leases)
    with ExitStack() as opened:
        streams = _Streams(request, env, opened)
        while True:
            if interval > 0:
                pause(env.time_source, interval)
                later = read_leases(dynamodb, table)
                rows = _rows(request, env, streams, leases, later, pacing)
                leases = later
            else:
                rows = _rows(request, env, streams, None, leases, pacing)
            renderer.write(rows, summarize(rows))
            if not request.watch:
                break
    if max_lag is not None:
        _check(rows, max_lag)


def _rows(  # noqa: PLR0917  (the parts of one round, passed on)
    request: LagRequest,
    env: Env,
    streams: _Streams,
    before: list[Lease] | None,
    after: list[Lease],
    pacing: Pacing | None,
) -> list[LagRow]:
    from streamtail.lag.measure import Job, LagMeter
    from streamtail.lag.rows import plan_rows, with_lag

    groups = _by_stream(request, after)
    if not after:
        env.warn("the lease table holds no lease (the application has not started?)", once="none")
    if not groups and request.stream is not None:
        groups = {request.stream: []}  # no lease for this stream yet: every shard is unowned
    rows: list[LagRow] = []
    for name, leases in groups.items():
        source = None
        if name is not None:
            source = streams.source(name, named_by_table=request.stream is None)
        elif leases:
            env.warn(NO_STREAM, once="no-stream")
        shards: list[Shard] | None = source.list_shards() if source is not None else None
        keys = {lease.key for lease in leases}
        earlier = None if before is None else {x.shard: x for x in before if x.key in keys}
        plan = plan_rows(request.app, name, earlier, {x.shard: x for x in leases}, shards)
        if source is None:
            rows += plan.rows
            continue
        listed = {s.shard_id: s for s in shards or ()}
        from streamtail.model import Shard as ShardType

        jobs = [
            Job(listed.get(sid) or ShardType(sid), checkpoint, subseq)
            for sid, (checkpoint, subseq) in plan.checkpoints.items()
        ]
        measured = LagMeter(
            source, pacing=pacing, clock=env.time_source, warn=lambda m: env.warn(m, every=10.0)
        ).measure_all(jobs)
        _tell_unknown(env, measured)
        rows += with_lag(plan.rows, measured)
    return rows


def _by_stream(request: LagRequest, leases: list[Lease]) -> dict[str | None, list[Lease]]:
    """Leases per stream: the table's own stream names (multi-stream), or `--stream`."""
    groups: dict[str | None, list[Lease]] = {}
    wanted = None
    if request.stream is not None:
        from streamtail.names import resolve

        ref = resolve(request.stream)
        wanted = {request.stream, ref.name, ref.display}
    for lease in leases:
        if lease.stream is None:
            groups.setdefault(request.stream, []).append(lease)
        elif wanted is None:
            groups.setdefault(lease.stream, []).append(lease)
        elif lease.stream in wanted:
            groups.setdefault(request.stream, []).append(lease)
    return dict(sorted(groups.items(), key=lambda kv: kv[0] or ""))


def check_stream(app: str, stream: str, leases: list[Lease]) -> None:
    """Refuse (exit 2, one line) a --stream the leases cannot be of: a stream a multi-stream
    application does not read, or a DynamoDB stream for a Kinesis application (its leases are of
    Kinesis shards) or the reverse, before any of its shards are listed or measured."""
    from streamtail.model import SourceKind
    from streamtail.names import resolve
    from streamtail.sources.dynamodb import is_shard_id

    ref = resolve(stream)
    named = sorted({x.stream for x in leases if x.stream is not None})
    if named and not {stream, ref.name, ref.display} & set(named):
        raise UsageError(
            f"--stream {stream} matches no lease of {app}: it reads {', '.join(named)}",
            hint="give one of those streams, or leave --stream out to see them all",
        )
    single = [x.shard for x in leases if x.stream is None]
    if not single:
        return
    dynamodb_app = all(is_shard_id(shard) for shard in single)
    if ref.kind is SourceKind.DYNAMODB and not dynamodb_app:
        raise UsageError(
            f"--stream {stream} is a DynamoDB stream, but the leases of {app} are of Kinesis "
            f"shards ({single[0]}): give the Kinesis stream it reads"
        )
    if ref.kind is not SourceKind.DYNAMODB and dynamodb_app:
        raise UsageError(
            f"--stream {stream} is a Kinesis stream, but the leases of {app} are of DynamoDB "
            f"Streams shards ({single[0]}): give ddb:TABLE or the stream ARN"
        )


def _tell_unknown(env: Env, measured: dict[str, Any]) -> None:
    """Each reason a lag is unknown, once, with the shards it applies to."""
    reasons: dict[str, list[str]] = {}
    for shard, result in measured.items():
        if result.lag_ms is None and result.reason:
            reasons.setdefault(result.reason, []).append(shard)
    for reason, shards in reasons.items():
        env.warn(f"lag unknown for {', '.join(sorted(shards))}: {reason}", once=reason)


def _check(rows: list[LagRow], max_lag: float) -> None:
    from streamtail.lag.rows import over_limit

    limit_ms = round(max_lag * 1000)
    failing = over_limit(rows, limit_ms)
    if not failing:
        return
    behind = [r for r in failing if r.lag_ms is not None and r.lag_ms > limit_ms]
    stale = [r for r in failing if r.alarming]
    parts = []
    if behind:
        worst = max(behind, key=lambda r: r.lag_ms or 0)
        parts.append(
            f"{len(behind)} shard{'s' if len(behind) != 1 else ''} behind more than "
            f"{format_duration(max_lag)} (worst {worst.shard}: "
            f"{format_duration((worst.lag_ms or 0) / 1000)})"
        )
    if stale:
        parts.append(
            f"{len(stale)} shard{'s' if len(stale) != 1 else ''} nobody renews "
            f"({', '.join(r.shard for r in stale)})"
        )
    raise LagExceeded("--max-lag: " + "; ".join(parts))
