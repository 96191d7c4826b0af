"""Colour only where it belongs, and a table that fits the terminal it is shown on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from streamtail.env import color_wanted
from tests.ux.helpers import Moto, cli_env, run_cli, run_pty

SGR = re.compile(rb"\x1b\[[0-9;]*m")
ANY_ESCAPE = re.compile(rb"\x1b")


@pytest.mark.parametrize(
    ("isatty", "flag", "environ", "expected"),
    [
        (True, False, {}, True),
        (False, False, {}, False),
        (True, True, {}, False),  # --no-color
        (True, False, {"NO_COLOR": "1"}, False),
        (True, False, {"NO_COLOR": ""}, True),  # no-color.org: empty means unset
        (False, False, {"FORCE_COLOR": "1"}, True),
        (False, False, {"FORCE_COLOR": "0"}, True),  # force-color.org: any non-empty value
        (False, False, {"FORCE_COLOR": ""}, False),
        (True, False, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),  # NO_COLOR wins
        (False, True, {"FORCE_COLOR": "1"}, False),  # the flag wins over everything
        (True, False, {"TERM": "dumb"}, False),
        (False, False, {"TERM": "dumb", "FORCE_COLOR": "1"}, True),
    ],
)
def test_colour_rules(isatty: bool, flag: bool, environ: dict[str, str], expected: bool) -> None:
    assert color_wanted(isatty, flag, environ) is expected


def _read(moto: Moto, stream: str, *extra: str) -> tuple[str, ...]:
    return ("read", stream, "--endpoint-url", moto.url, "-n", "6", *extra)


@pytest.mark.server
@pytest.mark.parametrize(
    ("env", "flags", "coloured"),
    [
        ({}, (), True),
        ({"NO_COLOR": "1"}, (), False),
        ({}, ("--no-color",), False),
        ({"TERM": "dumb"}, (), False),
    ],
    ids=["terminal", "NO_COLOR", "--no-color", "TERM=dumb"],
)
def test_table_on_a_terminal(
    tmp_path: Path,
    moto_server: Moto,
    orders: str,
    env: dict[str, str],
    flags: tuple[str, ...],
    coloured: bool,
) -> None:
    result = run_pty(
        *_read(moto_server, orders, "--quiet", *flags), env=cli_env(tmp_path, **env), stderr="pipe"
    )
    assert result.returncode == 0, result.stderr
    assert SGR.sub(b"", result.stdout).startswith(b"TIME (UTC)")  # the table, coloured or not
    assert bool(SGR.search(result.stdout)) is coloured
    if not coloured:
        assert not ANY_ESCAPE.search(result.stdout)


@pytest.mark.server
@pytest.mark.parametrize(
    ("env", "flags", "coloured"),
    [
        ({}, (), False),
        ({"FORCE_COLOR": "1"}, (), True),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, (), False),
        ({"FORCE_COLOR": "1"}, ("--no-color",), False),
    ],
    ids=["pipe", "FORCE_COLOR", "both", "FORCE_COLOR+--no-color"],
)
def test_table_into_a_pipe(
    tmp_path: Path,
    moto_server: Moto,
    orders: str,
    env: dict[str, str],
    flags: tuple[str, ...],
    coloured: bool,
) -> None:
    result = run_cli(
        *_read(moto_server, orders, "-o", "table", *flags), env=cli_env(tmp_path, **env)
    )
    assert result.returncode == 0, result.stderr
    assert bool(SGR.search(result.stdout)) is coloured
    if not coloured:
        assert not ANY_ESCAPE.search(result.stdout)


@pytest.mark.server
def test_ndjson_is_never_coloured(tmp_path: Path, moto_server: Moto, orders: str) -> None:
    result = run_cli(
        *_read(moto_server, orders, "-o", "ndjson"), env=cli_env(tmp_path, FORCE_COLOR="1")
    )
    assert result.returncode == 0
    assert b"\x1b" not in result.stdout
    assert len(result.stdout.splitlines()) == 6


@pytest.mark.server
@pytest.mark.parametrize("columns", [60, 100, 180])
def test_table_fits_the_terminal_width(
    tmp_path: Path, moto_server: Moto, orders: str, columns: int
) -> None:
    result = run_pty(
        *_read(moto_server, orders, "--quiet", "--no-color"),
        env=cli_env(tmp_path),
        stderr="pipe",
        columns=columns,
    )
    lines = result.stdout.decode().replace("\r\n", "\n").splitlines()
    assert len(lines) == 7  # header and six rows
    widths = [len(line) for line in lines]
    assert max(widths) <= columns
    # Payloads (~190 characters) are cut to the terminal, so rows use the width they are given.
    assert max(widths) >= columns - 2
    assert all(line.endswith("…") for line in lines[1:])


@pytest.mark.server
def test_columns_sets_the_width_of_a_piped_table(
    tmp_path: Path, moto_server: Moto, orders: str
) -> None:
    result = run_cli(
        *_read(moto_server, orders, "-o", "table"), env=cli_env(tmp_path, COLUMNS="72")
    )
    lines = result.stdout.decode().splitlines()
    assert max(len(line) for line in lines) == 72
