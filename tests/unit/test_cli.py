"""The real entry point through Typer's CliRunner, against moto in-process: exact output.

click 8.2+ (here through Typer's CliRunner) keeps stderr apart: `result.stdout` and
`result.stderr`, no `mix_stderr`. Shards are read concurrently, so output from several shards is
compared per shard (order within a shard is guaranteed); single-shard reads compare whole.
"""

from __future__ import annotations

import json
import re
import socket
import time
import traceback
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from streamtail import __version__
from streamtail.cli import app

S0 = "shardId-000000000000"
S1 = "shardId-000000000001"

# What `read orders` prints for the records conftest.orders seeds (arrivals 1 s apart).
S0_LINES = [
    '{"stream":"orders","shard":"shardId-000000000000","seq":"1","key":"user-1",'
    '"ts":"2026-01-02T03:04:05.250Z","enc":"json","data":{"id": 1, "status": "created"}}',
    '{"stream":"orders","shard":"shardId-000000000000","seq":"2","key":"user-2",'
    '"ts":"2026-01-02T03:04:07.250Z","enc":"json","data":{"id": 2, "status": "paid"}}',
    '{"stream":"orders","shard":"shardId-000000000000","seq":"3","key":"user-1",'
    '"ts":"2026-01-02T03:04:09.250Z","enc":"text","data":"plain text line"}',
]
S1_LINES = [
    '{"stream":"orders","shard":"shardId-000000000001","seq":"1","key":"user-3",'
    '"ts":"2026-01-02T03:04:06.250Z","enc":"json","data":{"id": 3, "status": "created"}}',
    '{"stream":"orders","shard":"shardId-000000000001","seq":"2","key":"bin",'
    '"ts":"2026-01-02T03:04:08.250Z","enc":"base64","data":"AAH+/w=="}',
    '{"stream":"orders","shard":"shardId-000000000001","seq":"3","key":"user-1",'
    '"ts":"2026-01-02T03:04:10.250Z","enc":"json","data":{"id": 4, "status": "shipped"}}',
]


class Result:
    """What one run printed and returned."""

    def __init__(self, exit_code: int, stdout: str, stderr: str, seconds: float) -> None:
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds

    def __repr__(self) -> str:
        return f"Result({self.exit_code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    started = time.monotonic()
    result = CliRunner().invoke(app, list(args), env=env)
    seconds = time.monotonic() - started
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # An exception escaped the CLI's error boundary: show it, that is the bug.
        trace = "".join(traceback.format_exception(result.exception))
        pytest.fail(f"exception escaped `streamtail {' '.join(args)}`:\n{trace}")
    return Result(result.exit_code, result.stdout, result.stderr, seconds)


def by_shard(stdout: str) -> dict[str, list[str]]:
    """NDJSON lines grouped by shard, in the order printed."""
    assert stdout == "" or stdout.endswith("\n")
    lines: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        lines.setdefault(json.loads(line)["shard"], []).append(line)
    return lines


def assert_usage_error(result: Result, message: str, hint: str | None = None) -> None:
    """Exit 2 and one `streamtail: error:` line (and a hint line where one helps)."""
    assert result.exit_code == 2, result
    assert result.stdout == ""
    expected = f"streamtail: error: {message}\n"
    if hint is not None:
        expected += f"streamtail: hint: {hint}\n"
    assert result.stderr == expected


def assert_one_error_line(result: Result, code: int) -> str:
    """Exit `code`; stderr is one error line, then at most a hint: no usage box, no traceback."""
    assert result.exit_code == code, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert 1 <= len(lines) <= 2, result.stderr
    assert lines[0].startswith("streamtail: error: ")
    assert all(line.startswith("streamtail: hint: ") for line in lines[1:])
    return lines[0]


# -- read -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", [[], ["--from", "trim-horizon"]])
def test_read_from_trim_horizon(orders: Any, start: list[str]) -> None:
    result = run("read", "orders", *start)
    assert result.exit_code == 0, result
    assert result.stderr == ""
    assert by_shard(result.stdout) == {S0: S0_LINES, S1: S1_LINES}
    assert result.seconds < 5


def test_read_limit(orders: Any) -> None:
    result = run("read", "orders", "-n", "2")
    assert result.exit_code == 0, result
    assert result.stderr == ""
    lines = by_shard(result.stdout)
    assert sum(len(v) for v in lines.values()) == 2
    expected = {S0: S0_LINES, S1: S1_LINES}
    for shard, printed in lines.items():
        assert printed == expected[shard][: len(printed)]


