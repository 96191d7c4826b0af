"""Output formats, one module each, behind one small protocol and chosen from a registry.

Renderers get records with their decoded payloads; they know nothing of boto3 or the reader.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from streamtail.decode import Item
from streamtail.env import Env


@dataclass(frozen=True)
class RenderContext:
    env: Env
    #: the stream's name as printed in the `stream` field
    stream: str
    #: `--decode none`: `raw` writes payload bytes untouched
    raw_bytes: bool = False
    #: the DynamoDB table, for the `table` field of change records
    table: str | None = None


class Renderer(Protocol):
    """Writes batches of records to `env.stdout`; each batch is flushed when written."""

    #: whether the renderer uses decoded payloads (`aws` prints what the API returned)
    needs_decoded: bool

    def write(self, items: Sequence[Item]) -> None: ...

    def close(self) -> None: ...


#: format name -> "module:class", imported on use so `table` alone pulls in rich
FORMATS: dict[str, str] = {
    "ndjson": "streamtail.render.ndjson:NdjsonRenderer",
    "table": "streamtail.render.table:TableRenderer",
    "raw": "streamtail.render.raw:RawRenderer",
    "aws": "streamtail.render.aws:AwsRenderer",
}


#: `lag`'s formats: rows of shard progress, not records
LAG_FORMATS: dict[str, str] = {
    "ndjson": "streamtail.render.lag:LagNdjson",
    "table": "streamtail.render.lag:LagTable",
}


def output_format(requested: str | None, env: Env) -> str:
    """The format asked for, else `table` on a terminal and `ndjson` otherwise."""
    return requested or ("table" if env.stdout_isatty else "ndjson")


def load(spec: str) -> Any:
    """The class a registry entry ("module:class") names, imported on use."""
    module_name, _, class_name = spec.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def make_renderer(name: str, ctx: RenderContext) -> Renderer:
    renderer: Renderer = load(FORMATS[name])(ctx)
    return renderer
