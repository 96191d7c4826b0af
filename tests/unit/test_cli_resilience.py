"""The CLI's resilience options and bad input, through the real entry point (CliRunner, moto
in-process): --checkpoint and --retry-timeout, damaged checkpoint files, payloads of every shape,
and a fuzz of argv (hypothesis): never a traceback, always an exit code of the contract."""

from __future__ import annotations

import json
import string
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from .test_cli import (
    S0_LINES,
    S1_LINES,
    assert_one_error_line,
    assert_usage_error,
    by_shard,
    orders_table,  # noqa: F401  (a fixture)
    run,
)

#: exit codes the contract allows (docs/CONTRACT.md), and 143 for SIGTERM (README)
EXIT_CODES = {0, 1, 2, 3, 4, 130, 143}


# -- --checkpoint ---------------------------------------------------------------------------------


def test_runs_stopped_by_limit_resume_where_the_last_one_stopped(
    orders: Any, tmp_path: Path
) -> None:
    checkpoint = str(tmp_path / "orders.checkpoint")
    outputs = []
    for limit in ("2", "1", "2"):
        result = run("read", "orders", "--checkpoint", checkpoint, "-n", limit)
        assert result.exit_code == 0, result
        assert result.stderr == ""
        outputs.append(result.stdout)
    rest = run("read", "orders", "--checkpoint", checkpoint)
    assert rest.exit_code == 0, rest
    outputs.append(rest.stdout)
    assert by_shard("".join(outputs)) == {
        "shardId-000000000000": S0_LINES,
        "shardId-000000000001": S1_LINES,
    }
    assert run("read", "orders", "--checkpoint", checkpoint).stdout == ""  # nothing repeated
    saved = json.loads(Path(checkpoint).read_text())
    assert saved["shards"] == {
        "shardId-000000000000": {"seq": "3", "ts": "2026-01-02T03:04:09.250Z"},
        "shardId-000000000001": {"seq": "3", "ts": "2026-01-02T03:04:10.250Z"},
    }


