"""`csv` and `tsv`: one row per record, for spreadsheets and for tools that read columns.

A header row of the column paths, then one row per record: the columns `--columns` names (dotted
paths into the schema-v1 object, render/columns.py), by default those of the table. A cell is a
string as it is, null or absent as empty, any other value as compact JSON. The header is written
with the first record (a read that prints nothing writes nothing).

- `csv`: RFC 4180: fields separated by commas, quoted with `"` when they hold a comma, a quote or
  a line break (a quote doubled inside), each row ending in CRLF. Python's csv module (and every
  spreadsheet) reads it back into the same strings.
- `tsv`: fields separated by tabs, each row ending in LF; a tab, line break or backslash inside a
  field is written `\\t`, `\\n`, `\\r`, `\\\\` (the escapes of PostgreSQL's text format and
  Miller), so that one line is one record.

UTF-8, no byte-order mark. Record content is written as it is, except on a terminal, where
control characters and escape sequences are shown as visible escapes (render/safe.py), as the
table shows them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from streamtail.decode import Item
from streamtail.render import RenderContext
from streamtail.render.columns import CHANGE_COLUMNS, KINESIS_COLUMNS, cell, split, values_at
from streamtail.render.ndjson import record_object
from streamtail.render.safe import inert


class _Delimited:
    needs_decoded = True
    #: what ends a row
    end = "\n"

    def __init__(self, ctx: RenderContext) -> None:
        self.ctx = ctx
        default = CHANGE_COLUMNS if ctx.table is not None else KINESIS_COLUMNS
        self.headers = ctx.columns or default
        self.paths = split(self.headers)
        self._header_done = False

    def rows(self, items: Sequence[Item]) -> list[list[str]]:
        ctx, paths = self.ctx, self.paths
        rows = [] if self._header_done else [list(self.headers)]
        self._header_done = True
        for item in items:
            obj = record_object(ctx, item)
            rows.append([cell(value) for value in values_at(obj, paths)])
        return rows

    def line(self, row: list[str]) -> str:
        """One row, without its end."""
        raise NotImplementedError

    def write(self, items: Sequence[Item]) -> None:
        if not items:
            return
        lines = [self.line(row) for row in self.rows(items)]
        if self.ctx.env.stdout_isatty:  # nothing in a record may drive the terminal
            lines = [inert(line) for line in lines]
        out = self.ctx.env.stdout
        out.write("".join(line + self.end for line in lines).encode("utf-8"))
        out.flush()

    def close(self) -> None:
        self.ctx.env.stdout.flush()


class CsvRenderer(_Delimited):
    end = "\r\n"

    def __init__(self, ctx: RenderContext) -> None:
        super().__init__(ctx)
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="")

    def line(self, row: list[str]) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(row)
        return self._buffer.getvalue()


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class TsvRenderer(_Delimited):
    def line(self, row: list[str]) -> str:
        return "\t".join(field.translate(_TSV_ESCAPES) for field in row)
