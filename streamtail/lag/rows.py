"""What `lag` shows: one row per shard (state, owner, checkpoint, lag, liveness) and a summary.

Pure: leases and the shard listing in, rows out. States:
- `finished`: the lease is checkpointed at SHARD_END; a closed shard without a lease whose
  descendants have leases is finished too (KCL deletes a finished parent's lease once its children
  have started);
- `waiting`: a parent is not finished (KCL starts a child only after its parents);
- `active`: someone holds the lease; `unowned`: nobody does (or the shard has no lease yet).

`renewed`: whether the lease counter moved between the two reads of the table (KCL's owner adds 1
on every renewal); False for a lease nobody holds or one whose counter stood still, None where it
says nothing (finished shards, waiting shards without a lease, a single read).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from streamtail.lag.leases import SHARD_END, Lease
from streamtail.lag.measure import Measured
from streamtail.lineage import Lineage
from streamtail.model import Shard

ACTIVE = "active"
UNOWNED = "unowned"
FINISHED = "finished"
WAITING = "waiting"


@dataclass(frozen=True)
class LagRow:
    app: str
    stream: str | None
    shard: str
    state: str
    owner: str | None
    checkpoint: str | None
    subseq: int | None
    lag_ms: int | None
    renewed: bool | None
    owner_switches: int | None
    parents: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The NDJSON object (README "lag"): every key always present."""
        return {
            "app": self.app,
            "stream": self.stream,
            "shard": self.shard,
            "state": self.state,
            "owner": self.owner,
            "checkpoint": self.checkpoint,
            "subseq": self.subseq,
            "lag_ms": self.lag_ms,
            "renewed": self.renewed,
            "owner_switches": self.owner_switches,
            "parents": list(self.parents),
        }

    @property
    def alarming(self) -> bool:
        """Nobody works on a shard that has work: not renewed, and neither finished nor waiting."""
        return self.renewed is False and self.state in {ACTIVE, UNOWNED}


@dataclass(frozen=True)
class Plan:
    """The rows of one stream before their lag is measured."""

    rows: list[LagRow]
    #: shard -> (checkpoint, subseq) to measure, for rows with a lease that is not finished
    checkpoints: dict[str, tuple[str, int]]


def plan_rows(
    app: str,
    stream: str | None,
    before: Mapping[str, Lease] | None,
    after: Mapping[str, Lease],
    shards: Sequence[Shard] | None,
) -> Plan:
    """Rows for one stream: every lease, and every listed shard without one.

    `before`/`after` are the two reads of the table (shard id -> lease); `before` is None after a
    single read. `shards` is the stream's listing (None when the stream is not known)."""
    lineage = Lineage(shards or ())
    ids = [s.shard_id for s in lineage.ordered()] if shards else []
    ids += sorted(k for k in after if k not in lineage)
    parents = {sid: _parents(sid, after, lineage) for sid in ids}
    finished: dict[str, bool] = {}

    def is_finished(sid: str) -> bool:
        if sid not in finished:
            finished[sid] = False  # no cycles in a shard tree, but a bad table must not loop
            lease = after.get(sid)
            if lease is not None:
                finished[sid] = lease.finished
            elif sid not in lineage:
                finished[sid] = True  # aged out of the stream: long done
            else:
                shard = lineage.shards[sid]
                finished[sid] = shard.closed and any(
                    d in after for d in lineage.descendants([sid]) if d != sid
                )
        return finished[sid]

    rows: list[LagRow] = []
    checkpoints: dict[str, tuple[str, int]] = {}
    for sid in ids:
        lease = after.get(sid)
        if is_finished(sid):
            state = FINISHED
        elif not all(is_finished(p) for p in parents[sid]):
            state = WAITING
        elif lease is not None and lease.owner:
            state = ACTIVE
        else:
            state = UNOWNED
        if lease is not None and lease.checkpoint and state != FINISHED:
            checkpoints[sid] = (lease.checkpoint, lease.subseq)
        rows.append(
            LagRow(
                app=app,
                stream=stream,
                shard=sid,
                state=state,
                owner=lease.owner if lease else None,
                checkpoint=lease.checkpoint if lease else None,
                subseq=lease.subseq if lease else None,
                lag_ms=0 if state == FINISHED else None,
                renewed=_renewed(sid, state, before, lease),
                owner_switches=lease.owner_switches if lease else None,
                parents=parents[sid],
            )
        )
    return Plan(rows, checkpoints)


def _parents(sid: str, leases: Mapping[str, Lease], lineage: Lineage) -> tuple[str, ...]:
    lease = leases.get(sid)
    if lease is not None and lease.parents:
        return lease.parents
    shard = lineage.shards.get(sid)
    return tuple(sorted(shard.parents)) if shard is not None else ()


def _renewed(
    sid: str, state: str, before: Mapping[str, Lease] | None, lease: Lease | None
) -> bool | None:
    if before is None or state == FINISHED:
        return None
    if lease is None:
        return None if state == WAITING else False
    if not lease.owner:
        return False
    earlier = before.get(sid)
    # A lease that appeared or changed hands between the reads was just taken: that is work.
    return earlier is None or earlier.owner != lease.owner or lease.counter != earlier.counter


def with_lag(rows: Iterable[LagRow], measured: Mapping[str, Measured]) -> list[LagRow]:
    from dataclasses import replace

    return [
        replace(row, lag_ms=measured[row.shard].lag_ms) if row.shard in measured else row
        for row in rows
    ]


@dataclass(frozen=True)
class Summary:
    #: worker -> shards it holds (finished shards left out)
    workers: dict[str, int]
    worst: LagRow | None
    not_renewed: list[LagRow]
    shards: int
    #: whether renewal was looked at (two reads of the table)
    checked: bool = True


def summarize(rows: Sequence[LagRow]) -> Summary:
    held = Counter(r.owner for r in rows if r.owner and r.state != FINISHED)
    timed = [r for r in rows if r.lag_ms is not None and r.state != FINISHED]
    worst = max(timed, key=lambda r: r.lag_ms or 0, default=None)
    return Summary(
        workers=dict(sorted(held.items(), key=lambda kv: (-kv[1], kv[0]))),
        worst=worst,
        not_renewed=[r for r in rows if r.alarming],
        shards=len(rows),
        checked=any(r.renewed is not None for r in rows),
    )


def over_limit(rows: Sequence[LagRow], max_lag_ms: int) -> list[LagRow]:
    """Rows that fail `--max-lag`: further behind than the limit, or nobody renews them."""
    return [r for r in rows if r.alarming or (r.lag_ms is not None and r.lag_ms > max_lag_ms)]


__all__ = ["SHARD_END", "LagRow", "Plan", "Summary", "over_limit", "plan_rows", "summarize"]
