"""The README cannot drift: every command, option, exit code and NDJSON field is in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from streamtail.cli import app
from streamtail.env import Env
from streamtail.errors import ExitCode
from streamtail.model import Change, Record
from streamtail.render import RenderContext
from streamtail.render.ndjson import record_object
from tests.decoding import decoded

README = Path(__file__).resolve().parents[2] / "README.md"


def _command_options() -> dict[str, list[str]]:
    """Command path -> every option name (long and short) it takes, from the Typer app."""
    group = typer.main.get_command(app)
    found: dict[str, list[str]] = {"streamtail": []}
    for param in group.params:
        found["streamtail"] += [*param.opts, *param.secondary_opts]
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        opts: list[str] = []
        for param in command.params:
            if param.param_type_name == "option":
                opts += [*param.opts, *param.secondary_opts]
        found[f"streamtail {name}"] = opts
    return found


def _ndjson_fields() -> set[str]:
    env = Env(stdout=None, stderr=None)  # type: ignore[arg-type]
    kinesis = Record(shard="s", seq="1", key="k", ts_ms=0, data=b"{}")
    change = Change(
        event="MODIFY",
        event_id="e",
        keys={"pk": {"S": "a"}},
        new={"pk": {"S": "a"}},
        old={"pk": {"S": "a"}},
        ttl=True,
    )
    dynamodb = Record(shard="s", seq="1", key="", ts_ms=0, data=b"", change=change)
    ctx = RenderContext(env=env, stream="s", table="t")
    fields: set[str] = set()
    for record in (kinesis, dynamodb):
        fields |= record_object(ctx, (record, decoded(record))).keys()
    return fields


def missing_from(text: str) -> list[str]:
    """What the README text leaves out; empty when it documents everything."""
    code_spans = " ".join(re.findall(r"`([^`\n]+)`", text))
    missing: list[str] = []
    for command, options in _command_options().items():
        if command != "streamtail" and f"`{command}" not in text:
            missing.append(f"command `{command}`")
        for option in options:
            if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", code_spans):
                missing.append(f"option {option} of `{command}`")
    for code in ExitCode:
        if not re.search(rf"^\| {code.value} \|", text, re.MULTILINE):
            missing.append(f"exit code {code.value}")
    for field in sorted(_ndjson_fields()):
        if not re.search(rf"^\| [^|\n]*`{field}`", text, re.MULTILINE):
            missing.append(f"NDJSON field `{field}`")
    return missing


def test_readme_documents_every_command_option_exit_code_and_field() -> None:
    assert missing_from(README.read_text(encoding="utf-8")) == []


def test_the_check_has_teeth() -> None:
    text = README.read_text(encoding="utf-8")
    assert "option --idle-exit of `streamtail follow`" in missing_from(
        text.replace("--idle-exit", "--idle-stop")
    )
    without_q = re.sub(r"(?<![\w-])-q(?![\w-])", "", text)
    assert "option -q of `streamtail read`" in missing_from(without_q)
    assert "command `streamtail shards`" in missing_from(
        text.replace("`streamtail shards", "`shards")
    )
    assert "exit code 130" in missing_from(text.replace("| 130 |", "| 131 |"))
    assert "NDJSON field `ttl`" in missing_from(text.replace("| `ttl` |", "| ttl |"))


def test_readme_starts_with_the_two_set_up_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks[0].strip() == "python -m pip install '.[demo]' && streamtail demo"
    test_command = blocks[1].strip()
    assert test_command == (
        "python -m pip install -e '.[test]' -c requirements/test.txt"
        " && npm ci --prefix tests/servers && python -m pytest"
    )
    # CI runs exactly that command (inside a new virtual environment it makes first).
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci
    assert any(line.startswith("python3 -m venv ") for line in ci)


@pytest.mark.parametrize("section", ["Recipes", "Shell completion", "Debugging", "On a terminal"])
def test_readme_sections(section: str) -> None:
    assert f"\n## {section}\n" in README.read_text(encoding="utf-8")


def test_changelog_keeps_a_changelog_form() -> None:
    text = (README.parent / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog\n")
    assert "https://keepachangelog.com/" in text
    assert "\n## [Unreleased]\n" in text
    headings = re.findall(r"^### (.+)$", text, re.MULTILINE)
    assert headings and set(headings) <= {
        "Added",
        "Changed",
        "Deprecated",
        "Removed",
        "Fixed",
        "Security",
    }
