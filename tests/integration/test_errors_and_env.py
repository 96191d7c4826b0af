"""Failures as the contract promises them (exit code, one `streamtail: error:` line, no traceback),
a reader closing the pipe, and the standard AWS environment (region and endpoint variables)."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .servers import (
    ACCESS_KEY,
    KINESIS_MOCK,
    MOTO,
    REGION,
    SECRET_KEY,
    Admin,
    Cli,
    ServerProcess,
    admin_client,
    assert_clean_stderr,
    closed_port,
    counters,
)

pytestmark = pytest.mark.server


def assert_one_error(stderr: str) -> None:
    """One `streamtail: error:` line, at most followed by hint lines; never a traceback."""
    lines = stderr.splitlines()
    assert lines, "nothing on stderr"
    assert lines[0].startswith("streamtail: error: "), stderr
    assert all(line.startswith("streamtail: hint: ") for line in lines[1:]), stderr
    assert "Traceback" not in stderr


# -- exit codes ----------------------------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("server", "command"),
    [
        (KINESIS_MOCK, ("read",)),
        (KINESIS_MOCK, ("follow", "--idle-exit", "5")),
        (KINESIS_MOCK, ("shards",)),
        (MOTO, ("read",)),
    ],
    ids=["kinesis-mock-read", "kinesis-mock-follow", "kinesis-mock-shards", "moto-read"],
    indirect=["server"],
)
def test_missing_stream_exits_3(
    server: ServerProcess, cli: Cli, stream_name: Callable[[str], str], command: tuple[str, ...]
) -> None:
    missing = stream_name("missing")
    result = cli.run(command[0], missing, *command[1:], endpoint=server.endpoint)
    assert result.returncode == 3, result.describe()
    assert result.stdout == ""
    assert_one_error(result.stderr)
    assert missing in result.stderr


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "args",
    [
        ("--from", "bogus"),
        ("--from", "at:12ab"),
        ("--from", "+5m"),  # a start in the future
        ("--from", "2026-13-45T00:00:00Z"),
        ("--until", "soon"),
        ("--limit", "0"),
        ("--no-such-option",),
    ],
    ids=" ".join,
)
def test_bad_usage_exits_2(
    moto: Admin, cli: Cli, stream_name: Callable[[str], str], args: tuple[str, ...]
) -> None:
    name = moto.create_stream(stream_name("usage"), shards=1)
    result = cli.run("read", name, *args, endpoint=moto.server.endpoint)
    assert result.returncode == 2, result.describe()
    assert result.stdout == ""
    assert_one_error(result.stderr)


@pytest.mark.timeout(30)
def test_bad_stream_name_exits_2(moto: Admin, cli: Cli) -> None:
    result = cli.run("read", "no spaces/allowed here", endpoint=moto.server.endpoint)
    assert result.returncode == 2, result.describe()
    assert_one_error(result.stderr)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("command", [("read", "orders"), ("ls",)], ids=["read", "ls"])
def test_unreachable_endpoint_exits_1(cli: Cli, command: tuple[str, ...]) -> None:
    with closed_port() as port:
        result = cli.run(*command, endpoint=f"http://127.0.0.1:{port}", timeout=60)
    assert result.returncode == 1, result.describe()
    assert result.stdout == ""
    assert_one_error(result.stderr)
    # botocore's standard retries (3 attempts, jittered backoff); measured ~2-6 s here.
    assert result.elapsed < 20, f"took {result.elapsed:.1f}s to give up"


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "command",
    [("read", "orders"), ("follow", "orders"), ("ls",)],
    ids=["read", "follow", "ls"],
)
def test_no_credentials_exits_4(
    moto_server: ServerProcess, cli: Cli, tmp_path: Path, command: tuple[str, ...]
) -> None:
    (tmp_path / "config").touch()
    (tmp_path / "credentials").touch()
    env = {k: v for k, v in cli.env.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_REGION": REGION,
            "AWS_CONFIG_FILE": str(tmp_path / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "HOME": str(tmp_path),
        }
    )
    result = cli.run(*command, endpoint=moto_server.endpoint, env=env)
    assert result.returncode == 4, result.describe()
    assert result.stdout == ""
    assert_one_error(result.stderr)


@pytest.mark.timeout(60)
def test_debug_keeps_the_exit_code_and_shows_the_traceback(
    moto: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    result = cli.run("read", stream_name("missing"), "--debug", endpoint=moto.server.endpoint)
    assert result.returncode == 3, result.describe()
    assert "Traceback" in result.stderr
    assert "NotFoundError" in result.stderr or "ResourceNotFound" in result.stderr


@pytest.mark.timeout(60)
def test_debug_logs_requests_without_secrets(
    moto: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    name = moto.create_stream(stream_name("debug"), shards=1)
    moto.put_counted(name, 0, 2)
    result = cli.run("read", name, "--debug", endpoint=moto.server.endpoint)
    assert result.returncode == 0, result.describe()
    assert counters(result.records) == [0, 1]
    assert SECRET_KEY not in result.stderr
    logged = result.stderr.lower().replace("_", "")
    assert "listshards" in logged, result.stderr
    assert "getrecords" in logged, result.stderr


# -- the reader of stdout goes away --------------------------------------------------------------


@pytest.fixture(scope="module")
def big_stream(moto_server: ServerProcess) -> str:
    """~600 kB of records on moto: far more than a pipe buffer holds."""
    admin = Admin(moto_server)
    try:
        name = admin.create_stream(f"pipe-big-{time.time_ns()}", shards=2)
        admin.put_counted(name, 0, 300, pad=2000)
    finally:
        admin.close()
    return name


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "fmt",
    [
        "ndjson",
        "raw",
        "aws",
        "table",
    ],
)
def test_read_into_a_closed_pipe_exits_0(
    moto_server: ServerProcess, cli: Cli, big_stream: str, fmt: str
) -> None:
    """`streamtail read S | head -1`."""
    with _piped(cli, ["read", big_stream, "-o", fmt], moto_server.endpoint) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        assert first, "no output at all"
        process.stdout.close()
        code = process.wait(timeout=30)
        stderr = process.stderr.read().decode()
    assert code == 0, stderr
    assert stderr == ""


@pytest.mark.timeout(60)
def test_follow_into_a_closed_pipe_exits_0(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    """`streamtail follow S | head -1` with records still arriving: exit 0, nothing on stderr
    (whether the watch on stdout or a write into the closed pipe notices first)."""
    name = admin.create_stream(stream_name("pipe"), shards=1)
    admin.put_counted(name, 0, 1)
    with _piped(cli, ["follow", name, "--from", "trim-horizon"], admin.server.endpoint) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline()
        process.stdout.close()
        deadline = time.monotonic() + 30
        n = 1
        while process.poll() is None and time.monotonic() < deadline:
            admin.put_counted(name, n, 1)  # something for it to write into the closed pipe
            n += 1
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.5)
        code = process.wait(timeout=5)
        stderr = process.stderr.read().decode()
    assert code == 0, stderr
    assert stderr == ""


@contextlib.contextmanager
def _piped(cli: Cli, args: list[str], endpoint: str) -> Iterator[subprocess.Popen[bytes]]:
    """streamtail with its stdout and stderr on pipes; killed on the way out if still running."""
    process = subprocess.Popen(
        cli.argv(args, endpoint),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli.env,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# -- the standard AWS environment ----------------------------------------------------------------


@pytest.fixture
def eu_stream(moto_server: ServerProcess, stream_name: Callable[[str], str]) -> str:
    """A stream in eu-west-1 on moto (which keeps regions apart), with two records."""
    client = admin_client(moto_server.endpoint, region="eu-west-1")
    try:
        name = stream_name("eu")
        client.create_stream(StreamName=name, ShardCount=1)
        client.put_record(StreamName=name, PartitionKey="k", Data=b'{"n": 0}')
        client.put_record(StreamName=name, PartitionKey="k", Data=b'{"n": 1}')
    finally:
        client.close()
    return name


@pytest.mark.timeout(60)
def test_aws_region_variable_is_honoured(
    moto_server: ServerProcess, cli: Cli, eu_stream: str
) -> None:
    """botocore reads AWS_DEFAULT_REGION only; the AWS CLI v2 (and streamtail) AWS_REGION too."""
    env = dict(cli.env, AWS_REGION="eu-west-1")
    env.pop("AWS_DEFAULT_REGION", None)
    result = cli.run("read", eu_stream, endpoint=moto_server.endpoint, env=env)
    assert result.returncode == 0, result.describe()
    assert counters(result.records) == [0, 1]

    # --region wins over the environment
    env = dict(cli.env, AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION)
    result = cli.run(
        "read", eu_stream, "--region", "eu-west-1", endpoint=moto_server.endpoint, env=env
    )
    assert result.returncode == 0, result.describe()
    assert counters(result.records) == [0, 1]
    # ... and without it, the stream is not in us-east-1
    assert cli.run("read", eu_stream, endpoint=moto_server.endpoint, env=env).returncode == 3


@pytest.mark.timeout(60)
@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS"])
def test_endpoint_from_the_environment(
    moto: Admin, cli: Cli, stream_name: Callable[[str], str], variable: str
) -> None:
    name = moto.create_stream(stream_name("env"), shards=1)
    moto.put_counted(name, 0, 3)
    env = dict(cli.env, **{variable: moto.server.endpoint})
    result = cli.run("read", name, endpoint=None, env=env)
    assert result.returncode == 0, result.describe()
    assert_clean_stderr(result.stderr)
    assert counters(result.records) == [0, 1, 2]
    assert ACCESS_KEY not in result.stderr
