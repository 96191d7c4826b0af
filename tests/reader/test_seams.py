"""The reader's seams: a shard's worker sees the walk only through `ShardContext`, and the
messages it sends are a public module, not the worker's private classes."""

from __future__ import annotations

import ast
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from streamtail import reader
from streamtail.model import TRIM_HORIZON, Shard
from streamtail.reader import Pacing, WalkPlan, WalkStats
from streamtail.reader.context import ShardContext
from streamtail.reader.messages import Done, Failed, Message, Records
from streamtail.reader.retry import Notices
from streamtail.reader.shard import ShardWorker

from .fakes import FAST, SimulatedStream

SHARD_PY = Path(reader.__file__).with_name("shard.py")


def _imported(path: Path) -> set[str]:
    """Every name `path` imports, as `module.name` (TYPE_CHECKING imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_worker_does_not_import_the_walker() -> None:
    imported = _imported(SHARD_PY)
    assert "streamtail.reader.context.ShardContext" in imported
    assert not {name for name in imported if name.startswith("streamtail.reader.Walker")}
    assert "streamtail.reader" not in imported


def test_the_walker_uses_the_public_messages_only() -> None:
    imported = _imported(Path(reader.__file__))
    assert {
        "streamtail.reader.messages.Records",
        "streamtail.reader.messages.Done",
        "streamtail.reader.messages.Failed",
    } <= imported
    assert not {name for name in imported if name.rpartition(".")[2].startswith("_")}


@dataclass
class JustEnough:
    """A `ShardContext` that is not a Walker: the worker needs nothing more."""

    source: SimulatedStream
    plan: WalkPlan
    pacing: Pacing = FAST
    stats: WalkStats = field(default_factory=WalkStats)
    warnings: list[str] = field(default_factory=list)
    sent: list[Message] = field(default_factory=list)
    give_up_after: float | None = 5.0
    started_ms: int = 0
    limit: int = 2
    wall: Callable[[], float] = time.time
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self.notices = Notices(self.warn, self.clock, give_up_after=self.give_up_after)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def shard(self, shard_id: str) -> Shard:
        return next(s for s in self.source.list_shards() if s.shard_id == shard_id)

    def is_closed(self, shard_id: str) -> bool:
        return self.shard(shard_id).closed

    def has_children(self, shard_id: str) -> bool:
        return False

    def put(self, message: Message) -> bool:
        self.sent.append(message)
        return True

    def sleep(self, seconds: float) -> bool:
        if seconds > 0:
            time.sleep(seconds)  # pacing, not synchronisation: FAST keeps it to milliseconds
        return True


def test_a_worker_runs_on_a_context_that_is_not_a_walker() -> None:
    sim = SimulatedStream(1)
    (shard_id,) = sim.shard_ids()
    written = sim.put_to(shard_id, 5)
    ctx = JustEnough(sim, WalkPlan(TRIM_HORIZON))
    as_context: ShardContext = ctx  # what mypy would check, were tests type-checked
    ShardWorker(as_context, shard_id, TRIM_HORIZON).run()
    batches = [m for m in ctx.sent if isinstance(m, Records)]
    assert [r.seq for m in batches for r in m.records] == [r.seq for r in written]
    assert all(len(m.records) <= ctx.limit for m in batches)
    assert ctx.sent[-1] == Done(shard_id, "tip")
    assert not [m for m in ctx.sent if isinstance(m, Failed)]
    assert ctx.stats.calls >= 3
