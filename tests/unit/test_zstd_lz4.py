"""Golden tests for zstd and lz4 payloads, `--decode zstd|lz4`, and a record whose service says
how it was compressed (a Yandex Data Streams `Codec`): real frames made here with zstandard and
lz4, the exact NDJSON line `read` prints."""

from __future__ import annotations

import base64
import gzip
import tracemalloc
import zlib

import lz4.frame
import pytest
import zstandard

from streamtail.decode import DecodeMode, DecodeOptions, decode, decode_record, expand
from streamtail.decode.compress import InflateError, compressor, container, decompress, inflate
from tests.unit import kplbuild
from tests.unit.helpers import ndjson, plain, record, render
from tests.unit.test_decoders import line

ORDER = b'{"id":7,"status":"paid"}'


def zstd(data: bytes, *, size: bool = True, checksum: bool = False) -> bytes:
    """One zstd frame; `size=False` as a streaming compressor (YDB's) writes it: no size."""
    return zstandard.ZstdCompressor(write_content_size=size, write_checksum=checksum).compress(data)


def streamed_zstd(data: bytes) -> bytes:
    """A frame written through a stream, as YDB's topic SDK writes its ZSTD codec."""
    compressor = zstandard.ZstdCompressor().compressobj()
    return compressor.compress(data) + compressor.flush()


def lz4f(data: bytes, **options: bool) -> bytes:
    return bytes(lz4.frame.compress(data, **options))


def coded(data: bytes, codec: str, mode: DecodeMode = DecodeMode.AUTO) -> str:
    """The NDJSON line of a record its service says was compressed with `codec`."""
    return render(expand(record(data)._replace(codec=codec), DecodeOptions(mode)))


# -- zstd and lz4 under auto ----------------------------------------------------------------------


def test_zstd_json_text_and_binary() -> None:
    assert ndjson(zstd(ORDER)) == line(f'"enc":"zstd+json","data":{ORDER.decode()}}}')
    assert ndjson(zstd(b"hello")) == line('"enc":"zstd+text","data":"hello"}')
    assert ndjson(zstd(b"\x00\x01")) == line('"enc":"zstd+base64","data":"AAE="}')


def test_zstd_without_a_size_in_its_header() -> None:
    assert zstandard.frame_content_size(streamed_zstd(ORDER)) == -1
    assert ndjson(streamed_zstd(ORDER)) == line(f'"enc":"zstd+json","data":{ORDER.decode()}}}')


def test_lz4_json_with_and_without_a_size() -> None:
    expected = line(f'"enc":"lz4+json","data":{ORDER.decode()}}}')
    assert ndjson(lz4f(ORDER)) == expected
    assert ndjson(lz4f(ORDER, store_size=False, content_checksum=True)) == expected


def test_several_frames_back_to_back() -> None:
    assert ndjson(zstd(b"[1,") + streamed_zstd(b"2]")) == line('"enc":"zstd+json","data":[1,2]}')
    assert ndjson(lz4f(b"[1,") + lz4f(b"2]")) == line('"enc":"lz4+json","data":[1,2]}')
    # a skippable zstd frame (magic 0x184D2A5?, a length, that many bytes) between two
    skippable = b"\x5a\x2a\x4d\x18" + (3).to_bytes(4, "little") + b"abc"
    assert decode(zstd(b"[1,") + skippable + zstd(b"2]")).enc == "zstd+json"


def test_layers_mix() -> None:
    assert ndjson(gzip.compress(zstd(ORDER))).count('"enc":"gzip+zstd+json"') == 1
    assert decode(zstd(lz4f(zlib.compress(b"{}")))).enc == "zstd+lz4+zlib+json"


def test_kpl_of_zstd_and_lz4_user_records() -> None:
    aggregate = kplbuild.aggregate([("a", zstd(b'{"n":1}')), ("b", lz4f(b"two"))])
    head = (
        '{"stream":"orders","shard":"shardId-000000000001","seq":"4959033827149025660855969",'
        '"subseq":%d,"key":"%s","ts":"2026-11-21T21:04:05.123Z",'
    )
    assert ndjson(aggregate) == (
        line('"enc":"kpl+zstd+json","data":{"n":1}}', head % (0, "a"))
        + line('"enc":"kpl+lz4+text","data":"two"}', head % (1, "b"))
    )


def test_text_starting_like_a_frame_stays_text() -> None:
    # "(" is zstd's first byte, but without the whole magic number nothing is a frame.
    assert container(b"(see above)") is None
    assert ndjson(b"(see above)") == line('"enc":"text","data":"(see above)"}')


