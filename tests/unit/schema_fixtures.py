"""Schemas the schema tests share: an Avro schema with every mapping, and a FileDescriptorSet
built with protobuf's descriptor_pb2 (what `protoc --descriptor_set_out` writes), with several
messages, nested ones included, so that a GSR message index has something to choose from."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

ORDER_AVRO: dict[str, Any] = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [
        {"name": "id", "type": "long"},
        {
            "name": "amount",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2},
        },
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "at_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "time", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "ref", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "ratio", "type": "float"},
        {"name": "blob", "type": "bytes"},
        {"name": "note", "type": ["null", "string"]},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": "bytes"}},
        {
            "name": "party",
            "type": [
                "null",
                {
                    "type": "record",
                    "name": "Person",
                    "fields": [{"name": "name", "type": "string"}],
                },
                {
                    "type": "record",
                    "name": "Company",
                    "fields": [{"name": "vat", "type": "string"}],
                },
            ],
        },
        {
            "name": "wait",
            "type": {"type": "fixed", "name": "Wait", "size": 12, "logicalType": "duration"},
        },
        {"name": "big", "type": "long"},
    ],
}

#: the README's `order.avsc` (its orders.ndjson lines; registered as shop/orders in its examples)
README_ORDER: dict[str, Any] = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [
        {"name": "id", "type": "long"},
        {
            "name": "total",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2},
        },
        {"name": "placed", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "coupon", "type": ["null", "string"], "default": None},
    ],
}

#: the Python value fastavro writes, and the JSON text streamtail must print for it
ORDER_VALUE: dict[str, Any] = {
    "id": 7,
    "amount": Decimal("1234.50"),
    "at": dt.datetime(2026, 11, 21, 21, 4, 5, 123000, tzinfo=dt.UTC),
    "at_us": dt.datetime(2026, 11, 21, 21, 4, 5, 123456, tzinfo=dt.UTC),
    "day": dt.date(2026, 11, 21),
    "time": dt.time(21, 4, 5, 123000),
    "ref": str(uuid.UUID("12345678-1234-5678-1234-567812345678")),
    "ratio": 0.1,
    "blob": b"\x00\xff",
    "note": None,
    "status": "PAID",
    "tags": ["a", "b"],
    "attrs": {"k": b"v"},
    "party": ("shop.Company", {"vat": "GB1"}),
    "wait": b"\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00",
    "big": 2**63 - 1,
}
ORDER_JSON = (
    b'{"id":7,"amount":1234.50,"at":"2026-11-21T21:04:05.123Z",'
    b'"at_us":"2026-11-21T21:04:05.123456Z","day":"2026-11-21","time":"21:04:05.123",'
    b'"ref":"12345678-1234-5678-1234-567812345678","ratio":0.1,"blob":"AP8=","note":null,'
    b'"status":"PAID","tags":["a","b"],"attrs":{"k":"dg=="},"party":{"vat":"GB1"},'
    b'"wait":{"months":1,"days":2,"milliseconds":3},"big":9223372036854775807}'
)


#: shop_descriptor_set() as .proto text: what a Glue PROTOBUF schema version holds
SHOP_PROTO = """syntax = "proto3";
package shop;
message B {
  string b = 1;
  message C { int32 c = 1; }
  message A {
    int32 a = 1;
    message D { string d = 1; }
  }
}
message Order {
  int64 id = 1;
  string item = 2;
  bool paid = 3;
  bytes blob = 4;
}
"""


def shop_descriptor_set() -> bytes:
    """shop.proto: message B { message C {} message A { message D { string d = 1; } } ...},
    the example of MessageIndexFinder.getAll's Javadoc (B = 0, B.A = 1, B.A.D = 2, B.C = 3),
    plus a top-level Order after it (4)."""
    from google.protobuf import descriptor_pb2

    fdp = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(name="shop.proto", package="shop", syntax="proto3")
    b = file.message_type.add(name="B")
    b.field.add(name="b", number=1, type=fdp.TYPE_STRING, label=fdp.LABEL_OPTIONAL)
    b.nested_type.add(name="C").field.add(
        name="c", number=1, type=fdp.TYPE_INT32, label=fdp.LABEL_OPTIONAL
    )
    a = b.nested_type.add(name="A")
    a.field.add(name="a", number=1, type=fdp.TYPE_INT32, label=fdp.LABEL_OPTIONAL)
    a.nested_type.add(name="D").field.add(
        name="d", number=1, type=fdp.TYPE_STRING, label=fdp.LABEL_OPTIONAL
    )
    order = file.message_type.add(name="Order")
    order.field.add(name="id", number=1, type=fdp.TYPE_INT64, label=fdp.LABEL_OPTIONAL)
    order.field.add(name="item", number=2, type=fdp.TYPE_STRING, label=fdp.LABEL_OPTIONAL)
    order.field.add(name="paid", number=3, type=fdp.TYPE_BOOL, label=fdp.LABEL_OPTIONAL)
    order.field.add(name="blob", number=4, type=fdp.TYPE_BYTES, label=fdp.LABEL_OPTIONAL)
    return descriptor_pb2.FileDescriptorSet(file=[file]).SerializeToString()  # type: ignore[no-any-return]


def proto_message(files: bytes, name: str, **fields: Any) -> bytes:
    """A message of `name` serialized by protobuf itself."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    pool = descriptor_pool.DescriptorPool()
    for file in descriptor_pb2.FileDescriptorSet.FromString(files).file:
        pool.Add(file)
    cls = message_factory.GetMessageClass(pool.FindMessageTypeByName(name))
    return cls(**fields).SerializeToString()  # type: ignore[no-any-return]
