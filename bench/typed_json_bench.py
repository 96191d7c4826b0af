"""Typed JSON to JSON text: streamtail.typed_json + orjson vs boto3's TypeDeserializer + json.

Each record is a realistic DynamoDB stream record (NEW_AND_OLD_IMAGES, 17 attributes with nested
maps, lists, numbers up to 38 digits, sets and binaries), converted the way a tail tool must:
Keys, NewImage and OldImage to plain values, then to one line of JSON text.

- streamtail: `plain_item` on each image, then `orjson.dumps` (numbers keep their digits);
- boto3: `TypeDeserializer().deserialize` on each attribute (Decimal, set, Binary), then
  `json.dumps(default=...)` turning Decimal into int/float, sets into lists and Binary into
  base64 (the usual recipe; lossy for numbers a float cannot hold).

Input is what boto3's own parser returns (B as bytes), the only form TypeDeserializer takes. The
streamtail figure is also given for the API's own JSON (B as base64 text), which is what its lean
GetRecords parser hands on.

Run: python bench/typed_json_bench.py [--records N] [--repeat R]   (pinned to one core)
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import os
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson
from boto3.dynamodb.types import Binary, TypeDeserializer

from streamtail.typed_json import plain_item


def _order_image(n: int, status: str, version: int) -> dict[str, Any]:
    return {
        "pk": {"S": f"customer#{n % 997:05d}"},
        "sk": {"S": f"order#{n:010d}"},
        "customer": {
            "M": {
                "id": {"S": f"cust-{n % 997}"},
                "name": {"S": "Ana Lúcia Ferreira"},
                "tier": {"S": "gold"},
                "address": {
                    "M": {
                        "street": {"S": "Rua das Flores 12"},
                        "city": {"S": "Porto"},
                        "zip": {"S": "4050-262"},
                        "geo": {"M": {"lat": {"N": "41.14961"}, "lon": {"N": "-8.61099"}}},
                    }
                },
            }
        },
        "items": {
            "L": [
                {
                    "M": {
                        "sku": {"S": f"SKU-{1000 + i}"},
                        "qty": {"N": str(1 + i)},
                        "price": {"N": f"{12 + i}.90"},
                        "tags": {"SS": ["coffee", f"batch-{i}"]},
                    }
                }
                for i in range(3)
            ]
        },
        "total": {"N": "129.90"},
        "currency": {"S": "EUR"},
        "status": {"S": status},
        "created_at": {"N": str(1_763_759_045_123 + n)},
        "paid": {"BOOL": status != "created"},
        "coupon": {"NULL": True},
        "tags": {"SS": ["web", "eu", "repeat-customer"]},
        "scores": {"NS": ["0.93", "-0.000123", "17"]},
        "thumbnail": {"B": bytes(range(64))},
        "attachments": {"BS": [b"\x89PNG\r\n\x1a\n" * 4, b"%PDF-1.7" * 4]},
        "version": {"N": str(version)},
        "notes": {"S": "Leave at the door; ring twice. Fragile: grinder inside, this side up."},
        "trace_id": {"N": "12345678901234567890123456789012345678"},
    }


def make_records(count: int) -> list[dict[str, Any]]:
    records = []
    for n in range(count):
        old = _order_image(n, "created", 1)
        new = _order_image(n, "paid", 2)
        records.append(
            {
                "eventID": f"{n:032x}",
                "eventName": "MODIFY",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "eu-west-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1_763_759_045.0,
                    "Keys": {"pk": new["pk"], "sk": new["sk"]},
                    "NewImage": new,
                    "OldImage": old,
                    "SequenceNumber": str(300000000000000499659 + n),
                    "SizeBytes": 1480,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            }
        )
    return records


def as_api_json(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same records as the API's JSON has them: B and BS as base64 text."""

    def convert(value: Any) -> Any:
        if isinstance(value, bytes):
            return base64.b64encode(value).decode("ascii")
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    return [convert(copy.deepcopy(r)) for r in records]


