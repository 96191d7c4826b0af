"""What the terminal-manners tests share: this checkout, a moto server's clients, a clean
environment for streamtail, and ways to run it on pipes (`run_cli`) or pseudo-terminals (`run_pty`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.awsenv import clean_environ

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


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment (tests/awsenv.py) for running streamtail from this worktree."""
    env = clean_environ(
        tmp_path, credentials=(ACCESS_KEY, SECRET), region="us-east-1", region_variable="AWS_REGION"
    )
    env.update(
        PYTHONPATH=str(ROOT),
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
