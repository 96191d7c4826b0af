"""`top` in-process: its usage errors, `--group-by` on moto (KPL user records counted one by one),
the NDJSON objects of an estimated report, and the screen's manners (inert keys, the terminal given
back)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from streamtail.env import Env
from streamtail.model import Record, Shard
from streamtail.top.counter import Counter
from streamtail.top.ndjson import report_objects
from streamtail.top.report import Scope, build
from streamtail.top.screen import TopScreen, fit, render_report, sparkline
from tests.unit import kplbuild
from tests.unit.helpers import run_cli


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--until", "-1m"], "--until needs --from"),
        (["--from", "-5m", "--duration", "5s"], "--duration applies to the live view"),
        (["--interval", "0.5s"], "invalid --interval '0.5s': whole seconds"),
        (["--group-by", "a..b"], "invalid --group-by 'a..b'"),
        (["--by", "keys"], "--by"),
        (["-o", "raw"], "--output"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = run_cli("top", "orders", *args)
    assert result.code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") <= 2 and "Traceback" not in result.stderr


def test_group_by_counts_a_payload_field(kinesis: Any) -> None:
    """A tenant written under many partition keys, over both shards, is one row; a KPL
    aggregate's user records count one by one."""
    kinesis.create_stream(StreamName="tenants", ShardCount=2)
    placed = [
        kinesis.put_record(
            StreamName="tenants", PartitionKey=f"p{n}", Data=json.dumps({"t": {"id": "acme"}})
        )["ShardId"]
        for n in range(8)
    ]
    users = [("u1", b'{"t":{"id":"globex"}}'), ("u2", b'{"t":{"id":"acme"}}'), ("u3", b"{}")]
    agg = kinesis.put_record(
        StreamName="tenants", PartitionKey="agg", Data=kplbuild.aggregate(users)
    )["ShardId"]
    result = run_cli("top", "tenants", "--from", "trim-horizon", "--group-by", "t.id")
    assert result.code == 0, result.stderr
    objects = [json.loads(line) for line in result.lines]
    keys = [(o["key"], o["records"], o["group_by"]) for o in objects if o["type"] == "key"]
    assert keys == [("acme", 9, "t.id"), ("globex", 1, "t.id")]
    acme = next(o for o in objects if o["type"] == "key")
    per_shard = {s: placed.count(s) + (s == agg) for s in set(placed) | {agg}}
    assert acme["shards"] == sorted(per_shard, key=lambda s: (-per_shard[s], s))
    assert acme["shard"] == acme["shards"][0]
    # the shards count every user record, the one without the field too
    assert sum(o["records"] for o in objects if o["type"] == "shard") == 8 + 3


def test_where_counts_only_the_records_it_keeps(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="orders", ShardCount=1)
    for n in range(6):
        status = "failed" if n % 3 == 0 else "ok"
        data = json.dumps({"status": status, "n": n})
        kinesis.put_record(StreamName="orders", PartitionKey=f"c{n % 2}", Data=data)
    kinesis.put_record(StreamName="orders", PartitionKey="c9", Data=b"not json")
    result = run_cli(
        "top", "orders", "--from", "trim-horizon", "--where", "data.status == 'failed'"
    )
    assert result.code == 0, result.stderr
    objects = [json.loads(line) for line in result.lines]
    assert [o["records"] for o in objects if o["type"] == "shard"] == [2]  # n = 0 and 3
    keys = [(o["key"], o["records"]) for o in objects if o["type"] == "key"]
    assert keys == [("c0", 1), ("c1", 1)]
    bad = run_cli("top", "orders", "--where", "data.status ==")
    assert bad.code == 2 and "--where" in bad.stderr


def _estimated_report() -> Any:
    counter = Counter(capacity=2)
    counter.add([Record("s0", "1", key, 5_000, b"xy") for key in ["a", "a", "a", "b", "c"]])
    scope = Scope("orders", "records", 5, False, "partition key", True)
    return build(scope, counter.slots[0], counter.timelines, [Shard("s0")], start=5, end=6)


