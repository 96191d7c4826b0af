"""The README's examples of output are what the tool prints (as test_ndjson_contract.py does for
the NDJSON schema): error lines, warnings, the status line, the tables (Kinesis, Decoding,
DynamoDB), `put`'s counts, NDJSON lines of every decoding, the schema round trips, the `--compress
zstd` copy, the DynamoDB and `lag` NDJSON lines, the checkpoint of another stream, `top`'s advice,
the `--debug` log.

Each example is taken from the README itself (a ``` block), then produced: usage errors through
the CLI with no AWS at all, the others through the CLI on moto in-process or through the part
that prints them, with the README's own records. What the service decides (arrival times,
sequence numbers, ids) is left out of a comparison or pinned, and said so where it is.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
import shlex
import zlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import lz4.frame
import pytest
import zstandard

from streamtail.decode import DecodeMode, DecodeOptions, expand_all
from streamtail.env import Env
from streamtail.model import Record
from streamtail.printing import DecodeProblems
from streamtail.render import RenderContext
from streamtail.render.ndjson import NdjsonRenderer
from streamtail.status import Figures, format_status
from tests.unit import kplbuild
from tests.unit.helpers import run_cli
from tests.unit.schema_fixtures import README_ORDER
from tests.unit.seed import SEED_BASE

README = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")


def blocks() -> list[list[str]]:
    """The lines of every fenced block of the README (indented blocks too)."""
    found: list[list[str]] = []
    current: list[str] | None = None
    for line in README.splitlines():
        if line.strip().startswith("```"):
            if current is None:
                current = []
            else:
                found.append(current)
                current = None
        elif current is not None:
            current.append(line.strip() if line.startswith("  ") else line)
    return found


def sessions() -> list[tuple[str, list[str]]]:
    """Each `$ ...` line of a block, with the lines after it (its output)."""
    found: list[tuple[str, list[str]]] = []
    for block in blocks():
        for i, line in enumerate(block):
            if line.startswith("$ "):
                end = next((j for j in range(i + 1, len(block)) if block[j].startswith("$ ")), None)
                found.append((line[2:], block[i + 1 : end]))
    return found


def block_with(first: str, *, holding: str = "") -> list[str]:
    """The one block whose first line starts with `first` (and that holds `holding`)."""
    [block] = [b for b in blocks() if b and b[0].startswith(first) and holding in "\n".join(b)]
    return block


def session(command: str) -> list[str]:
    [output] = [out for cmd, out in sessions() if cmd == command]
    return output


USAGE_ERRORS = [
    (command, output)
    for command, output in sessions()
    if command.startswith("streamtail ")
    and output
    and all(re.match(r"streamtail: (error|hint): ", line) for line in output)
]


def test_the_readme_shows_usage_errors() -> None:
    assert len(USAGE_ERRORS) >= 5, USAGE_ERRORS


@pytest.mark.parametrize(("command", "output"), USAGE_ERRORS, ids=[c for c, _ in USAGE_ERRORS])
def test_usage_error_examples(aws_env: None, command: str, output: list[str]) -> None:
    result = run_cli(*shlex.split(command)[1:])
    assert (result.code, result.stdout) == (2, b"")
    assert result.stderr.splitlines() == output


def test_status_line_examples() -> None:
    [plain] = block_with("orders  12,408 records")
    [filtered] = block_with("orders  1,204 printed")

    def line(shown: int, read: int, rate: float, closed: int, behind: tuple[str, int]) -> str:
        retries = (4, 3) if closed else (0, 0)
        figures = Figures("orders", shown, read, rate, 4, closed, behind, *retries)
        return format_status(figures, 200)

    assert line(12_408, 12_408, 215.0, 2, ("shardId-000000000007", 1_800)) == plain
    assert line(1_204, 5_000, 38.0, 0, ("shardId-000000000000", 0)) == filtered


def test_damaged_payload_example() -> None:
    line, warning = block_with('{"stream":"orders","shard":"', holding="bad MD5 checksum")
    shown = json.loads(line)
    # the README's record, as read: its bytes are the base64 it shows
    record = Record(
        shown["shard"],
        shown["seq"],
        shown["key"],
        1_795_295_045_123,
        base64.b64decode(shown["data"]),
    )
    env = Env(stdout=io.BytesIO(), stderr=io.StringIO())
    items = expand_all([record], DecodeOptions(DecodeMode.AUTO))
    renderer = NdjsonRenderer(RenderContext(env=env, stream="orders"))
    renderer.write(items)
    DecodeProblems(env).note(items)
    assert env.stdout.getvalue().decode() == line + "\n"  # type: ignore[attr-defined]
    assert env.stderr.getvalue() == warning + "\n"  # type: ignore[attr-defined]


def test_gsr_unknown_version_example(kinesis: Any) -> None:
    import boto3

    boto3.client("glue", region_name="us-east-1").create_registry(RegistryName="shop")
    first, count = block_with("streamtail: warning: shard shardId-000000000000 seq 1: GSR")
    version = re.search(r"version ([0-9a-f-]{36})", first).group(1)  # type: ignore[union-attr]
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    for _ in range(3):  # a GSR frame: 03, no compression, the version id, the body
        frame = b"\x03\x00" + bytes.fromhex(version.replace("-", "")) + b"\x02"
        kinesis.put_record(StreamName="orders", Data=frame, PartitionKey="k")
    result = run_cli("read", "orders", "-o", "ndjson")
    assert result.code == 0, result.stderr
    assert result.stderr.splitlines() == [first, count]


def _put_lines(count: int) -> bytes:
    return b"".join(b'{"n":%d}\n' % i for i in range(count))


def test_put_count_example(kinesis: Any) -> None:
    [line] = block_with("streamtail: 1200 records written")
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    result = run_cli("put", "orders", "--key", "k", input=_put_lines(1200))
    assert (result.code, result.stderr) == (0, line + "\n")


def test_round_trip_example(kinesis: Any) -> None:
    """README "Writing records": the table, put's count and the copy, on moto (whose sequence
    numbers are short). The TIME column is the service's arrival time: left out."""
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    kinesis.create_stream(StreamName="orders-copy", ShardCount=1)
    kinesis.create_stream(StreamName="orders-zstd", ShardCount=1)
    for key, data in (
        ("user-1", kplbuild.aggregate([("user-1", b'{"id":1}'), ("user-2", b"hello")])),
        ("user-42", gzip.compress(b'{"level":"info","msg":"started"}')),
        ("user-42", b"\x00\x9f\x42\xff"),
    ):
        kinesis.put_record(StreamName="orders", Data=data, PartitionKey=key)

    expected = session("streamtail read orders -o table")
    table = run_cli("read", "orders", "-o", "table", "--no-color", env={"COLUMNS": "100"})
    assert table.code == 0, table.stderr
    assert [line[13:].rstrip() for line in table.lines] == [line[13:].rstrip() for line in expected]
    assert table.lines[0][:13] == expected[0][:13]  # the header's TIME (UTC) is all there

    # copies, as they are and with --compress zstd (compressed records, read back as before)
    ndjson = run_cli("read", "orders", "-o", "ndjson")
    for copy, extra in (("orders-copy", ()), ("orders-zstd", ("--compress", "zstd"))):
        args = ("--from-ndjson", "--key-field", "key", *extra)
        [said] = session(
            f"streamtail read orders -o ndjson | streamtail put {copy} {shlex.join(args)}"
        )
        put = run_cli("put", copy, *args, input=ndjson.stdout)
        assert (put.code, put.stderr) == (0, said + "\n")
        expected = session(f"streamtail read {copy} -o ndjson | jq -c '{{key, enc, data}}'")
        read = run_cli("read", copy, "-o", "ndjson")
        assert [_key_enc_data(line) for line in read.lines] == expected
    command = "streamtail read orders-zstd --decode base64 -o ndjson --limit 1"
    [raw] = session(command + " | jq -r .data | base64 -d | zstd -dc")
    first = run_cli(*shlex.split(command)[1:])
    [line] = first.lines
    data = base64.b64decode(json.loads(line)["data"])
    assert zstandard.ZstdDecompressor().decompressobj().decompress(data).decode() == raw