def test_read_one_shard_with_limit(orders: Any) -> None:
    result = run("read", "orders", "--shard", S0, "--limit", "2")
    assert result.exit_code == 0, result
    assert result.stdout == "".join(line + "\n" for line in S0_LINES[:2])
    assert result.stderr == ""


def test_read_one_shard(orders: Any) -> None:
    result = run("read", "orders", "--shard", S1)
    assert result.exit_code == 0, result
    assert result.stdout == "".join(line + "\n" for line in S1_LINES)
    assert result.stderr == ""


def test_read_key(orders: Any) -> None:
    # --key reads only the shard whose hash-key range holds MD5("user-1"): shard 1. The seed puts
    # two user-1 records into shard 0 with an ExplicitHashKey, which routes them there instead
    # of their key; --key does not see those (README, "--key").
    result = run("read", "orders", "--key", "user-1")
    assert result.exit_code == 0, result
    assert by_shard(result.stdout) == {S1: [S1_LINES[2]]}


def test_read_grep(orders: Any) -> None:
    # --grep sees JSON payloads in compact form
    result = run("read", "orders", "--grep", '"status":"(paid|shipped)"')
    assert result.exit_code == 0, result
    assert by_shard(result.stdout) == {S0: [S0_LINES[1]], S1: [S1_LINES[2]]}


def test_read_filters_apply_before_the_limit(orders: Any) -> None:
    result = run("read", "orders", "--shard", S0, "--grep", "created|plain", "-n", "2")
    assert result.exit_code == 0, result
    assert result.stdout == f"{S0_LINES[0]}\n{S0_LINES[2]}\n"


def test_read_raw(orders: Any) -> None:
    result = run("read", "orders", "--shard", S0, "-o", "raw")
    assert result.exit_code == 0, result
    # JSON payloads as they arrived: the seeds are spaced the way Python's json.dumps writes them
    assert result.stdout == (
        '{"id": 1, "status": "created"}\n{"id": 2, "status": "paid"}\nplain text line\n'
    )


def test_read_aws(orders: Any) -> None:
    result = run("read", "orders", "--shard", S1, "-o", "aws")
    assert result.exit_code == 0, result
    assert result.stdout == (
        '{"SequenceNumber":"1","ApproximateArrivalTimestamp":1767323046.25,'
        '"Data":"eyJpZCI6IDMsICJzdGF0dXMiOiAiY3JlYXRlZCJ9","PartitionKey":"user-3"}\n'
        '{"SequenceNumber":"2","ApproximateArrivalTimestamp":1767323048.25,'
        '"Data":"AAH+/w==","PartitionKey":"bin"}\n'
        '{"SequenceNumber":"3","ApproximateArrivalTimestamp":1767323050.25,'
        '"Data":"eyJpZCI6IDQsICJzdGF0dXMiOiAic2hpcHBlZCJ9","PartitionKey":"user-1"}\n'
    )
    assert result.stderr == ""


def test_read_decode_base64(orders: Any) -> None:
    result = run("read", "orders", "--shard", S0, "--decode", "base64")
    assert result.exit_code == 0, result
    assert result.stdout == (
        '{"stream":"orders","shard":"shardId-000000000000","seq":"1","key":"user-1",'
        '"ts":"2026-01-02T03:04:05.250Z","enc":"base64",'
        '"data":"eyJpZCI6IDEsICJzdGF0dXMiOiAiY3JlYXRlZCJ9"}\n'
        '{"stream":"orders","shard":"shardId-000000000000","seq":"2","key":"user-2",'
        '"ts":"2026-01-02T03:04:07.250Z","enc":"base64",'
        '"data":"eyJpZCI6IDIsICJzdGF0dXMiOiAicGFpZCJ9"}\n'
        '{"stream":"orders","shard":"shardId-000000000000","seq":"3","key":"user-1",'
        '"ts":"2026-01-02T03:04:09.250Z","enc":"base64","data":"cGxhaW4gdGV4dCBsaW5l"}\n'
    )
    assert result.stderr == ""


