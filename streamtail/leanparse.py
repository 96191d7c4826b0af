"""The lean GetRecords path: botocore signs, sends and maps errors; orjson parses the records.

botocore's model-driven parser walks every field of every record (tens of microseconds a record
for a 10,000-record response). For GetRecords, and only there, this parser hands back the JSON
body as orjson parsed it: `Data` stays base64 text and timestamps stay epoch seconds, exactly as
the API sent them; the sources decode them as far as the output needs (see
`sources.kinesis.records_from_api`). Every other operation, and every error response of
GetRecords itself, goes through botocore's own parser unchanged, so errors map as before.

tests/sources/test_leanparse.py checks that records come out identical either way.
"""

from __future__ import annotations

from typing import Any

import orjson
from botocore.parsers import JSONParser, ResponseParserFactory

#: The output shapes parsed leanly (Kinesis and DynamoDB Streams both call it GetRecordsOutput).
LEAN_SHAPES = frozenset({"GetRecordsOutput"})


class LeanJSONParser(JSONParser):  # type: ignore[misc]  # botocore ships no type hints
    def _handle_json_body(self, raw_body: bytes, shape: Any) -> Any:
        if shape is not None and shape.name in LEAN_SHAPES:
            return orjson.loads(raw_body) if raw_body else {}
        return super()._handle_json_body(raw_body, shape)


class LeanParserFactory(ResponseParserFactory):  # type: ignore[misc]
    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return LeanJSONParser(**self._defaults)
        return super().create_parser(protocol_name)


def install(botocore_session: Any) -> None:
    """Make clients created from this botocore session parse GetRecords leanly."""
    botocore_session.register_component("response_parser_factory", LeanParserFactory())