def _key_enc_data(line: str) -> str:
    """An NDJSON line as `jq -c '{key, enc, data}'` prints it."""
    record = json.loads(line)
    return json.dumps({k: record[k] for k in ("key", "enc", "data")}, separators=(",", ":"))


def test_csv_example(kinesis: Any) -> None:
    """README "CSV and TSV": its three orders as csv (rows end in CRLF)."""
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    for key, data in (
        ("user-1", b'{"order_id":"o-1","total":19.90,"items":[{"sku":"A1","qty":2}],'
         b'"note":"ring twice, \\"back door\\""}'),
        ("user-2", b'{"order_id": "o-2", "total": 5, "items": []}'),
        ("user-3", b"not json"),
    ):  # fmt: skip
        kinesis.put_record(StreamName="orders", Data=data, PartitionKey=key)
    command = (
        "streamtail read orders -o csv --columns key,data.order_id,data.total,data.items,data.note"
    )
    result = run_cli(*shlex.split(command)[1:])
    assert (result.code, result.stderr) == (0, "")
    assert result.stdout.decode("utf-8").split("\r\n") == [*session(command), ""]


def test_schema_round_trip_examples(kinesis: Any, tmp_path: Path) -> None:
    """README "Schemas": put --gsr-schema and --avro-schema, and what reads them back (the
    arrival time of the bare Avro line is the service's: left out)."""
    import boto3

    glue = boto3.client("glue", region_name="us-east-1")
    glue.create_registry(RegistryName="shop")
    glue.create_schema(
        RegistryId={"RegistryName": "shop"},
        SchemaName="orders",
        DataFormat="AVRO",
        Compatibility="NONE",
        SchemaDefinition=json.dumps(README_ORDER),
    )
    schema = tmp_path / "order.avsc"
    schema.write_text(json.dumps(README_ORDER))
    lines = "".join(f"{line}\n" for line in session("cat orders.ndjson")).encode()
    for name in ("orders", "orders-bare"):
        kinesis.create_stream(StreamName=name, ShardCount=1)

    [said] = session("streamtail put orders --gsr-schema shop/orders --key user-1 < orders.ndjson")
    put = run_cli("put", "orders", "--gsr-schema", "shop/orders", "--key", "user-1", input=lines)
    assert (put.code, put.stderr) == (0, said + "\n")
    expected = session(
        "streamtail read orders -o ndjson | jq -c '{enc, data, version: .schema.version}'"
    )
    read = run_cli("read", "orders", "-o", "ndjson")
    assert [
        json.dumps(
            {"enc": r["enc"], "data": r["data"], "version": r["schema"]["version"]},
            separators=(",", ":"),
        )
        for r in map(json.loads, read.lines)
    ] == expected  # as jq prints them: 12.30 read as a number is 12.3

    [said] = session(
        "streamtail put orders-bare --avro-schema order.avsc --key user-1 < orders.ndjson"
    )
    put = run_cli(
        "put", "orders-bare", "--avro-schema", str(schema), "--key", "user-1", input=lines
    )
    assert (put.code, put.stderr) == (0, said + "\n")
    [expected_line] = session("streamtail read orders-bare --avro-schema order.avsc -o ndjson -n 1")
    bare = run_cli("read", "orders-bare", "--avro-schema", str(schema), "-o", "ndjson", "-n", "1")
    assert bare.code == 0, bare.stderr
    [line] = bare.lines
    ts = re.compile(r'"ts":"[^"]+"')
    assert ts.sub("", line.replace(str(schema), "order.avsc")) == ts.sub("", expected_line)


