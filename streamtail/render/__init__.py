"""Output formats, one module each, behind small protocols and chosen from a registry.

Renderers get records with their decoded payloads; listings get what `ls` and `shards` found;
neither knows anything of boto3 or the reader. The registry itself is streamtail/formats.py.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from streamtail.decode import Item
from streamtail.env import Env
from streamtail.errors import UsageError
from streamtail.formats import LAG_FORMATS, LISTING_FORMATS, RECORD_FORMATS, default_format
from streamtail.lineage import Lineage


@dataclass(frozen=True)
class RenderContext:
    env: Env
    #: the stream's name as printed in the `stream` field
    stream: str
    #: `--decode none`: `raw` writes payload bytes untouched
    raw_bytes: bool = False
    #: the DynamoDB table, for the `table` field of change records
    table: str | None = None
    #: `--columns`: dotted paths into the schema-v1 object (`table`, `csv`, `tsv`); None: the
    #: format's own
    columns: tuple[str, ...] | None = None
    #: `raw`: what follows each payload (`--delimiter`)
    delimiter: bytes = b"\n"


class Renderer(Protocol):
    """Writes batches of records to `env.stdout`; each batch is flushed when written."""

    #: whether the renderer uses decoded payloads (`aws` prints what the API returned)
    needs_decoded: bool

    def write(self, items: Sequence[Item]) -> None: ...

    def close(self) -> None: ...


class Listing(Protocol):
    """Writes what `shards` and `ls` found to `env.stdout`."""

    def shards(self, stream: str, lineage: Lineage) -> None: ...

    def streams(self, rows: list[dict[str, Any]]) -> None: ...


#: format name -> "module:class", imported on use so `table` alone pulls in rich
FORMATS = RECORD_FORMATS
#: the same for `ls` and `shards`
LISTINGS = LISTING_FORMATS
#: the same for `lag`: rows of shard progress, not records
LAGS = LAG_FORMATS


def output_format(requested: str | None, env: Env, formats: Mapping[str, str] = FORMATS) -> str:
    """The format asked for, else `table` on a terminal and `ndjson` otherwise (formats.py);
    a format `formats` does not hold is a usage error."""
    name = requested or default_format(env.stdout_isatty)
    if name not in formats:
        raise UsageError(f"invalid --output {name!r}: choose one of {', '.join(formats)}")
    return name


def load(spec: str) -> Any:
    """The class a registry entry ("module:class") names, imported on use."""
    module_name, _, class_name = spec.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def make_renderer(name: str, ctx: RenderContext) -> Renderer:
    renderer: Renderer = load(FORMATS[name])(ctx)
    return renderer


def make_listing(name: str, env: Env) -> Listing:
    listing: Listing = load(LISTINGS[name])(env)
    return listing
