"""The output formats: their names, where each one's writer lives, and the default.

The one list of formats. cli_options.py builds the `-o` choices from it (so `--help` lists what
render/ can write), and render/ imports the writer named here when a command runs. Standard
library only: `--help` imports this module.
"""

from __future__ import annotations

#: `read`, `follow`, `demo`: format -> "module:class" of its `render.Renderer`
RECORD_FORMATS: dict[str, str] = {
    "table": "streamtail.render.table:TableRenderer",
    "ndjson": "streamtail.render.ndjson:NdjsonRenderer",
    "raw": "streamtail.render.raw:RawRenderer",
    "aws": "streamtail.render.aws:AwsRenderer",
    "csv": "streamtail.render.delimited:CsvRenderer",
    "tsv": "streamtail.render.delimited:TsvRenderer",
}

#: `ls`, `shards`: format -> "module:class" of its `render.listing.Listing`
LISTING_FORMATS: dict[str, str] = {
    "table": "streamtail.render.listing:TableListing",
    "ndjson": "streamtail.render.listing:NdjsonListing",
}

#: `lag`: format -> "module:class" of its renderer (rows of shard progress, not records)
LAG_FORMATS: dict[str, str] = {
    "table": "streamtail.render.lag:LagTable",
    "ndjson": "streamtail.render.lag:LagNdjson",
}


def default_format(stdout_isatty: bool) -> str:
    """`table` for a person at a terminal, `ndjson` for a program reading a pipe or a file."""
    return "table" if stdout_isatty else "ndjson"
