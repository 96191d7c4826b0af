"""Realistic payloads and recorded GetRecords responses for the benchmarks."""

from __future__ import annotations

import base64
import random
from typing import Any

import orjson

_CITIES = ["Berlin", "Lisbon", "Tbilisi", "Yerevan", "Belgrade", "Almaty", "Porto"]


def payload(rng: random.Random, n: int) -> bytes:
    """A ~200-byte JSON order event."""
    return orjson.dumps(
        {
            "order_id": f"ord-{n:08d}",
            "customer": f"cust-{rng.randint(1, 5000):05d}",
            "city": rng.choice(_CITIES),
            "items": [{"sku": f"SKU-{rng.randint(1000, 9999)}", "qty": rng.randint(1, 5)}],
            "total": round(rng.uniform(1, 500), 2),
            "currency": "EUR",
            "status": rng.choice(["created", "paid", "shipped"]),
        }
    )


def get_records_body(count: int, seed: int = 1, start_seq: int = 10**55) -> bytes:
    """A Kinesis GetRecords response body (JSON, as the service sends it) with `count` records."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    ts = 1_795_000_000.0
    for n in range(count):
        ts += 0.001
        records.append(
            {
                "SequenceNumber": str(start_seq + n),
                "ApproximateArrivalTimestamp": round(ts, 3),
                "Data": base64.b64encode(payload(rng, n)).decode("ascii"),
                "PartitionKey": f"cust-{rng.randint(1, 5000):05d}",
            }
        )
    return orjson.dumps(
        {"Records": records, "NextShardIterator": "AAAA" * 50, "MillisBehindLatest": 0}
    )