def test_estimated_counts_say_so_with_their_bound() -> None:
    objects = report_objects(_estimated_report())
    keys = [o for o in objects if o["type"] == "key"]
    assert [(k["key"], k["records"], k["records_error"], k["estimated"]) for k in keys] == [
        ("a", 3, 0, True),
        ("c", 2, 1, True),
    ]
    estimate = objects[-1]
    assert estimate["type"] == "estimate"
    assert (estimate["counters"], estimate["records_error"], estimate["bytes_error"]) == (2, 1, 3)
    text, _ = render_report(_estimated_report(), 120, color=False)
    assert "key counts are estimates (Space-Saving, 2 counters)" in text
    assert "≤2" in text  # an estimated count is marked on the screen


def test_keys_are_shown_inert_never_as_markup_or_escapes() -> None:
    counter = Counter()
    counter.add([Record("s0", "1", "[bold]x[/]\x1b[2J", 5_000, b"{}")])
    scope = Scope("orders", "records", 5, False, "partition key", True)
    report = build(scope, counter.slots[0], counter.timelines, [Shard("s0")], start=5, end=6)
    text, _ = render_report(report, 120, color=True)
    assert "[bold]x[/]" in text
    assert "\x1b[2J" not in text


def test_the_live_screen_gives_the_terminal_back_and_leaves_the_last_frame() -> None:
    stdout = io.BytesIO()
    env = Env(stdout=stdout, stderr=io.StringIO(), stdout_isatty=True, width=100)
    screen = TopScreen(env, live=True)
    report = _estimated_report()
    screen.frame(report)
    screen.frame(report)
    screen.close()
    out = stdout.getvalue()
    assert out.startswith(b"\x1b[?1049h\x1b[?25l")
    assert out.count(b"\x1b[H") == 2
    tail = out.split(b"\x1b[?25h\x1b[?1049l", 1)[1]
    assert b"streamtail top orders" in tail and b"\x1b[H" not in tail


def test_warnings_stay_on_the_screen_and_reach_stderr_after_it() -> None:
    stderr = io.StringIO()
    env = Env(stdout=io.BytesIO(), stderr=stderr, stdout_isatty=True, stderr_isatty=True)
    env.width = 100
    screen = TopScreen(env, live=True)
    screen.frame(_estimated_report())
    env.warn("shard s0: throttled, retrying")
    screen.frame(_estimated_report())
    assert stderr.getvalue() == ""  # not written over the screen
    assert "streamtail: warning: shard s0: throttled" in (screen.last or "")
    screen.close()
    assert stderr.getvalue() == "streamtail: warning: shard s0: throttled, retrying\n"
    assert env.stderr is stderr


def test_sparkline_scales_to_the_busiest_cell() -> None:
    assert sparkline((0, 0, 1, 1, 4, 4), cells=3) == " ▂█"
    assert sparkline((0,) * 60) == " " * 30


def test_a_frame_taller_than_the_terminal_keeps_its_footer() -> None:
    lines = [f"row {n}" for n in range(10)] + ["", "! advice"]
    assert fit(lines, 5, 2) == ["row 0", "row 1", "row 2", "", "! advice"]
    assert fit(lines, 0, 2) == lines
    assert fit(lines, 20, 2) == lines


def test_duration_ends_the_live_view_with_0_after_whole_intervals(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="quiet", ShardCount=2)
    result = run_cli("top", "quiet", "-o", "ndjson", "--duration", "3.6s")
    assert result.code == 0, result.stderr
    objects = [json.loads(line) for line in result.lines]
    assert objects, "no interval written"
    starts = sorted({o["start"] for o in objects})
    # every interval: one object per open shard, a second long, nothing counted
    for start in starts:
        mine = [o for o in objects if o["start"] == start]
        assert sorted(o["shard"] for o in mine) == ["shardId-000000000000", "shardId-000000000001"]
        assert all(o["seconds"] == 1 and o["records"] == 0 for o in mine)
