"""`top` for people: a full-screen view redrawn in place (live), or one report (a past window).

The live view draws on the terminal's alternate screen with the cursor hidden, and `close()`
gives both back whatever ended the run, then prints the last frame on the normal screen so it
stays in the scrollback. Keys are data: every one passes `render.safe.inert()` and nothing is
parsed as markup. Knows nothing of the reader or boto3.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Sequence
from typing import Any, TextIO

from streamtail.env import Env
from streamtail.positions import format_ts
from streamtail.render.safe import inert
from streamtail.top.report import KeyRow, Report, ShardRow

_ENTER = b"\x1b[?1049h\x1b[?25l"
_LEAVE = b"\x1b[?25h\x1b[?1049l"
_BARS = "▁▂▃▄▅▆▇█"
#: sparkline cells: each two seconds of the last minute
_SPARK_CELLS = 30
_KEY_WIDTH = 28


def sparkline(values: tuple[int, ...], cells: int = _SPARK_CELLS) -> str:
    """The values summed into `cells` cells, each drawn as a bar scaled to the highest cell."""
    if not values:
        return ""
    step = max(len(values) // cells, 1)
    sums = [sum(values[i : i + step]) for i in range(0, len(values), step)]
    top = max(sums)
    if top == 0:
        return " " * len(sums)
    return "".join(
        " " if v == 0 else _BARS[min(len(_BARS) - 1, v * len(_BARS) // (top + 1))] for v in sums
    )


def _cut(text: str, width: int = _KEY_WIDTH) -> str:
    text = inert(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def _load_style(pct: float) -> str:
    return "bold red" if pct >= 80 else "yellow" if pct >= 50 else ""


def _header(report: Report) -> str:
    what = "changes" if report.dynamodb else "records"
    when = f"{format_ts(round(report.start * 1000))} to {format_ts(round(report.end * 1000))}"
    opened = sum(1 for row in report.shards if not row.closed)
    return (
        f"streamtail top {inert(report.stream)} · {opened} open shard{'s' if opened != 1 else ''}"
        f" · by {report.by if report.by == 'bytes' else what} · keys: {report.key_name} · {when}"
    )


def _shard_table(report: Report) -> Any:
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    rate = "CHG/S" if report.dynamodb else "REC/S"
    columns = ["SHARD", "SPACE"]
    if report.live:
        columns += [rate, "KIB/S", f"{rate} 1m", "KIB/S 1m", "LAST MINUTE"]
    else:
        columns += ["RECORDS", rate, "KIB/S", "BUSIEST SECOND", "BUSIEST MINUTE"]
    columns += ["MIX"] if report.dynamodb else ["LOAD", "PEAK"] if report.live else ["PEAK"]
    columns += ["BUSIEST KEYS"]
    rows = [_shard_cells(report, row) for row in report.shards]
    for i, column in enumerate(columns):
        right = column not in {"SHARD", "LAST MINUTE", "BUSIEST KEYS", "MIX"}
        # Every column but the keys keeps its width; the keys give way, cut with "…".
        widest = max([len(column)] + [len(str(row[i])) for row in rows])
        table.add_column(
            column,
            justify="right" if right else "left",
            no_wrap=True,
            min_width=None if column == "BUSIEST KEYS" else widest,
            overflow="ellipsis",
        )
    for cells in rows:
        table.add_row(*cells)
    return table


def _size(size: float) -> str:
    return f"{size / 1024 / 1024:,.1f} MiB" if size >= 1024 * 1024 else f"{size / 1024:,.0f} KiB"


def _shard_cells(report: Report, row: ShardRow) -> list[Any]:
    from rich.text import Text

    cells: list[Any] = [
        Text(inert(row.shard), style="dim" if row.closed else ""),
        _pct(row.space_pct),
    ]
    peak = row.peak_second
    peak_pct = peak.pct(1) if peak is not None else 0.0
    if report.live and row.second is not None and row.minute is not None:
        load = row.second.limit_pct
        cells += [
            f"{row.second.per_s:,.0f}",
            f"{row.second.kib_per_s:,.1f}",
            f"{row.minute.per_s:,.1f}",
            f"{row.minute.kib_per_s:,.1f}",
            Text(sparkline(row.spark), style="cyan"),
        ]
    else:
        minute = row.peak_minute
        cells += [
            f"{row.span.records:,}",
            f"{row.span.per_s:,.1f}",
            f"{row.span.kib_per_s:,.1f}",
            "-" if peak is None else f"{peak.records:,} rec {_size(peak.bytes)}",
            "-" if minute is None else f"{minute.records:,} rec {_size(minute.bytes)}",
        ]
    if report.dynamodb:
        mix = " ".join(f"{k} {v}" for k, v in sorted(row.events.items()))
        cells.append(mix or "-")
    else:
        if report.live:
            cells.append(Text(_pct(load), style=_load_style(load)))
        cells.append(Text(_pct(peak_pct), style=_load_style(peak_pct)))
    cells.append(Text(", ".join(_cut(str(c.item), 20) for c in row.keys) or "-"))
    return cells


def _key_table(report: Report) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    rate = "CHG/S" if report.dynamodb else "REC/S"
    for column in (
        "KEY" if report.key_name == "partition key" else report.key_name.upper(),
        rate,
        "KIB/S",
        "RECORDS",
        "SHARE",
        "SHARD",
    ):
        table.add_column(
            inert(column), justify="left" if column in {"SHARD"} else "right", no_wrap=True
        )
    table.columns[0].justify = "left"
    for key in report.keys:
        table.add_row(*_key_cells(report, key))
    if not report.keys:
        table.add_row(Text("(no records)", style="dim"))
    return table


def _key_cells(report: Report, key: KeyRow) -> list[Any]:
    from rich.text import Text

    records = f"{key.count.records:,}"
    if key.count.records_error:
        records = f"≤{records}"
    return [
        Text(_cut(key.key, 40)),
        f"{key.rate.per_s:,.1f}",
        f"{key.rate.kib_per_s:,.1f}",
        records,
        f"{key.share_pct:.1f}%",
        Text(inert(key.shard) + (f" +{len(key.shards) - 1}" if len(key.shards) > 1 else "")),
    ]


def _footer(report: Report) -> list[str]:
    lines = [f"! {inert(advice.sentence())}" for advice in report.advice]
    if report.estimated:
        lines.append(
            f"key counts are estimates (Space-Saving, {report.capacity:,} counters): each may be "
            f"up to {report.error[0]:,} records / {report.error[1]:,} bytes over, never under"
        )
    return lines


def render_report(
    report: Report, width: int, color: bool, notes: Sequence[str] = ()
) -> tuple[str, int]:
    """The report as terminal text (ANSI styles when `color`), and how many lines at its end
    are the footer (advice, the estimate's bound, `notes`: warnings held while on screen)."""
    from rich.console import Console, Group
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        markup=False,
        emoji=False,
    )
    keys_title = "keys over the last minute" if report.live else "top keys over the window"
    parts: list[Any] = [
        Text(_header(report), style="bold"),
        _shard_table(report),
        Text(""),
        Text(keys_title, style="bold"),
        _key_table(report),
    ]
    footer = _footer(report) + [inert(note) for note in notes]
    if footer:
        parts += [Text("")] + [Text(line, style="yellow") for line in footer]
    console.print(Group(*parts))
    text = buffer.getvalue()
    tail = len(Text("\n".join(footer)).wrap(console, width)) + 1 if footer else 0
    return text, tail


