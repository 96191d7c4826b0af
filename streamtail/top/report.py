"""What `top` shows, as plain values: a row per shard, a row per key, the advice, for one span of
arrival time. Built from the counter's tallies and timelines; renderers take it as it is."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

from streamtail.model import Shard
from streamtail.top.advice import HOT_PCT, Advice, advise
from streamtail.top.sketch import Count
from streamtail.top.tally import BYTES_LIMIT, RECORDS_LIMIT, Peak, Tally, Timeline, limit_pct

#: the hash-key space: 0 .. 2^128 - 1
HASH_SPACE = 2**128
#: busiest keys named in each shard's row
SHARD_KEYS = 3


@dataclass(frozen=True)
class Rate:
    """Records and bytes over `seconds`."""

    records: int
    bytes: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    @property
    def kib_per_s(self) -> float:
        return self.bytes / 1024 / self.seconds if self.seconds > 0 else 0.0

    @property
    def limit_pct(self) -> float:
        return limit_pct(self.records, self.bytes, self.seconds)


@dataclass(frozen=True)
class ShardRow:
    shard: str
    #: the shard's share of the hash-key space in % (None: DynamoDB)
    space_pct: float | None
    closed: bool
    #: counts over the span
    span: Rate
    #: live: the last second and the last minute; None in a window report
    second: Rate | None = None
    minute: Rate | None = None
    #: live: records (or bytes with --by bytes) in each of the last 60 seconds, oldest first
    spark: tuple[int, ...] = ()
    peak_second: Peak | None = None
    peak_minute: Peak | None = None
    #: the shard's busiest keys over the span
    keys: tuple[Count, ...] = ()
    #: DynamoDB: INSERT, MODIFY, REMOVE, TTL -> changes over the span
    events: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class KeyRow:
    key: str
    #: the shard that took most of its records (a partition key has one, but across a split)
    shard: str
    #: every shard it was counted on, most records first
    shards: tuple[str, ...]
    #: its counts summed over those shards (errors too: each bounds its own count)
    count: Count
    rate: Rate
    #: share of the stream's records (or bytes with --by bytes) over the span, in %
    share_pct: float


@dataclass(frozen=True)
class Report:
    stream: str
    #: the span of arrival time counted: [start, end) in epoch seconds
    start: float
    end: float
    by: str
    dynamodb: bool
    shards: list[ShardRow]
    keys: list[KeyRow]
    advice: list[Advice]
    #: counts of keys are estimates (more keys than counters); `error` bounds them
    estimated: bool
    capacity: int
    error: tuple[int, int]
    #: what the keys are: "partition key", "Keys" (DynamoDB) or the --group-by path
    key_name: str
    live: bool = False


@dataclass(frozen=True)
class Scope:
    """What a report covers besides counts."""

    stream: str
    by: str
    top: int
    dynamodb: bool
    key_name: str
    #: keys are partition keys (a split point can be computed from their MD5)
    routed_by_key: bool


def build(
    scope: Scope,
    tally: Tally,
    timelines: dict[str, Timeline],
    shards: Iterable[Shard],
    *,
    start: float,
    end: float,
    live_second: int | None = None,
    within: tuple[int, int] | None = None,
    since: int | None = None,
) -> Report:
    """The report for [start, end). `live_second`: the newest complete second, for the live
    view's last-second and last-minute rates and sparkline (busiest second: since the start).
    `within`: the busiest second among these seconds only (an interval of live NDJSON).
    `since`: the second the live view began (its first minute is not a whole one)."""
    seconds = max(end - start, 1e-9)
    by_bytes = scope.by == "bytes"
    per_shard: dict[str, list[Count]] = {}
    for count in tally.keys.top():
        pair: tuple[str, str] = count.item  # type: ignore[assignment]
        per_shard.setdefault(pair[0], []).append(dataclasses.replace(count, item=pair[1]))
    rows = []
    advice = []
    for shard in shards:
        sid = shard.shard_id
        totals = tally.shards.get(sid)
        timeline = timelines.get(sid)
        records, size = (totals.records, totals.bytes) if totals else (0, 0)
        second = minute = None
        spark: tuple[int, ...] = ()
        if live_second is not None and timeline is not None:
            window = timeline.window(live_second + 1, 60)
            second = Rate(*window[-1], 1.0)
            counted = 60 if since is None else max(1, min(60, live_second + 1 - since))
            minute = Rate(sum(r for r, _ in window), sum(b for _, b in window), float(counted))
            spark = tuple(b if by_bytes else r for r, b in window)
        elif live_second is not None:
            second, minute, spark = Rate(0, 0, 1.0), Rate(0, 0, 60.0), (0,) * 60
        if timeline is None:
            peak = None
        elif within is not None:
            peak = _busiest(timeline, *within)
        else:
            peak = timeline.peak_second(None if live_second is None else live_second + 1)
        rows.append(
            ShardRow(
                shard=sid,
                space_pct=_space(shard),
                closed=shard.closed,
                span=Rate(records, size, seconds),
                second=second,
                minute=minute,
                spark=spark,
                peak_second=peak,
                peak_minute=(
                    timeline.peak_minute()
                    if timeline and live_second is None and within is None
                    else None
                ),
                keys=tuple(per_shard.get(sid, ())[:SHARD_KEYS]),
                events=dict(totals.events) if totals else {},
            )
        )
        if not scope.dynamodb and peak is not None and peak.pct(1) > HOT_PCT:
            measure = (
                "bytes" if peak.bytes / BYTES_LIMIT > peak.records / RECORDS_LIMIT else "records"
            )
            # the keys of that very second where the timeline kept them, else of the whole span
            second_keys = timeline.keys_at(peak.start) if timeline is not None else None
            advice.append(
                advise(
                    sid,
                    peak.start,
                    peak.pct(1),
                    measure,
                    keys=second_keys.top() if second_keys else per_shard.get(sid, ()),
                    hash_range=_range(shard),
                    routed_by_key=scope.routed_by_key,
                )
            )
    total = tally.keys.total[1 if by_bytes else 0] or 1
    keys = [
        KeyRow(
            key=str(count.item),
            shard=shards[0],
            shards=shards,
            count=count,
            rate=Rate(count.records, count.bytes, seconds),
            share_pct=100.0 * (count.bytes if by_bytes else count.records) / total,
        )
        for count, shards in _by_key(tally.keys.top(), by_bytes)[: scope.top]
    ]
    return Report(
        stream=scope.stream,
        start=start,
        end=end,
        by=scope.by,
        dynamodb=scope.dynamodb,
        shards=rows,
        keys=keys,
        advice=advice,
        estimated=not tally.keys.exact,
        capacity=tally.keys.capacity,
        error=tally.keys.max_error,
        key_name=scope.key_name,
        live=live_second is not None,
    )


def _by_key(counts: list[Count], by_bytes: bool) -> list[tuple[Count, tuple[str, ...]]]:
    """(shard, key) counts summed per key across shards (a --group-by value spread over the
    stream, a partition key before and after a split), ranked as the sketch ranks."""
    sums: dict[str, list[int]] = {}
    shards: dict[str, dict[str, int]] = {}
    for count in counts:
        pair: tuple[str, str] = count.item  # type: ignore[assignment]
        shard_id, key = pair
        totals = sums.setdefault(key, [0, 0, 0, 0])
        for i, value in enumerate(
            (count.records, count.bytes, count.records_error, count.bytes_error)
        ):
            totals[i] += value
        per = shards.setdefault(key, {})
        per[shard_id] = per.get(shard_id, 0) + count.records
    rank = 1 if by_bytes else 0
    ordered = sorted(sums.items(), key=lambda kv: (-kv[1][rank], -kv[1][1 - rank], kv[0]))
    return [
        (
            Count(key, *totals),
            tuple(sorted(shards[key], key=lambda sid: (-shards[key][sid], sid))),
        )
        for key, totals in ordered
    ]


def _busiest(timeline: Timeline, start: int, end: int) -> Peak | None:
    best: Peak | None = None
    for offset, (records, size) in enumerate(timeline.window(end, end - start)):
        if records and (best is None or limit_pct(records, size) > best.pct(1)):
            best = Peak(start + offset, records, size)
    return best


def _range(shard: Shard) -> tuple[int, int] | None:
    if shard.hash_start is None or shard.hash_end is None:
        return None
    return shard.hash_start, shard.hash_end


def _space(shard: Shard) -> float | None:
    bounds = _range(shard)
    if bounds is None:
        return None
    return 100.0 * (bounds[1] - bounds[0] + 1) / HASH_SPACE