def test_a_dynamodb_stream_resumes_from_its_checkpoint(
    orders_table: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    checkpoint = str(tmp_path / "cp")
    whole = run("read", "ddb:Orders")
    first = run("read", "ddb:Orders", "--checkpoint", checkpoint, "-n", "2")
    rest = run("read", "ddb:Orders", "--checkpoint", checkpoint)
    assert (whole.exit_code, first.exit_code, rest.exit_code) == (0, 0, 0), (first, rest)
    assert first.stdout + rest.stdout == whole.stdout
    assert len(whole.stdout.splitlines()) == 3
    saved = json.loads(Path(checkpoint).read_text())
    assert saved["stream"]["kind"] == "dynamodb"
    assert saved["stream"]["name"] == "Orders"
    assert saved["stream"]["arn"].startswith("arn:aws:dynamodb:us-east-1:")


@pytest.mark.parametrize("limits", [[2, 2, 1], [1, 1, 1, 1, 1, 1], [4], [6, 1], [3, 3]])
def test_a_kpl_aggregate_cut_short_by_limit_is_finished_after_a_restart(
    kinesis: Any, tmp_path: Path, limits: list[int]
) -> None:
    """--limit counts user records: a run can stop inside an aggregate. The next run prints the
    rest of it, nothing of it twice."""
    from tests.unit import kplbuild

    kinesis.create_stream(StreamName="agg", ShardCount=1)
    kinesis.put_record(StreamName="agg", PartitionKey="a", Data=b'{"before":1}')
    users = [(f"u{i}", f'{{"i":{i}}}'.encode()) for i in range(5)]
    kinesis.put_record(StreamName="agg", PartitionKey="a", Data=kplbuild.aggregate(users))
    kinesis.put_record(StreamName="agg", PartitionKey="a", Data=b'{"after":1}')
    whole = run("read", "agg")
    assert len(whole.stdout.splitlines()) == 7, whole
    checkpoint = str(tmp_path / "cp")
    printed = ""
    for limit in limits:
        result = run("read", "agg", "--checkpoint", checkpoint, "-n", str(limit))
        assert result.exit_code == 0, result
        printed += result.stdout
    rest = run("read", "agg", "--checkpoint", checkpoint)
    assert rest.exit_code == 0, rest
    assert printed + rest.stdout == whole.stdout


def test_filters_record_only_what_was_printed(orders: Any, tmp_path: Path) -> None:
    checkpoint = str(tmp_path / "cp")
    # shard 0's last record, seq 3, is "plain text line": it does not match
    first = run("read", "orders", "--checkpoint", checkpoint, "--grep", "status")
    assert first.exit_code == 0, first
    saved = json.loads(Path(checkpoint).read_text())["shards"]
    assert {shard: entry["seq"] for shard, entry in saved.items()} == {
        "shardId-000000000000": "2",
        "shardId-000000000001": "3",
    }


def test_from_with_an_existing_checkpoint_says_the_checkpoint_wins(
    orders: Any, tmp_path: Path
) -> None:
    checkpoint = str(tmp_path / "cp")
    assert run("read", "orders", "--checkpoint", checkpoint, "-n", "1").exit_code == 0
    result = run("read", "orders", "--checkpoint", checkpoint, "--from", "trim-horizon")
    assert result.exit_code == 0, result
    assert result.stderr == (
        f"streamtail: warning: resuming from checkpoint {checkpoint}: --from applies to a new "
        "checkpoint only\n"
    )
    assert len(result.stdout.splitlines()) == 5


def test_an_empty_checkpoint_file_from_mktemp_is_a_new_checkpoint(
    orders: Any, tmp_path: Path
) -> None:
    path = tmp_path / "cp"
    path.write_bytes(b"")
    first = run("read", "orders", "--checkpoint", str(path), "-n", "2")
    assert first.exit_code == 0, first
    assert first.stderr == ""
    again = run("read", "orders", "--checkpoint", str(path))
    assert again.exit_code == 0, again
    everything = run("read", "orders").stdout.splitlines()
    assert len(first.stdout.splitlines()) == 2
    # resumed where it left off: each record once
    assert sorted((first.stdout + again.stdout).splitlines()) == sorted(everything)


def test_a_stream_that_does_not_exist_leaves_no_checkpoint_behind(
    kinesis: Any, tmp_path: Path
) -> None:
    path = tmp_path / "cp"
    result = run("read", "ordrs", "--checkpoint", str(path))
    assert_one_error_line(result, 3)
    assert not path.exists()  # the right name can use the file afterwards


def test_a_follow_that_printed_nothing_still_remembers_where_it_started(
    kinesis: Any, tmp_path: Path
) -> None:
    kinesis.create_stream(StreamName="quiet", ShardCount=1)
    path = tmp_path / "cp"
    before = time.time()
    result = run("follow", "quiet", "--checkpoint", str(path), "--idle-exit", "0.3")
    assert result.exit_code == 0, result
    saved = json.loads(path.read_text())
    assert saved["shards"] == {}
    assert saved["start"]["kind"] == "AT_TIMESTAMP"  # `latest`, kept as the time it began
    assert before - 1.5 <= saved["start"]["timestamp"] <= time.time()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\xff garbage", "is not a streamtail checkpoint (not JSON)"),
        (b'{"offsets": {"orders": 7}}', "is not a streamtail checkpoint"),
        (
            b'{"streamtail_checkpoint": 1, "stream": {"kind": "kinesis", "name": "orders"}, '
            b'"start": {"kind": "TRIM_HORIZON"}, "shards": {"s": {"seq": "x"}}}',
            "is damaged: shard s has seq 'x'",
        ),
    ],
)
def test_a_damaged_or_foreign_checkpoint_is_exit_2_and_left_untouched(
    orders: Any, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "cp"
    path.write_bytes(content)
    result = run("read", "orders", "--checkpoint", str(path))
    assert_usage_error(
        result,
        f"checkpoint file {path} {message}",
        "fix or remove the file to start afresh (streamtail does not overwrite it)",
    )
    assert path.read_bytes() == content


def test_another_streams_checkpoint_is_exit_2(orders: Any, tmp_path: Path) -> None:
    orders.create_stream(StreamName="payments", ShardCount=1)
    path = tmp_path / "cp"
    assert run("read", "orders", "--checkpoint", str(path), "-n", "1").exit_code == 0
    result = run("read", "payments", "--checkpoint", str(path))
    assert_usage_error(
        result,
        f"checkpoint file {path} belongs to stream orders, not payments: to start over, "
        f"remove {path} or give another --checkpoint file",
    )


def test_a_checkpoint_in_use_is_exit_2(orders: Any, tmp_path: Path) -> None:
    from streamtail.checkpoint import Checkpoint

    path = tmp_path / "cp"
    holder = Checkpoint.open(path)  # as another streamtail would
    try:
        result = run("follow", "orders", "--checkpoint", str(path))
    finally:
        holder.close()
    assert_usage_error(
        result,
        f"checkpoint file {path} is in use by another streamtail",
        "give each running streamtail its own checkpoint file",
    )


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("", "invalid --checkpoint '': a file name is needed"),
        ("{dir}", "checkpoint file {dir} is a directory"),
        ("{dir}/no/such/dir/cp", "cannot use checkpoint file {dir}/no/such/dir/cp: No such file"),
    ],
)
def test_a_checkpoint_path_that_cannot_be_used_is_exit_2_before_any_aws_call(
    aws_env: None, tmp_path: Path, where: str, message: str
) -> None:
    # no moto: the error must come before any connection is tried
    path = where.format(dir=tmp_path)
    result = run("read", "orders", "--checkpoint", path, "--endpoint-url", "http://127.0.0.1:9")
    line = assert_one_error_line(result, 2)
    assert line.startswith(f"streamtail: error: {message.format(dir=tmp_path)}"), line


