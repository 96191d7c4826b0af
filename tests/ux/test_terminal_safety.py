"""Terminal safety: nothing in a stream reaches the terminal as markup or as a control sequence.

Every column of every table view gets the same hostile values: rich markup, an OSC title change,
a screen clear, a cursor move, a bell, a backspace, C1 controls, a bidi override (Trojan Source),
DEL and a NUL. NDJSON keeps them byte-faithful in JSON escaping.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

import orjson
import pytest

from streamtail.decode import DecodeMode, decode_record
from streamtail.env import Env
from streamtail.lineage import Lineage
from streamtail.model import Change, Record, Shard
from streamtail.render import RenderContext, make_renderer
from streamtail.render.listing import shards_tree, streams_table
from streamtail.render.safe import inert

HOSTILE = (
    "[bold red]markup[/] [link=http://x]l[/link] :smile: "
    "\x1b]0;owned\x07 \x1b[2J \x1b[10;10H \x07 \x08 \x9b31m \x85 \u202eevil\u202c "
    "\u2066iso\u2069 \u2028 \x7f \x00 end"
)
# Valid "text" for the decoder (which calls NUL, BEL and the like binary): ST-terminated OSC.
TEXT_HOSTILE = (
    "[bold red]markup[/] [link=http://x]l[/link] :smile: \x1b]0;owned\x1b\\ \x1b[2J "
    "\x1b[10;10H \x9b31m \x85 \u202eevil\u202c \u2066iso\u2069 \u2028 \r\n end"
)
# What rich may emit itself when colour is on: SGR sequences only.
_SGR = re.compile(rb"\x1b\[[0-9;]*m")


def _env(color: bool) -> Env:
    return Env(stdout=io.BytesIO(), stderr=io.StringIO(), color=color, width=400)


def _assert_inert(out: bytes, color: bool) -> str:
    if color:
        assert _SGR.search(out), "colour was asked for and none was emitted"
    text = _SGR.sub(b"", out).decode("utf-8")
    # Only newlines remain of the C0/C1 controls; no bidi control; no DEL.
    bad = re.findall(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u202a-\u202e\u2066-\u2069]", text)
    assert not bad, bad
    # The key column is narrow: the markup is cut there, but shown as typed, not interpreted.
    assert "[bold red]mark" in text, "markup was interpreted instead of shown"
    return text


def _kinesis_record(value: str) -> Record:
    return Record(
        shard=f"shardId-{value}",
        seq=f"4959{value}",
        key=value,
        ts_ms=1_795_000_000_000,
        data=value.encode("utf-8"),
    )


@pytest.mark.parametrize("color", [False, True], ids=["plain", "colour"])
@pytest.mark.parametrize(
    "payload",
    [
        TEXT_HOSTILE.encode("utf-8"),
        orjson.dumps({HOSTILE: HOSTILE, "list": [TEXT_HOSTILE]}),
        HOSTILE.encode(),  # binary (NUL, BEL): shown as base64
    ],
    ids=["text", "json", "binary"],
)
def test_kinesis_table_rows_show_every_column_inert(payload: bytes, color: bool) -> None:
    env = _env(color)
    record = Record(
        shard=f"shardId-{HOSTILE}",
        seq=f"4959{HOSTILE}",
        key=HOSTILE,
        ts_ms=1_795_000_000_000,
        data=payload,
    )
    renderer = make_renderer("table", RenderContext(env=env, stream=HOSTILE))
    for mode in (DecodeMode.AUTO, DecodeMode.TEXT, DecodeMode.JSON, DecodeMode.BASE64):
        renderer.write([(record, decode_record(record, mode))])
    renderer.close()
    out = env.stdout.getvalue()  # type: ignore[attr-defined]
    text = _assert_inert(out, color)
    if payload == TEXT_HOSTILE.encode():  # text: the whole payload is visible, escapes spelt out
        assert "[link=http://x]l[/link] :smile: \\e]0;owned\\e\\ \\e[2J" in text


@pytest.mark.parametrize("color", [False, True], ids=["plain", "colour"])
@pytest.mark.parametrize("event", ["INSERT", "MODIFY", "REMOVE", HOSTILE])
def test_dynamodb_change_rows_show_every_column_inert(event: str, color: bool) -> None:
    env = _env(color)
    hostile_s = {"S": HOSTILE}
    change = Change(
        event=event,
        event_id=HOSTILE,
        keys={"pk": hostile_s, HOSTILE: {"N": "1"}},
        new={"pk": hostile_s, HOSTILE: hostile_s, "m": {"M": {HOSTILE: hostile_s}}},
        old={"pk": hostile_s, HOSTILE: {"S": "old " + HOSTILE}},
        ttl=event == "REMOVE",
    )
    record = Record(
        shard=HOSTILE,
        seq="300000000000000499659",
        key="",
        ts_ms=1_795_000_000_000,
        data=b"",
        change=change,
    )
    renderer = make_renderer("table", RenderContext(env=env, stream=HOSTILE, table=HOSTILE))
    renderer.write([(record, decode_record(record))])
    renderer.close()
    _assert_inert(env.stdout.getvalue(), color)  # type: ignore[attr-defined]


@pytest.mark.parametrize("color", [False, True], ids=["plain", "colour"])
def test_ls_table_shows_every_column_inert(color: bool) -> None:
    env = _env(color)
    rows: list[dict[str, Any]] = [
        {
            "kind": "kinesis",
            "stream": HOSTILE,
            "status": HOSTILE,
            "shards": HOSTILE,
            "retention_hours": HOSTILE,
            "mode": HOSTILE,
        },
        {"kind": HOSTILE, "stream": "ddb:" + HOSTILE, "status": "ENABLED", "view": HOSTILE},
    ]
    streams_table(env, rows)
    _assert_inert(env.stdout.getvalue(), color)  # type: ignore[attr-defined]


@pytest.mark.parametrize("color", [False, True], ids=["plain", "colour"])
def test_shards_tree_shows_every_label_inert(color: bool) -> None:
    env = _env(color)
    parent = Shard(
        f"p{HOSTILE}", hash_start=0, hash_end=2**128 - 1, start_seq=HOSTILE, end_seq=HOSTILE + "9"
    )
    other = Shard(f"o{HOSTILE}", start_seq="1", end_seq="2")
    child = Shard(
        f"c{HOSTILE}", parent=parent.shard_id, adjacent_parent=other.shard_id, start_seq=HOSTILE
    )
    shards_tree(env, HOSTILE, Lineage([parent, other, child]))
    text = _assert_inert(env.stdout.getvalue(), color)  # type: ignore[attr-defined]
    assert "merged with o[bold red]" in text


def test_ndjson_is_byte_faithful_json() -> None:
    env = _env(False)
    record = Record(
        shard="shardId-000000000000",
        seq="1",
        key=HOSTILE,
        ts_ms=1_795_000_000_000,
        data=TEXT_HOSTILE.encode("utf-8"),
    )
    renderer = make_renderer("ndjson", RenderContext(env=env, stream=HOSTILE))
    renderer.write([(record, decode_record(record, DecodeMode.TEXT))])
    renderer.close()
    out = env.stdout.getvalue()  # type: ignore[attr-defined]
    assert b"\x1b" not in out and b"\x07" not in out and b"\x00" not in out  # JSON-escaped
    assert b"\\u001b]0;owned\\u0007" in out
    obj = json.loads(out)
    assert obj["enc"] == "text"
    assert obj["key"] == HOSTILE and obj["data"] == TEXT_HOSTILE and obj["stream"] == HOSTILE
    # Nothing but JSON escaping: printable and non-ASCII characters are written as they are.
    assert b"[bold red]markup[/]" in out and "\u202eevil".encode() in out


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred", "\\e[31mred"),
        ("a\nb\tc\rd", "a\\nb\\tc\\rd"),
        ("\x9b", "\\x9b"),
        ("\u202e", "\\u202e"),
        ("\u2028", "\\u2028"),
        ("\x7f\x00", "\\x7f\\x00"),
        ("plain ü 中 😀", "plain ü 中 😀"),
    ],
)
def test_inert(raw: str, shown: str) -> None:
    assert inert(raw) == shown


@pytest.mark.parametrize("color", [False, True], ids=["plain", "colour"])
def test_chosen_columns_show_every_value_inert(color: bool) -> None:
    env = _env(color)
    record = _kinesis_record(HOSTILE)._replace(data=orjson.dumps({"h": HOSTILE, "o": [HOSTILE]}))
    columns = ("stream", "shard", "seq", "key", "ts", "data.h", "data.o", "data")
    ctx = RenderContext(env=env, stream=HOSTILE, columns=columns)
    renderer = make_renderer("table", ctx)
    renderer.write([(record, decode_record(record))])
    renderer.close()
    _assert_inert(env.stdout.getvalue(), color)  # type: ignore[attr-defined]


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_csv_and_tsv_are_inert_on_a_terminal_and_faithful_elsewhere(fmt: str) -> None:
    record = _kinesis_record(HOSTILE)._replace(data=TEXT_HOSTILE.encode("utf-8"))
    written = {}
    for tty in (True, False):
        env = Env(stdout=io.BytesIO(), stderr=io.StringIO(), stdout_isatty=tty)
        renderer = make_renderer(fmt, RenderContext(env=env, stream="s", columns=("key", "data")))
        renderer.write([(record, decode_record(record))])
        written[tty] = env.stdout.getvalue().decode("utf-8")  # type: ignore[attr-defined]
    bad = re.findall(
        r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u202a-\u202e\u2066-\u2069]", written[True]
    )
    assert not bad, bad
    assert "\\e]0;owned\\e\\" in written[True]
    assert "\x1b]0;owned" in written[False]  # a file or a pipe gets the record as it is
