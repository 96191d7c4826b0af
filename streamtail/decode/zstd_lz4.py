"""zstd and lz4 frames: decompressed within the inflate cap, the libraries loaded on first use.

A zstd frame (RFC 8878) starts 28 b5 2f fd, an lz4 frame (the LZ4 Frame Format) 04 22 4d 18.
Either may be followed by more frames (what `cat a.zst b.zst` makes), zstd's by skippable frames
too; anything else after the last frame is reported, as for gzip.

Neither frame has to say how large its content is (a streaming compressor, YDB's among them,
does not know), and neither library bounds one call's output by itself for zstd: zstandard's
decompressor has no `max_length` (python-zstandard issue #176). So a zstd frame that states its
size is refused at once when that size is over the cap (libzstd holds a frame to the size it
states), and one that does not is fed in slices small enough that one slice cannot expand past
the cap by more than `_ZSTD_SLACK` (a zstd block is at most 128 KiB and takes at least 4 bytes).
lz4's decompressor takes `max_length` (lz4.frame.LZ4FrameDecompressor), which bounds it exactly.
"""

from __future__ import annotations

import functools
import threading
from types import ModuleType
from typing import TYPE_CHECKING, Any

from streamtail.decode.compress import (
    LZ4,
    LZ4_MAGIC,
    ZSTD,
    ZSTD_MAGIC,
    Capped,
    InflateError,
    frames,
    too_big,
)

if TYPE_CHECKING:
    import zstandard

#: the most a zstd slice's output may pass the cap by: 64 input bytes hold at most 16 blocks of
#: 128 KiB (a 3-byte block header and one RLE byte each)
_ZSTD_SLACK = 2 * 1024 * 1024
_ZSTD_MAX_RATIO = 128 * 1024 // 4
_ZSTD_SLICE_MIN = 64
_ZSTD_SLICE_MAX = 64 * 1024
#: skippable zstd frames: magic 0x184D2A50 to 0x184D2A5F (RFC 8878, 3.1.2)
_SKIPPABLE_TAIL = b"\x2a\x4d\x18"
#: the longest zstd frame header: magic, descriptor, window, a 4-byte dictionary id, an 8-byte size
_ZSTD_HEADER_MAX = 18
#: lz4 output asked for at a time (the decompressor keeps the rest of the input)
_LZ4_STEP = 1024 * 1024

_local = threading.local()


@functools.cache
def _zstandard() -> ModuleType:
    """zstandard, imported on the first zstd payload (an import statement costs each call)."""
    import zstandard

    return zstandard


@functools.cache
def _lz4_frame() -> ModuleType:
    """lz4.frame, imported on the first lz4 payload."""
    import lz4.frame

    frame: ModuleType = lz4.frame
    return frame


def _decompressor() -> zstandard.ZstdDecompressor:
    """This thread's zstd decompression context (made once: a new one costs microseconds)."""
    dctx: zstandard.ZstdDecompressor | None = getattr(_local, "dctx", None)
    if dctx is None:
        dctx = _local.dctx = _zstandard().ZstdDecompressor()
    return dctx


def _is_zstd_frame(data: bytes) -> bool:
    head = data[:4]
    return head == ZSTD_MAGIC or (head[1:] == _SKIPPABLE_TAIL and head[0] & 0xF0 == 0x50)


def unzstd(data: bytes, limit: int, *, magicless: bool = False) -> bytes:
    """The content of one or more zstd frames; InflateError when it is not that, or would be
    larger than `limit` bytes. `magicless`: a first frame written without its magic number
    (zstd's ZSTD_f_zstd1_magicless format) is read too."""
    if magicless and not _is_zstd_frame(data):
        data = ZSTD_MAGIC + data
    return frames(ZSTD, data, limit, _zstd_frame, _is_zstd_frame)


def _zstd_frame(rest: bytes, out: Capped) -> bytes:
    """One zstd frame into `out`; the bytes after it."""
    inflater = _decompressor().decompressobj()
    try:
        declared = _declared_size(rest)
        if declared > out.room:
            raise too_big(ZSTD, out.limit)
        # A frame that states its size is held to it: given whole, as a small one is.
        step = len(rest) if declared >= 0 else _zstd_slice(out.room, len(rest))
        view = memoryview(rest) if step < len(rest) else rest
        done = 0
        while not inflater.eof and done < len(rest):
            out.add(inflater.decompress(view[done : done + step]))
            done += step
    except _zstandard().ZstdError as exc:
        raise InflateError(f"corrupt zstd data ({_reason(exc)})") from exc
    if not inflater.eof:
        raise InflateError("truncated zstd data")
    after = inflater.unused_data
    return after + bytes(view[done:]) if done < len(rest) else after


def _declared_size(frame: bytes) -> int:
    """The content size a zstd frame's header states; -1 when it states none (or the frame is
    a skippable one)."""
    if frame[:4] != ZSTD_MAGIC:
        return -1
    zstandard = _zstandard()
    try:
        return int(zstandard.frame_content_size(frame))
    except zstandard.ZstdError:
        # a header cut short (it is 6 to 18 bytes long), or one with reserved bits set
        if len(frame) < _ZSTD_HEADER_MAX:
            raise InflateError("truncated zstd data") from None
        raise InflateError("corrupt zstd data (bad frame header)") from None


def _zstd_slice(room: int, size: int) -> int:
    """Input bytes to give at once so that the output cannot pass the cap by more than the
    slack: up to 64 KiB far from it, 64 bytes close to it (all of a small frame at once)."""
    step = (room + _ZSTD_SLACK) // _ZSTD_MAX_RATIO
    if step >= size:
        return size
    return _ZSTD_SLICE_MIN if step < _ZSTD_SLICE_MIN else min(step, _ZSTD_SLICE_MAX)


def _reason(exc: Exception) -> str:
    return str(exc).removeprefix("zstd decompressor error: ")


def unlz4(data: bytes, limit: int) -> bytes:
    """The content of one or more lz4 frames; InflateError when it is not that, or would be
    larger than `limit` bytes."""
    return frames(LZ4, data, limit, _lz4_frame_into, _is_lz4_frame)


def _lz4_frame_into(rest: bytes, out: Capped) -> bytes:
    """One lz4 frame into `out`; the bytes after it."""
    inflater = _lz4_frame().LZ4FrameDecompressor()
    given = rest
    try:
        while not inflater.eof:
            out.add(inflater.decompress(given, max_length=min(_LZ4_STEP, out.room + 1)))
            given = b""
            if inflater.needs_input:
                break  # all the input is used and the frame has not ended
    except RuntimeError as exc:  # lz4.frame reports a damaged frame as RuntimeError
        raise InflateError(f"corrupt lz4 data ({_lz4_reason(exc)})") from exc
    if not inflater.eof:
        raise InflateError("truncated lz4 data")
    return inflater.unused_data or b""


def _is_lz4_frame(rest: bytes) -> bool:
    return rest[:4] == LZ4_MAGIC


def _lz4_reason(exc: Exception) -> str:
    return str(exc).removeprefix("LZ4F_decompress failed with code: ")


def zstd_compress(data: bytes) -> bytes:
    """One zstd frame at the default level, its content size in the header."""
    compressor: Any = getattr(_local, "cctx", None)
    if compressor is None:
        compressor = _local.cctx = _zstandard().ZstdCompressor()
    return bytes(compressor.compress(data))
