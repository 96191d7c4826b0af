"""Round trips on real servers (moto's server and kinesis-mock), with `streamtail` as a separate
process: put then read, `read -o ndjson | put --from-ndjson`, binary chunks, every decoder on
the wire, and `--key` reading only the shard the service routed the key to."""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
import sys
from typing import Any

import orjson
import pytest

from streamtail.filters import key_shards
from streamtail.sources.kinesis import shard_from_api
from tests.integration.conftest import Server, streamtail_env
from tests.unit import kplbuild
from tests.unit.test_decoders import ENVELOPE

pytestmark = pytest.mark.server


def _records(stdout: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in stdout.splitlines()]


def test_put_then_read(server: Server) -> None:
    stream = server.create_stream(3)
    lines = [orjson.dumps({"user": f"u{i % 37}", "n": i}) for i in range(1200)]
    put = server.streamtail("put", stream, "--key-field", "user", input=b"\n".join(lines) + b"\n")
    assert put.returncode == 0, put.stderr
    assert put.stderr.decode().startswith(f"streamtail: 1200 records written to {stream} (")
    read = server.streamtail("read", stream, "-o", "ndjson")
    assert read.returncode == 0, read.stderr
    got = sorted((r["key"], r["data"]["n"]) for r in _records(read.stdout))
    assert got == sorted((f"u{i % 37}", i) for i in range(1200))
    # within a shard, records of one key come out in the order they were put
    by_key: dict[str, list[int]] = {}
    for r in _records(read.stdout):
        by_key.setdefault(r["key"], []).append(r["data"]["n"])
    assert all(ns == sorted(ns) for ns in by_key.values())


def test_read_ndjson_piped_into_put(server: Server) -> None:
    source = server.create_stream(2)
    target = server.create_stream(2)
    client = server.client
    client.put_record(StreamName=source, PartitionKey="a", Data=b'{"id":1}')
    client.put_record(StreamName=source, PartitionKey="b", Data=gzip.compress(b'{"id":2}'))
    client.put_record(StreamName=source, PartitionKey="c", Data=b"plain text")
    client.put_record(StreamName=source, PartitionKey="d", Data=b"\x00\x01\xff")
    client.put_record(
        StreamName=source, PartitionKey="u1", Data=kplbuild.aggregate([("u1", b"x"), ("u2", b"y")])
    )
    env = streamtail_env()
    base = [sys.executable, "-m", "streamtail"]
    endpoint = ["--endpoint-url", server.endpoint]
    reader = subprocess.Popen(
        [*base, "read", source, "-o", "ndjson", *endpoint], stdout=subprocess.PIPE, env=env
    )
    writer = subprocess.run(
        [*base, "put", target, "--from-ndjson", "--key-field", "key", *endpoint],
        stdin=reader.stdout,
        capture_output=True,
        env=env,
        timeout=180,
        check=False,
    )
    assert reader.stdout is not None
    reader.stdout.close()
    assert reader.wait(timeout=60) == 0
    assert writer.returncode == 0, writer.stderr
    assert writer.stderr.decode().startswith("streamtail: 6 records written to")
    read = server.streamtail("read", target, "-o", "ndjson")
    got = sorted((r["key"], r["enc"], orjson.dumps(r["data"])) for r in _records(read.stdout))
    assert got == [
        ("a", "json", b'{"id":1}'),
        ("b", "json", b'{"id":2}'),  # written decoded: the gzip layer is not put back
        ("c", "text", b'"plain text"'),
        ("d", "base64", b'"AAH/"'),
        ("u1", "text", b'"x"'),  # KPL user records come back as records of their own
        ("u2", "text", b'"y"'),
    ]


def test_binary_chunks_round_trip(server: Server) -> None:
    stream = server.create_stream(1)
    data = os.urandom(650_000)
    put = server.streamtail(
        "put", stream, "--binary", "--chunk-size", "100000", "--key", "file", input=data
    )
    assert put.returncode == 0, put.stderr
    read = server.streamtail("read", stream, "-o", "ndjson", "--decode", "base64")
    chunks = _records(read.stdout)
    assert [len(base64.b64decode(c["data"])) for c in chunks] == [100_000] * 6 + [50_000]
    assert b"".join(base64.b64decode(c["data"]) for c in chunks) == data


def test_every_decoder_on_the_wire(server: Server) -> None:
    stream = server.create_stream(1)
    client = server.client
    client.put_record(StreamName=stream, PartitionKey="g", Data=gzip.compress(b'{"g":1}'))
    client.put_record(
        StreamName=stream, PartitionKey="k", Data=kplbuild.aggregate([("k1", b"1"), ("k2", b"2")])
    )
    client.put_record(
        StreamName=stream, PartitionKey="l", Data=gzip.compress(json.dumps(ENVELOPE).encode())
    )
    read = server.streamtail("read", stream, "-o", "ndjson", "--expand-logs")
    assert read.returncode == 0, read.stderr
    assert [(r["key"], r.get("subseq"), r["enc"]) for r in _records(read.stdout)] == [
        ("g", None, "gzip+json"),
        ("k1", 0, "kpl+json"),
        ("k2", 1, "kpl+json"),
        ("l", None, "gzip+cwlogs+text"),
        ("l", None, "gzip+cwlogs+json"),
    ]


def test_key_reads_the_shard_the_service_routed_it_to(server: Server) -> None:
    stream = server.create_stream(4)
    lines = b"".join(b'{"k":"key-%d","n":%d}\n' % (i % 40, i) for i in range(200))
    assert server.streamtail("put", stream, "--key-field", "k", input=lines).returncode == 0
    shards = [shard_from_api(s) for s in server.client.list_shards(StreamName=stream)["Shards"]]
    for key in ("key-3", "key-17", "key-39"):
        read = server.streamtail("read", stream, "-o", "ndjson", "--key", key)
        assert read.returncode == 0, read.stderr
        records = _records(read.stdout)
        assert [r["data"]["n"] for r in records] == [
            n for n in range(200) if f"key-{n % 40}" == key
        ]
        (holder,) = [s.shard_id for s in shards if key_shards(key)(s)]
        assert {r["shard"] for r in records} == {holder}