# -- broken frames: base64 and one warning --------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "warning"),
    [
        (zstd(ORDER)[:-3], "truncated zstd data"),
        (streamed_zstd(ORDER)[:-3], "truncated zstd data"),
        (zstd(ORDER)[:6], "truncated zstd data"),  # the header cut short
        (b"\x28\xb5\x2f\xfd", "truncated zstd data"),
        (zstd(ORDER) + b"junk", "unexpected bytes after the zstd data"),
        (lz4f(ORDER)[:-3], "truncated lz4 data"),
        (b"\x04\x22\x4d\x18", "truncated lz4 data"),
        (lz4f(ORDER) + b"junk", "unexpected bytes after the lz4 data"),
    ],
)
def test_cut_short_or_followed_by_junk(data: bytes, warning: str) -> None:
    decoded = decode(data)
    assert decoded.enc == "base64"
    assert decoded.warning == f"{warning}; shown as base64"
    assert base64.b64decode(decoded.value) == data


def test_corrupt_frames_name_the_fault() -> None:
    damaged = bytearray(zstd(ORDER * 20, checksum=True))
    damaged[-2] ^= 0xFF  # the content checksum, the frame's last 4 bytes
    assert decode(bytes(damaged)).warning == (
        "corrupt zstd data (Restored data doesn't match checksum); shown as base64"
    )
    reserved = bytearray(zstd(ORDER))
    reserved[4] |= 0x08  # a reserved bit of the frame header descriptor
    assert decode(bytes(reserved)).warning == (
        "corrupt zstd data (bad frame header); shown as base64"
    )
    header = bytearray(lz4f(ORDER))
    header[4] |= 0x02  # a reserved bit of the FLG byte
    assert decode(bytes(header)).warning == (
        "corrupt lz4 data (ERROR_reservedFlag_set); shown as base64"
    )


# -- the inflate cap ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        zstd,  # refused from its header's size, before decompressing
        lambda data: zstd(data, size=False),  # stopped while decompressing
        streamed_zstd,
        lz4f,
    ],
    ids=["zstd-sized", "zstd-unsized", "zstd-streamed", "lz4"],
)
def test_the_cap_holds_whatever_the_frame_says(frame: object) -> None:
    assert callable(frame)
    bomb = frame(b"\x00" * 300_000)
    kind = container(bomb)
    assert kind is not None
    with pytest.raises(InflateError, match=f"^{kind} data inflates beyond"):
        inflate(bomb, kind, limit=299_999)
    assert inflate(bomb, kind, limit=300_000) == b"\x00" * 300_000


def test_bombs_are_stopped_within_the_cap_and_its_slack() -> None:
    # 16 MiB of zeros in a few hundred bytes, no size in the zstd header: decompressing stops
    # once past 1 MiB, having held at most the cap and 2 MiB (zstd_lz4's slack; lz4's last
    # 1 MiB step and its copy).
    megabyte = 1024 * 1024
    bombs = {"zstd": streamed_zstd(b"\x00" * 16 * megabyte), "lz4": lz4f(b"\x00" * 16 * megabyte)}
    for kind, bomb in bombs.items():
        assert len(bomb) < 100_000
        tracemalloc.start()
        try:
            with pytest.raises(InflateError, match=rf"^{kind} data inflates beyond 1 MiB$"):
                inflate(bomb, kind, limit=megabyte)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 3.5 * megabyte, (kind, peak)  # 16 MiB if nothing held it back


# -- --decode zstd and lz4 ------------------------------------------------------------------------


def test_forced_zstd_reads_frames_without_their_magic_number() -> None:
    magicless = zstd(ORDER)[4:]
    assert ndjson(magicless) == line(
        f'"enc":"base64","data":"{base64.b64encode(magicless).decode()}"}}'
    )
    assert ndjson(magicless, DecodeMode.ZSTD) == line(
        f'"enc":"zstd+json","data":{ORDER.decode()}}}'
    )


def test_forced_frames_then_read_as_auto() -> None:
    assert decode(zstd(gzip.compress(ORDER)), DecodeMode.ZSTD).enc == "zstd+gzip+json"
    assert decode(lz4f(b"hi"), DecodeMode.LZ4) == ("lz4+text", "hi", None, None, None)


