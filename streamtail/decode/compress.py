"""gzip and zlib containers: detected by their magic bytes, inflated with a size cap.

gzip (RFC 1952) starts with 1f 8b and may hold several members back to back (what `cat a.gz b.gz`
makes); zlib (RFC 1950) starts with a CMF/FLG pair whose 16-bit value is a multiple of 31. The zlib
check also passes for about one text payload in 31 that starts with `x`, `h`, `X` and the like, so
a zlib candidate that does not inflate cleanly (Adler-32 checked) is simply not zlib, while a
payload with the gzip magic that does not inflate is a damaged gzip payload and is reported.
"""

from __future__ import annotations

import zlib

GZIP = "gzip"
ZLIB = "zlib"
GZIP_MAGIC = b"\x1f\x8b"
#: the smallest gzip member: a 10-byte header, an empty deflate block and the 8-byte trailer
_GZIP_MIN = 18
#: The inflate cap, for every decompressor: a payload that inflates beyond this is shown as it is
#: (base64), not expanded in memory. One record is decoded and printed at a time (printing.py), so
#: this bounds what one record costs, whatever the batch holds.
MAX_INFLATED = 64 * 1024 * 1024


class InflateError(ValueError):
    """The payload carries a container's magic but does not inflate; the message says why."""


def check_cap(total: int, kind: str, limit: int = MAX_INFLATED) -> None:
    """The inflate cap, for any decompressor: raises InflateError once `total` bytes inflated
    so far pass `limit`. A decompressor asks for at most `limit - total + 1` bytes at a time
    (zlib's `max_length`, zstd's `max_output_size`, lz4's `max_length`) and calls this after
    each piece, so no more than the cap (and one byte) is ever held."""
    if total > limit:
        raise InflateError(f"{kind} data inflates beyond {limit // (1024 * 1024)} MiB")


def container(data: bytes) -> str | None:
    """ "gzip", "zlib" or None, from the first bytes alone."""
    if len(data) >= _GZIP_MIN and data[:2] == GZIP_MAGIC:
        return GZIP
    if len(data) >= 6:  # header, an empty block and the Adler-32 trailer
        cmf, flg = data[0], data[1]
        # deflate (CM 8), window at most 32 KiB (CINFO <= 7), no preset dictionary (FDICT 0)
        if cmf & 0x0F == 8 and cmf >> 4 <= 7 and not flg & 0x20 and (cmf << 8 | flg) % 31 == 0:
            return ZLIB
    return None


def inflate(data: bytes, kind: str, limit: int = MAX_INFLATED) -> bytes:
    """The inflated bytes of a gzip or zlib payload; raises InflateError when it is not one."""
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
        if inflater.unconsumed_tail:
            total = limit + 1  # more was left to inflate than the cap allowed for
        check_cap(total, kind, limit)
        parts.append(chunk)
        if not inflater.eof:
            raise InflateError(f"truncated {kind} data")
        rest = inflater.unused_data
        if kind == GZIP and rest[:2] == GZIP_MAGIC:
            continue  # another gzip member
        if rest.strip(b"\x00"):
            raise InflateError(f"unexpected bytes after the {kind} data")
        return b"".join(parts)