def test_read_decode_json_warns_once_about_payloads_that_are_not_json(orders: Any) -> None:
    result = run("read", "orders", "--decode", "json")
    assert result.exit_code == 0, result
    lines = by_shard(result.stdout)
    assert lines[S0][:2] == S0_LINES[:2]
    assert json.loads(lines[S0][2])["enc"] == "base64"
    assert json.loads(lines[S1][1])["enc"] == "base64"
    # the first such record is named (which shard comes first depends on the walk), then a count
    first, count = result.stderr.splitlines()
    assert re.fullmatch(
        r"streamtail: warning: shard shardId-00000000000[01] seq \d+: payload is not JSON; "
        r"shown as base64",
        first,
    )
    assert count == (
        "streamtail: warning: 2 of the 6 records printed: payload is not JSON; shown as base64"
    )


def test_read_table(orders: Any) -> None:
    result = run("read", "orders", "--shard", S0, "-o", "table", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result
    assert result.stdout == (
        "TIME (UTC)   SHARD    SEQ          KEY              DATA\n"
        '03:04:05.250 0        1            user-1           {"id":1,"status":"created"}\n'
        '03:04:07.250 0        2            user-2           {"id":2,"status":"paid"}\n'
        "03:04:09.250 0        3            user-1           plain text line\n"
    )


@pytest.mark.parametrize(
    ("start", "s0", "s1"),
    [
        ("at:2", [1, 2], None),
        ("after:2", [2], None),
        ("at:1", [0, 1, 2], None),
        # AT_TIMESTAMP at the second record's arrival: each shard from its first record then
        ("2026-01-02T03:04:07.250Z", [1, 2], [1, 2]),
        ("2026-01-02T04:04:07.250+01:00", [1, 2], [1, 2]),
        ("2026-01-02T03:04:07.250", [1, 2], [1, 2]),
        ("2026-01-02T03:04:10.250Z", [], [2]),
    ],
)
def test_read_from(orders: Any, start: str, s0: list[int], s1: list[int] | None) -> None:
    shard_args = ["--shard", S0] if s1 is None else []
    result = run("read", "orders", "--from", start, *shard_args)
    assert result.exit_code == 0, result
    assert result.stderr == ""
    expected = {S0: [S0_LINES[i] for i in s0], S1: [S1_LINES[i] for i in (s1 or [])]}
    assert by_shard(result.stdout) == {k: v for k, v in expected.items() if v}


def test_read_until(orders: Any) -> None:
    result = run("read", "orders", "--until", "2026-01-02T03:04:08.250Z")
    assert result.exit_code == 0, result
    assert result.stderr == ""
    assert by_shard(result.stdout) == {S0: S0_LINES[:2], S1: S1_LINES[:2]}


def test_read_until_before_every_record(orders: Any) -> None:
    result = run("read", "orders", "--until", "2026-01-01T00:00:00Z")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_read_empty_stream(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="quiet", ShardCount=1)
    result = run("read", "quiet")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert result.seconds < 5


# -- follow ---------------------------------------------------------------------------------------


def test_follow_idle_exit_on_a_quiet_stream(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="quiet", ShardCount=1)
    result = run("follow", "quiet", "--idle-exit", "1")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert 1 <= result.seconds < 5


def test_follow_from_trim_horizon_then_idle_exit(orders: Any) -> None:
    result = run("follow", "orders", "--from", "trim-horizon", "--shard", S0, "--idle-exit", "0.5")
    assert result.exit_code == 0, result
    assert result.stdout == "".join(line + "\n" for line in S0_LINES)
    assert result.stderr == ""


def test_follow_limit(orders: Any) -> None:
    result = run("follow", "orders", "--from", "trim-horizon", "--shard", S1, "-n", "2")
    assert result.exit_code == 0, result
    assert result.stdout == "".join(line + "\n" for line in S1_LINES[:2])


def test_follow_idle_exit_takes_a_duration_with_units(orders: Any) -> None:
    result = run(
        "follow", "orders", "--from", "trim-horizon", "--shard", S0, "--idle-exit", "500ms"
    )
    assert result.exit_code == 0, result
    assert result.stdout == "".join(line + "\n" for line in S0_LINES)


def test_follow_idle_exit_must_be_positive(aws_env: None) -> None:
    result = run("follow", "orders", "--idle-exit", "0s")
    assert_usage_error(result, "invalid --idle-exit '0s': must be more than 0")


@pytest.mark.parametrize(
    ("option", "value"), [("--idle-exit", "-1"), ("--idle-exit", "2x"), ("--retry-timeout", "3 m")]
)
def test_durations_that_are_not_one_are_usage_errors(
    aws_env: None, option: str, value: str
) -> None:
    result = run("follow", "orders", option, value)
    hint = "a duration such as 30s, 2.5m, 1h30m, 2d or 500ms (a bare number is seconds)"
    if option == "--retry-timeout":
        hint += ", or inf: never"
    assert_usage_error(result, f"invalid {option} {value!r}: not a duration", hint)


@pytest.mark.parametrize("value", ["3m", "1.5h", "180", "inf"])
def test_read_retry_timeout_takes_a_duration(orders: Any, value: str) -> None:
    result = run("read", "orders", "--shard", S0, "--retry-timeout", value)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "".join(line + "\n" for line in S0_LINES)


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (("read", "--from", "-1m", "--until", "-2h"), "--from's time"),
        (("read", "--from", "2026-01-01T00:00:00Z", "--until", "2025-12-31T23:00:00Z"), None),
        (("follow", "--until", "-5m"), "the start (latest: now)"),
        (("read", "--from", "latest", "--until", "-1s"), "the start (latest: now)"),
    ],
)
def test_an_empty_window_is_a_usage_error(
    aws_env: None, args: tuple[str, ...], start: str | None
) -> None:
    command, *rest = args
    result = run(command, "orders", *rest)
    until = rest[rest.index("--until") + 1]
    start = start or "--from's time"
    assert_usage_error(
        result,
        f"empty window: --until {until!r} is before {start}, so no record can be printed",
        "--until takes a time after --from (a later -15m, +10m, now, or ISO-8601)",
    )


