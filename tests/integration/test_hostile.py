"""A hostile machine and hostile records (issue 25), through the CLI on moto's server: a disk
that fills up under stdout, /dev/full, payloads no decoder can take, and payload bytes kept
through `read | put --from-ndjson`.

The small disk is a 300 KiB tmpfs where the tests may mount one (root), otherwise a file size
limit (RLIMIT_FSIZE) on the streamtail process: both accept part of a write and then refuse the
rest (ENOSPC, EFBIG), what a disk filling up mid-write does.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from .servers import Admin, Cli, wait_until

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]
Names = Callable[[str], str]

SMALL = 300 * 1024


@contextlib.contextmanager
def small_disk() -> Iterator[tuple[Path, Callable[[], None] | None]]:
    """A directory on a 300 KiB disk, and what the streamtail process must run first (a file
    size limit where no tmpfs can be mounted)."""
    base = Path(tempfile.mkdtemp(prefix="streamtail-small-"))
    mounted = False
    if os.geteuid() == 0 and shutil.which("mount"):
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={SMALL}", "tmpfs", str(base)],
            capture_output=True,
            check=False,
        )
        mounted = done.returncode == 0
    try:
        if mounted:
            yield base, None
        else:

            def limit() -> None:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a signal
                resource.setrlimit(resource.RLIMIT_FSIZE, (SMALL, SMALL))

            yield base, limit
    finally:
        if mounted:
            subprocess.run(["umount", str(base)], check=False)
        shutil.rmtree(base, ignore_errors=True)


def run_to(cli: Cli, argv: list[str], out: Path, before: Callable[[], None] | None) -> str:
    """Run streamtail with stdout appended to `out`; its exit code and stderr."""
    with out.open("ab") as sink:
        done = subprocess.run(
            cli.argv(argv, None),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.PIPE,
            env=cli.env,
            preexec_fn=before,  # a resource limit, set in the child before exec
            timeout=60,
            check=False,
        )
    return f"{done.returncode}:{done.stderr.decode()}"


def test_a_full_disk_loses_no_record_and_a_rerun_prints_the_rest(
    moto: Admin, cli: Cli, stream_name: Names, tmp_path: Path
) -> None:
    # PYTHONUNBUFFERED=1 (the tests' environment) makes Python's stdout a raw FileIO whose write
    # returns a short count when the disk fills: that count was ignored, and the checkpoint said
    # 6,000 records were printed where 1,273 were.
    stream = moto.create_stream(stream_name("full"), shards=2)
    puts = moto.put_counted(stream, 0, 6000, pad=40)
    checkpoint = tmp_path / "cp.json"
    argv = ["read", stream, "-o", "ndjson", "--checkpoint", str(checkpoint)]
    argv += ["--endpoint-url", moto.server.endpoint]
    seen: list[int] = []
    with small_disk() as (disk, limit):
        out = disk / "out.ndjson"
        outcome = run_to(cli, argv, out, limit)
        code, stderr = outcome.split(":", 1)
        assert code == "1", outcome
        assert (
            stderr.strip().splitlines()[-1].startswith("streamtail: error: cannot write to stdout:")
        )
        assert "please report" not in stderr and "Traceback" not in stderr
        lines = out.read_bytes().split(b"\n")
        seen += [orjson.loads(line)["data"]["n"] for line in lines[:-1]]  # the last may be torn
        assert 0 < len(seen) < 6000
        out.unlink()  # room again: the same checkpoint goes on from what was written whole
    rest = tmp_path / "rest.ndjson"
    outcome = run_to(cli, argv, rest, None)
    assert outcome.startswith("0:"), outcome
    seen += [orjson.loads(line)["data"]["n"] for line in rest.read_bytes().splitlines()]
    assert set(seen) == {p.n for p in puts}  # nothing lost (some printed twice, none skipped)


@pytest.mark.parametrize(
    "argv",
    [["read", "{stream}"], ["ls"], ["shards", "{stream}"], ["--help"], ["--version"], []],
)
def test_dev_full_is_one_line_and_exit_1(
    moto: Admin, cli: Cli, stream_name: Names, argv: list[str]
) -> None:
    stream = moto.create_stream(stream_name("devfull"))
    moto.put_counted(stream, 0, 3)
    args = [a.format(stream=stream) for a in argv]
    if args and not args[0].startswith("-"):
        args += ["--endpoint-url", moto.server.endpoint]
    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            cli.argv(args, None), stdout=full, stderr=subprocess.PIPE, env=cli.env, check=False
        )
    assert done.returncode == 1
    assert (
        done.stderr.decode()
        == "streamtail: error: cannot write to stdout: No space left on device\n"
    )


DEEP = b'{"a":' * 300 + b"1" + b"}" * 300


def test_a_poison_record_is_text_with_a_warning_and_the_rest_reads(
    moto: Admin, cli: Cli, stream_name: Names
) -> None:
    stream = moto.create_stream(stream_name("poison"))
    deeper = b"[" * 1000 + b"\n123456789012345678901234" + b"]" * 1000
    moto.put_raw(stream, [("k", b'{"n":1}'), ("k", DEEP), ("k", deeper), ("k", b'{"n":2}')])
    endpoint = moto.server.endpoint
    read = cli.run("read", stream, "-o", "ndjson", endpoint=endpoint)
    assert read.returncode == 0, read.describe()
    assert [(r["enc"], r["data"]) for r in read.records] == [
        ("json", {"n": 1}),
        ("text", DEEP.decode()),
        ("text", deeper.decode()),
        ("json", {"n": 2}),
    ]
    assert "JSON nested deeper than 254 levels; shown as text" in read.stderr
    for args in (["-o", "raw"], ["-o", "table"], ["--grep", "n", "-o", "ndjson"]):
        other = cli.run("read", stream, *args, endpoint=endpoint)
        assert other.returncode == 0, other.describe()
        assert other.stdout.count('"n":2') == 1, other.describe()


@pytest.mark.parametrize(
    ("stop", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]
)
def test_put_stopped_at_idle_stdin_exits_with_its_signal_and_its_summary(
    moto: Admin, cli: Cli, stream_name: Names, stop: signal.Signals, code: int
) -> None:
    # `tail -f app.log | streamtail put logs` stopped while tail writes nothing: the input thread
    # waited in stdin's BufferedReader, and the interpreter's exit aborted on its lock (134).
    stream = moto.create_stream(stream_name("idle"))
    proc = subprocess.Popen(
        cli.argv(["put", stream, "--endpoint-url", moto.server.endpoint], None),
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli.env,
    )
    try:
        assert proc.stdin is not None and proc.stderr is not None
        proc.stdin.write(b'{"n":1}\n')
        proc.stdin.flush()
        wait_until(lambda: moto_count(moto, stream) == 1, timeout=30, what="the line written")
        proc.send_signal(stop)
        stderr = proc.communicate(timeout=30)[1].decode()
    finally:
        proc.kill()
    assert proc.returncode == code, stderr
    assert stderr == f"streamtail: 1 record written to {stream} (1 PutRecords call)\n"


def moto_count(admin: Admin, stream: str) -> int:
    return sum(len(records) for records in admin.server_records(stream).values())


# A small launcher between the test and streamtail: a child's peak RSS (wait4's ru_maxrss) counts
# the memory of the process it was forked from until exec, which would be pytest's own.
_LAUNCH = """
import os, sys
pid = os.posix_spawn(sys.executable, [sys.executable, *sys.argv[2:]], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))  # KiB on Linux
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measured(cli: Cli, argv: list[str], peak: Path, **popen: object) -> subprocess.Popen[bytes]:
    """streamtail started through the launcher; its peak RSS lands in `peak` (KiB)."""
    args = [sys.executable, "-c", _LAUNCH, str(peak), *cli.argv(argv, None)[1:]]
    return subprocess.Popen(args, env=cli.env, stderr=subprocess.PIPE, **popen)  # type: ignore[call-overload, no-any-return]


