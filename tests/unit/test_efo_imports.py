"""httpx (and h2) load only when `--efo` is used: `--help` and a polling `read` never pay for it."""

from __future__ import annotations

import subprocess
import sys

_READ_WITHOUT_EFO = """
import os, sys
os.environ.update(AWS_ACCESS_KEY_ID="t", AWS_SECRET_ACCESS_KEY="t", AWS_DEFAULT_REGION="us-east-1")
from tests.inprocess_moto import mock_aws_as_aws
with mock_aws_as_aws():
    import boto3
    boto3.client("kinesis").create_stream(StreamName="s", ShardCount=1)
    from streamtail.cli import main
    sys.argv = ["streamtail", "read", {stream!r}, "-o", "ndjson"{extra}]
    try:
        main()
    except SystemExit as exc:
        print("EXIT", exc.code, file=sys.stderr)
print("HTTPX", sorted(m for m in sys.modules if m.split(".")[0] in {{"httpx", "h2"}}),
      file=sys.stderr)
"""


def _loaded(extra: str = "", stream: str = "s") -> tuple[str, str]:
    result = subprocess.run(
        [sys.executable, "-c", _READ_WITHOUT_EFO.format(extra=extra, stream=stream)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    [exit_line] = [line for line in result.stderr.splitlines() if line.startswith("EXIT")]
    [line] = [line for line in result.stderr.splitlines() if line.startswith("HTTPX")]
    return exit_line, line


def test_a_polling_read_does_not_import_httpx() -> None:
    exit_line, loaded = _loaded()
    assert exit_line in {"EXIT 0", "EXIT None"}
    assert loaded == "HTTPX []"


def test_help_does_not_import_httpx() -> None:
    code = (
        "import sys\nfrom streamtail.cli import main\nsys.argv=['streamtail','read','--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('HTTPX', sorted(m for m in sys.modules if m.split('.')[0] in {'httpx','h2'}),"
        " file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert "HTTPX []" in result.stderr
    assert "--efo" in result.stdout and "consumer-shard-hour" in result.stdout


def test_the_check_has_teeth() -> None:
    """With --efo, httpx is loaded (a Yandex path is then refused before any call: exit 2)."""
    exit_line, loaded = _loaded(', "--efo"', stream="/ru-central1/a/b/s")
    assert exit_line == "EXIT 2"
    assert "'httpx'" in loaded
