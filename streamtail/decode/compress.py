"""Compressed containers: detected by their magic bytes, inflated with one size cap.

gzip and zlib are inflated here; zstd and lz4 frames in zstd_lz4.py (their libraries are loaded
only when a payload is one), under the same cap: `MAX_INFLATED`, held by a `Capped` that every
decoder adds its output to, through `frames()`, the one loop over frames back to back.

gzip (RFC 1952) starts with 1f 8b and may hold several members back to back (what `cat a.gz b.gz`
makes); zlib (RFC 1950) starts with a CMF/FLG pair whose 16-bit value is a multiple of 31. The zlib
check also passes for about one text payload in 31 that starts with `x`, `h`, `X` and the like, so
a zlib candidate that does not inflate cleanly (Adler-32 checked) is simply not zlib, while a
payload with the gzip magic that does not inflate is a damaged gzip payload and is reported.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable
from typing import NamedTuple

GZIP = "gzip"
ZLIB = "zlib"
ZSTD = "zstd"
LZ4 = "lz4"
GZIP_MAGIC = b"\x1f\x8b"
#: zstd (RFC 8878) and lz4 frames (the LZ4 Frame Format): a four-byte magic number is claim
#: enough, so a payload that has one and does not decompress is reported (cut short, damaged)
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
LZ4_MAGIC = b"\x04\x22\x4d\x18"
#: the smallest gzip member: a 10-byte header, an empty deflate block and the 8-byte trailer
_GZIP_MIN = 18
#: The inflate cap, for every decompressor (`Capped`): a payload that inflates beyond this is shown
#: as it is (base64), not expanded in memory. One record is decoded and printed at a time
#: (printing.py), so this bounds what one record costs, whatever the batch holds.
MAX_INFLATED = 64 * 1024 * 1024


class InflateError(ValueError):
    """The payload carries a container's magic but does not inflate; the message says why."""


def too_big(kind: str, limit: int) -> InflateError:
    """The error for a payload that would inflate past `limit` bytes (every container's)."""
    return InflateError(f"{kind} data inflates beyond {limit // (1024 * 1024)} MiB")


class _Frames(NamedTuple):
    unzstd: Callable[..., bytes]
    unlz4: Callable[[bytes, int], bytes]
    zstd_compress: Callable[[bytes], bytes]


@functools.cache
def _frames() -> _Frames:
    """decode/zstd_lz4.py, loaded on the first zstd or lz4 payload (it imports this module;
    an import statement would cost every payload a microsecond)."""
    from streamtail.decode.zstd_lz4 import unlz4, unzstd, zstd_compress

    return _Frames(unzstd, unlz4, zstd_compress)


def container(data: bytes) -> str | None:
    """ "gzip", "zlib", "zstd", "lz4" or None, from the first bytes alone."""
    if len(data) >= _GZIP_MIN and data[:2] == GZIP_MAGIC:
        return GZIP
    if data[:4] == ZSTD_MAGIC:
        return ZSTD
    if data[:4] == LZ4_MAGIC:
        return LZ4
    if len(data) >= 6:  # header, an empty block and the Adler-32 trailer
        cmf, flg = data[0], data[1]
        # deflate (CM 8), window at most 32 KiB (CINFO <= 7), no preset dictionary (FDICT 0)
        if cmf & 0x0F == 8 and cmf >> 4 <= 7 and not flg & 0x20 and (cmf << 8 | flg) % 31 == 0:
            return ZLIB
    return None


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


def inflate(data: bytes, kind: str, limit: int = MAX_INFLATED) -> bytes:
    """The inflated bytes of a payload of that container; raises InflateError when it is not
    one, or would inflate past `limit` bytes."""
    if kind in (ZSTD, LZ4):
        found = _frames()
        return found.unzstd(data, limit) if kind == ZSTD else found.unlz4(data, limit)
    another = _another_gzip_member if kind == GZIP else _one_stream
    return frames(kind, data, limit, _zlib_member, another)


def _zlib_member(rest: bytes, out: Capped) -> bytes:
    """One gzip member or zlib stream into `out`; the bytes after it."""
    inflater = zlib.decompressobj(31 if out.kind == GZIP else 15)
    try:
        out.add(inflater.decompress(rest, out.room + 1))
    except zlib.error as exc:
        raise InflateError(f"corrupt {out.kind} data ({exc})") from exc
    if not inflater.eof:
        raise InflateError(f"truncated {out.kind} data")
    return inflater.unused_data


def _another_gzip_member(rest: bytes) -> bool:
    return rest[:2] == GZIP_MAGIC


def _one_stream(rest: bytes) -> bool:
    """A zlib payload is one stream: nothing may follow it."""
    return False


def decompress(data: bytes, codec: str, limit: int = MAX_INFLATED) -> bytes:
    """The content of a payload said to be compressed with `codec` (by its service, a
    `Record.codec`, or by `--decode zstd|lz4`), whatever its first bytes; raises InflateError
    when it is not that, or cannot be undone here (lzop, a custom codec).

    gzip is read as gzip or zlib, as YDB's topic SDK reads its GZIP codec (`TZLibDecompress`);
    zstd as frames with or without their magic number (zstd's magicless format).
    """
    if codec == GZIP:
        return inflate(data, ZLIB if container(data) == ZLIB else GZIP, limit)
    if codec == ZSTD:
        try:
            return _frames().unzstd(data, limit, magicless=True)
        except InflateError:
            if container(data) != ZSTD:
                raise InflateError("not a zstd frame") from None
            raise
    if codec == LZ4:
        if container(data) != LZ4:
            raise InflateError("not an lz4 frame")
        return inflate(data, LZ4, limit)
    raise InflateError(f"payload compressed with {codec}, which streamtail cannot undo")


def compressor(kind: str) -> Callable[[bytes], bytes]:
    """How `put --compress` writes a payload: gzip (one member, no file name or time, as
    gzip.compress(mtime=0) writes it) or one zstd frame with its content size."""
    if kind == ZSTD:
        return _frames().zstd_compress
    if kind == GZIP:
        import gzip

        return lambda data: gzip.compress(data, mtime=0)
    raise ValueError(f"cannot compress with {kind}")
