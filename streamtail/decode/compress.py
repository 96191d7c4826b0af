"""Compressed containers: detected by their magic bytes, inflated with one size cap.

gzip and zlib are inflated here; zstd and lz4 frames in zstd_lz4.py (their libraries are loaded
only when a payload is one), under the same cap: `MAX_INFLATED`, held by a `Capped` that every
decoder adds its output to, through `frames()`, the one loop over frames back to back (all three
in capped.py, which both import).

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

from streamtail.decode.capped import (
    GZIP,
    GZIP_MAGIC,
    LZ4,
    LZ4_MAGIC,
    MAX_INFLATED,
    ZLIB,
    ZSTD,
    ZSTD_MAGIC,
    Capped,
    InflateError,
    frames,
    too_big,
)

__all__ = [
    "GZIP",
    "GZIP_MAGIC",
    "LZ4",
    "LZ4_MAGIC",
    "MAX_INFLATED",
    "ZLIB",
    "ZSTD",
    "ZSTD_MAGIC",
    "Capped",
    "InflateError",
    "compressor",
    "container",
    "decompress",
    "frames",
    "inflate",
    "too_big",
]

#: the smallest gzip member: a 10-byte header, an empty deflate block and the 8-byte trailer
_GZIP_MIN = 18


class _Frames(NamedTuple):
    unzstd: Callable[..., bytes]
    unlz4: Callable[[bytes, int], bytes]
    zstd_compress: Callable[[bytes], bytes]


@functools.cache
def _frames() -> _Frames:
    """decode/zstd_lz4.py, loaded on the first zstd or lz4 payload (an import statement would
    cost every payload a microsecond)."""
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