@pytest.mark.parametrize("command", ["read", "follow"])
def test_from_in_the_future_is_refused_by_read_and_follow_alike(
    aws_env: None, command: str
) -> None:
    result = run(command, "orders", "--from", "+15m")
    assert_usage_error(
        result,
        "invalid --from '+15m': the time is in the future",
        "--from starts at a time that has come (-15m, now); --until +10m stops at one to come",
    )


def test_follow_until_in_the_future_is_taken(orders: Any) -> None:
    result = run(
        "follow",
        "orders",
        "--from",
        "trim-horizon",
        "--shard",
        S0,
        "--until",
        "+10m",
        "--idle-exit",
        "0.3s",
    )
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "".join(line + "\n" for line in S0_LINES)


# -- shards and ls --------------------------------------------------------------------------------

SHARDS_NDJSON = (
    '{"stream":"orders","shard":"shardId-000000000000","state":"open","children":[],'
    '"hash_start":"0","hash_end":"170141183460469231731687303715884105727","start_seq":"1"}\n'
    '{"stream":"orders","shard":"shardId-000000000001","state":"open","children":[],'
    '"hash_start":"170141183460469231731687303715884105728",'
    '"hash_end":"340282366920938463463374607431768211455","start_seq":"1"}\n'
)


def test_shards_ndjson(orders: Any) -> None:
    result = run("shards", "orders")
    assert (result.exit_code, result.stdout, result.stderr) == (0, SHARDS_NDJSON, "")


def test_shards_by_arn(orders: Any) -> None:
    arn = "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
    result = run("shards", arn, "-o", "ndjson")
    assert (result.exit_code, result.stdout, result.stderr) == (0, SHARDS_NDJSON, "")


def test_shards_tree(orders: Any) -> None:
    result = run("shards", "orders", "-o", "table", env={"COLUMNS": "100"})
    assert result.exit_code == 0, result
    assert result.stdout == (
        "orders\n"
        "├── shardId-000000000000  open  hash 50.0%  seq 1…\n"
        f"│   hash keys 0…{2**127 - 1}\n"
        "└── shardId-000000000001  open  hash 50.0%  seq 1…\n"
        f"    hash keys {2**127}…{2**128 - 1}\n"
    )
    assert result.stderr == ""


def test_shards_after_a_split(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="split", ShardCount=1)
    kinesis.split_shard(StreamName="split", ShardToSplit=S0, NewStartingHashKey=str(2**127))
    result = run("shards", "split")
    assert result.exit_code == 0, result
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["shard"], r["state"], r.get("parent"), r["children"]) for r in rows] == [
        (S0, "closed", None, [S1, "shardId-000000000002"]),
        (S1, "open", S0, []),
        ("shardId-000000000002", "open", S0, []),
    ]


