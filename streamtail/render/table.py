"""`table`: one aligned row per record for a person at a terminal (rich, colour when allowed).

Rows are printed as they arrive (a rich Table would wait for the end): a header once, then per
record the arrival time (UTC), shard, sequence number, partition key and the payload, truncated to
the terminal width with an ellipsis. Every value goes through `inert()` and rich `Text`, so record
content is never interpreted as markup or escape sequences.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import orjson
from rich.highlighter import JSONHighlighter
from rich.text import Text

from streamtail.decode import Decoded, Item, is_json, text_of
from streamtail.lineage import short_id
from streamtail.model import Change
from streamtail.positions import format_ts
from streamtail.render import RenderContext
from streamtail.render.console import close_console, open_console
from streamtail.render.safe import inert

_TIME_W = 12
_SHARD_W = 8
_SEQ_W = 12
_KEY_W = 16
_DEFAULT_WIDTH = 120
_EVENT_W = 10
_KEYS_W = 24
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


def fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def tail(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def seq_cell(seq: str, subseq: int | None) -> str:
    """The end of the sequence number; `…989136:2` for the third record of a KPL aggregate."""
    if subseq is None:
        return tail(seq, _SEQ_W)
    suffix = f":{subseq}"
    return tail(seq, max(_SEQ_W - len(suffix), 2)) + suffix


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


def _header(columns: list[tuple[str, int]], last: str) -> Text:
    """The header line: fixed-width column titles, then the last, free-width one."""
    line = Text(style="bold")
    for title, width in columns:
        line.append(f"{title:<{width}} ")
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

    @property
    def width(self) -> int:
        return self.ctx.env.width or self.console.width or _DEFAULT_WIDTH

    def _data_width(self) -> int:
        return max(self.width - (_TIME_W + _SHARD_W + _SEQ_W + _KEY_W + 4), 10)

    def header(self) -> Text:
        return _header(
            [("TIME (UTC)", _TIME_W), ("SHARD", _SHARD_W), ("SEQ", _SEQ_W), ("KEY", _KEY_W)],
            "DATA",
        )

    def row(self, item: Item) -> Text:
        record, decoded = item
        line = Text()
        line.append(f"{format_ts(record.ts_ms)[11:23]:<{_TIME_W}} ", style="dim")
        line.append(f"{short_shard(inert(record.shard)):<{_SHARD_W}} ", style="cyan")
        line.append(f"{seq_cell(inert(record.seq), record.subseq):<{_SEQ_W}} ", style="dim")
        line.append(f"{fit(inert(record.key), _KEY_W):<{_KEY_W}} ", style="yellow")
        line.append_text(self.payload(decoded, self._data_width()))
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
        room = max(width - len(cell), 1)
        if is_json(decoded):
            cell.append_text(self._json(Text(fit(inert(text_of(decoded)), room))))
        elif last == "base64":
            cell.append(binary_preview(str(decoded.value), room), style="magenta")
        else:
            cell.append(fit(inert(str(decoded.value).rstrip("\r\n")), room))
        return cell

    def change_header(self) -> Text:
        return _header([("TIME (UTC)", _TIME_W), ("EVENT", _EVENT_W), ("KEYS", _KEYS_W)], "CHANGE")

    def change_row(self, item: Item) -> Text:
        """A DynamoDB change: keys, then the new image (INSERT), the old one (REMOVE), or for
        MODIFY only the attributes that changed, `name: old -> new`."""
        record, decoded = item
        change = record.change
        assert change is not None
        images = decoded.value
        line = Text()
        line.append(f"{format_ts(record.ts_ms)[11:23]:<{_TIME_W}} ", style="dim")
        event = inert(change.event) + (" ttl" if change.ttl else "")
        line.append(f"{fit(event, _EVENT_W):<{_EVENT_W}} ", style=_EVENT_STYLE.get(change.event))
        keys = " ".join(f"{k}={_compact(v)}" for k, v in (images["keys"] or {}).items())
        line.append(f"{fit(inert(keys), _KEYS_W):<{_KEYS_W}} ", style="yellow")
        width = max(self.width - (_TIME_W + _EVENT_W + _KEYS_W + 3), 10)
        line.append_text(
            self._json(Text(fit(inert(describe_change(change.event, images, change)), width)))
        )
        return line

    def write(self, items: Sequence[Item]) -> None:
        if not items:
            return
        changes = items[0][0].change is not None
        if not self._header_done:
            header = self.change_header() if changes else self.header()
            self.console.print(header, crop=True, overflow="ellipsis", no_wrap=True)
            self._header_done = True
        row = self.change_row if changes else self.row
        for item in items:
            self.console.print(row(item), crop=True, overflow="ellipsis", no_wrap=True)
        self._text.flush()

    def close(self) -> None:
        close_console(self._text)
