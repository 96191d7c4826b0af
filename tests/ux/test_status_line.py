"""The live status line: on a terminal's stderr only, never in stdout, gone on exit."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from streamtail.env import Env
from streamtail.stats import WalkStats
from streamtail.status import Figures, Rate, StatusLine, format_status
from tests.ux.helpers import Moto, cli_env, run_pty

ERASE = b"\r\x1b[2K"


def _figures(**changes: object) -> Figures:
    base: dict[str, object] = {
        "stream": "orders",
        "shown": 1204,
        "read": 1204,
        "rate": 38.2,
        "open_shards": 4,
        "closed_shards": 2,
        "behind": ("shardId-000000000007", 3_200),
        "retries": 0,
        "throttled": 0,
    }
    base.update(changes)
    return Figures(**base)  # type: ignore[arg-type]


def test_format_status_shows_every_figure() -> None:
    line = format_status(_figures(retries=5, throttled=3), 200)
    assert line == (
        "orders  1,204 records  38/s  shards 4 open, 2 closed  "
        "behind 3.2s shardId-000000000007  3 throttled, 5 retries"
    )


@pytest.mark.parametrize(
    ("changes", "part"),
    [
        ({"read": 5000}, "1,204 printed of 5,000 read"),
        ({"rate": 2.5}, "  2.5/s  "),
        ({"behind": ("s-1", 0)}, "caught up"),
        ({"behind": ("s-1", 450)}, "behind 450ms s-1"),
        ({"behind": ("s-1", 600_000)}, "behind 10m s-1"),
        ({"behind": ("s-1", 36_000_000)}, "behind 10.0h s-1"),
        ({"stream": "a\x1b[2Jb"}, "a\\e[2Jb  "),
    ],
)
def test_format_status_parts(changes: dict[str, object], part: str) -> None:
    assert part in format_status(_figures(**changes), 200)


def test_format_status_without_lag_figures_leaves_them_out() -> None:
    line = format_status(_figures(behind=None), 200)  # DynamoDB Streams report no lag
    assert "behind" not in line and "caught up" not in line


def test_format_status_fits_the_width() -> None:
    line = format_status(_figures(), 40)
    assert len(line) == 40 and line.endswith("…")


def test_rate_over_a_trailing_window() -> None:
    now = [0.0]
    rate = Rate(lambda: now[0], window=5.0)
    assert rate.update(0) == 0.0
    for second in range(1, 11):
        now[0] = float(second)
        value = rate.update(second * 100)
    assert value == pytest.approx(100.0)
    now[0] = 20.0  # ten quiet seconds: the rate falls
    assert rate.update(1000) == pytest.approx(0.0)


def test_stats_snapshot_and_most_behind() -> None:
    stats = WalkStats()
    stats.set_behind("b", 10)
    stats.set_behind("a", 500)
    stats.count_call()
    stats.count_retry(throttled=True)
    stats.count_retry(throttled=False)
    assert stats.most_behind() == ("a", 500)
    stats.shard_finished("a", drained=True, still_open=1)
    snap = stats.snapshot()
    assert (snap.calls, snap.retries, snap.throttled, snap.closed_shards) == (1, 2, 1, 1)
    assert snap.behind_ms == {"b": 10} and stats.most_behind() == ("b", 10)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_warnings_erase_the_line_first_and_close_leaves_nothing() -> None:
    stderr = _Tty()
    env = Env(stdout=io.BytesIO(), stderr=stderr, stderr_isatty=True)
    stats = WalkStats(records=3)
    line = StatusLine(env, stats, "orders", lambda: 3, interval=3600)
    line.start()
    line.draw()
    env.warn("shard s-1: throttled; retrying")
    line.draw()
    line.close()
    out = stderr.getvalue()
    assert out.startswith("\r\x1b[2Korders  3 records")
    # The warning starts on a clean line, and the line is erased at the end.
    assert "\r\x1b[2Kstreamtail: warning: shard s-1: throttled; retrying\n" in out
    assert out.endswith("\r\x1b[2K")
    before = stderr.getvalue()
    env.warn("after")  # no status line any more: written as it is, nothing erased again
    assert stderr.getvalue() == before + "streamtail: warning: after\n"


def _read(moto: Moto, stream: str, *extra: str) -> tuple[str, ...]:
    return ("read", stream, "--endpoint-url", moto.url, *extra)


def _slow_env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path)


@pytest.mark.server
def test_status_line_on_a_terminal_stderr_with_stdout_piped(
    tmp_path: Path, moto_server: Moto, orders: str
) -> None:
    # `follow` until idle: long enough for a few redraws (a fast `read` may end before one).
    args = ("follow", orders, "--endpoint-url", moto_server.url, "--from", "trim-horizon")
    result = run_pty(*args, "--idle-exit", "1.5", env=_slow_env(tmp_path), stdout="pipe")
    assert result.returncode == 0
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 40  # stdout is pure NDJSON
    assert b"ux-orders  " in result.stderr and b" records  " in result.stderr
    assert b"shards " in result.stderr
    assert result.stderr.endswith(ERASE), result.stderr[-200:]  # gone on exit
    assert b"\n" not in result.stderr  # a status line, never a scrolling log


@pytest.mark.server
def test_quiet_turns_it_off(tmp_path: Path, moto_server: Moto, orders: str) -> None:
    result = run_pty(*_read(moto_server, orders, "-q"), env=_slow_env(tmp_path), stdout="pipe")
    assert result.returncode == 0
    assert result.stderr == b""
    assert len(result.stdout.splitlines()) == 40


@pytest.mark.server
def test_no_status_line_when_stderr_is_not_a_terminal(
    tmp_path: Path, moto_server: Moto, orders: str
) -> None:
    result = run_pty(*_read(moto_server, orders), env=_slow_env(tmp_path), stderr="pipe")
    assert result.returncode == 0
    assert result.stderr == b""
    assert b"records  " not in result.stdout


@pytest.mark.server
def test_status_line_and_table_share_a_terminal_without_mixing(
    tmp_path: Path, moto_server: Moto
) -> None:
    client = moto_server.client("kinesis")
    client.create_stream(StreamName="ux-live", ShardCount=1)
    # follow from the start with a producer writing while we read: rows and redraws interleave.
    import threading
    import time

    stop = threading.Event()

    def produce() -> None:
        i = 0
        while not stop.is_set() and i < 40:
            client.put_record(StreamName="ux-live", Data=f"row {i}".encode(), PartitionKey="k")
            i += 1
            time.sleep(0.05)

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        result = run_pty(
            "follow",
            "ux-live",
            "--endpoint-url",
            moto_server.url,
            "--from",
            "trim-horizon",
            "-n",
            "40",
            "--no-color",
            env=_slow_env(tmp_path),
            stderr="same",
        )
    finally:
        stop.set()
        producer.join()
    assert result.returncode == 0
    screen = result.stdout
    pieces = screen.split(ERASE)
    drawn = [p for p in pieces if b" records  " in p]
    assert drawn, "the status line was never drawn"
    for piece in pieces:
        if b"\n" in piece:  # rows: never glued to a status line
            assert b" records  " not in piece, piece
    row = re.compile(rb"^\d\d:\d\d:\d\d\.\d{3} ")
    rows = [line for p in pieces for line in p.split(b"\r\n") if row.match(line)]
    assert len(rows) == 40
    assert screen.endswith((ERASE, b"\r\n"))
