"""zstd and lz4 payloads on real servers (moto's server and kinesis-mock), `streamtail` as a
separate process: frames as producers write them, damaged frames, `--decode zstd`, and
`put --compress` read back."""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
from collections.abc import Callable

import lz4.frame
import pytest
import zstandard

from tests.unit import kplbuild

from .servers import Admin, Cli

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]
Names = Callable[[str], str]


def streamed_zstd(data: bytes) -> bytes:
    """A zstd frame written through a stream: no content size in its header."""
    compressor = zstandard.ZstdCompressor().compressobj()
    return compressor.compress(data) + compressor.flush()


def test_zstd_and_lz4_payloads_read_back_with_their_codec(
    admin: Admin, cli: Cli, stream_name: Names
) -> None:
    stream = admin.create_stream(stream_name("zl"), shards=1)
    sized = zstandard.ZstdCompressor().compress(b'{"id":1}')
    cut = streamed_zstd(b'{"id":5}')[:-1]
    junk = lz4.frame.compress(b"{}") + b"junk"
    admin.put_raw(
        stream,
        [
            ("z", sized),
            ("s", streamed_zstd(b'{"id":2}')),
            ("l", lz4.frame.compress(b"GET /health 200 3ms")),
            ("k", kplbuild.aggregate([("k1", sized), ("k2", lz4.frame.compress(b"[3]"))])),
            ("g", gzip.compress(streamed_zstd(b'{"id":4}'))),
            ("t1", sized[:-2]),  # cut short
            ("t2", cut),  # cut short too: counted with t1
            ("j", junk),
            ("m", sized[4:]),  # no magic number: not a frame under auto
        ],
    )
    read = cli.run("read", stream, "-o", "ndjson", endpoint=admin.server.endpoint)
    assert read.returncode == 0, read.describe()

    def b64(data: bytes) -> str:
        return json.dumps(base64.b64encode(data).decode())

    got = [(r["key"], r["enc"], json.dumps(r["data"])) for r in read.records]
    assert got == [
        ("z", "zstd+json", '{"id": 1}'),
        ("s", "zstd+json", '{"id": 2}'),
        ("l", "lz4+text", '"GET /health 200 3ms"'),
        ("k1", "kpl+zstd+json", '{"id": 1}'),
        ("k2", "kpl+lz4+json", "[3]"),
        ("g", "gzip+zstd+json", '{"id": 4}'),
        ("t1", "base64", b64(sized[:-2])),
        ("t2", "base64", b64(cut)),
        ("j", "base64", b64(junk)),
        ("m", "base64", b64(sized[4:])),
    ]
    seqs = {r["key"]: r["seq"] for r in read.records}
    shard = read.records[0]["shard"]
    assert read.stderr.splitlines() == [
        f"streamtail: warning: shard {shard} seq {seqs['t1']}: truncated zstd data; "
        "shown as base64",
        f"streamtail: warning: shard {shard} seq {seqs['j']}: unexpected bytes after the lz4 data; "
        "shown as base64",
        "streamtail: warning: 2 of the 10 records printed: truncated zstd data; shown as base64",
    ]

    forced = cli.run(
        "read", stream, "-o", "ndjson", "--decode", "zstd", endpoint=admin.server.endpoint
    )
    assert forced.returncode == 0, forced.describe()
    assert [(r["key"], r["enc"]) for r in forced.records if r["key"] in {"z", "l", "m"}] == [
        ("z", "zstd+json"),
        ("l", "base64"),  # an lz4 frame is not a zstd frame
        ("m", "zstd+json"),  # a frame without its magic number, read when zstd is forced
    ]
    assert "not a zstd frame; shown as base64" in forced.stderr


def test_put_compress_round_trip(moto: Admin, cli: Cli, stream_name: Names) -> None:
    endpoint = moto.server.endpoint
    lines = ['{"id":1}', "plain text", '{"id":2}']
    for codec in ("zstd", "gzip"):
        stream = moto.create_stream(stream_name(codec), shards=1)
        put = cli.run(
            "put",
            stream,
            "--key",
            "k",
            "--compress",
            codec,
            endpoint=endpoint,
            stdin="\n".join(lines),
        )
        assert put.returncode == 0, put.describe()
        read = cli.run("read", stream, "-o", "ndjson", endpoint=endpoint)
        assert [(r["enc"], r["data"]) for r in read.records] == [
            (f"{codec}+json", {"id": 1}),
            (f"{codec}+text", "plain text"),
            (f"{codec}+json", {"id": 2}),
        ]
        stored = cli.run("read", stream, "-o", "ndjson", "--decode", "base64", endpoint=endpoint)
        raw = [base64.b64decode(r["data"]) for r in stored.records]
        if codec == "zstd":
            inflated = [zstandard.ZstdDecompressor().decompress(b) for b in raw]
        else:
            inflated = [gzip.decompress(b) for b in raw]
        assert inflated == [line.encode() for line in lines]

    # --binary chunks, each compressed on its own
    stream = moto.create_stream(stream_name("zbin"), shards=1)
    put = subprocess.run(
        cli.argv(["put", stream, "--binary", "--chunk-size", "4", "--compress", "zstd"], endpoint),
        input=b"\x00\x01\x02\x03\x04\x05",
        capture_output=True,
        env=cli.env,
        timeout=60,
        check=False,
    )
    assert put.returncode == 0, put.stderr
    read = cli.run("read", stream, "-o", "ndjson", endpoint=endpoint)
    assert [(r["enc"], r["data"]) for r in read.records] == [
        ("zstd+base64", "AAECAw=="),
        ("zstd+base64", "BAU="),
    ]
