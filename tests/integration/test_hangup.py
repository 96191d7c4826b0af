"""`streamtail follow STREAM | head -1` on a stream that then goes quiet: streamtail must stop
as soon as `head` is gone, without a record to write (exit 0, nothing on stderr, checkpoint
saved, its lock file removed), and must never stop early into a file or a terminal.

Real processes on moto's server: streamtail's stdout is a pipe into a real `head -1`.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from .servers import Admin, Cli, wait_until

pytestmark = pytest.mark.server


@pytest.mark.timeout(60)
@pytest.mark.skipif(shutil.which("head") is None, reason="needs head(1)")
def test_follow_into_head_stops_once_head_exits_on_an_idle_stream(
    moto: Admin, cli: Cli, stream_name: Callable[[str], str], tmp_path: Path
) -> None:
    name = moto.create_stream(stream_name("hangup"), shards=2)
    (put,) = moto.put_counted(name, 0, 1)
    checkpoint = tmp_path / "cp.json"
    argv = cli.argv(
        ["follow", name, "--from", "trim-horizon", "--checkpoint", str(checkpoint)],
        moto.server.endpoint,
    )
    tail = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli.env
    )
    try:
        assert tail.stdout is not None and tail.stderr is not None
        head = subprocess.Popen(["head", "-1"], stdin=tail.stdout, stdout=subprocess.PIPE)
        tail.stdout.close()  # only head reads the pipe now
        line, _ = head.communicate(timeout=30)
        head_gone = time.monotonic()
        # Nothing more is written to the stream: without the watch, streamtail polls forever.
        code = tail.wait(timeout=15)
        took = time.monotonic() - head_gone
        stderr = tail.stderr.read().decode()
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait()
    print(f"streamtail exited {took:.2f} s after head")  # the figure, shown with -s
    assert json.loads(line)["seq"] == put.seq
    assert code == 0, stderr
    assert stderr == ""
    saved = json.loads(checkpoint.read_text())
    assert saved["shards"][put.shard]["seq"] == put.seq
    assert not Path(f"{checkpoint}.lock").exists()


@pytest.mark.timeout(60)
def test_follow_into_a_file_or_a_terminal_does_not_stop_early(
    moto: Admin, cli: Cli, stream_name: Callable[[str], str], tmp_path: Path
) -> None:
    """The watch never fires on a regular file or a live terminal: each process goes on polling
    after its first record (its `--debug` log shows the GetRecords calls: a watch that fired
    would have stopped the walk, and the calls with it; it fires at once when it fires, since
    poll(2) returns the state it is asked about), the record written after that still arrives,
    and --limit ends the run."""
    name = moto.create_stream(stream_name("nohangup"), shards=1)
    moto.put_counted(name, 0, 1)
    argv = cli.argv(
        ["follow", name, "--from", "trim-horizon", "--limit", "2", "-o", "ndjson", "--debug"],
        moto.server.endpoint,
    )
    out = tmp_path / "out.ndjson"
    logs = [tmp_path / "file.log", tmp_path / "tty.log"]
    master, slave = pty.openpty()
    seen = bytearray()
    with out.open("wb") as file_out, logs[0].open("wb") as log0, logs[1].open("wb") as log1:
        into_file = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=file_out, stderr=log0, env=cli.env
        )
        into_tty = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=log1, env=cli.env
        )
    os.close(slave)

    def polls(log: Path) -> int:
        return log.read_text(errors="replace").count("← kinesis.GetRecords 200")

    try:

        def tty_lines() -> int:
            while True:  # what the terminal shows so far
                ready, _, _ = select.select([master], [], [], 0)
                try:
                    chunk = os.read(master, 65536) if ready else b""
                except OSError:  # EIO: every process holding the terminal has exited
                    chunk = b""
                if not chunk:
                    return seen.count(b"\n")
                seen.extend(chunk)

        wait_until(lambda: out.read_bytes().count(b"\n") == 1, timeout=30, what="first record")
        wait_until(lambda: tty_lines() == 1, timeout=30, what="first record on the terminal")
        for log in logs:  # a quiet spell: three more polls each, the watch silent throughout
            after_first = polls(log)
            wait_until(lambda log=log, n=after_first: polls(log) >= n + 3, timeout=30, what="polls")
        assert into_file.poll() is None and into_tty.poll() is None
        moto.put_counted(name, 1, 1)
        assert into_file.wait(timeout=30) == 0
        assert into_tty.wait(timeout=30) == 0
        tty_lines()
    finally:
        for process in (into_file, into_tty):
            if process.poll() is None:
                process.kill()
                process.wait()
        os.close(master)
    assert [json.loads(line)["data"]["n"] for line in out.read_text().splitlines()] == [0, 1]
    assert seen.count(b"\n") == 2