def streamtail_line(record: dict[str, Any]) -> bytes:
    body = record["dynamodb"]
    return orjson.dumps(
        {
            "keys": plain_item(body["Keys"]),
            "new": plain_item(body.get("NewImage")),
            "old": plain_item(body.get("OldImage")),
        }
    )


_DESERIALIZER = TypeDeserializer()


def _image(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    deserialize = _DESERIALIZER.deserialize
    return {name: deserialize(value) for name, value in item.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return list(value)
    if isinstance(value, Binary):
        return base64.b64encode(value.value).decode("ascii")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def boto3_line(record: dict[str, Any]) -> str:
    body = record["dynamodb"]
    return json.dumps(
        {
            "keys": _image(body["Keys"]),
            "new": _image(body.get("NewImage")),
            "old": _image(body.get("OldImage")),
        },
        default=_jsonable,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def measure(
    converters: dict[str, tuple[Callable[[dict[str, Any]], Any], list[dict[str, Any]]]],
    repeat: int,
) -> dict[str, float]:
    """Best records/s of each converter over `repeat` passes, after one warm-up pass.

    Passes are interleaved (A, B, C, A, B, C, ...) so that a busy machine slows all of them alike
    and the ratio stays fair.
    """
    for convert, records in converters.values():
        for record in records[:1000]:
            convert(record)
    best = dict.fromkeys(converters, 0.0)
    for _ in range(repeat):
        for name, (convert, records) in converters.items():
            started = time.perf_counter()
            for record in records:
                convert(record)
            best[name] = max(best[name], len(records) / (time.perf_counter() - started))
    return best


def pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    return "not pinned (no sched_setaffinity here)"


def check_same_content(record: dict[str, Any]) -> None:
    """Both paths describe the same change (the boto3 one through floats, so compare parsed)."""
    ours = json.loads(streamtail_line(record))  # json, not orjson: it keeps 38-digit ints
    theirs = json.loads(boto3_line(record))
    for image in ("new", "old"):
        for name in ("tags",):  # sets come out in set order on the boto3 path
            ours[image][name] = sorted(ours[image][name])
            theirs[image][name] = sorted(theirs[image][name])
        for item in ours[image]["items"] + theirs[image]["items"]:
            item["tags"] = sorted(item["tags"])
        for name in ("scores", "attachments"):
            ours[image][name] = sorted(map(str, ours[image][name]))
            theirs[image][name] = sorted(map(str, theirs[image][name]))
    if ours != theirs:
        raise SystemExit("the two conversions disagree: the benchmark would compare different work")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    where = pin_one_core()
    records = make_records(args.records)
    api_records = as_api_json(records)
    check_same_content(records[0])
    sample = streamtail_line(records[0])
    digits = b'"trace_id":12345678901234567890123456789012345678' in sample

    rates = measure(
        {
            "ours": (streamtail_line, records),
            "ours_api": (streamtail_line, api_records),
            "theirs": (boto3_line, records),
        },
        args.repeat,
    )
    ours, ours_api, theirs = rates["ours"], rates["ours_api"], rates["theirs"]

    print(
        f"typed JSON -> JSON text, {args.records} records x {args.repeat} interleaved passes "
        f"(best), {where}, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"record: NEW_AND_OLD_IMAGES, 17 attributes, {len(sample)} bytes of JSON out")
    print(f"  streamtail plain_item + orjson.dumps      {ours:>10,.0f} records/s")
    print(f"  same, on the API's JSON (B as base64)     {ours_api:>10,.0f} records/s")
    print(f"  boto3 TypeDeserializer + json.dumps       {theirs:>10,.0f} records/s")
    print(f"  ratio streamtail / boto3                  {ours / theirs:>10.1f}x")
    print(f"  38-digit number exact in streamtail output: {digits}")


if __name__ == "__main__":
    main()
