"""`raw`: the decoded payload alone, each followed by the delimiter (`--delimiter`, a newline by
default). Payloads are written as they are: one that holds the delimiter is not escaped."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from streamtail.decode import Item, is_json
from streamtail.errors import UsageError
from streamtail.render import RenderContext


class RawRenderer:
    needs_decoded = True

    def __init__(self, ctx: RenderContext) -> None:
        self.ctx = ctx

    def write(self, items: Sequence[Item]) -> None:
        delimiter = self.ctx.delimiter
        lines: list[bytes] = []
        for record, decoded in items:
            if self.ctx.raw_bytes:
                lines.append(record.data)
            elif is_json(decoded):
                lines.append(orjson.dumps(decoded.value))
            elif delimiter == b"\n":
                # A text payload's own final newline ends its line (log lines carry one).
                lines.append(_one_line(str(decoded.value)).encode("utf-8"))
            else:
                lines.append(str(decoded.value).encode("utf-8"))
        out = self.ctx.env.stdout
        out.write(delimiter.join(lines) + delimiter if lines else b"")
        out.flush()

    def close(self) -> None:
        self.ctx.env.stdout.flush()


def _one_line(text: str) -> str:
    if text.endswith("\n"):
        text = text[:-2] if text.endswith("\r\n") else text[:-1]
    return text


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\"}


def parse_delimiter(text: str) -> bytes:
    """`--delimiter` as bytes: the text in UTF-8 with the escapes `\\n`, `\\t`, `\\r`, `\\0`,
    `\\\\` and `\\xHH` (one byte) read; `''` is no delimiter at all."""
    out = bytearray()
    i = 0
    while i < len(text):
        char = text[i]
        if char != "\\":
            out += char.encode("utf-8")
            i += 1
            continue
        code = text[i + 1 : i + 2]
        if code in _ESCAPES:
            out += _ESCAPES[code].encode()
            i += 2
        elif code == "x" and _is_hex(text[i + 2 : i + 4]):
            out.append(int(text[i + 2 : i + 4], 16))
            i += 4
        else:
            raise UsageError(
                f"invalid --delimiter {text!r}: unknown escape {text[i : i + 2]!r}",
                hint="escapes: \\n \\t \\r \\0 \\\\ and \\xHH; '' for none",
            )
    return bytes(out)


def _is_hex(text: str) -> bool:
    return len(text) == 2 and all(c in "0123456789abcdefABCDEF" for c in text)
