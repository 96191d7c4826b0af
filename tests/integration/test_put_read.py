"""Round trips on real servers (moto's server and kinesis-mock), with `streamtail` as a separate
process: put then read, `read -o ndjson | put --from-ndjson`, binary chunks, every decoder on
the wire, and `--key` reading only the shard the service routed the key to."""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
from collections.abc import Callable

import orjson
import pytest

from streamtail.filters import key_shards
from streamtail.sources.kinesis import shard_from_api
from tests.unit import kplbuild
from tests.unit.test_decoders import ENVELOPE

from .servers import Admin, Cli

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]
Names = Callable[[str], str]


def test_put_then_read(admin: Admin, cli: Cli, stream_name: Names) -> None:
    stream = admin.create_stream(stream_name("rt"), shards=3)
    endpoint = admin.server.endpoint
    lines = [orjson.dumps({"user": f"u{i % 37}", "n": i}).decode() for i in range(1200)]
    put = cli.run("put", stream, "--key-field", "user", endpoint=endpoint, stdin="\n".join(lines))
    assert put.returncode == 0, put.describe()
    assert put.stderr.startswith(f"streamtail: 1200 records written to {stream} (")
    read = cli.run("read", stream, "-o", "ndjson", endpoint=endpoint)
    assert read.returncode == 0, read.describe()
    got = sorted((r["key"], r["data"]["n"]) for r in read.records)
    assert got == sorted((f"u{i % 37}", i) for i in range(1200))
    # batches go out one at a time: records of one key come out in the order they were put
    by_key: dict[str, list[int]] = {}
    for r in read.records:
        by_key.setdefault(r["key"], []).append(r["data"]["n"])
    assert all(ns == sorted(ns) for ns in by_key.values())


def test_read_ndjson_piped_into_put(admin: Admin, cli: Cli, stream_name: Names) -> None:
    source = admin.create_stream(stream_name("src"), shards=2)
    target = admin.create_stream(stream_name("dst"), shards=2)
    endpoint = admin.server.endpoint
    admin.put_raw(
        source,
        [
            ("a", b'{"id":1}'),
            ("b", gzip.compress(b'{"id":2}')),
            ("c", b"plain text"),
            ("d", b"\x00\x01\xff"),
            ("u1", kplbuild.aggregate([("u1", b"x"), ("u2", b"y")])),
        ],
    )
    reader = subprocess.Popen(
        cli.argv(["read", source, "-o", "ndjson"], endpoint),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        env=cli.env,
    )
    writer = subprocess.run(
        cli.argv(["put", target, "--from-ndjson", "--key-field", "key"], endpoint),
        stdin=reader.stdout,
        capture_output=True,
        env=cli.env,
        timeout=120,
        check=False,
    )
    assert reader.stdout is not None
    reader.stdout.close()
    assert reader.wait(timeout=60) == 0
    assert writer.returncode == 0, writer.stderr
    assert writer.stderr.decode().startswith("streamtail: 6 records written to")
    read = cli.run("read", target, "-o", "ndjson", endpoint=endpoint)
    got = sorted((r["key"], r["enc"], orjson.dumps(r["data"])) for r in read.records)
    assert got == [
        ("a", "json", b'{"id":1}'),
        ("b", "json", b'{"id":2}'),  # written decoded: the gzip layer is not put back
        ("c", "text", b'"plain text"'),
        ("d", "base64", b'"AAH/"'),
        ("u1", "text", b'"x"'),  # KPL user records come back as records of their own
        ("u2", "text", b'"y"'),
    ]


def test_binary_chunks_round_trip(admin: Admin, cli: Cli, stream_name: Names) -> None:
    stream = admin.create_stream(stream_name("bin"), shards=1)
    endpoint = admin.server.endpoint
    data = os.urandom(650_000)
    put = subprocess.run(
        cli.argv(["put", stream, "--binary", "--chunk-size", "100000", "--key", "file"], endpoint),
        input=data,
        capture_output=True,
        env=cli.env,
        timeout=120,
        check=False,
    )
    assert put.returncode == 0, put.stderr
    read = cli.run("read", stream, "-o", "ndjson", "--decode", "base64", endpoint=endpoint)
    chunks = [base64.b64decode(r["data"]) for r in read.records]
    assert [len(c) for c in chunks] == [100_000] * 6 + [50_000]
    assert b"".join(chunks) == data
    # -o raw with no delimiter gives the file back, byte for byte
    raw = subprocess.run(
        cli.argv(["read", stream, "--decode", "none", "-o", "raw", "--delimiter", ""], endpoint),
        capture_output=True,
        env=cli.env,
        timeout=120,
        check=False,
    )
    assert raw.returncode == 0, raw.stderr
    assert raw.stdout == data


def test_every_decoder_on_the_wire(admin: Admin, cli: Cli, stream_name: Names) -> None:
    stream = admin.create_stream(stream_name("dec"), shards=1)
    admin.put_raw(
        stream,
        [
            ("g", gzip.compress(b'{"g":1}')),
            ("k", kplbuild.aggregate([("k1", b"1"), ("k2", b"2")])),
            ("l", gzip.compress(json.dumps(ENVELOPE).encode())),
        ],
    )
    read = cli.run("read", stream, "-o", "ndjson", "--expand-logs", endpoint=admin.server.endpoint)
    assert read.returncode == 0, read.describe()
    assert [(r["key"], r.get("subseq"), r["enc"]) for r in read.records] == [
        ("g", None, "gzip+json"),
        ("k1", 0, "kpl+json"),
        ("k2", 1, "kpl+json"),
        ("l", None, "gzip+cwlogs+text"),
        ("l", None, "gzip+cwlogs+json"),
    ]


def test_key_reads_the_shard_the_service_routed_it_to(
    admin: Admin, cli: Cli, stream_name: Names
) -> None:
    stream = admin.create_stream(stream_name("key"), shards=4)
    endpoint = admin.server.endpoint
    lines = "".join(f'{{"k":"key-{i % 40}","n":{i}}}\n' for i in range(200))
    put = cli.run("put", stream, "--key-field", "k", endpoint=endpoint, stdin=lines)
    assert put.returncode == 0, put.describe()
    shards = [shard_from_api(s) for s in admin.list_shards(stream)]
    for key in ("key-3", "key-17", "key-39"):
        read = cli.run("read", stream, "-o", "ndjson", "--key", key, endpoint=endpoint)
        assert read.returncode == 0, read.describe()
        assert [r["data"]["n"] for r in read.records] == [
            n for n in range(200) if f"key-{n % 40}" == key
        ]
        (holder,) = [s.shard_id for s in shards if key_shards(key)(s)]
        assert {r["shard"] for r in read.records} == {holder}
