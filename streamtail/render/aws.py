"""`aws`: each record as the API returned it (Data as base64, timestamps as epoch seconds)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from streamtail.decode import Item
from streamtail.render import RenderContext


def _api_value(value: Any) -> Any:
    """How the API wrote what boto3 parsed: blobs as base64, timestamps as epoch seconds."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME


def api_object(item: Item) -> dict[str, Any]:
    record = item[0]
    if record.change is not None and record.extra is not None:
        return record.extra  # a DynamoDB record is kept whole, as the API returned it
    obj: dict[str, Any] = {
        "SequenceNumber": record.seq,
        "ApproximateArrivalTimestamp": record.ts_ms / 1000,
        "Data": base64.b64encode(record.data).decode("ascii"),
        "PartitionKey": record.key,
    }
    if record.extra:
        obj.update(record.extra)
    return obj


class AwsRenderer:
    needs_decoded = False

    def __init__(self, ctx: RenderContext) -> None:
        self.ctx = ctx

    def write(self, items: Sequence[Item]) -> None:
        out = self.ctx.env.stdout
        out.write(
            b"".join(
                orjson.dumps(api_object(item), default=_api_value, option=_OPTIONS) + b"\n"
                for item in items
            )
        )
        out.flush()

    def close(self) -> None:
        self.ctx.env.stdout.flush()
