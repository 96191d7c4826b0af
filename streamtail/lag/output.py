"""Output of `lag`: NDJSON, one object per shard, for programs; a table and a summary for people.

The writers get finished rows (lag/rows.py); they know nothing of boto3 or lease tables. They
live with the command whose rows they write: render/ holds the record and listing writers every
command shares, and never imports a command.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from streamtail.env import Env
from streamtail.positions import format_duration
from streamtail.render.safe import inert

if TYPE_CHECKING:
    from streamtail.lag.rows import LagRow, Summary

_STATE_STYLE = {"active": "green", "unowned": "yellow", "finished": "dim", "waiting": "cyan"}


def lag_text(lag_ms: int | None) -> str:
    return "?" if lag_ms is None else format_duration(lag_ms / 1000)


def summary_line(summary: Summary) -> str:
    """`2 workers (w-1: 3 shards, w-2: 1) · worst lag 4m 2s (shardId-…1) · 1 shard nobody
    renews (shardId-…2)`"""
    count = len(summary.workers)
    held = ", ".join(
        f"{inert(w)}: {n} shard{'s' if n != 1 else ''}" if i == 0 else f"{inert(w)}: {n}"
        for i, (w, n) in enumerate(summary.workers.items())
    )
    parts = [f"{count} worker{'s' if count != 1 else ''}" + (f" ({held})" if held else "")]
    worst = summary.worst
    if worst is None:
        parts.append("worst lag unknown")
    else:
        parts.append(f"worst lag {lag_text(worst.lag_ms)} ({inert(worst.shard)})")
    stale = summary.not_renewed
    if stale:
        names = ", ".join(inert(r.shard) for r in stale[:5]) + (", …" if len(stale) > 5 else "")
        parts.append(f"{len(stale)} shard{'s' if len(stale) != 1 else ''} nobody renews ({names})")
    elif summary.checked:
        parts.append("every shard with work is renewed")
    else:
        parts.append("renewal not checked")
    return " · ".join(parts)


class LagNdjson:
    """One JSON object per shard on stdout; the summary goes to stderr. With `--watch`, a set of
    lines every round (`redraw` means nothing to a stream of lines)."""

    def __init__(self, env: Env, *, redraw: bool = False) -> None:
        self.env = env

    def write(self, rows: Sequence[LagRow], summary: Summary) -> None:
        self.env.stdout.write(b"".join(orjson.dumps(row.to_json()) + b"\n" for row in rows))
        self.env.stdout.flush()
        self.env.line(f"streamtail: {summary_line(summary)}")


class LagTable:
    """A rich table and the summary under it; on a terminal, `--watch` redraws it in place."""

    def __init__(self, env: Env, *, redraw: bool = False) -> None:
        self.env = env
        self.redraw = redraw and env.stdout_isatty

    def write(self, rows: Sequence[LagRow], summary: Summary) -> None:
        from rich.table import Table
        from rich.text import Text

        from streamtail.render.console import stdout_console

        streams = {row.stream for row in rows}
        table = Table(box=None, header_style="bold")
        columns = ["SHARD", "STATE", "OWNER", "CHECKPOINT", "LAG", "RENEWED", "SWITCHES", "PARENTS"]
        if len(streams) > 1:
            columns.insert(0, "STREAM")
        # The shard, its state and lag are what a row is about: never cut. Owners (KCL worker ids
        # are often host:UUID), checkpoints (56 digits) and parents give way, cut with "…".
        whole = {
            "STREAM": max((len(r.stream or "?") for r in rows), default=6),
            "SHARD": max((len(r.shard) for r in rows), default=5),
            "STATE": 8,
            "LAG": 6,
            "RENEWED": 7,
            "SWITCHES": 8,
        }
        for column in columns:
            table.add_column(
                column,
                justify="right" if column in {"LAG", "SWITCHES"} else "left",
                min_width=whole.get(column),
                no_wrap=column in whole,
                overflow="ellipsis",
            )
        for row in rows:
            cells: list[Any] = [
                Text(inert(row.shard)),
                Text(row.state, style=_STATE_STYLE.get(row.state, "")),
                Text(inert(row.owner or "-")),
                Text(inert(_checkpoint(row))),
                Text(lag_text(row.lag_ms), style=_lag_style(row.lag_ms)),
                _renewed(row.renewed),
                Text("-" if row.owner_switches is None else str(row.owner_switches)),
                Text(inert(", ".join(row.parents) or "-"), style="dim"),
            ]
            if len(streams) > 1:
                cells.insert(0, Text(inert(row.stream or "?")))
            table.add_row(*cells)
        if self.redraw:
            # Home and clear the screen (rich's clear() needs a console it thinks a terminal,
            # which NO_COLOR turns off).
            self.env.stdout.write(b"\x1b[H\x1b[2J")
        with stdout_console(self.env) as console:
            console.print(table)
            console.print(Text(summary_line(summary), style="bold"))


def _lag_style(lag_ms: int | None) -> str:
    return "bold red" if lag_ms is not None and lag_ms >= 60_000 else ""


def _checkpoint(row: LagRow) -> str:
    if row.checkpoint is None:
        return "(no lease)"
    if row.subseq:
        return f"{row.checkpoint} #{row.subseq}"
    return row.checkpoint


def _renewed(renewed: bool | None) -> Any:
    from rich.text import Text

    if renewed is None:
        return Text("-", style="dim")
    return Text("yes", style="green") if renewed else Text("NO", style="bold red")
