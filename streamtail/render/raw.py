"""`raw`: the decoded payload alone, one per line."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from streamtail.decode import Item, is_json
from streamtail.render import RenderContext


class RawRenderer:
    needs_decoded = True

    def __init__(self, ctx: RenderContext) -> None:
        self.ctx = ctx

    def write(self, items: Sequence[Item]) -> None:
        lines: list[bytes] = []
        for record, decoded in items:
            if self.ctx.raw_bytes:
                lines.append(record.data)
            elif is_json(decoded):
                lines.append(orjson.dumps(decoded.value))
            else:
                # A text payload's own final newline ends its line (log lines carry one).
                lines.append(_one_line(str(decoded.value)).encode("utf-8"))
        out = self.ctx.env.stdout
        out.write(b"\n".join(lines) + b"\n" if lines else b"")
        out.flush()

    def close(self) -> None:
        self.ctx.env.stdout.flush()


def _one_line(text: str) -> str:
    if text.endswith("\n"):
        text = text[:-2] if text.endswith("\r\n") else text[:-1]
    return text
