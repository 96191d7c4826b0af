"""Compressed containers: detected by their magic bytes, inflated with one size cap.

gzip and zlib are inflated here; zstd and lz4 frames in zstd_lz4.py (their libraries are loaded
only when a payload is one), under the same cap (`MAX_INFLATED`, `too_big`).

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
#: a payload that inflates beyond this is shown as it is (base64), not expanded in memory
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


def inflate(data: bytes, kind: str, limit: int = MAX_INFLATED) -> bytes:
    """The inflated bytes of a payload of that container; raises InflateError when it is not
    one, or would inflate past `limit` bytes."""
    if kind in (ZSTD, LZ4):
        frames = _frames()
        return frames.unzstd(data, limit) if kind == ZSTD else frames.unlz4(data, limit)
    wbits = 31 if kind == GZIP else 15
    parts: list[bytes] = []
    total = 0
    rest = data
    while True:
        inflater = zlib.decompressobj(wbits)
        try:
            chunk = inflater.decompress(rest, limit - total + 1)
        except zlib.error as exc:
            raise InflateError(f"corrupt {kind} data ({exc})") from exc
        total += len(chunk)
        if total > limit or inflater.unconsumed_tail:
            raise too_big(kind, limit)
        parts.append(chunk)
        if not inflater.eof:
            raise InflateError(f"truncated {kind} data")
        rest = inflater.unused_data
        if kind == GZIP and rest[:2] == GZIP_MAGIC:
            continue  # another gzip member
        if rest.strip(b"\x00"):
            raise InflateError(f"unexpected bytes after the {kind} data")
        return b"".join(parts)


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