LS_NDJSON = (
    '{"kind":"kinesis","stream":"orders","status":"ACTIVE","shards":2,"retention_hours":24,'
    '"mode":"PROVISIONED","arn":"arn:aws:kinesis:us-east-1:123456789012:stream/orders"}\n'
)


def test_ls_ndjson(orders: Any) -> None:
    result = run("ls")
    assert (result.exit_code, result.stdout, result.stderr) == (0, LS_NDJSON, "")


def test_ls_table(orders: Any) -> None:
    result = run("ls", "-o", "table", env={"COLUMNS": "100"})
    assert result.exit_code == 0, result
    assert [line.rstrip() for line in result.stdout.splitlines()] == [
        " KIND     STREAM  STATUS  SHARDS  RETENTION (h)  MODE / VIEW",
        " kinesis  orders  ACTIVE  2       24             PROVISIONED",
    ]
    assert result.stderr == ""


def test_ls_nothing(kinesis: Any) -> None:
    result = run("ls", "-o", "table")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "streamtail: no streams found\n"


# -- failures -------------------------------------------------------------------------------------
# Bad options and names fail before any AWS call: those tests run without moto or credentials.


@pytest.mark.parametrize("command", ["read", "follow", "shards"])
def test_missing_stream(kinesis: Any, command: str) -> None:
    result = run(command, "nope")
    assert result.exit_code == 3, result
    assert result.stdout == ""
    assert result.stderr == (
        "streamtail: error: stream 'nope' not found (ResourceNotFoundException: "
        "Stream nope under account 123456789012 not found.)\n"
    )


def test_bad_from(aws_env: None) -> None:
    result = run("read", "orders", "--from", "yesterday")
    assert_usage_error(
        result,
        "invalid --from 'yesterday': expected trim-horizon, latest, at:SEQ, after:SEQ, "
        "an ISO-8601 time or a relative time like -15m",
    )


def test_bad_until(aws_env: None) -> None:
    assert_usage_error(
        run("read", "orders", "--until", "at:5"),
        "invalid --until 'at:5': expected an ISO-8601 time, a relative time like -15m or "
        "+10m, or now",
    )


def test_bad_grep(aws_env: None) -> None:
    result = run("read", "orders", "--grep", "(")
    assert_usage_error(
        result, "invalid --grep '(': missing ), unterminated subpattern at position 0"
    )


def test_from_before_any_representable_time_is_a_usage_error(orders: Any) -> None:
    """-99999999999d lies before year 1: no datetime holds it (positions._in_range)."""
    assert_usage_error(
        run("read", "orders", "--from", "-99999999999d"),
        "invalid --from '-99999999999d': the time is out of range",
    )


def test_from_long_before_the_stream_reads_every_record(orders: Any) -> None:
    """-20000d (1972) is a time AT_TIMESTAMP takes: every shard from its first record."""
    result = run("read", "orders", "--from", "-20000d")
    assert result.exit_code == 0, result
    assert result.stderr == ""
    assert by_shard(result.stdout) == {S0: S0_LINES, S1: S1_LINES}


@pytest.mark.parametrize(
    ("name", "message", "hint"),
    [
        (
            "bad name",
            "invalid stream name 'bad name'",
            "Kinesis stream names are 1-128 characters: letters, digits, _ . -",
        ),
        (
            "arn:aws:kinesis:us-east-1:1:stream/x",
            "invalid or unsupported ARN 'arn:aws:kinesis:us-east-1:1:stream/x'",
            "name a Kinesis stream name, a Yandex path (/ru-central1/...), a Kinesis stream ARN, "
            "ddb:TABLE or a DynamoDB stream ARN",
        ),
        (
            "",
            "empty stream name",
            "name a Kinesis stream name, a Yandex path (/ru-central1/...), a Kinesis stream ARN, "
            "ddb:TABLE or a DynamoDB stream ARN",
        ),
    ],
)
def test_invalid_stream_name(aws_env: None, name: str, message: str, hint: str) -> None:
    assert_usage_error(run("read", name), message, hint)


def test_unknown_shard(orders: Any) -> None:
    assert_usage_error(
        run("read", "orders", "--shard", "shardId-000000000009"),
        "no shard shardId-000000000009 in stream 'orders'",
        "`streamtail shards STREAM` lists them",
    )


def test_unknown_option() -> None:
    result = run("read", "orders", "--frobnicate")
    assert assert_one_error_line(result, 2) == "streamtail: error: No such option: --frobnicate"
    assert result.stderr == (
        "streamtail: error: No such option: --frobnicate\n"
        "streamtail: hint: see 'streamtail read --help'\n"
    )