def test_memory_is_bounded_by_one_record_not_a_batch_of_bombs(
    moto: Admin, cli: Cli, stream_name: Names, tmp_path: Path
) -> None:
    # 16 records of 64 KB that inflate to 63 MiB each (under the 64 MiB cap), in one batch: the
    # whole batch was inflated before printing (3.1 GB); one record at a time it is ~350 MB.
    # A generous bound, the figures in docs/PERFORMANCE.md.
    stream = moto.create_stream(stream_name("bombs"))
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = packer.compress(b"a" * (63 << 20)) + packer.flush()
    assert len(bomb) < 70_000
    moto.put_raw(stream, [(str(i), bomb) for i in range(16)])
    argv = ["read", stream, "-o", "ndjson", "--endpoint-url", moto.server.endpoint]
    peak = tmp_path / "peak"
    proc = measured(cli, argv, peak, stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    lines = size = 0
    while chunk := proc.stdout.read(1 << 20):
        lines += chunk.count(b"\n")
        size += len(chunk)
    stderr = proc.stderr.read()
    assert (proc.wait(), lines, stderr) == (0, 16, b"")
    assert size > 16 * (63 << 20)  # each 63 MiB payload printed whole, as text
    assert int(peak.read_text()) < 400 * 1024, f"peak RSS {peak.read_text()} KiB"


def test_put_refuses_a_1_gb_line_without_holding_it(
    moto: Admin, cli: Cli, stream_name: Names, tmp_path: Path
) -> None:
    # One line of 1 GB without a newline grew `put` to 2.0 GB before it was refused.
    stream = moto.create_stream(stream_name("longline"))
    argv = ["put", stream, "--endpoint-url", moto.server.endpoint]
    peak = tmp_path / "peak"
    proc = measured(cli, argv, peak, stdin=subprocess.PIPE)
    assert proc.stdin is not None and proc.stderr is not None
    block = b"x" * (1 << 20)
    for _ in range(1024):
        proc.stdin.write(block)
    proc.stdin.write(b'\n{"after": 1}\n')
    proc.stdin.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait() == 2, stderr
    assert stderr.startswith(
        "streamtail: warning: line 1: a line of 1073741824 bytes, over the 1 MiB a line holds; "
        f"not written\nstreamtail: 1 record written to {stream} (1 PutRecords call)\n"
    )
    assert [r["Data"] for r in moto.server_records(stream)["shardId-000000000000"]] == [
        b'{"after": 1}'
    ]
    assert int(peak.read_text()) < 150 * 1024, f"peak RSS {peak.read_text()} KiB"


def test_payload_bytes_unchanged_through_read_and_put_from_ndjson(
    moto: Admin, cli: Cli, stream_name: Names
) -> None:
    # `read | put --from-ndjson`, the README's copy recipe, rewrote JSON (10.50 -> 10.5, 1E2 ->
    # 100.0, duplicate keys collapsed) and printed valid JSON orjson refuses (1e400) as text.
    source = moto.create_stream(stream_name("src"))
    target = moto.create_stream(stream_name("dst"))
    same = [
        b'{"price":10.50,"n":1E2,"big":1e400,"tiny":-0.0e-0}',
        b'{"dup":1,"dup":2, "spaced" : [ 1 , 2 ]}',
        b'{"s":"caf\\u00e9 \\"q\\" \\/"}',
        b"123456789012345678901234567890",
        DEEP,  # nested beyond 254 levels: text, and text goes back as its bytes
        b"plain text",
        b"\x00\xff binary",
    ]
    over_lines = b'{\n  "a": 1.50,\n  "a": 2\n}\n'
    moto.put_raw(source, [("k", data) for data in [*same, over_lines]])
    endpoint = moto.server.endpoint
    read = cli.run_bytes("read", source, "-o", "ndjson", endpoint=endpoint)
    assert read[0] == 0, read[2]
    lines = read[1].splitlines()
    encs = [json.loads(line)["enc"] for line in lines]  # the standard library reads 1e400
    assert encs == ["json", "json", "json", "json", "text", "text", "base64", "json"]
    put = subprocess.run(
        cli.argv(["put", target, "--from-ndjson"], endpoint),
        input=read[1],
        capture_output=True,
        env=cli.env,
        check=False,
    )
    assert put.returncode == 0, put.stderr
    copied = [r["Data"] for r in moto.server_records(target)["shardId-000000000000"]]
    assert copied == [
        *same,
        b'{"a":1.50,"a":2}',
    ]  # over lines: only the whitespace between tokens goes
