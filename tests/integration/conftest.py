"""Real HTTP servers for round trips: moto's server and kinesis-mock (npm `kinesis-local`), each
started once per session on a free loopback port and stopped at the end, and `streamtail` run
as a separate process against them."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
KINESIS_LOCAL = ROOT / "tests" / "servers" / "node_modules" / "kinesis-local"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode} before listening")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"{what} did not listen on port {port} within 90 s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port, process, "moto server")
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def kinesis_mock_endpoint() -> Iterator[str]:
    node = shutil.which("node")
    if node is None or not (KINESIS_LOCAL / "main.js").exists():
        pytest.fail("kinesis-mock is not installed: npm ci --prefix tests/servers (needs Node.js)")
    port = _free_port()
    env = {
        **os.environ,
        "KINESIS_MOCK_PLAIN_PORT": str(port),
        "KINESIS_MOCK_TLS_PORT": str(_free_port()),
        "CREATE_STREAM_DURATION": "0ms",
        "LOG_LEVEL": "ERROR",
    }
    # kinesis-mock reads its TLS certificate (server.json) from the working directory.
    process = subprocess.Popen(
        [node, "main.js"],
        cwd=KINESIS_LOCAL,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port, process, "kinesis-mock")
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


@dataclass
class Server:
    name: str
    endpoint: str
    client: Any

    def create_stream(self, shards: int) -> str:
        name = f"it-{uuid.uuid4().hex[:10]}"
        self.client.create_stream(StreamName=name, ShardCount=shards)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            summary = self.client.describe_stream_summary(StreamName=name)
            if summary["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
                return name
            time.sleep(0.1)
        pytest.fail(f"stream {name} on {self.name} did not become ACTIVE")

    def streamtail(
        self, *args: str, input: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "streamtail", *args, "--endpoint-url", self.endpoint],
            input=input,
            env=streamtail_env(),
            capture_output=True,
            timeout=180,
            check=False,
        )


def streamtail_env() -> dict[str, str]:
    """The environment for `python -m streamtail`: this checkout's package, test credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_PROFILE", "AWS_END"))}
    return {**env, **CREDENTIALS, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}


@pytest.fixture(params=["moto", "kinesis-mock"])
def server(request: pytest.FixtureRequest) -> Server:
    endpoint = request.getfixturevalue(
        "moto_endpoint" if request.param == "moto" else "kinesis_mock_endpoint"
    )
    client = boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    return Server(request.param, endpoint, client)
