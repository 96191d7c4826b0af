"""Trimmed data seen as a stall (issue 16): empty batches far behind that never move on make a
shard jump to its trim horizon; nothing else does. A scripted source answers exactly the
MillisBehindLatest sequences each case needs (no local server produces them: moto and
kinesis-mock answer trimmed positions by reading on from the oldest record retained)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from streamtail.model import (
    TRIM_HORIZON,
    Batch,
    Position,
    PositionKind,
    Record,
    Resume,
    Shard,
    SourceKind,
    StreamRef,
)
from streamtail.reader import Walker, WalkPlan
from streamtail.reader.retry import STALL_BATCHES, STALL_MIN_BEHIND_MS
from streamtail.sources.base import KINESIS

from .fakes import FAST, Consumer, VirtualClock

SHARD = "shardId-000000000000"
DAY_MS = 86_400_000
TS = 1_700_000_000_000


def record(seq: int) -> Record:
    return Record(SHARD, str(seq), "k", TS + seq, b"x")


#: GetRecords call number (1-based, per iterator kind) -> the batch's records and behind
Script = Callable[[int], tuple[list[Record], int]]


class ScriptedSource:
    """One open shard: iterators after the resume position follow `stuck`; iterators at the
    trim horizon follow `horizon`."""

    max_limit = 10_000
    supports_timestamp = True
    service = KINESIS

    def __init__(self, stuck: Script, horizon: Script) -> None:
        self.ref = StreamRef(SourceKind.KINESIS, display="s", name="s")
        self.scripts = {"stuck": stuck, "horizon": horizon}
        self.calls = {"stuck": 0, "horizon": 0}
        self.iterators: list[PositionKind] = []
        self._lock = threading.Lock()

    def identity(self) -> dict[str, str]:
        return {"name": "s"}

    def list_shards(self) -> list[Shard]:
        return [Shard(SHARD, start_seq="1")]

    def get_iterator(self, shard: Shard, position: Position) -> str:
        with self._lock:
            self.iterators.append(position.kind)
        return "horizon" if position.kind is PositionKind.TRIM_HORIZON else "stuck"

    def get_records(self, shard: Shard, iterator: str, limit: int) -> Batch:
        with self._lock:
            self.calls[iterator] += 1
            n = self.calls[iterator]
        records, behind = self.scripts[iterator](n)
        return Batch(records, iterator, behind, limit=limit)


def walk(source: ScriptedSource, *, follow: bool = False) -> tuple[list[Record], list[str]]:
    warnings: list[str] = []
    plan = WalkPlan(
        TRIM_HORIZON,
        follow=follow,
        idle_exit=1.5 if follow else None,
        resume={SHARD: Resume("100", TS + 100)},
    )
    clock = VirtualClock()
    walker = Walker(source, plan, pacing=FAST, warn=warnings.append, clock=clock)
    return clock.drive(Consumer(walker), timeout=20).records, warnings


def tip(n: int) -> tuple[list[Record], int]:
    return [], 0


def test_a_stall_far_behind_jumps_to_the_trim_horizon_and_says_how_far() -> None:
    source = ScriptedSource(
        stuck=lambda n: ([], DAY_MS),  # an idle stream: MillisBehindLatest stays put
        horizon=lambda n: ([record(500), record(501)], 0) if n == 1 else tip(n),
    )
    records, warnings = walk(source)
    assert [r.seq for r in records] == ["500", "501"]
    assert source.iterators == [PositionKind.AFTER_SEQUENCE_NUMBER, PositionKind.TRIM_HORIZON]
    assert source.calls["stuck"] >= STALL_BATCHES
    [warning] = warnings
    assert warning.startswith(f"shard {SHARD}: seq 100 (the last record read, arrived ")
    assert "was trimmed (past the stream's retention); reading on from the oldest record " in (
        warning
    )
    assert "retained, seq 500" in warning


def test_a_stall_on_a_stream_still_written_grows_and_jumps_too() -> None:
    source = ScriptedSource(
        stuck=lambda n: ([], DAY_MS + 220 * n),  # the tip moves on, the iterator does not
        horizon=lambda n: ([record(500)], 0) if n == 1 else tip(n),
    )
    records, warnings = walk(source)
    assert [r.seq for r in records] == ["500"]
    assert len(warnings) == 1


@pytest.mark.parametrize(
    "stuck",
    [
        # behind and moving on, if only a millisecond a call, then records: never a stall
        lambda n: ([], 7_200_000 - n) if n <= 300 else ([record(101)], 0) if n == 301 else tip(n),
        # the tip of Yandex Data Streams (and AWS): MillisBehindLatest 0 on empty batches
        tip,
        # under a minute behind, however long it stays there
        lambda n: ([], STALL_MIN_BEHIND_MS - 1),
        # far behind, but records keep coming (then the tip)
        lambda n: (
            tip(n) if n > 300 else ([record(100 + n)], DAY_MS) if n % 10 == 0 else ([], DAY_MS)
        ),
    ],
    ids=["advancing", "yds-tip", "under-a-minute", "records-between"],
)
def test_nothing_else_is_taken_for_a_stall(stuck: Script) -> None:
    source = ScriptedSource(stuck=stuck, horizon=lambda n: pytest.fail("jumped"))
    walk(source, follow=True)
    assert source.iterators == [PositionKind.AFTER_SEQUENCE_NUMBER]
    assert source.calls["stuck"] > STALL_BATCHES + 1  # it had every chance to


def test_a_stall_whose_records_were_still_there_is_never_guessed_again() -> None:
    """The jump found the records after the last one read (not trimmed after all): they are
    read once, silently, and that shard's stalls are not taken for trimming again."""
    source = ScriptedSource(
        stuck=lambda n: ([], DAY_MS),
        horizon=lambda n: ([record(s) for s in range(90, 106)], DAY_MS) if n == 1 else ([], DAY_MS),
    )
    records, warnings = walk(source, follow=True)
    assert [r.seq for r in records] == [str(s) for s in range(101, 106)]
    assert warnings == []
    assert source.iterators == [PositionKind.AFTER_SEQUENCE_NUMBER, PositionKind.TRIM_HORIZON]
    assert source.calls["horizon"] > STALL_BATCHES + 1