@pytest.mark.parametrize("limit", ["0", "-3"])
def test_limit_must_be_positive(limit: str) -> None:
    line = assert_one_error_line(run("read", "orders", "--limit", limit), 2)
    assert "--limit" in line


@pytest.mark.parametrize(
    "args",
    [
        ["read"],  # missing STREAM
        ["read", "orders", "--decode", "yaml"],
        ["read", "orders", "-o", "csv"],
        ["ls", "-o", "aws"],
        ["read", "orders", "-n", "many"],
        ["frobnicate"],
    ],
    ids=["missing-stream", "bad-decode", "bad-output", "ls-bad-output", "bad-int", "no-command"],
)
def test_other_usage_errors(args: list[str]) -> None:
    assert_one_error_line(run(*args), 2)


def test_no_arguments_prints_help() -> None:
    result = run()
    assert result.exit_code == 0, result
    assert "Usage: streamtail" in result.stdout


def test_version() -> None:
    result = run("--version")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        f"streamtail {__version__}\n",
        "",
    )


@pytest.mark.parametrize(
    "args", [["--help"], ["-h"], ["read", "--help"], ["follow", "--help"], ["ls", "--help"]]
)
def test_help(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 0, result
    assert "Usage: streamtail" in result.stdout
    assert result.stderr == ""


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed


def test_no_credentials(aws_env: None, tmp_path: Path) -> None:
    # No mock_aws here: moto would supply credentials. Credentials are looked up before any
    # connection, so the closed port is never reached.
    endpoint = f"http://127.0.0.1:{closed_port()}"
    result = run("read", "orders", "--endpoint-url", endpoint)
    assert result.exit_code == 4, result
    assert result.stdout == ""
    assert result.stderr == (
        "streamtail: error: no AWS credentials found (Unable to locate credentials)\n"
        "streamtail: hint: configure a profile (aws configure), pass --profile, or set "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (local servers accept any values)\n"
    )


# -- DynamoDB Streams -----------------------------------------------------------------------------


@pytest.fixture
def orders_table(kinesis: Any) -> Any:
    """Table `Orders` with a NEW_AND_OLD_IMAGES stream: an insert, an update, a delete."""
    import boto3

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    for name, stream in (("Orders", True), ("NoStream", False)):
        spec = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"} if stream else {}
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            **({"StreamSpecification": spec} if spec else {}),
        )
    big = "12345678901234567890123456789012345678"
    ddb.put_item(TableName="Orders", Item={"pk": {"S": "a"}, "n": {"N": big}})
    ddb.put_item(TableName="Orders", Item={"pk": {"S": "a"}, "n": {"N": "2"}})
    ddb.delete_item(TableName="Orders", Key={"pk": {"S": "a"}})
    return ddb


def test_read_dynamodb_table(orders_table: Any) -> None:
    result = run("read", "ddb:Orders")
    assert result.exit_code == 0, result
    assert result.stderr == ""
    rows = [json.loads(line, object_pairs_hook=list) for line in result.stdout.splitlines()]
    # the stream label, shard id, event ids and times are moto's: check their shape, pin the rest
    dynamic = {"stream", "shard", "seq", "id", "ts"}
    assert [[(k, v) for k, v in row if k not in dynamic] for row in rows] == [
        [
            ("table", "Orders"),
            ("event", "INSERT"),
            ("keys", [("pk", "a")]),
            ("new", [("pk", "a"), ("n", 12345678901234567890123456789012345678)]),
        ],
        [
            ("table", "Orders"),
            ("event", "MODIFY"),
            ("keys", [("pk", "a")]),
            ("new", [("pk", "a"), ("n", 2)]),
            ("old", [("pk", "a"), ("n", 12345678901234567890123456789012345678)]),
        ],
        [
            ("table", "Orders"),
            ("event", "REMOVE"),
            ("keys", [("pk", "a")]),
            ("old", [("pk", "a"), ("n", 2)]),
        ],
    ]
    for row in map(dict, rows):
        assert row["stream"].startswith(
            "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/"
        )
        assert row["seq"].isdigit()
    assert [list(dict(row))[:6] for row in rows] == [
        ["stream", "table", "shard", "seq", "id", "ts"]
    ] * 3


