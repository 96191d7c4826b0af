"""`table`: one aligned row per record for a person at a terminal (rich, colour when allowed).

Rows are printed as they arrive (a rich Table would wait for the end): a header once, then per
record the arrival time (UTC), shard, sequence number, partition key and the payload, truncated to
the terminal width with an ellipsis. Every value goes through `inert()` and rich `Text`, so record
content is never interpreted as markup or escape sequences.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from functools import partial
from typing import Any

import orjson
from rich.highlighter import JSONHighlighter
from rich.text import Text

from streamtail.decode import Decoded, Item, is_json, text_of
from streamtail.lineage import short_id
from streamtail.model import Change
from streamtail.positions import format_ts
from streamtail.render import RenderContext
from streamtail.render.cells import cells, fit, give_way, pad, tail
from streamtail.render.columns import cell, split, values_at
from streamtail.render.console import close_console, open_console
from streamtail.render.ndjson import record_object
from streamtail.render.safe import inert

_TIME_W = 12
_SHARD_W = 8
_SEQ_W = 12
_KEY_W = 16
_DEFAULT_WIDTH = 120
_EVENT_W = 10
_KEYS_W = 24
#: the payload column's minimum on a narrow terminal: the other columns give way first
_DATA_MIN = 20
#: the record columns (TIME, SHARD, SEQ, KEY): their widths, their minimums, and which give way
#: first on a narrow terminal (the sequence number, then the key, the time, the shard)
_RECORD_COLUMNS = ((_TIME_W, _SHARD_W, _SEQ_W, _KEY_W), (8, 5, 6, 7), (2, 3, 0, 1))
#: the change columns (TIME, EVENT, KEYS), the same way
_CHANGE_COLUMNS = ((_TIME_W, _EVENT_W, _KEYS_W), (8, 6, 10), (2, 0, 1))
_EVENT_STYLE = {"INSERT": "green", "MODIFY": "yellow", "REMOVE": "red"}


def _compact(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8") if not isinstance(value, str) else value


_SETS = frozenset({"SS", "NS", "BS"})


def _canonical(attr: Any) -> Any:
    """A typed attribute value in a form where equal values compare equal: set members sorted
    (DynamoDB sets have no order); maps compare as dicts, which ignore key order anyway."""
    if isinstance(attr, dict):
        return {
            tag: sorted(value, key=repr) if tag in _SETS else _canonical(value)
            for tag, value in attr.items()
        }
    if isinstance(attr, list):
        return [_canonical(v) for v in attr]
    return attr


def describe_change(event: str, images: dict[str, Any], typed: Change | None = None) -> str:
    """The change in one line: the image for INSERT/REMOVE, changed attributes for MODIFY.

    With the `typed` images, attributes are compared as DynamoDB values (a set or a map written
    again in another order is unchanged); without them, by their JSON text.
    """
    new, old = images.get("new"), images.get("old")
    if event == "MODIFY" and new is not None and old is not None:
        typed_new = typed.new or {} if typed else {}
        typed_old = typed.old or {} if typed else {}

        def same(name: str) -> bool:
            if name in typed_new and name in typed_old:
                return bool(_canonical(typed_new[name]) == _canonical(typed_old[name]))
            return _json(old[name]) == _json(new[name])

        parts = []
        for name in sorted(new.keys() | old.keys()):
            if name not in old:
                parts.append(f"+{name}: {_json(new[name])}")
            elif name not in new:
                parts.append(f"-{name}: {_json(old[name])}")
            elif not same(name):
                parts.append(f"{name}: {_json(old[name])} -> {_json(new[name])}")
        return ", ".join(parts) or "(no attribute changed)"
    image = new if new is not None else old
    return "" if image is None else _json(image)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


def short_shard(shard_id: str) -> str:
    """`shardId-000000000007` -> `7`, YDS's `shard-000001` -> `1`; other forms keep their tail
    (`--shard` takes the same short form: lineage.short_id)."""
    return short_id(shard_id, _SHARD_W)


def seq_cell(seq: str, subseq: int | None, width: int = _SEQ_W) -> str:
    """The end of the sequence number; `…989136:2` for the third record of a KPL aggregate."""
    if subseq is None:
        return tail(seq, width)
    suffix = f":{subseq}"
    return tail(seq, max(width - len(suffix), 2)) + suffix


def time_cell(ts_ms: int, width: int) -> str:
    """The arrival time of day, `03:04:05.250`; on a narrow terminal to the second."""
    return format_ts(ts_ms)[11:23][:width]


def binary_preview(b64: str, width: int) -> str:
    """`<1.2 KiB> 1f 8b 08 00 …`: the size and as many leading bytes in hex as fit."""
    size = len(b64) * 3 // 4 - b64[-2:].count("=")
    label = f"<{human_size(size)}>"
    room = width - len(label) - 1  # "xx" per byte, a space between, " …" when cut
    count = size if size * 3 - 1 <= room else max((room - 2) // 3, 0)
    head = base64.b64decode(b64[: (count + 2) // 3 * 4])[:count]
    shown = " ".join(f"{byte:02x}" for byte in head)
    more = " …" if count < size else ""
    return fit(f"{label} {shown}{more}".rstrip(), width)


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def _header(titles: Sequence[str], widths: Sequence[int], last: str) -> Text:
    """The header line: fixed-width column titles, then the last, free-width one."""
    line = Text(style="bold")
    for title, width in zip(titles, widths, strict=True):
        shown = title if cells(title) <= width else fit(title.split(" ")[0], width)
        line.append(pad(shown, width) + " ")
    line.append(last)
    return line


class TableRenderer:
    needs_decoded = True

    def __init__(self, ctx: RenderContext) -> None:
        self.ctx = ctx
        env = ctx.env
        self.console, self._text = open_console(env, soft_wrap=True)
        self._json = JSONHighlighter()
        self._header_done = False
        #: --columns: the columns chosen, in place of the default ones
        self.chosen = None if ctx.columns is None else ChosenColumns(ctx, self._json)

    @property
    def width(self) -> int:
        return self.ctx.env.width or self.console.width or _DEFAULT_WIDTH

    def header(self) -> Text:
        widths, _ = give_way(self.width, *_RECORD_COLUMNS, _DATA_MIN)
        return _header(("TIME (UTC)", "SHARD", "SEQ", "KEY"), widths, "DATA")

    def row(self, item: Item) -> Text:
        record, decoded = item
        (time_w, shard_w, seq_w, key_w), data_w = give_way(self.width, *_RECORD_COLUMNS, _DATA_MIN)
        line = Text()
        line.append(pad(time_cell(record.ts_ms, time_w), time_w) + " ", style="dim")
        line.append(pad(fit(short_shard(inert(record.shard)), shard_w), shard_w) + " ", "cyan")
        line.append(pad(seq_cell(inert(record.seq), record.subseq, seq_w), seq_w) + " ", "dim")
        line.append(pad(fit(inert(record.key), key_w), key_w) + " ", style="yellow")
        line.append_text(self.payload(decoded, data_w))
        return line

    def payload(self, decoded: Decoded, width: int) -> Text:
        """The DATA cell: the decoding steps dimmed (`gzip`, `kpl`; for a log event its log
        group), then JSON compact and highlighted, text as text, binary as its size and a hex
        preview; cut to `width`."""
        *steps, last = decoded.enc.split("+")
        cell = Text()
        if decoded.log is not None:  # a CloudWatch Logs event: where it was logged matters more
            cell.append(fit(inert(decoded.log.group), width // 3) + " ", style="blue")
        elif steps:
            cell.append(fit("+".join(steps), width) + " ", style="dim")
        room = max(width - cell.cell_len, 1)
        if is_json(decoded):
            cell.append_text(self._json(Text(fit(inert(text_of(decoded)), room))))
        elif last == "base64":
            cell.append(binary_preview(str(decoded.value), room), style="magenta")
        else:
            cell.append(fit(inert(str(decoded.value).rstrip("\r\n")), room))
        return cell

    def change_header(self) -> Text:
        widths, _ = give_way(self.width, *_CHANGE_COLUMNS, _DATA_MIN)
        return _header(("TIME (UTC)", "EVENT", "KEYS"), widths, "CHANGE")

    def change_row(self, item: Item) -> Text:
        """A DynamoDB change: keys, then the new image (INSERT), the old one (REMOVE), or for
        MODIFY only the attributes that changed, `name: old -> new`."""
        record, decoded = item
        change = record.change
        assert change is not None
        images = decoded.value
        (time_w, event_w, keys_w), width = give_way(self.width, *_CHANGE_COLUMNS, _DATA_MIN)
        line = Text()
        line.append(pad(time_cell(record.ts_ms, time_w), time_w) + " ", style="dim")
        event = inert(change.event) + (" ttl" if change.ttl else "")
        line.append(pad(fit(event, event_w), event_w) + " ", style=_EVENT_STYLE.get(change.event))
        keys = " ".join(f"{k}={_compact(v)}" for k, v in (images["keys"] or {}).items())
        line.append(pad(fit(inert(keys), keys_w), keys_w) + " ", style="yellow")
        line.append_text(
            self._json(Text(fit(inert(describe_change(change.event, images, change)), width)))
        )
        return line

    def write(self, items: Sequence[Item]) -> None:
        if not items:
            return
        changes = items[0][0].change is not None
        if not self._header_done:
            if self.chosen is not None:
                header = self.chosen.header(self.width)
            else:
                header = self.change_header() if changes else self.header()
            self.console.print(header, crop=True, overflow="ellipsis", no_wrap=True)
            self._header_done = True
        row = self.change_row if changes else self.row
        if self.chosen is not None:
            row = partial(self.chosen.row, self.width)
        for item in items:
            self.console.print(row(item), crop=True, overflow="ellipsis", no_wrap=True)
        self._text.flush()

    def close(self) -> None:
        close_console(self._text)


#: --columns: the width a top-level field's values take (other paths: _PATH_W), and a style
_FIELD_W = {"ts": 24, "shard": 20, "seq": 12, "subseq": 6, "key": 16, "enc": 10, "event": 6}
_PATH_W = 16
_FIELD_STYLE = {"ts": "dim", "shard": "cyan", "seq": "dim", "key": "yellow"}


class ChosenColumns:
    """The table of `--columns`: a column per path, headed by the path; every column but the
    last as wide as its field needs (the widest give way first on a narrow terminal), the last
    one free. A value is a cell as `csv` writes it (render/columns.py), JSON highlighted."""

    def __init__(self, ctx: RenderContext, highlight: JSONHighlighter) -> None:
        self.ctx = ctx
        self.headers = ctx.columns or ()
        self.paths = split(self.headers)
        self.highlight = highlight
        fixed = self.headers[:-1]
        self.preferred = tuple(max(_FIELD_W.get(p, _PATH_W), min(cells(p), 24)) for p in fixed)
        self.minimum = tuple(min(w, 6) for w in self.preferred)

    def widths(self, width: int) -> tuple[tuple[int, ...], int]:
        # on a narrow terminal the widest column gives way first, a cell at a time
        return give_way(width, self.preferred, self.minimum, None, _DATA_MIN)

    def header(self, width: int) -> Text:
        widths, _ = self.widths(width)
        return _header(self.headers[:-1], widths, self.headers[-1])

    def row(self, width: int, item: Item) -> Text:
        widths, last_w = self.widths(width)
        obj = record_object(self.ctx, item)
        line = Text()
        values = values_at(obj, self.paths)
        for index, (path, value) in enumerate(zip(self.paths, values, strict=True)):
            w = widths[index] if index < len(widths) else last_w
            text = inert(cell(value))
            shown = tail(text, w) if path == ("seq",) else fit(text, w)
            if index < len(widths):
                shown = pad(shown, w) + " "
            style = _FIELD_STYLE.get(".".join(path))
            if isinstance(value, str | None) or style:
                line.append(shown, style=style)
            else:
                line.append_text(self.highlight(Text(shown)))
        return line
