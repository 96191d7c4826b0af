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


#: the Avro schema of the same order event (a decimal total and a timestamp: logical types to map)
ORDER_AVRO: dict[str, Any] = {
    "type": "record",
    "name": "Order",
    "namespace": "bench",
    "fields": [
        {"name": "order_id", "type": "string"},
        {"name": "customer", "type": "string"},
        {"name": "city", "type": "string"},
        {
            "name": "items",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "Item",
                    "fields": [{"name": "sku", "type": "string"}, {"name": "qty", "type": "int"}],
                },
            },
        },
        {
            "name": "total",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2},
        },
        {"name": "currency", "type": "string"},
        {
            "name": "status",
            "type": {"type": "enum", "name": "Status", "symbols": ["created", "paid", "shipped"]},
        },
        {"name": "placed", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    ],
}
#: the schema version id the Avro payloads' GSR frames carry
AVRO_VERSION_ID = "6f1c2a9e-0d3b-4c5a-9e8f-112233445566"


def gsr_avro_payload(rng: random.Random, n: int) -> bytes:
    """The order event as the GSR serializer writes it: the 18-byte frame, then Avro binary."""
    import datetime as dt
    import io
    import uuid
    from decimal import Decimal

    import fastavro

    event = orjson.loads(payload(rng, n))
    event["total"] = Decimal(f"{event['total']:.2f}")
    event["placed"] = dt.datetime(2026, 11, 21, tzinfo=dt.UTC) + dt.timedelta(milliseconds=n)
    out = io.BytesIO()
    out.write(b"\x03\x00" + uuid.UUID(AVRO_VERSION_ID).bytes)
    fastavro.schemaless_writer(
        out, _PARSED.setdefault("order", fastavro.parse_schema(ORDER_AVRO)), event
    )
    return out.getvalue()


_PARSED: dict[str, Any] = {}


def get_records_body(
    count: int, seed: int = 1, start_seq: int = 10**55, *, make: Any = None
) -> bytes:
    """A Kinesis GetRecords response body (JSON, as the service sends it) with `count` records
    (`make(rng, n)` gives each payload: JSON order events by default)."""
    make = make or payload
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    ts = 1_795_000_000.0
    for n in range(count):
        ts += 0.001
        records.append(
            {
                "SequenceNumber": str(start_seq + n),
                "ApproximateArrivalTimestamp": round(ts, 3),
                "Data": base64.b64encode(make(rng, n)).decode("ascii"),
                "PartitionKey": f"cust-{rng.randint(1, 5000):05d}",
            }
        )
    return orjson.dumps(
        {"Records": records, "NextShardIterator": "AAAA" * 50, "MillisBehindLatest": 0}
    )