def test_protobuf_example(kinesis: Any, tmp_path: Path) -> None:
    """README "Schemas": a bare Protobuf message read with --proto-message (shop.Click, a
    descriptor set as protoc --descriptor_set_out writes it)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    fdp = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(name="shop.proto", package="shop", syntax="proto3")
    click = file.message_type.add(name="Click")
    for number, (name, kind) in enumerate(
        (("id", fdp.TYPE_INT64), ("page", fdp.TYPE_STRING), ("mobile", fdp.TYPE_BOOL)), 1
    ):
        click.field.add(name=name, number=number, type=kind, label=fdp.LABEL_OPTIONAL)
    files = descriptor_pb2.FileDescriptorSet(file=[file])
    descriptor = tmp_path / "shop.desc"
    descriptor.write_bytes(files.SerializeToString())
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    message = message_factory.GetMessageClass(pool.FindMessageTypeByName("shop.Click"))
    kinesis.create_stream(StreamName="clicks", ShardCount=1)
    payload = message(id=3, page="/cart", mobile=False).SerializeToString()
    kinesis.put_record(StreamName="clicks", Data=payload, PartitionKey="k")

    command = "streamtail read clicks --proto-descriptor shop.desc --proto-message shop.Click"
    [expected] = session(command + " -o ndjson | jq -c '{enc, data}'")
    args = ["--proto-descriptor", str(descriptor), "--proto-message", "shop.Click"]
    result = run_cli("read", "clicks", *args, "-o", "ndjson")
    assert result.code == 0, result.stderr
    [record] = map(json.loads, result.lines)
    assert json.dumps({"enc": record["enc"], "data": record["data"]}, separators=(",", ":")) == (
        expected
    )


def _payload(line: str) -> bytes:
    """The bytes a README NDJSON line's record carried, from its `enc` and `data` (the data as
    written: a JSON payload arrives as it is printed)."""
    shown = json.loads(line)
    *layers, last = shown["enc"].split("+")
    if last == "json":
        inner = line[line.index(',"data":') + 8 : -1].encode()
    elif last == "text":
        inner = shown["data"].encode()
    else:
        inner = base64.b64decode(shown["data"])
    for layer in reversed(layers):
        if layer == "gzip":
            inner = gzip.compress(inner)
        elif layer == "zlib":
            inner = zlib.compress(inner)
        elif layer == "zstd":
            inner = zstandard.ZstdCompressor().compress(inner)
        elif layer == "lz4":
            inner = lz4.frame.compress(inner)
    return inner


_KINESIS_KEYS = {"stream", "shard", "seq", "subseq", "key", "ts", "enc", "data"}


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


KINESIS_NDJSON = [
    block
    for block in blocks()
    if block
    and block[0].startswith('{"stream":"orders","shard":"shardId-')
    and all(map(_is_json, block))
    and all(json.loads(line).keys() <= _KINESIS_KEYS for line in block)
]


@pytest.mark.parametrize("block", KINESIS_NDJSON, ids=[str(i) for i in range(len(KINESIS_NDJSON))])
def test_kinesis_ndjson_examples(block: list[str]) -> None:
    """README "NDJSON records" and "Decoding": each line is what the tool prints for a record
    holding what the line shows (a KPL aggregate: the lines of its user records)."""
    assert len(KINESIS_NDJSON) >= 4
    env = Env(stdout=io.BytesIO(), stderr=io.StringIO())
    renderer = NdjsonRenderer(RenderContext(env=env, stream="orders"))
    for record in _records_of(block):
        renderer.write(expand_all([record], DecodeOptions(DecodeMode.AUTO)))
    assert env.stdout.getvalue().decode().splitlines() == block  # type: ignore[attr-defined]
    assert env.stderr.getvalue() == ""  # type: ignore[attr-defined]


def _records_of(block: list[str]) -> list[Record]:
    """The records a README NDJSON block shows (a KPL aggregate: one, of its user records)."""
    shown = [json.loads(line) for line in block]
    first = shown[0]
    ts_ms = round(datetime.fromisoformat(first["ts"].replace("Z", "+00:00")).timestamp() * 1000)
    if first["enc"].startswith("kpl+"):
        users = [
            (r["key"], _payload(line.replace('"enc":"kpl+', '"enc":"')))
            for r, line in zip(shown, block, strict=True)
        ]
        records = [
            Record(first["shard"], first["seq"], first["key"], ts_ms, kplbuild.aggregate(users))
        ]
    else:
        records = [
            Record(r["shard"], r["seq"], r["key"], ts_ms, _payload(line))
            for r, line in zip(shown, block, strict=True)
        ]
    return records


def test_intro_table_example() -> None:
    """README, the table shown on a terminal: two orders at 97 columns. The README shows each
    row's start (its sequence number's end, its data cut with `…`): the records here are those,
    the rest of their sequence number and data filled in."""
    from streamtail.render.table import TableRenderer

    [header, *rows] = block_with("TIME (UTC)", holding="cust-005")
    records = []
    for row in rows:
        match = re.fullmatch(r"(\S+) (\d+) +…(\d+) +(\S+) +(\{.*,)…", row)
        assert match is not None, row
        at, shard, seq_end, key, data = match.groups()
        ts = datetime.fromisoformat(f"2026-11-21T{at}+00:00")
        seq = "49590338271490256608559692538361571095921" + seq_end.rjust(15, "0")
        payload = (data + '"total":19.9}').encode()
        records.append(
            Record(f"shardId-{int(shard):012d}", seq, key, round(ts.timestamp() * 1000), payload)
        )
    env = Env(stdout=io.BytesIO(), stderr=io.StringIO(), width=97)
    renderer = TableRenderer(RenderContext(env=env, stream="orders"))
    renderer.write(expand_all(records, DecodeOptions(DecodeMode.AUTO)))
    renderer.close()
    printed = env.stdout.getvalue().decode().splitlines()  # type: ignore[attr-defined]
    assert [line.rstrip() for line in printed] == [header, *rows]


def test_decoding_table_example() -> None:
    """README "Decoding": the table of the records the NDJSON examples show (a gzip payload, a
    KPL aggregate, binary, a CloudWatch Logs envelope with --expand-logs), at 100 columns."""
    from streamtail.render.table import TableRenderer

    kpl = [b for b in KINESIS_NDJSON if '"enc":"kpl+' in b[0]]
    units = [[line] for b in KINESIS_NDJSON if b not in kpl for line in b] + kpl

    def records(key: str, enc: str) -> list[Record]:
        [unit] = [
            u for u in units if (json.loads(u[0])["key"], json.loads(u[0])["enc"]) == (key, enc)
        ]
        return _records_of(unit)

    expected = block_with("TIME (UTC)", holding="/aws/lambda/")
    env = Env(stdout=io.BytesIO(), stderr=io.StringIO(), width=100)
    renderer = TableRenderer(RenderContext(env=env, stream="orders"))
    for key, enc in (
        ("user-42", "gzip+json"),
        ("user-1", "kpl+json"),
        ("user-42", "base64"),
        ("a1b2", "gzip+json"),
    ):
        for record in records(key, enc):
            renderer.write(expand_all([record], DecodeOptions(DecodeMode.AUTO, expand_logs=True)))
    renderer.close()
    printed = env.stdout.getvalue().decode().splitlines()  # type: ignore[attr-defined]
    assert [line.rstrip() for line in printed] == expected
    assert env.stderr.getvalue() == ""  # type: ignore[attr-defined]


def _same_but(shown: dict[str, Any], expected: dict[str, Any], forms: dict[str, str]) -> None:
    """`shown` has `expected`'s keys in its order and its values, except the keys of `forms`
    (values the service decides), whose values in both are of one type and have the form given
    (a regex)."""
    assert list(shown) == list(expected)
    for key, form in forms.items():
        assert type(shown[key]) is type(expected[key]), key
        assert re.fullmatch(form, str(shown[key])), (key, shown[key])
        assert re.fullmatch(form, str(expected[key])), (key, expected[key])
    assert {k: v for k, v in shown.items() if k not in forms} == {
        k: v for k, v in expected.items() if k not in forms
    }


def test_dynamodb_ndjson_example(kinesis: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """README "NDJSON records": the DynamoDB line, produced by the change it shows (item pk=a,
    n 1 -> 2) on a table with a NEW_AND_OLD_IMAGES stream. The stream ARN's label, the shard id,
    the sequence number and the eventID are the service's: their form is checked; `ts` is pinned
    (moto stamps changes with its utcnow; there is no API to set it)."""
    import boto3
    import moto.dynamodb.models.table

    from tests.dynamodb.helpers import create_table

    [expected_line] = block_with('{"stream":"arn:aws:dynamodb:')
    expected = json.loads(expected_line)
    table, keys, new, old = expected["table"], expected["keys"], expected["new"], expected["old"]
    when = datetime.fromisoformat(expected["ts"].replace("Z", "+00:00"))
    monkeypatch.setattr(moto.dynamodb.models.table, "utcnow", lambda: when.replace(tzinfo=None))
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    create_table(ddb, table, "NEW_AND_OLD_IMAGES")
    ddb.put_item(TableName=table, Item={"pk": {"S": old["pk"]}, "n": {"N": str(old["n"])}})
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": keys["pk"]}},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": str(new["n"])}},
    )
    result = run_cli("read", f"ddb:{table}", "-o", "ndjson")
    assert (result.code, result.stderr) == (0, "")
    [insert, modify] = map(json.loads, result.lines)
    assert insert["event"] == "INSERT"
    arn = rf"arn:aws:dynamodb:[a-z0-9-]+:\d{{12}}:table/{table}/stream/\d{{4}}-\d\d-\d\dT[0-9:.]+"
    _same_but(
        modify,
        expected,
        {
            "stream": arn,
            "shard": r"shardId-\d{20}-[0-9a-f]{8}",
            "seq": r"\d{21,40}",
            "id": r"[0-9a-f]{32}",
        },
    )


def test_lag_ndjson_example(
    kinesis: Any, arrival_clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README "NDJSON records", `lag`: the line of a lease as KCL 2.x writes it (its worker
    renews it during --interval), checkpointed at the shard's first record, a second record
    waiting a minute later. The checkpoint (a sequence number) and lag_ms are the service's and
    the clock's: their form is checked, and lag_ms is that of the record after the checkpoint."""
    import time

    import boto3

    import streamtail.lag
    from tests.integration import kcl_tables as kcl

    [expected_line] = block_with('{"app":"orders-app",')
    expected = json.loads(expected_line)
    app, stream, shard = expected["app"], expected["stream"], expected["shard"]
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    [shard_range] = [
        s["HashKeyRange"]
        for s in kinesis.list_shards(StreamName=stream)["Shards"]
        if s["ShardId"] == shard
    ]
    seqs = []
    for step in (0, 60):
        arrival_clock.current = SEED_BASE + timedelta(seconds=step)
        seqs.append(
            kinesis.put_record(
                StreamName=stream,
                Data=b"{}",
                PartitionKey="k",
                ExplicitHashKey=shard_range["StartingHashKey"],
            )["SequenceNumber"]
        )
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    kcl.create_lease_table(ddb, app)
    lease = kcl.lease(
        shard,
        shape="2.x",
        checkpoint=seqs[0],
        owner=expected["owner"],
        subseq=expected["subseq"],
        switches=expected["owner_switches"],
        parents=expected["parents"],
    )
    kcl.put_items(ddb, app, [lease])
    # the owner renews the lease while `lag` waits --interval between its two reads
    monkeypatch.setattr(streamtail.lag, "pause", lambda *_: kcl.renew(ddb, app, shard))

    before = time.time()
    result = run_cli("lag", app, "--stream", stream, "-o", "ndjson")
    after = time.time()
    assert result.code == 0, result.stderr
    [shown] = [r for r in map(json.loads, result.lines) if r["shard"] == shard]
    _same_but(shown, expected, {"checkpoint": r"\d+", "lag_ms": r"\d+"})
    assert shown["checkpoint"] == seqs[0]
    arrived = (SEED_BASE + timedelta(seconds=60)).timestamp()
    assert (before - arrived) * 1000 - 1 <= shown["lag_ms"] <= (after - arrived) * 1000 + 1


