"""NDJSON, schema v1 (CONTRACT.md): one object per record, keys in contract order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from streamtail.positions import format_ts
from streamtail.render import Item, RenderContext


def record_object(stream: str, item: Item) -> dict[str, Any]:
    """The schema v1 object for one Kinesis record."""
    record, decoded = item
    return {
        "stream": stream,
        "shard": record.shard,
        "seq": record.seq,
        "key": record.key,
        "ts": format_ts(record.ts_ms),
        "enc": decoded.enc,
        "data": decoded.value,
    }


class NdjsonRenderer:
    needs_decoded = True

    def __init__(self, ctx: RenderContext) -> None:
        self.ctx = ctx

    def write(self, items: Sequence[Item]) -> None:
        stream = self.ctx.stream
        out = self.ctx.env.stdout
        out.write(b"".join(orjson.dumps(record_object(stream, item)) + b"\n" for item in items))
        out.flush()

    def close(self) -> None:
        self.ctx.env.stdout.flush()
