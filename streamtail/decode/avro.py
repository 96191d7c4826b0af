"""Avro binary <-> plain JSON, with fastavro (imported only when an Avro schema is compiled).

fastavro reads a value into Python objects (logical types included); `AvroCodec` maps them to
the JSON a user expects, with a converter compiled once per schema (identity, and so free, for
the parts of a schema that need none):

| Avro | JSON |
|---|---|
| null, boolean, int, long, double, string, enum | as they are (longs keep every digit) |
| float (32-bit) | the shortest decimal that reads back as the same float32 (`0.1`) |
| bytes, fixed | base64 of the bytes |
| array, map, record | array, object, object |
| union | the value of the branch written (no `{"type": value}` wrapper) |
| decimal (bytes or fixed) | a JSON number with exactly the schema's digits (`12.30`) |
| date | `"2026-11-21"` |
| time-millis, time-micros | `"21:04:05.123"`, `"21:04:05.123456"` |
| timestamp-millis, timestamp-micros | `"2026-11-21T21:04:05.123Z"`, `...05.123456Z` |
| local-timestamp-millis, -micros | as timestamps, without `Z` |
| uuid | its string |
| duration (fixed 12) | `{"months": 1, "days": 2, "milliseconds": 3}` |

`put --avro-schema` goes the other way (`encode`): the same JSON back to Avro binary. The
converters are avromap.py's.
"""

from __future__ import annotations

import io
import json
import struct
from typing import Any

from streamtail.decode.avromap import converter


class AvroError(ValueError):
    """A schema that does not compile, or a payload or value that does not fit the schema."""


class AvroCodec:
    """One Avro schema, compiled: `decode(body)` to JSON, `encode(value)` from JSON."""

    enc = "avro"

    def __init__(self, definition: str | dict[str, Any] | list[Any]) -> None:
        import fastavro

        try:
            schema = json.loads(definition) if isinstance(definition, str) else definition
            self.parsed = fastavro.parse_schema(schema)
        except Exception as exc:  # fastavro's SchemaParseException is a bare Exception
            raise AvroError(f"not a valid Avro schema ({exc})") from exc
        named = self.parsed.get("__named_schemas", {}) if isinstance(self.parsed, dict) else {}
        self._to_json = converter(self.parsed, named, to_json=True)
        self._from_json = converter(self.parsed, named, to_json=False)
        self._reader = fastavro.schemaless_reader
        self._writer = fastavro.schemaless_writer

    def decode(self, body: bytes) -> Any:
        """The JSON value of one Avro binary value; raises AvroError."""
        stream = io.BytesIO(body)
        try:
            value = self._reader(
                stream,
                self.parsed,
                None,
                return_record_name=True,
                return_record_name_override=True,
            )
        except EOFError as exc:
            raise AvroError("not Avro of this schema (it ends too soon)") from exc
        except IndexError as exc:
            # fastavro's C reader indexes its buffer past the end ("string index out of range")
            if "string index" in str(exc):
                raise AvroError("not Avro of this schema (it ends too soon)") from exc
            raise AvroError(f"not Avro of this schema (IndexError: {exc})") from exc
        except Exception as exc:  # any bytes reach here: whatever fastavro raises is "not Avro"
            raise AvroError(f"not Avro of this schema ({type(exc).__name__}: {exc})") from exc
        left = len(body) - stream.tell()
        if left:
            # Avro binary has no length of its own: bytes left over mean another writer's schema.
            raise AvroError("not Avro of this schema (bytes left over after the value)")
        return value if self._to_json is None else self._to_json(value)

    def encode(self, value: Any) -> bytes:
        """Avro binary of a JSON value (as `decode` prints it); raises AvroError."""
        if self._from_json is not None:
            try:
                value = self._from_json(value)
            except (ValueError, TypeError, ArithmeticError) as exc:
                raise AvroError(f"does not fit the Avro schema ({exc})") from exc
        stream = io.BytesIO()
        try:
            self._writer(stream, self.parsed, value, strict_allow_default=True)
        except (ValueError, TypeError, KeyError, AttributeError, struct.error) as exc:
            raise AvroError(f"does not fit the Avro schema ({type(exc).__name__}: {exc})") from exc
        return stream.getvalue()