def _debug_line_pattern(line: str) -> re.Pattern[str]:
    """A README `--debug` line as a pattern: `...` stands for what it leaves out; the date, the
    time taken and the size are the run's."""
    pattern = re.escape(line).replace(re.escape("..."), ".*")
    pattern = re.sub(r"/\d{8}/", "/[0-9]{8}/", pattern)
    return re.compile(re.sub(r"\\ \d+\\ (ms|bytes)", r"\\ [0-9]+\\ \1", pattern))


def test_debug_example(kinesis: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """README "Debugging": each line the sample shows (request, headers with the signature and
    the session token redacted and the access key id shortened, body, response) is one the tool
    prints, in that order, for the same call with session credentials of that key id."""
    command = "streamtail shards orders --debug"
    shown = [line for line in session(command) if line != "..."]
    host = re.search(r"kinesis\.([a-z0-9-]+)\.amazonaws", shown[0])
    short = re.search(r"Credential=(\w+)…(\w+)/", "\n".join(shown))
    assert host is not None and short is not None
    region = host.group(1)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", f"{short.group(1)}EXAMPLEKEY{short.group(2)}")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token-example")
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    import boto3

    boto3.client("kinesis", region_name=region).create_stream(StreamName="orders", ShardCount=1)
    result = run_cli(*shlex.split(command)[1:])
    assert result.code == 0, result.stderr
    printed = result.stderr.splitlines()
    assert "session-token-example" not in result.stderr
    at = 0
    for line in shown:
        pattern = _debug_line_pattern(line)
        found = next((i for i in range(at, len(printed)) if pattern.fullmatch(printed[i])), None)
        assert found is not None, (line, printed[at:])
        at = found + 1