def test_forced_frames_on_other_payloads_are_base64_with_a_warning() -> None:
    assert decode(ORDER, DecodeMode.ZSTD).warning == "not a zstd frame; shown as base64"
    assert decode(ORDER, DecodeMode.LZ4).warning == "not an lz4 frame; shown as base64"
    assert decode(zstd(ORDER), DecodeMode.LZ4).enc == "base64"
    assert decode(lz4f(ORDER)[:-2], DecodeMode.LZ4).warning == "truncated lz4 data; shown as base64"


# -- a record's codec (Yandex Data Streams' Codec) ------------------------------------------------


def test_the_codec_decides_whatever_the_first_bytes() -> None:
    expected = line(f'"enc":"zstd+json","data":{ORDER.decode()}}}')
    assert coded(streamed_zstd(ORDER), "zstd") == expected
    assert coded(streamed_zstd(ORDER)[4:], "zstd") == expected  # no magic number
    assert coded(gzip.compress(ORDER), "gzip") == line(
        f'"enc":"gzip+json","data":{ORDER.decode()}}}'
    )
    # YDB's topic SDK reads its GZIP codec as gzip or zlib (TZLibDecompress)
    assert coded(zlib.compress(ORDER), "gzip") == line(
        f'"enc":"gzip+json","data":{ORDER.decode()}}}'
    )


def test_what_a_codec_held_is_read_as_any_payload() -> None:
    assert coded(streamed_zstd(gzip.compress(b"hi")), "zstd") == line(
        '"enc":"zstd+gzip+text","data":"hi"}'
    )
    assert coded(streamed_zstd(ORDER), "zstd", DecodeMode.JSON) == line(
        f'"enc":"zstd+json","data":{ORDER.decode()}}}'
    )
    # forced JSON on what the codec held: not JSON, so that is shown as base64
    [(_, decoded)] = expand(
        record(streamed_zstd(b"hi"))._replace(codec="zstd"), DecodeOptions(DecodeMode.JSON)
    )
    assert decoded == ("zstd+base64", "aGk=", "payload is not JSON; shown as base64", None, None)


def test_base64_shows_the_bytes_as_stored() -> None:
    data = streamed_zstd(ORDER)
    shown = base64.b64encode(data).decode()
    assert coded(data, "zstd", DecodeMode.BASE64) == line(f'"enc":"base64","data":"{shown}"}}')


@pytest.mark.parametrize(
    ("codec", "data", "warning"),
    [
        ("lzop", b"\x11\x00\x00", "payload compressed with lzop, which streamtail cannot undo"),
        (
            "custom codec 10000",
            ORDER,
            "payload compressed with custom codec 10000, which streamtail cannot undo",
        ),
        ("zstd", b"plain", "not a zstd frame"),
        ("zstd", streamed_zstd(ORDER)[:-2], "truncated zstd data"),
        (
            "gzip",
            ORDER,
            "corrupt gzip data (Error -3 while decompressing data: incorrect header check)",
        ),
    ],
)
def test_a_codec_that_cannot_be_undone_is_base64_with_a_warning(
    codec: str, data: bytes, warning: str
) -> None:
    [(item, decoded)] = expand(record(data)._replace(codec=codec), DecodeOptions())
    assert decoded == (
        "base64",
        base64.b64encode(data).decode(),
        f"{warning}; shown as base64",
        None,
        None,
    )
    assert item.data == data


def test_decode_record_undoes_the_codec_too() -> None:
    packed = record(streamed_zstd(ORDER))._replace(codec="zstd")
    assert plain(decode_record(packed)) == (
        "zstd+json",
        {"id": 7, "status": "paid"},
        None,
        None,
        None,
    )
    assert decode_record(packed, DecodeMode.BASE64).enc == "base64"
    assert decode_record(record(b"\x11")._replace(codec="lzop")).warning == (
        "payload compressed with lzop, which streamtail cannot undo; shown as base64"
    )


def test_decompress_by_name() -> None:
    assert decompress(lz4f(ORDER), "lz4") == ORDER
    with pytest.raises(InflateError, match=r"^not an lz4 frame$"):
        decompress(ORDER, "lz4")


# -- put --compress -------------------------------------------------------------------------------


def test_put_compressors_round_trip() -> None:
    for kind in ("gzip", "zstd"):
        packed = compressor(kind)(ORDER)
        assert container(packed) == kind
        assert decode(packed).enc == f"{kind}+json"
    # gzip with no time in the header: the same input gives the same record
    assert compressor("gzip")(ORDER) == compressor("gzip")(ORDER)
    assert zstandard.frame_content_size(compressor("zstd")(ORDER)) == len(ORDER)
    with pytest.raises(ValueError, match="cannot compress with lzop"):
        compressor("lzop")
