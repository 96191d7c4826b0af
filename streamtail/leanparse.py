"""The lean GetRecords path: botocore signs, sends and maps errors; orjson parses the records.

botocore's model-driven parser walks every field of every record (tens of microseconds a record
for a 10,000-record response). For GetRecords, and only there, this parser hands back the JSON
body as orjson parsed it: `Data` stays base64 text and timestamps stay epoch seconds, exactly as
the API sent them; the sources decode them as far as the output needs (see
`sources.kinesis.records_from_api`). Every other operation, and every error response of
GetRecords itself, goes through botocore's own parser unchanged, so errors map as before.

tests/sources/test_leanparse.py checks that records come out identical either way.

The lean model lookup: before it loads a service's model (and again its endpoint rule set),
botocore's `Loader.load_service_model` asks `list_available_services` whether the service exists,
which lists every service's folders (about 400: ~10 ms of CPU each time, ~20 ms of a small read's
start-up). `ServiceNames` answers that question by looking in the one service's folder instead
(`list_api_versions`, what the load does next anyway); anything that needs the whole list (the
message of an unknown service) still gets botocore's own listing.

The lean data files: botocore reads its JSON data files (endpoints.json, 1.2 MB; the service's
model and endpoint rules) with the standard library's parser into OrderedDicts: ~30 ms of CPU on
every client's start, 25 of them for endpoints.json. `OrjsonFileLoader` reads the same files,
found the same way, with orjson (~6 ms): the same values, in plain dicts, which keep their
order too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, overload

import orjson
from botocore import loaders
from botocore.exceptions import DataNotFoundError
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


class OrjsonFileLoader(loaders.JSONFileLoader):  # type: ignore[misc]
    """botocore's data files parsed by orjson; botocore's own loading wherever this botocore
    finds them otherwise (no table of file kinds where it used to be, a file orjson refuses)."""

    def load_file(self, file_path: str) -> Any:
        kinds = getattr(loaders, "_JSON_OPEN_METHODS", None)
        if not isinstance(kinds, dict):
            return super().load_file(file_path)
        for ext, open_method in kinds.items():
            full_path = file_path + ext
            if not Path(full_path).is_file():
                continue
            with open_method(full_path, "rb") as file:
                payload = file.read()
            try:
                return orjson.loads(payload)
            except orjson.JSONDecodeError:
                return super().load_file(file_path)
        return None


class ServiceNames(Sequence[str]):
    """The services a botocore loader knows for one model type; whether one is among them is
    looked up in its own folder only."""

    def __init__(self, loader: Any, type_name: str, listing: Callable[[str], list[str]]) -> None:
        self._loader = loader
        self._type_name = type_name
        self._listing = listing

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            return bool(self._loader.list_api_versions(name, self._type_name))
        except DataNotFoundError:
            return False

    def _all(self) -> list[str]:
        return self._listing(self._type_name)  # botocore's listing, cached by the loader

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._all()[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


class _QuickListing:
    """A loader's `list_available_services`, answering with `ServiceNames`."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.listing = loader.list_available_services

    def __call__(self, type_name: str) -> ServiceNames:
        return ServiceNames(self.loader, type_name, self.listing)


def install(botocore_session: Any) -> None:
    """Make clients created from this botocore session parse GetRecords leanly, find their
    service models without listing every service, and read botocore's data files with orjson."""
    botocore_session.register_component("response_parser_factory", LeanParserFactory())
    loader = botocore_session.get_component("data_loader")
    if not isinstance(loader.list_available_services, _QuickListing):  # a shared loader: once
        loader.list_available_services = _QuickListing(loader)
    if type(loader.file_loader) is loaders.JSONFileLoader:  # botocore's own: not another's
        loader.file_loader = OrjsonFileLoader()