def test_ls_table_shows_a_dynamodb_streams_arn(orders_table: Any) -> None:
    arn = orders_table.describe_table(TableName="Orders")["Table"]["LatestStreamArn"]
    result = run("ls", "-o", "table", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result
    header, row = [line.split() for line in result.stdout.splitlines()]
    assert header[-2:] == ["STREAM", "ARN"]
    assert row == ["dynamodb", "ddb:Orders", "ENABLED", "NEW_AND_OLD_IMAGES", arn]


def test_dynamodb_table_not_found(orders_table: Any) -> None:
    result = run("read", "ddb:Nope")
    assert result.exit_code == 3, result
    assert result.stderr == (
        "streamtail: error: DynamoDB table 'Nope' not found\n"
        "streamtail: hint: `streamtail ls` lists tables with streams\n"
    )


def test_dynamodb_table_without_stream(orders_table: Any) -> None:
    assert_usage_error(
        run("read", "dynamodb:NoStream"),
        "DynamoDB table 'NoStream' has no stream enabled",
        "aws dynamodb update-table --table-name NoStream --stream-specification "
        "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES",
    )


@pytest.mark.parametrize(
    ("command", "url", "hint"),
    [
        (
            ("read", "orders"),
            "127.0.0.1:15000",
            "give the scheme: --endpoint-url http://127.0.0.1:15000 (or https://)",
        ),
        (
            ("ls",),
            "localhost:4566",
            "give the scheme: --endpoint-url http://localhost:4566 (or https://)",
        ),
        (
            ("shards", "orders"),
            "tcp://127.0.0.1:4566",
            "the scheme is http or https: http://127.0.0.1:4566, https://kinesis.example.com",
        ),
    ],
)
def test_an_endpoint_url_without_a_scheme_is_a_usage_error(
    aws_env: None, command: tuple[str, ...], url: str, hint: str
) -> None:
    result = run(*command, "--endpoint-url", url)
    assert_usage_error(result, f"invalid --endpoint-url {url!r}: not an http(s) URL", hint)


def test_an_endpoint_from_the_environment_without_a_scheme_is_a_usage_error(
    aws_env: None,
) -> None:
    result = run("read", "orders", env={"AWS_ENDPOINT_URL_KINESIS": "127.0.0.1:15000"})
    assert result.exit_code == 2, result
    assert result.stderr.splitlines() == [
        "streamtail: error: kinesis: Invalid endpoint: 127.0.0.1:15000",
        "streamtail: hint: an endpoint URL needs its scheme, e.g. http://127.0.0.1:4566: check "
        "AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_* and the profile's endpoint_url",
    ]


@pytest.mark.parametrize("command", [("read", "orders"), ("follow", "orders"), ("lag", "app")])
def test_an_option_without_its_value_hints_the_commands_own_help(
    aws_env: None, command: tuple[str, ...]
) -> None:
    option = "--interval" if command[0] == "lag" else "--from"
    result = run(*command, option)
    assert_usage_error(
        result, f"Option {option!r} requires an argument.", f"see 'streamtail {command[0]} --help'"
    )


def test_a_region_that_is_not_one_is_a_usage_error(aws_env: None) -> None:
    result = run("read", "orders", "--region", "bad region", "--endpoint-url", "http://127.0.0.1:9")
    assert_usage_error(
        result,
        "invalid region 'bad region': not a region name",
        "a region such as us-east-1 or eu-west-1 (from --region, AWS_REGION, AWS_DEFAULT_REGION "
        "or the profile)",
    )


def test_a_run_builds_only_the_command_it_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """`building_only`: the console script builds the Click command of the command it runs, and
    every command for anything else (no command, a typo, a shell asking for completions)."""
    from typer.main import get_command

    from streamtail.cli_boundary import building_only

    def built(argv: list[str]) -> set[str]:
        with building_only(argv):
            return set(get_command(app).commands)  # type: ignore[attr-defined]

    every = built([])
    assert {"read", "follow", "put", "shards", "lag", "top", "consumers"} <= every
    assert built(["read", "s", "--limit", "1"]) == {"read"}
    assert built(["consumers"]) == {"consumers"}
    assert built(["reed"]) == built(["--help"]) == every
    monkeypatch.setenv("_STREAMTAIL_COMPLETE", "bash_complete")
    assert built(["read"]) == every
    assert set(get_command(app).commands) == every  # type: ignore[attr-defined]  # restored