def test_checkpoint_of_another_stream_example(
    kinesis: Any, arrival_clock: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README "Checkpoints": a file written for `orders`, which was then deleted and created
    again; both creation times (moto stamps them with the arrival clock) are the README's."""
    [line] = block_with("streamtail: error: checkpoint file orders.checkpoint belongs to another")
    name, old, new = re.search(  # type: ignore[union-attr]
        r"stream named (\S+) \(created (\S+); this one: created (\S+)\)", line
    ).groups()
    monkeypatch.chdir(tmp_path)

    def create(at: str) -> None:
        arrival_clock.current = datetime.fromisoformat(at.replace("Z", "+00:00"))
        kinesis.create_stream(StreamName=name, ShardCount=1)

    create(old)
    first = run_cli("read", name, "--checkpoint", "orders.checkpoint")
    assert first.code == 0, first.stderr
    kinesis.delete_stream(StreamName=name)
    create(new)
    result = run_cli("read", name, "--checkpoint", "orders.checkpoint")
    assert (result.code, result.stdout, result.stderr) == (2, b"", line + "\n")


def test_dynamodb_table_example(kinesis: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """README "DynamoDB Streams": the table of an item's INSERT, MODIFY and removal by Time to
    Live, on moto in-process, each change stamped at the README's time (moto's utcnow pinned).
    moto expires no items, so the REMOVE gets the userIdentity AWS gives a TTL deletion
    (Type Service, PrincipalId dynamodb.amazonaws.com: the DynamoDB developer guide, "DynamoDB
    Streams and Time to Live") added to moto's stream record."""
    import boto3
    import moto.dynamodb.models.table as moto_table

    from tests.dynamodb.helpers import create_table

    [header, *rows] = block_with("TIME (UTC)   EVENT      KEYS")
    parsed = [re.fullmatch(r"(\S+) (\w+)( ttl)? +pk=(\S+) +(.*)", row) for row in rows]
    assert all(parsed), rows
    times = [m.group(1) for m in parsed if m]
    assert [m.group(2) for m in parsed if m] == ["INSERT", "MODIFY", "REMOVE"]
    first, last = (json.loads(m.group(5)) for m in (parsed[0], parsed[2]) if m)
    day = datetime(2026, 12, 7)
    stamps = [datetime.combine(day, datetime.strptime(t, "%H:%M:%S.%f").time()) for t in times]
    now = [day]
    monkeypatch.setattr(moto_table, "utcnow", lambda: now[0])
    plain = moto_table.StreamRecord.__init__

    def as_ttl(self: Any, table: Any, kind: str, name: str, *args: Any) -> None:
        plain(self, table, kind, name, *args)
        if name == "REMOVE":
            self.record["userIdentity"] = {
                "Type": "Service",
                "PrincipalId": "dynamodb.amazonaws.com",
            }

    monkeypatch.setattr(moto_table.StreamRecord, "__init__", as_ttl)

    def item(values: dict[str, Any]) -> dict[str, Any]:
        return {k: {"N": str(v)} if isinstance(v, int) else {"S": v} for k, v in values.items()}

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    create_table(ddb, "Orders", "NEW_AND_OLD_IMAGES")
    now[0] = stamps[0]
    ddb.put_item(TableName="Orders", Item=item(first))
    now[0] = stamps[1]
    ddb.put_item(TableName="Orders", Item=item(last))
    now[0] = stamps[2]
    ddb.delete_item(TableName="Orders", Key=item({"pk": last["pk"]}))
    result = run_cli("read", "ddb:Orders", "-o", "table", "--no-color", env={"COLUMNS": "100"})
    assert (result.code, result.stderr) == (0, "")
    assert [line.rstrip() for line in result.lines] == [header, *rows]


_ADVICE = re.compile(
    r"! (\S+) reached (\d+)% of its write limit \((records|bytes)\) at (\S+) UTC: (.*)"
)


def _advice_writes(line: str, fillers: list[str]) -> list[tuple[str, int]]:
    """The writes (key, data size) of one second that make a README advice line: the keys it
    names carry the shares it gives of the load it gives; `fillers` (small keys) carry the rest."""
    from streamtail.top.tally import BYTES_LIMIT, RECORDS_LIMIT

    match = _ADVICE.fullmatch(line)
    assert match is not None, line
    pct, measure, said = int(match.group(2)), match.group(3), match.group(5)
    named = [(k, int(s)) for k, s in re.findall(r"'([^']+)'(?: carries)? (\d+)%", said)]
    total = round(pct / 100 * (BYTES_LIMIT if measure == "bytes" else RECORDS_LIMIT))
    loads = [(k, round(share / 100 * total)) for k, share in named]
    rest = total - sum(load for _, load in loads)
    loads += [(k, rest // len(fillers) + (i < rest % len(fillers))) for i, k in enumerate(fillers)]
    if measure == "records":
        return [(key, 16) for key, load in loads for _ in range(load)]
    writes = []  # a record counts its data and its key; at most 1 MiB each
    for key, load in loads:
        parts = -(-load // (BYTES_LIMIT - 64))
        writes += [(key, load // parts + (i < load % parts) - len(key)) for i in range(parts)]
    return writes


@pytest.mark.parametrize(
    ("first", "fillers"),
    [
        ("! shardId-000000000000 reached 404%", ["merchant-0007"]),
        ("! shardId-000000000000 reached 93%", ["user-13", "user-19", "user-20"]),
    ],
    ids=["hot-key", "split"],
)
def test_top_advice_examples(
    kinesis: Any, arrival_clock: Any, first: str, fillers: list[str]
) -> None:
    """README "Where the traffic goes": each advice line, produced by `top` over a past window
    of a one-shard stream written in the second the line names (moto's arrival clock), its keys
    carrying the shares it names."""
    [line] = block_with(first)
    match = _ADVICE.fullmatch(line)
    assert match is not None
    at = datetime.fromisoformat(f"2026-12-07T{match.group(4)}+00:00")
    arrival_clock.current = at + timedelta(milliseconds=100)
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    writes = _advice_writes(line, fillers)
    for start in range(0, len(writes), 500):
        batch = writes[start : start + 500]
        kinesis.put_records(
            StreamName="orders",
            Records=[{"PartitionKey": k, "Data": b"x" * size} for k, size in batch],
        )
    window = [(at - timedelta(seconds=30)).isoformat(), (at + timedelta(seconds=30)).isoformat()]
    result = run_cli(
        "top",
        "orders",
        "--from",
        window[0],
        "--until",
        window[1],
        "-o",
        "table",
        env={"COLUMNS": "400"},
    )
    assert result.code == 0, result.stderr
    assert [x for x in result.lines if x.startswith("! ")] == [line]


PROSE = " ".join(README.split())  # the README's text, its wrapped lines joined


def quoted(start: str) -> str:
    """The one `...` quote of the README's text that starts with `start` (a regex)."""
    [found] = re.findall(rf"`({start}[^`]*)`", PROSE)
    return str(found)


def test_put_bad_line_example(kinesis: Any) -> None:
    """README "Writing records": a line that is not JSON is named, the rest written, exit 2."""
    said = quoted(r"line \d+: not JSON")
    bad = int(said.split(":")[0].split()[1])
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    lines = [b'{"id":%d}' % n for n in range(1, bad)] + [b"not json", b'{"id":0}']
    result = run_cli("put", "orders", "--key-field", "id", input=b"\n".join(lines) + b"\n")
    assert result.code == 2
    assert f"streamtail: warning: {said}" in result.stderr.splitlines()


@pytest.mark.parametrize(
    ("start", "decode"), [("payload is not JSON", "json"), ("not a zstd frame", "zstd")]
)
def test_decode_warning_examples(kinesis: Any, start: str, decode: str) -> None:
    """README "Decoding": what --decode json and zstd say of a payload that is not one."""
    said = quoted(start)
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    kinesis.put_record(StreamName="orders", Data=b"hello", PartitionKey="k")
    result = run_cli("read", "orders", "--decode", decode, "-o", "ndjson")
    assert result.code == 0, result.stderr
    seq = json.loads(result.lines[0])["seq"]
    where = f"streamtail: warning: shard shardId-000000000000 seq {seq}"
    assert result.stderr.splitlines()[0] == f"{where}: {said}"


def test_yds_gap_example() -> None:
    """README "Yandex Data Streams": what a command that needs what YDS lacks says (exit 2),
    before any call."""
    said = quoted("streamtail: error: Yandex Data Streams does not implement")
    [table] = re.findall(r"reading '([^']+)'", said)
    endpoint = "https://yds.serverless.yandexcloud.net"
    assert f"--endpoint-url {endpoint}" in PROSE
    result = run_cli("read", f"ddb:{table}", "--endpoint-url", endpoint)
    assert (result.code, result.stdout) == (2, b"")
    assert result.stderr.splitlines() == [said]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_full_disk_example() -> None:
    """README "Guarantees": a full disk under stdout is one line and exit 1 (/dev/full fails
    every write with ENOSPC), for --version too."""
    import subprocess
    import sys

    said = quoted("streamtail: error: cannot write to stdout")
    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [sys.executable, "-m", "streamtail", "--version"],
            stdout=full,
            stderr=subprocess.PIPE,
            check=False,
            timeout=60,
        )
    assert (done.returncode, done.stderr.decode()) == (1, said + "\n")


def test_put_refused_records_example(kinesis: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """README "Writing records": records the service still refuses after the retry window, exit
    1. moto never throttles: its PutRecords refuses the records of key `hot` here, with the
    ErrorCode and ErrorMessage AWS gives a throttled record (PutRecords API reference,
    PutRecordsResultEntry); the writer waits on a test clock that moves when waited on."""
    import dataclasses

    import moto.kinesis.models

    from tests.clocks import SleepingClock

    said = quoted(r"streamtail: error: \d+ records could not be written")
    refused = int(said.split()[2])
    head = said.removesuffix("...)")
    plain_put = moto.kinesis.models.KinesisBackend.put_records

    def throttled(self: Any, stream_arn: str, stream_name: str, records: list[Any]) -> Any:
        kept = [r for r in records if r["PartitionKey"] != "hot"]
        answer = plain_put(self, stream_arn, stream_name, kept)
        written = iter(answer["Records"])
        message = (  # as the PutRecords API reference's example shows it
            f"Rate exceeded for shard shardId-000000000000 in stream {stream_name} under account "
            "123456789012."
        )
        answer["Records"] = [
            next(written)
            if r["PartitionKey"] != "hot"
            else {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": message}
            for r in records
        ]
        answer["FailedRecordCount"] = len(records) - len(kept)
        return answer

    monkeypatch.setattr(moto.kinesis.models.KinesisBackend, "put_records", throttled)
    clock = SleepingClock()
    plain_env = Env.from_process
    monkeypatch.setattr(
        Env,
        "from_process",
        lambda **kw: dataclasses.replace(plain_env(**kw), time_source=clock),
    )
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    lines = b"".join(
        b"%s\n" % json.dumps({"k": "hot" if n % 2 else "cold"}).encode() for n in range(2 * refused)
    )
    result = run_cli("put", "orders", "--key-field", "k", input=lines)
    assert result.code == 1
    [error] = [line for line in result.stderr.splitlines() if line.startswith("streamtail: error:")]
    assert error.startswith(head), error
    assert clock.now >= 60  # refused for the whole retry window


def test_lzop_warning_example() -> None:
    """README "Decoding": a record YDS says was written with lzop (its Codec 3) is base64 with a
    warning naming it; through the part that prints it (tests/sources/test_yds_source.py shows
    Codec 3 read as "lzop")."""
    said = quoted("payload compressed with lzop")
    record = Record("shard-000000", "0", "k", 1_795_295_045_123, b"\x89LZO\x00", codec="lzop")
    env = Env(stdout=io.BytesIO(), stderr=io.StringIO())
    items = expand_all([record], DecodeOptions(DecodeMode.AUTO))
    NdjsonRenderer(RenderContext(env=env, stream="orders")).write(items)
    DecodeProblems(env).note(items)
    [line] = env.stdout.getvalue().decode().splitlines()  # type: ignore[attr-defined]
    assert json.loads(line)["enc"] == "base64"
    [warning] = env.stderr.getvalue().splitlines()  # type: ignore[attr-defined]
    assert warning == f"streamtail: warning: shard shard-000000 seq 0: {said}"
