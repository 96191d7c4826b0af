"""Record renderers (ndjson, table, raw, aws) against golden files, and terminal safety."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from streamtail.decode import DecodeMode, decode, decode_record
from streamtail.env import Env
from streamtail.errors import UsageError
from streamtail.model import Change, Record
from streamtail.render import (
    FORMATS,
    LISTINGS,
    Item,
    RenderContext,
    make_listing,
    make_renderer,
    output_format,
)
from streamtail.render.cells import fit, tail
from streamtail.render.safe import inert
from streamtail.render.table import short_shard

MARKUP = "[bold red]x[/]"
#: text that stays text (no BEL: a BEL makes a payload binary) but is full of terminal escapes:
#: SGR colour, an OSC window title ended by ST, a carriage return, a bidi override, C1 CSI
HOSTILE_TEXT = (
    f"{MARKUP} \x1b[31mred\x1b[0m \x1b]0;title\x1b\\ over\rwrite \u202eevil \u009b2J line\nnext"
)

RECORDS = [
    Record(
        "shardId-000000000000",
        "49590338271490256608559692538361571095921575989136588898",
        "user-42",
        1_795_295_045_123,
        b'{"id": 7, "name": "caf\xc3\xa9", "tags": ["a", "b"]}',
    ),
    Record("shardId-000000000001", "2", "plain", 1_795_295_046_000, b"hello world"),
    Record("shardId-000000000001", "3", "bin", 1_795_295_046_001, b"\x00\x01\xfe\xff"),
    Record("shardId-000000000002", "4", MARKUP, 1_795_295_046_002, HOSTILE_TEXT.encode()),
    Record(
        "shardId-000000000002",
        "5",
        "k\x07\x1b[2J\r\u202e",
        1_795_295_046_003,
        b'{"msg": "\\u001b]0;title\\u0007 [bold]x[/] \\r \\u202e"}',
        extra={"EncryptionType": "KMS"},
    ),
    Record("shardId-000000000002", "6", "long-" * 6, 1_795_295_046_004, b"x" * 300),
    Record("shardId-000000000002", "7", "empty", 1_795_295_046_005, b""),
    Record(
        "shardId-00000001700000000000-abcdef01",
        "300000000000000499659",
        "ddb-style",
        1_795_295_046_006,
        b"null",
    ),
]
ITEMS: list[Item] = [(r, decode(r.data)) for r in RECORDS]
#: bytes that move the cursor, ring, retitle or reorder text when printed raw on a terminal
RAW_CONTROLS = [b"\x1b", b"\x07", b"\r", b"\xc2\x9b", "\u202e".encode()]


def render(env: Env, fmt: str, items: list[Item], *, raw_bytes: bool = False) -> bytes:
    renderer = make_renderer(fmt, RenderContext(env=env, stream="orders", raw_bytes=raw_bytes))
    # two batches: the table header must come once, every batch is flushed as written
    renderer.write(items[:3])
    renderer.write(items[3:])
    renderer.close()
    return env.stdout.getvalue()  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize(
    ("fmt", "golden_name"),
    [
        ("ndjson", "records.ndjson"),
        ("table", "records.table.txt"),
        ("raw", "records.raw.txt"),
        ("aws", "records.aws.ndjson"),
    ],
)
def test_golden(
    fmt: str,
    golden_name: str,
    make_env: Callable[..., Env],
    golden: Callable[[str, bytes], None],
) -> None:
    env = make_env(width=100)
    golden(golden_name, render(env, fmt, ITEMS))
    assert env.stderr.getvalue() == ""  # type: ignore[attr-defined]


def test_formats_registry() -> None:
    assert list(FORMATS) == ["table", "ndjson", "raw", "aws", "csv", "tsv"]
    assert list(LISTINGS) == ["table", "ndjson"]


def test_the_cli_offers_exactly_the_formats_render_can_write() -> None:
    from streamtail.cli_options import ListFormat, OutputFormat

    assert [f.value for f in OutputFormat] == list(FORMATS)
    assert [f.value for f in ListFormat] == list(LISTINGS)
    for name in LISTINGS:
        assert callable(make_listing(name, Env(stdout=io.BytesIO(), stderr=io.StringIO())).shards)


@pytest.mark.parametrize(
    ("requested", "isatty", "chosen"),
    [
        (None, True, "table"),
        (None, False, "ndjson"),
        ("raw", True, "raw"),
        ("table", False, "table"),
    ],
)
def test_the_default_format_follows_stdout(
    requested: str | None, isatty: bool, chosen: str
) -> None:
    env = Env(stdout=io.BytesIO(), stderr=io.StringIO(), stdout_isatty=isatty)
    assert output_format(requested, env) == chosen


def test_a_format_a_command_cannot_write_is_a_usage_error() -> None:
    env = Env(stdout=io.BytesIO(), stderr=io.StringIO())
    with pytest.raises(UsageError, match="invalid --output 'raw': choose one of table, ndjson"):
        output_format("raw", env, LISTINGS)


@pytest.mark.parametrize(
    ("fmt", "needs"), [("ndjson", True), ("table", True), ("raw", True), ("aws", False)]
)
def test_needs_decoded(fmt: str, needs: bool, make_env: Callable[..., Env]) -> None:
    renderer = make_renderer(fmt, RenderContext(env=make_env(), stream="s"))
    assert renderer.needs_decoded is needs
    if fmt == "table":
        renderer.close()


# -- the table is inert ------------------------------------------------------------------------


@pytest.mark.parametrize("width", [100, 400])
def test_table_never_writes_terminal_controls(width: int, make_env: Callable[..., Env]) -> None:
    out = render(make_env(width=width), "table", ITEMS)
    for control in RAW_CONTROLS:
        assert control not in out, control
    text = out.decode("utf-8")
    # one line per record plus the header: nothing in a record can break a row
    assert len(text.splitlines()) == len(ITEMS) + 1
    # markup is shown literally, never interpreted
    assert f"{MARKUP}   {MARKUP} " in text
    if width < 400:
        return
    assert "[bold]x[/]" in text
    # escapes are shown as visible text
    assert "\\e[31mred\\e[0m \\e]0;title\\e\\ over\\rwrite \\u202eevil \\x9b2J line\\nnext" in text
    assert "k\\x07\\e[2J\\r\\u2… " in text  # keys are cut to 16 columns


@pytest.mark.parametrize("width", [40, 60, 100, 200])
def test_table_rows_fit_the_width(width: int, make_env: Callable[..., Env]) -> None:
    text = render(make_env(width=width), "table", ITEMS).decode("utf-8")
    for line in text.splitlines():
        assert len(line) <= width, line


def test_table_in_colour_only_adds_sgr_sequences(make_env: Callable[..., Env]) -> None:
    plain = render(make_env(width=100), "table", ITEMS)
    coloured = render(make_env(width=100, color=True), "table", ITEMS)
    assert b"\x1b[" in coloured  # colour is on
    stripped = re.sub(rb"\x1b\[[0-9;]*m", b"", coloured)
    for control in RAW_CONTROLS:
        assert control not in stripped, control
    assert stripped == plain


def test_table_with_no_records_prints_nothing(make_env: Callable[..., Env]) -> None:
    env = make_env()
    renderer = make_renderer("table", RenderContext(env=env, stream="s"))
    renderer.close()
    assert env.stdout.getvalue() == b""  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain", "plain"),
        ("\x1b[31m", "\\e[31m"),
        ("\x1b]0;t\x07", "\\e]0;t\\x07"),
        ("a\rb\nc\td", "a\\rb\\nc\\td"),
        ("\x00\x7f\x85\x9b", "\\x00\\x7f\\x85\\x9b"),
        ("\u202e\u2066\u200f", "\\u202e\\u2066\\u200f"),
        ("caf\u00e9 \u65e5\u672c", "caf\u00e9 \u65e5\u672c"),
        (MARKUP, MARKUP),
    ],
)
def test_inert(text: str, shown: str) -> None:
    assert inert(text) == shown


@pytest.mark.parametrize(
    ("shard", "short"),
    [
        ("shardId-000000000000", "0"),
        ("shardId-000000000007", "7"),
        ("shardId-000000000120", "120"),
        ("shard-000001", "1"),  # Yandex Data Streams
        ("shard-000000", "0"),
        ("shardId-00000001700000000000-abcdef01", "abcdef01"),
        ("custom", "custom"),
    ],
)
def test_short_shard(shard: str, short: str) -> None:
    assert short_shard(shard) == short


def test_fit_and_tail() -> None:
    assert fit("abcdef", 6) == "abcdef"
    assert fit("abcdefg", 6) == "abcde…"
    assert tail("abcdef", 6) == "abcdef"
    assert tail("abcdefg", 6) == "…cdefg"


# -- raw and aws ---------------------------------------------------------------------------------


def test_raw_with_decode_none_writes_payload_bytes_untouched(make_env: Callable[..., Env]) -> None:
    items: list[Item] = [(r, decode(r.data, DecodeMode.NONE)) for r in RECORDS]
    out = render(make_env(), "raw", items, raw_bytes=True)
    assert out == b"".join(r.data + b"\n" for r in RECORDS)


def test_raw_with_no_records_writes_nothing(make_env: Callable[..., Env]) -> None:
    env = make_env()
    renderer = make_renderer("raw", RenderContext(env=env, stream="s"))
    renderer.write([])
    renderer.close()
    assert env.stdout.getvalue() == b""  # type: ignore[attr-defined]


def test_aws_objects_are_what_the_api_returned(make_env: Callable[..., Env]) -> None:
    lines = render(make_env(), "aws", ITEMS).splitlines()
    assert len(lines) == len(RECORDS)
    for line, record in zip(lines, RECORDS, strict=True):
        obj = orjson.loads(line)
        keys = ["SequenceNumber", "ApproximateArrivalTimestamp", "Data", "PartitionKey"]
        assert list(obj)[:4] == keys
        assert obj["SequenceNumber"] == record.seq
        assert obj["PartitionKey"] == record.key
        assert obj["ApproximateArrivalTimestamp"] == record.ts_ms / 1000
        assert obj["Data"] == base64.b64encode(record.data).decode()
        assert {k: v for k, v in obj.items() if k not in keys} == (record.extra or {})


# -- DynamoDB change records ----------------------------------------------------------------------

DDB_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2026-11-21T00:00:00.000"


def change_record(seq: str, ts_ms: int, change: Change) -> Record:
    """A change record as the DynamoDB source builds it: `extra` is the API's record, whole."""
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": datetime.fromtimestamp(ts_ms // 1000, UTC),
        "Keys": change.keys,
        "SequenceNumber": seq,
        "SizeBytes": 42,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if change.new is not None:
        body["NewImage"] = change.new
    if change.old is not None:
        body["OldImage"] = change.old
    api: dict[str, Any] = {
        "eventID": change.event_id,
        "eventName": change.event,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": body,
    }
    if change.ttl:
        api["userIdentity"] = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    shard = "shardId-00000001700000000000-abcdef01"
    return Record(shard, seq, "", ts_ms, b"", extra=api, change=change)


