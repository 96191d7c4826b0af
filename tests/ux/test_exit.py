"""How the process ends (cli_boundary.leave): at once, with the command's exit status, after
everything Python's own exit does that anyone can see; Python's own exit where that is in doubt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.ux.helpers import cli_env

# An object the interpreter's teardown would delete (writing TEARDOWN), an atexit handler, bytes
# left in a stdout buffer of streamtail's, and, with "thread", a thread Python's exit waits for.
_PROBE = """
import atexit, os, sys, threading
class Torn:
    def __del__(self):
        os.write(2, b"TEARDOWN\\n")
torn = Torn()
atexit.register(lambda: sys.stderr.write("ATEXIT\\n"))
from streamtail.output import open_stdout
open_stdout(sys.stdout).write(b"buffered\\n")
mode, *args = sys.argv[1:]
if mode == "thread":
    gate = threading.Event()
    threading.Thread(target=gate.wait, args=(0.5,)).start()
sys.argv = ["streamtail", *args]
from streamtail.__main__ import entry
entry()
"""


def _end(tmp_path: Path, mode: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _PROBE, mode, *args],
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "code"),
    [(("--version",), 0), (("read", "s", "--limit", "0"), 2), (("bogus",), 2)],
    ids=["ok", "usage", "no-command"],
)
def test_the_process_ends_without_teardown_after_what_exit_shows(
    tmp_path: Path, args: tuple[str, ...], code: int
) -> None:
    result = _end(tmp_path, "plain", *args)
    assert result.returncode == code, result.stderr
    assert result.stdout.startswith("buffered\n")
    assert "ATEXIT" in result.stderr.splitlines()
    assert "TEARDOWN" not in result.stderr


def test_a_thread_python_waits_for_gets_pythons_own_exit(tmp_path: Path) -> None:
    result = _end(tmp_path, "thread", "bogus")
    assert result.returncode == 2, result.stderr
    assert result.stdout == "buffered\n"
    assert result.stderr.splitlines()[-2:] == ["ATEXIT", "TEARDOWN"]
