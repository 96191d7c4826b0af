"""`streamtail top STREAM`: where a stream's traffic goes, shard by shard and key by key.

Wiring only, on `read`'s own parts (core.py: the request checked, the source opened, --efo, the
`reader.Walker` with its pacing and resharding): batches are counted (counter.py) instead of
printed, and a report (report.py) is rendered every second live, or once for a past window
(`--from`). The aggregation package knows nothing of the reader or of output:

- sketch.py: counts per key in bounded memory (exact, then Space-Saving);
- tally.py: counts per shard and second (`Timeline`) and per span with keys (`Tally`);
- counter.py: records into those counts (sizes as the write limit counts them);
- advice.py: hot shards, their keys, SplitShard's NewStartingHashKey;
- report.py: the rows a renderer shows.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from streamtail.env import Env
from streamtail.errors import UsageError
from streamtail.paths import parse_path
from streamtail.positions import parse_duration

if TYPE_CHECKING:
    from streamtail.core import ReadRequest
    from streamtail.filters import RecordFilter
    from streamtail.model import Record, Shard
    from streamtail.reader import Pacing, Walker
    from streamtail.top.counter import Counter
    from streamtail.top.report import Report, Scope

#: a second of arrivals is counted complete this long after it ends: an idle shard is polled
#: about once a second (reader.Pacing.idle_interval), so its records of a second are in by then
SETTLE = 1.5
#: the live view's keys are counted in slots of this many seconds; the last minute's are merged
KEY_SLOT = 10
BY = ("records", "bytes")


@dataclass(frozen=True)
class TopRequest:
    """Everything `top` was asked to do; `read` carries what it shares with `read`."""

    read: ReadRequest
    by: str = "records"
    top: int = 10
    duration: str | None = None
    interval: str = "1s"
    group_by: str | None = None
    output: str | None = None


def run_top(request: TopRequest, env: Env, *, pacing: Pacing | None = None) -> None:
    from streamtail import memory
    from streamtail.aws import clients_for
    from streamtail.core import decode_options, read_setup
    from streamtail.formats import TOP_FORMATS
    from streamtail.model import SourceKind
    from streamtail.reader import Walker
    from streamtail.render import RenderContext, load, output_format
    from streamtail.render.ndjson import record_object
    from streamtail.top.report import Scope

    window = request.read.start is not None
    if request.read.until is not None and not window:
        raise UsageError("--until needs --from: a live view has no end but Ctrl-C or --duration")
    if request.by not in BY:
        raise UsageError(f"invalid --by {request.by!r}: choose records or bytes")
    if request.top < 1:
        raise UsageError(f"invalid --top {request.top}: must be 1 or more")
    interval = parse_duration(request.interval, "--interval")
    if interval < 1 or interval != int(interval):
        raise UsageError(f"invalid --interval {request.interval!r}: whole seconds, 1s or more")
    duration = None if request.duration is None else parse_duration(request.duration, "--duration")
    if duration is not None and (window or duration <= 0):
        raise UsageError("--duration applies to the live view (no --from), and must be above 0")
    path = _group_path(request.group_by)
    fmt = output_format(request.output, env, TOP_FORMATS)
    setup = read_setup(replace(request.read, follow=not window, output=None), env)
    dynamodb = setup.ref.kind is SourceKind.DYNAMODB
    key_name = request.group_by or ("Keys" if dynamodb else "partition key")
    scope = Scope(setup.ref.display, request.by, request.top, dynamodb, key_name, path is None)
    memory.tune()
    clients = clients_for(request.read.conn, env, setup.ref, pool=64)
    decoding = path is not None or setup.record_filter.active
    options = decode_options(request.read, clients) if decoding else None
    renderer = load(TOP_FORMATS[fmt])(env, live=not window)
    # --where asks its expression of the object `read -o ndjson` prints for each record.
    context = RenderContext(env, setup.ref.display, table=setup.ref.name if dynamodb else None)
    record_filter = setup.record_filter.seeing(partial(record_object, context))
    from streamtail.sources import open_source

    with open_source(
        setup.ref,
        clients,
        efo=request.read.efo,
        consumer=request.read.consumer,
        clock=env.time_source,
        env=env,
    ) as source:
        walker = Walker(
            source,
            setup.plan,
            pacing=pacing,
            warn=lambda m: env.warn(m, every=10.0),
            clock=env.time_source,
        )
        counter = _counter(request, dynamodb, fmt, int(interval), window)
        count = _counting(counter, path, options, record_filter)
        run = _Run(env, walker, counter, count, scope, renderer)
        try:
            if window:
                _window(run, setup.plan.until)
            else:
                _live(run, int(interval), duration, ndjson=fmt == "ndjson")
        finally:
            record_filter.report(env.warn)  # the records --where failed on, in one warning


def _group_path(group_by: str | None) -> tuple[str, ...] | None:
    if group_by is None:
        return None
    return parse_path(group_by, "--group-by")


def _counter(request: TopRequest, dynamodb: bool, fmt: str, interval: int, window: bool) -> Counter:
    from streamtail.top.counter import Counter, dynamodb_key, kinesis_key

    slot = None if window else interval if fmt == "ndjson" else KEY_SLOT
    return Counter(slot=slot, by=request.by, key_of=dynamodb_key if dynamodb else kinesis_key)


def _counting(
    counter: Counter, path: tuple[str, ...] | None, options: Any, record_filter: RecordFilter
) -> Any:
    """What counts a batch: the counter itself, or with --group-by or --where the payloads
    decoded first (a KPL aggregate's user records then count one by one, each with its own key
    and size), and with --where only the records it keeps."""
    if path is None and not record_filter.active:
        return counter.add
    from streamtail.decode import expand_all
    from streamtail.top.counter import group_key

    def count(records: list[Record]) -> None:
        items = record_filter.apply(expand_all(records, options))
        users = [record for record, _ in items]
        keyed = [counter.key_of(record) for record in users]
        if path is not None:
            keyed = [
                (group_key(path, d.value), k[1]) for (_, d), k in zip(items, keyed, strict=True)
            ]
        counter.add(users, keyed)

    return count


@dataclass(frozen=True)
class _Run:
    """The parts of one run: the walk, what counts its batches, what the report covers and the
    renderer it goes to."""

    env: Env
    walker: Walker
    counter: Counter
    #: counts one batch (Counter.add, or decoding first for --group-by)
    count: Any
    scope: Scope
    renderer: Any


def _window(run: _Run, until: float | None) -> None:
    """A past window: read it as `read` does, then one report."""
    from streamtail.status import status_line
    from streamtail.top.report import build
    from streamtail.top.tally import Tally

    env, walker, counter, scope = run.env, run.walker, run.counter, run.scope
    batches = walker.batches()
    watch = env.watch_reader(walker.stop)
    with status_line(env, walker.stats, scope.stream, lambda: walker.stats.records), watch as w:
        try:
            for records in batches:
                run.count(records)
        finally:
            batches.close()
    if w.gone:
        raise BrokenPipeError("the reader of stdout went away")
    position = walker.plan.position
    start = position.timestamp if position.timestamp is not None else counter.first
    end = until if until is not None else env.wall()
    if start is None:
        start = end
    tally = counter.slots.get(0) or Tally(counter.capacity, by=counter.by)
    shards = [s for s in walker.lineage.ordered() if not s.closed or s.shard_id in tally.shards]
    run.renderer.frame(build(scope, tally, counter.timelines, shards, start=start, end=end))
    run.renderer.close()


def _live(run: _Run, interval: int, duration: float | None, *, ndjson: bool) -> None:
    """The live view: the main thread counts batches, a ticker renders every second."""
    env, walker, counter, scope, renderer = (
        run.env,
        run.walker,
        run.counter,
        run.scope,
        run.renderer,
    )
    lock = threading.Lock()
    done = threading.Event()
    started = env.wall()
    ends = None if duration is None else env.clock() + duration
    emitted = [math.ceil(started / interval)]  # the next NDJSON interval to write
    failure: list[BaseException] = []

    def tick() -> None:
        now = env.wall()
        with lock:
            if ndjson:
                reports = _interval_reports(
                    walker, counter, scope, interval=interval, now=now, emitted=emitted
                )
            else:
                reports = [_screen_report(walker, counter, scope, now, started)]
        for report in reports:
            renderer.frame(report)

    def ticker() -> None:
        try:
            due = env.clock()
            while True:
                due += 1.0  # on a fixed beat: the time a frame takes does not add up
                if env.time_source.wait(done, max(due - env.clock(), 0.0)):
                    return
                tick()
                if ends is not None and env.clock() >= ends:
                    walker.stop()
                    return
        except BaseException as exc:  # a closed pipe, a failed write: end the walk, tell main
            failure.append(exc)
            walker.stop()

    thread = threading.Thread(target=ticker, name="top-ticker", daemon=True)
    batches = walker.batches()
    watch = env.watch_reader(walker.stop)
    try:
        with watch as w:
            thread.start()
            for records in batches:
                with lock:
                    run.count(records)
    finally:
        done.set()
        batches.close()
        if thread.is_alive():
            thread.join(timeout=5)
        renderer.close()
    if w.gone:
        raise BrokenPipeError("the reader of stdout went away")
    if failure:
        raise failure[0]


def _shards(walker: Walker) -> list[Shard]:
    """The walk's shards, parents first, read from the ticker while the walk may relist."""
    for _ in range(5):
        try:
            return walker.lineage.ordered()
        except RuntimeError:  # the listing changed while it was read: read it again
            continue
    return []


