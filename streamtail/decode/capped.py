"""What every compressed container's decoder shares (compress.py's gzip and zlib, zstd_lz4.py's
zstd and lz4): the containers' names and magic numbers, the one inflate cap (`MAX_INFLATED`, held
by a `Capped`), `InflateError`, and `frames()`, the one loop over frames back to back. Apart from
compress.py so that zstd_lz4.py, which compress.py loads on the first zstd or lz4 payload, needs
nothing of compress.py (no import circle). Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable

GZIP = "gzip"
ZLIB = "zlib"
ZSTD = "zstd"
LZ4 = "lz4"
GZIP_MAGIC = b"\x1f\x8b"
#: zstd (RFC 8878) and lz4 frames (the LZ4 Frame Format): a four-byte magic number is claim
#: enough, so a payload that has one and does not decompress is reported (cut short, damaged)
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
LZ4_MAGIC = b"\x04\x22\x4d\x18"
#: The inflate cap, for every decompressor (`Capped`): a payload that inflates beyond this is shown
#: as it is (base64), not expanded in memory. One record is decoded and printed at a time
#: (printing.py), so this bounds what one record costs, whatever the batch holds.
MAX_INFLATED = 64 * 1024 * 1024


class InflateError(ValueError):
    """The payload carries a container's magic but does not inflate; the message says why."""


def too_big(kind: str, limit: int) -> InflateError:
    """The error for a payload that would inflate past `limit` bytes (every container's)."""
    return InflateError(f"{kind} data inflates beyond {limit // (1024 * 1024)} MiB")


class Capped:
    """What one payload inflates to, held to the cap: every container's decoder (gzip and zlib
    here, zstd and lz4 in zstd_lz4.py) adds its output through `add`, which raises `too_big`
    past `limit`, and asks `room` how much more it may give."""

    __slots__ = ("kind", "limit", "parts", "total")

    def __init__(self, kind: str, limit: int) -> None:
        self.kind = kind
        self.limit = limit
        self.parts: list[bytes] = []
        self.total = 0

    @property
    def room(self) -> int:
        return self.limit - self.total

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        if self.total > self.limit:
            raise too_big(self.kind, self.limit)
        self.parts.append(chunk)

    def content(self) -> bytes:
        return self.parts[0] if len(self.parts) == 1 else b"".join(self.parts)


def frames(
    kind: str,
    data: bytes,
    limit: int,
    one: Callable[[bytes, Capped], bytes],
    another: Callable[[bytes], bool],
) -> bytes:
    """The content of `data`'s frames (gzip members, zstd or lz4 frames) back to back, within
    `limit`: `one(rest, out)` decodes the first frame of `rest` into `out` and returns the bytes
    after it; `another(rest)` says whether they start another frame. Zero bytes after the last
    frame are padding; anything else is reported."""
    out = Capped(kind, limit)
    rest = data
    while True:
        rest = one(rest, out)
        if rest and another(rest):
            continue
        if rest.strip(b"\x00"):
            raise InflateError(f"unexpected bytes after the {kind} data")
        return out.content()