# -- --retry-timeout ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["-1", "nan", "-inf", "-5m"])
def test_a_negative_or_nan_retry_timeout_is_exit_2(aws_env: None, value: str) -> None:
    result = run("read", "orders", "--retry-timeout", value)
    assert_usage_error(
        result,
        f"invalid --retry-timeout {value!r}: not a duration",
        "a duration such as 30s, 2.5m, 1h30m, 2d or 500ms (a bare number is seconds), or inf: "
        "never",
    )


@pytest.mark.parametrize("value", ["0", "2.5", "inf", "never", "90s"])
def test_retry_timeouts_that_are_accepted(orders: Any, value: str) -> None:
    result = run("read", "orders", "--retry-timeout", value, "-n", "1")
    assert result.exit_code == 0, result


def test_a_nan_idle_exit_is_exit_2(aws_env: None) -> None:
    result = run("follow", "orders", "--idle-exit", "nan")
    assert_usage_error(
        result,
        "invalid --idle-exit 'nan': not a duration",
        "a duration such as 30s, 2.5m, 1h30m, 2d or 500ms (a bare number is seconds)",
    )


# -- payloads of every shape ----------------------------------------------------------------------

PAYLOADS = {
    "not utf-8": b"\xc3\x28\xa0\xa1 \xff\xfe",
    "empty": b"",
    "one mebibyte": b"x" * (1024 * 1024 - 16),
    "nul and controls": b"\x00\x1b[31mred\x1b[0m\x07\r\n",
    "json with a huge int": b'{"n": 123456789012345678901234567890}',
    "half a utf-8 char": "é".encode()[:1],
}


@pytest.fixture
def payloads(kinesis: Any) -> Iterator[Any]:
    kinesis.create_stream(StreamName="odd", ShardCount=1)
    for name, data in PAYLOADS.items():
        kinesis.put_record(StreamName="odd", Data=data, PartitionKey=name[:16])
    yield kinesis


@pytest.mark.parametrize("output", ["ndjson", "raw", "aws", "table"])
@pytest.mark.parametrize("decode", ["auto", "json", "text", "base64", "none"])
def test_payloads_of_every_shape_print_without_a_traceback(
    payloads: Any, output: str, decode: str
) -> None:
    result = run("read", "odd", "-o", output, "--decode", decode)
    assert result.exit_code == 0, result
    assert all(line.startswith("streamtail: warning: ") for line in result.stderr.splitlines())
    if output in {"ndjson", "aws"}:
        lines = result.stdout.splitlines()
        assert len(lines) == len(PAYLOADS)
        for line in lines:
            json.loads(line)