def _open(walker: Walker) -> list[Shard]:
    """Open shards: neither listed as closed nor read to their end (a parent whose last batch
    named its children may still be listed open until the next listing)."""
    finished = walker.finished
    return [s for s in _shards(walker) if not s.closed and s.shard_id not in finished]


def _screen_report(
    walker: Walker, counter: Counter, scope: Scope, now: float, started: float
) -> Report:
    from streamtail.top.report import build

    live_second = math.floor(now - 1 - SETTLE)
    first = (live_second - 59) // KEY_SLOT
    counter.drop_before(first)
    tally = counter.span(first, live_second // KEY_SLOT + 2)
    start = max(first * KEY_SLOT, started)
    return build(
        scope,
        tally,
        counter.timelines,
        _open(walker),
        start=start,
        end=max(now, start + 1),
        live_second=live_second,
        since=math.floor(started),
    )


def _interval_reports(
    walker: Walker, counter: Counter, scope: Scope, *, interval: int, now: float, emitted: list[int]
) -> list[Report]:
    from streamtail.top.report import build
    from streamtail.top.tally import Tally

    # Records read after their interval was written (a stalled shard) go into the next one.
    for late in counter.drop_before(emitted[0]).values():
        counter.tally(emitted[0]).merge(late)
    last_done = math.floor((now - SETTLE) / interval) - 1
    reports = []
    opened = _open(walker)
    for index in range(emitted[0], last_done + 1):
        tally = counter.slots.pop(index, None) or Tally(counter.capacity, by=counter.by)
        start, end = index * interval, (index + 1) * interval
        shards = [s for s in _shards(walker) if s in opened or s.shard_id in tally.shards]
        reports.append(
            build(
                scope, tally, counter.timelines, shards, start=start, end=end, within=(start, end)
            )
        )
    emitted[0] = max(emitted[0], last_done + 1)
    return reports