ORDER_OLD = {"pk": {"S": "order#1"}, "status": {"S": "created"}, "total": {"N": "24.90"}}
ORDER_NEW = {
    "pk": {"S": "order#1"},
    "status": {"S": "paid"},
    "total": {"N": "24.90"},
    "paid_at": {"N": "12345678901234567890123456789012345678"},
}
CHANGES = [
    change_record(
        "100000000000000000001",
        1_795_295_045_000,
        Change("INSERT", "e1", {"pk": {"S": "order#1"}}, new=ORDER_OLD),
    ),
    change_record(
        "100000000000000000002",
        1_795_295_046_000,
        Change("MODIFY", "e2", {"pk": {"S": "order#1"}}, new=ORDER_NEW, old=ORDER_OLD),
    ),
    change_record(
        "100000000000000000003",
        1_795_295_047_000,
        Change(
            "INSERT",
            "e3",
            {"pk": {"S": f"{MARKUP}\x1b[2J"}},
            new={"pk": {"S": f"{MARKUP}\x1b[2J"}, "note": {"S": "a\rb\u202ec\x07"}},
        ),
    ),
    change_record(
        "100000000000000000004",
        1_795_295_048_000,
        Change("REMOVE", "e4", {"pk": {"S": "order#1"}}, old=ORDER_NEW, ttl=True),
    ),
]