# -- fuzzed argv ----------------------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12
) | st.text(alphabet=string.printable, max_size=12)
_NUMBERS = ["0", "1", "-1", "3", "0.5", "1e309", "nan", "inf", "-inf", "99999999999999999999"]
_TIMES = [
    "trim-horizon",
    "latest",
    "now",
    "-15m",
    "+1h",
    "-1h30m",
    "2026-01-02T03:04:05Z",
    "2026-01-02T03:04:06.250",
    "1970-01-01",
    "9999-12-31T23:59:59Z",
    "-99999999d",
]
#: options of read/follow and values that mean something to them, or nothing
_OPTIONS: dict[str, list[str]] = {
    "--from": [*_TIMES, "at:1", "after:2", "at:", "after:x", "at:" + "9" * 200],
    "--until": _TIMES,
    "-n": _NUMBERS,
    "--idle-exit": _NUMBERS,
    "-o": ["ndjson", "table", "raw", "aws", "json"],
    "--decode": ["auto", "json", "text", "base64", "none", "JSON", "gzip"],
    "--shard": ["shardId-000000000000", "shardId-000000000001", "shardId-9", ""],
    "--key": ["user-1", "bin", ""],
    "--grep": ["user", "[", "(a", ".*", "\\", "status.*paid"],
    "--event": ["INSERT", "remove", "UPSERT"],
    "--checkpoint": ["cp", "cp2", ""],
    "--retry-timeout": _NUMBERS,
    "--region": ["us-east-1", "", "mars-1"],
}
_FLAGS = ["--no-color", "--help", "--version", "--debug", "-h"]
_STREAMS = [
    "orders",
    "missing",
    "ddb:Orders",
    "dynamodb:x",
    "/ru-central1/a/b/orders",
    "arn:aws:kinesis:us-east-1:123456789012:stream/orders",
    "arn:aws:s3:::x",
    "",
]


def _mostly(values: list[str]) -> st.SearchStrategy[str]:
    """One of `values` three times in four, any text otherwise."""
    known = st.sampled_from(values)
    return st.one_of(known, known, known, _TEXT)


_option = st.sampled_from(sorted(_OPTIONS)).flatmap(
    lambda name: st.tuples(st.just(name), _mostly(_OPTIONS[name]))
)
_structured = st.builds(
    lambda command, stream, options, flags: (
        [command, stream] + [part for pair in options for part in pair] + flags
    ),
    st.sampled_from(["read", "follow", "shards", "ls"]),
    _mostly(_STREAMS),
    st.lists(_option, max_size=4),
    st.lists(st.sampled_from(_FLAGS), max_size=1),
)
_words = st.lists(
    st.sampled_from(["read", "follow", "shards", "ls", *_OPTIONS, *_FLAGS, *_STREAMS]) | _TEXT,
    min_size=1,
    max_size=8,
)
argvs = _structured | _words


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(argv=argvs)
def test_fuzzed_argv_never_shows_a_traceback(
    orders: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    # Whatever file names the fuzz makes up (checkpoints, their lock files) land in here.
    monkeypatch.chdir(tmp_path)
    if "--debug" in argv:  # the one place a traceback is asked for
        argv = [a for a in argv if a != "--debug"]
    if argv and argv[0] == "follow":
        argv = [*argv, "--idle-exit", "0.2", "-n", "50"]  # follow must end by itself
    if argv and argv[0] in {"read", "follow"}:
        argv = [*argv, "--retry-timeout", "1"]
    argv = [
        _inside(tmp_path, arg) if i and argv[i - 1] == "--checkpoint" else arg
        for i, arg in enumerate(argv)
    ]
    result = run(*argv)  # fails the test if an exception escapes the error boundary
    event(f"exit {result.exit_code}")
    assert result.exit_code in EXIT_CODES, result
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result
    if result.exit_code != 0:
        lines = result.stderr.splitlines()
        errors = [line for line in lines if line.startswith("streamtail: error: ")]
        assert len(errors) == 1, result
        assert all(line.startswith("streamtail: ") for line in lines), result


def _inside(directory: Path, name: str) -> str:
    """A fuzzed checkpoint name as a file in `directory` (never an absolute path elsewhere)."""
    return str(directory / name.replace("/", "_").replace("\x00", "")) if name else name


def test_read_and_follow_share_one_declaration_of_their_options() -> None:
    """cli.py declares the options of `read` and `follow` once (`_reading`): the same options in
    the same order, `--idle-exit` `follow`'s alone."""
    import typer.main

    from streamtail.cli import app

    group = typer.main.get_command(app)

    def options(name: str) -> list[str]:
        command = group.commands[name]  # type: ignore[attr-defined]
        return [p.name for p in command.params if p.name]

    read, follow = options("read"), options("follow")
    assert "idle_exit" not in read
    assert [name for name in follow if name != "idle_exit"] == read
    assert len(read) > 20
