"""Fixtures for the terminal-manners tests: a moto server on loopback and a way to run the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY1"
ACCESS_KEY = "AKIAIOSFODNN7STREAMT"


@dataclass(frozen=True)
class Moto:
    url: str

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET,
        )


@pytest.fixture(scope="session")
def moto_server() -> Iterator[Moto]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield Moto(f"http://{host}:{port}")
    finally:
        server.stop()


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment for running streamtail from this worktree."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "NO_COLOR", "FORCE_COLOR", "_STREAMTAIL", "COLUMNS"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws-credentials"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        HOME=str(tmp_path),
        TERM="xterm-256color",
    )
    env.update(extra)
    return env


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 60, **kwargs: Any
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "streamtail", *args],
        env=env,
        capture_output=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
        **kwargs,
    )


@dataclass
class PtyResult:
    returncode: int
    stdout: bytes
    stderr: bytes


def _set_size(fd: int, columns: int, rows: int = 40) -> None:
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def run_pty(
    *args: str,
    env: dict[str, str],
    stdout: str = "pty",
    stderr: str = "pty",
    columns: int = 100,
    timeout: float = 60,
) -> PtyResult:
    """Run streamtail with stdout and stderr each on a pseudo-terminal ("pty"), on a pipe
    ("pipe"), or stderr on the same terminal as stdout ("same")."""
    import os
    import pty
    import selectors
    import time

    sel = selectors.DefaultSelector()
    chunks: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
    fds: dict[str, Any] = {}
    close_after: list[int] = []
    for name, mode in (("stdout", stdout), ("stderr", stderr)):
        if mode == "pty":
            master, slave = pty.openpty()
            _set_size(slave, columns)
            fds[name] = slave
            close_after.append(slave)
            sel.register(master, selectors.EVENT_READ, name)
        elif mode == "same":
            fds[name] = fds["stdout"]
        else:
            fds[name] = subprocess.PIPE
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamtail", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=fds["stdout"],
        stderr=fds["stderr"],
    )
    for fd in close_after:
        os.close(fd)
    for name in ("stdout", "stderr"):
        pipe = getattr(proc, name)
        if pipe is not None:
            sel.register(pipe, selectors.EVENT_READ, name)
    deadline = time.monotonic() + timeout
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.2):
            fd = key.fd if isinstance(key.fileobj, int) else key.fileobj.fileno()  # type: ignore[union-attr]
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the terminal's last writer is gone
                data = b""
            if data:
                chunks[key.data].append(data)
            else:
                sel.unregister(key.fileobj)
                if isinstance(key.fileobj, int):
                    os.close(key.fileobj)
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
    return PtyResult(proc.returncode, b"".join(chunks["stdout"]), b"".join(chunks["stderr"]))


@pytest.fixture(scope="session")
def orders(moto_server: Moto) -> str:
    """A two-shard Kinesis stream with 40 JSON records, 20 per shard."""
    import json as _json

    client = moto_server.client("kinesis")
    name = "ux-orders"
    client.create_stream(StreamName=name, ShardCount=2)
    shards = client.list_shards(StreamName=name)["Shards"]
    for i in range(40):
        shard = shards[i % 2]
        client.put_record(
            StreamName=name,
            Data=_json.dumps({"order": i, "status": "created", "note": "x" * 150}).encode(),
            PartitionKey=f"cust-{i:03d}",
            ExplicitHashKey=shard["HashKeyRange"]["StartingHashKey"],
        )
    return name