@pytest.mark.parametrize(
    ("fmt", "golden_name"),
    [
        ("ndjson", "changes.ndjson"),
        ("table", "changes.table.txt"),
        ("aws", "changes.aws.ndjson"),
    ],
)
def test_change_golden(
    fmt: str,
    golden_name: str,
    make_env: Callable[..., Env],
    golden: Callable[[str, bytes], None],
) -> None:
    env = make_env(width=120)
    renderer = make_renderer(fmt, RenderContext(env=env, stream=DDB_ARN, table="Orders"))
    items: list[Item] = [(r, decode_record(r)) for r in CHANGES]
    renderer.write(items[:2])
    renderer.write(items[2:])
    renderer.close()
    out: bytes = env.stdout.getvalue()  # type: ignore[attr-defined]
    golden(golden_name, out)
    if fmt == "table":
        for control in RAW_CONTROLS:
            assert control not in out, control
        assert len(out.splitlines()) == len(CHANGES) + 1
        assert MARKUP in out.decode("utf-8")


def test_raw_change_records_are_one_json_object_per_line(make_env: Callable[..., Env]) -> None:
    """`-o raw` on a DynamoDB stream: the decoded change as JSON, never a Python repr."""
    env = make_env()
    renderer = make_renderer("raw", RenderContext(env=env, stream=DDB_ARN, table="Orders"))
    renderer.write([(r, decode_record(r)) for r in CHANGES])
    renderer.close()
    out: bytes = env.stdout.getvalue()  # type: ignore[attr-defined]
    lines = out.splitlines()
    assert len(lines) == len(CHANGES)
    for line in lines:
        assert b"orjson.Fragment" not in line
        value = orjson.loads(line)  # valid JSON
        assert isinstance(value, dict)
    assert b"12345678901234567890123456789012345678" in lines[1]
