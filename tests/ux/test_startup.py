"""Startup manners: what `--help`, `--version` and completion load, one-line usage errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.ux.helpers import cli_env, run_cli

HEAVY = ("boto3", "botocore", "moto", "rich", "s3transfer", "urllib3")

# Runs the app the way the console script does and reports the top-level modules it loaded,
# however it exits (help and completion end in SystemExit).
_PROBE = """
import atexit, sys
def report():
    tops = sorted({name.split(".")[0] for name in sys.modules})
    sys.stderr.write("MODULES " + " ".join(tops) + "\\n")
atexit.register(report)
sys.argv = ["streamtail", *sys.argv[1:]]
from streamtail.cli import main
main()
"""


def _loaded(tmp_path: Path, *args: str, **env: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        env=cli_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    line = next(line for line in result.stderr.splitlines() if line.startswith("MODULES "))
    return set(line.split()[1:])


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("--help",), {}),
        (("--version",), {}),
        (("read", "--help"), {}),
        (("ls", "--help"), {}),
        (
            (),
            {
                "_STREAMTAIL_COMPLETE": "complete_bash",
                "COMP_WORDS": "streamtail re",
                "COMP_CWORD": "1",
            },
        ),
        (
            (),
            {"_STREAMTAIL_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "streamtail read --"},
        ),
        (
            (),
            {
                "_STREAMTAIL_COMPLETE": "complete_fish",
                "_TYPER_COMPLETE_FISH_ACTION": "get-args",
                "_TYPER_COMPLETE_ARGS": "streamtail f",
            },
        ),
    ],
    ids=[
        "help",
        "version",
        "read-help",
        "ls-help",
        "complete-bash",
        "complete-zsh",
        "complete-fish",
    ],
)
def test_light_paths_load_no_aws_sdk_and_no_rich(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str]
) -> None:
    loaded = _loaded(tmp_path, *args, **env)
    assert "streamtail" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_help_does_not_load_completion_status_or_debug_modules(tmp_path: Path) -> None:
    probe = _PROBE.replace('name.split(".")[0] for name', "name for name")
    result = subprocess.run(
        [sys.executable, "-c", probe, "--help"],
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    loaded = set(result.stderr.split("MODULES ", 1)[1].split())
    for module in ("streamtail.completion", "streamtail.status", "streamtail.debuglog"):
        assert module not in loaded


def test_version_both_ways(tmp_path: Path) -> None:
    from streamtail import __version__

    env = cli_env(tmp_path)
    assert run_cli("--version", env=env).stdout.decode() == f"streamtail {__version__}\n"
    script = subprocess.run(
        [sys.executable, "-c", "from streamtail.cli import main; main()", "--version"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert script.stdout == f"streamtail {__version__}\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("read",), "streamtail: error: Missing argument 'STREAM'."),
        (("read", "s", "--limit", "x"), "streamtail: error: Invalid value for '--limit' / '-n'"),
        (("read", "s", "--limit", "0"), "streamtail: error: Invalid value for '--limit' / '-n'"),
        (("read", "s", "-o", "yaml"), "streamtail: error: Invalid value for '--output' / '-o'"),
        (("read", "s", "--frobnicate"), "streamtail: error: No such option: --frobnicate"),
        (("bogus",), "streamtail: error: No such command 'bogus'."),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = run_cli(*args, env=cli_env(tmp_path))
    assert result.returncode == 2
    assert result.stdout == b""
    lines = result.stderr.decode().splitlines()
    assert lines[0].startswith(message), lines
    assert lines[1].startswith("streamtail: hint: see 'streamtail"), lines
    assert len(lines) == 2
    assert "Traceback" not in result.stderr.decode()


def test_no_arguments_prints_help_and_exits_0(tmp_path: Path) -> None:
    result = run_cli(env=cli_env(tmp_path))
    assert result.returncode == 0
    assert result.stdout.decode().startswith("Usage: streamtail [OPTIONS] COMMAND")


def test_error_messages_never_carry_raw_escapes(tmp_path: Path) -> None:
    # A stream name is user input that ends up in the error line.
    result = run_cli("read", "bad name\x1b]0;owned\x07", env=cli_env(tmp_path))
    assert result.returncode == 2
    assert b"\x1b" not in result.stderr and b"\x07" not in result.stderr
    assert b"\\e]0;owned\\x07" in result.stderr or b"\\x1b]0;owned\\x07" in result.stderr


def _collector_passes(tmp_path: Path, *, tuned: bool) -> tuple[int, int]:
    """Collector passes while the console script runs `read --help`, and the young threshold."""
    probe = (
        "import atexit, gc, sys\n"
        "import streamtail.memory\n"
        f"{'' if tuned else 'streamtail.memory.collect_less = lambda: None'}\n"
        "passes = []\n"
        "gc.callbacks.append(lambda phase, info: passes.append(phase == 'start'))\n"
        "atexit.register(lambda: print('PASSES', sum(passes), gc.get_threshold()[0],"
        " file=sys.stderr))\n"
        "sys.argv = ['streamtail', 'read', '--help']\n"
        "from streamtail.__main__ import entry\n"
        "entry()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    _, passes, young = result.stderr.split()
    return int(passes), int(young)


def test_start_up_runs_under_the_tuned_collector(tmp_path: Path) -> None:
    """The console script tunes the collector before it imports anything (memory.collect_less):
    the start-up's objects, which all live, are not walked pass after pass."""
    from streamtail.memory import GC_YOUNG

    passes, young = _collector_passes(tmp_path, tuned=True)
    assert young == GC_YOUNG and passes <= 1  # one may fall due before the tuning
    untuned, young = _collector_passes(tmp_path, tuned=False)
    assert young < GC_YOUNG and untuned >= 10  # Python's default: 700
