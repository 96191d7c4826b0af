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


def _common(item: Item) -> bool:
    """A record whose object has the seven keys alone: no `subseq`, `log` or `schema`, and not
    a DynamoDB change (nearly every record of a read)."""
    record, decoded = item
    return (
        record.subseq is None
        and record.change is None
        and decoded.log is None
        and decoded.schema is None
    )


def record_object(ctx: RenderContext, item: Item) -> dict[str, Any]:
    """The schema v1 object for one record."""
    record, decoded = item
    if record.change is not None:
        return change_object(ctx, item)
    log = decoded.log
    if _common(item):
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
        #: a shard's line up to its `seq` value: `{"stream":...,"shard":...,"seq":`
        self._heads: dict[str, bytes] = {}
        #: an `enc`'s part of the line, between the `ts` value and the `data` value
        self._encs: dict[str, bytes] = {}

    def write(self, items: Sequence[Item]) -> None:
        out = self.ctx.env.stdout
        line = self.line
        out.write(b"".join([line(item) for item in items]))
        out.flush()

    def line(self, item: Item) -> bytes:
        """One record's line: `record_object` as orjson writes it. The common record (no
        `subseq`, `log`, `schema`, nor a change: nearly every record of a read) is joined from
        its parts, each written by orjson, without a dict made and walked per record: the same
        bytes (tests/unit/test_ndjson_contract.py) at two thirds of the cost."""
        if not _common(item):
            return dumps(record_object(self.ctx, item), option=_LINE)
        record, decoded = item
        head = self._heads.get(record.shard)
        if head is None:
            head = b'{"stream":%b,"shard":%b,"seq":' % (dumps(self.ctx.stream), dumps(record.shard))
            self._heads[record.shard] = head
        enc = self._encs.get(decoded.enc)
        if enc is None:
            enc = self._encs[decoded.enc] = b'","enc":%b,"data":' % dumps(decoded.enc)
        return b"".join(
            (
                head,
                dumps(record.seq),
                b',"key":',
                dumps(record.key),
                b',"ts":"',
                format_ts(record.ts_ms).encode(),
                enc,
                dumps(decoded.value),
                b"}\n",
            )
        )

    def close(self) -> None:
        self.ctx.env.stdout.flush()
