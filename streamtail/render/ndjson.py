"""NDJSON, schema v1 (docs/CONTRACT.md): one object per record, keys in contract order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orjson import OPT_APPEND_NEWLINE as _LINE
from orjson import dumps

from streamtail.decode import Item
from streamtail.positions import format_ts
from streamtail.render import RenderContext


def change_object(ctx: RenderContext, item: Item) -> dict[str, Any]:
    """The schema v1 object for one DynamoDB stream record (absent keys left out)."""
    record, decoded = item
    change = record.change
    assert change is not None
    images = decoded.value
    obj: dict[str, Any] = {"stream": ctx.stream}
    if ctx.table:
        obj["table"] = ctx.table
    obj["shard"] = record.shard
    obj["seq"] = record.seq
    obj["id"] = change.event_id
    obj["ts"] = format_ts(record.ts_ms)
    obj["event"] = change.event
    obj["keys"] = images["keys"]
    if images["new"] is not None:
        obj["new"] = images["new"]
    if images["old"] is not None:
        obj["old"] = images["old"]
    if change.ttl:
        obj["ttl"] = True
    return obj


def record_object(ctx: RenderContext, item: Item) -> dict[str, Any]:
    """The schema v1 object for one record."""
    record, decoded = item
    if record.change is not None:
        return change_object(ctx, item)
    log = decoded.log
    if record.subseq is None and log is None and decoded.schema is None:
        # The common record (the hot path), as one literal.
        return {
            "stream": ctx.stream,
            "shard": record.shard,
            "seq": record.seq,
            "key": record.key,
            "ts": format_ts(record.ts_ms),
            "enc": decoded.enc,
            "data": decoded.value,
        }
    obj: dict[str, Any] = {"stream": ctx.stream, "shard": record.shard, "seq": record.seq}
    if record.subseq is not None:
        obj["subseq"] = record.subseq
    obj["key"] = record.key
    obj["ts"] = format_ts(record.ts_ms)
    obj["enc"] = decoded.enc
    obj["data"] = decoded.value
    if decoded.schema is not None:
        # Decoded with a schema: the registry's name, version and id, or the file given.
        obj["schema"] = decoded.schema
    if log is not None:
        # An expanded CloudWatch Logs event: `data` is its message, this says where it came from.
        obj["log"] = {"group": log.group, "stream": log.stream, "id": log.id}
        obj["log"]["ts"] = format_ts(log.ts_ms)
        if log.owner is not None:
            obj["log"]["owner"] = log.owner
    return obj


class NdjsonRenderer:
    needs_decoded = True

    def __init__(self, ctx: RenderContext) -> None:
        self.ctx = ctx

    def write(self, items: Sequence[Item]) -> None:
        ctx = self.ctx
        out = ctx.env.stdout
        out.write(b"".join([dumps(record_object(ctx, item), option=_LINE) for item in items]))
        out.flush()

    def close(self) -> None:
        self.ctx.env.stdout.flush()