def fit(lines: list[str], height: int, tail: int) -> list[str]:
    """A frame cut to the terminal's height: the lines above the footer (the last `tail`: advice
    and warnings) give way, the footer stays; height 0: unknown, nothing cut."""
    if not height or len(lines) <= height:
        return lines
    keep = max(height - tail, 1)
    return (lines[:keep] + lines[len(lines) - tail :])[:height]


class TopScreen:
    """The `table` output of `top`: live, a screen redrawn in place; a window, one report."""

    def __init__(self, env: Env, *, live: bool) -> None:
        self.env = env
        self.fullscreen = live and env.stdout_isatty
        self.entered = False
        self.last: str | None = None
        #: while the screen is shown, stderr lines (warnings) when stderr is that terminal: shown
        #: under the report (a line written over the screen would be gone at the next frame), and
        #: written out once the screen is left
        self.held: io.StringIO | None = None
        self._stderr: TextIO | None = None

    def _size(self) -> tuple[int, int]:
        try:
            size = os.get_terminal_size(self.env.stdout.fileno())
            width, height = size.columns, size.lines
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            width, height = shutil.get_terminal_size((120, 0)).columns, 0  # COLUMNS, if set
        return self.env.width or width, height

    def frame(self, report: Report) -> None:
        width, height = self._size()
        notes = self.held.getvalue().splitlines()[-3:] if self.held is not None else []
        text, tail = render_report(report, width, self.env.color, notes)
        self.last = text
        if not self.fullscreen:
            self._write(text.encode("utf-8", "replace"))
            return
        lines = fit(text.splitlines(), height, tail)
        body = "\x1b[K\n".join(lines) + "\x1b[K\x1b[J"
        with self.env.terminal_lock:
            if not self.entered:
                self.entered = True
                self.env.stdout.write(_ENTER)
                if self.env.stderr_isatty:
                    self._stderr, self.held = self.env.stderr, io.StringIO()
                    self.env.stderr = self.held
            self._write(b"\x1b[H" + body.encode("utf-8", "replace"))

    def _write(self, data: bytes) -> None:
        self.env.stdout.write(data)
        self.env.stdout.flush()

    def close(self) -> None:
        """Give the terminal back (normal screen, cursor), and leave the last frame on it."""
        if not self.entered:
            return
        self.entered = False
        with self.env.terminal_lock:
            self.env.stdout.write(_LEAVE)
            if self.last is not None:
                self.env.stdout.write(self.last.encode("utf-8", "replace"))
            self.env.stdout.flush()
            if self._stderr is not None and self.held is not None:
                self.env.stderr = self._stderr
                self._stderr.write(self.held.getvalue())
                self._stderr.flush()
                self._stderr = self.held = None
