"""Shell completion: the scripts in completions/ match the app, and they answer."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from streamtail import completion
from tests.ux.helpers import ROOT, Moto, cli_env

COMPLETIONS = ROOT / "completions"


def _generate_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate", COMPLETIONS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_scripts_are_up_to_date_with_the_app(shell: str) -> None:
    generate = _generate_module()
    path = COMPLETIONS / generate.FILES[shell]
    assert path.read_text() == generate.render(shell), (
        f"{path.name} is out of date: run python completions/generate.py"
    )


def test_check_mode_fails_on_a_stale_script(tmp_path: Path) -> None:
    copy = tmp_path / "completions"
    shutil.copytree(COMPLETIONS, copy)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ok = subprocess.run([sys.executable, copy / "generate.py", "--check"], env=env, check=False)
    assert ok.returncode == 0
    (copy / "streamtail.fish").write_text("# old\n")
    stale = subprocess.run(
        [sys.executable, copy / "generate.py", "--check"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert stale.returncode == 1
    assert "streamtail.fish" in stale.stdout


@pytest.fixture
def shim(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An environment whose PATH has a `streamtail` that runs this checkout."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "streamtail"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m streamtail "$@"\n')
    script.chmod(0o755)
    env = cli_env(tmp_path)
    env["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    yield env


def _bash(env: dict[str, str], script: str) -> str:
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _bash_complete(env: dict[str, str], *words: str) -> list[str]:
    """What the sourced script puts in COMPREPLY for the words, the last being completed."""
    array = " ".join(f"'{w}'" for w in words)
    script = (
        f"source '{COMPLETIONS / 'streamtail.bash'}'\n"
        f"COMP_WORDS=({array}); COMP_CWORD={len(words) - 1}\n"
        "_streamtail_completion streamtail\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    return [line for line in _bash(env, script).splitlines() if line]


def test_bash_registers_the_completion(shim: dict[str, str]) -> None:
    out = _bash(shim, f"source '{COMPLETIONS / 'streamtail.bash'}'; complete -p streamtail")
    assert out.strip() == "complete -o default -F _streamtail_completion streamtail"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (("streamtail", ""), ["read", "follow", "put", "shards", "ls", "lag", "demo", "consumers"]),
        (("streamtail", "f"), ["follow"]),
        (("streamtail", "--v"), ["--version"]),
        (("streamtail", "read", "--li"), ["--limit"]),
        (("streamtail", "follow", "--idle"), ["--idle-exit"]),
        (("streamtail", "follow", "x", "--wh"), ["--where"]),
        (("streamtail", "read", "x", "--col"), ["--columns"]),
        (("streamtail", "read", "x", "-o", ""), ["table", "ndjson", "raw", "aws", "csv", "tsv"]),
        (("streamtail", "ls", "--output", "nd"), ["ndjson"]),
        (("streamtail", "read", "x", "--decode", "b"), ["base64"]),
        (("streamtail", "read", "x", "--from", "a"), ["at:", "after:"]),
        (("streamtail", "follow", "x", "--event", "RE"), ["REMOVE"]),
    ],
)
def test_bash_answers_for_commands_options_and_choices(
    shim: dict[str, str], words: tuple[str, ...], expected: list[str]
) -> None:
    assert _bash_complete(shim, *words) == expected


def test_bash_completes_profiles_from_the_aws_files(shim: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "aws-config").write_text(
        "[default]\n[profile prod]\n[profile prod-eu]\n[sso-session x]\n"
    )
    (tmp_path / "aws-credentials").write_text("[legacy]\naws_access_key_id = x\n")
    assert _bash_complete(shim, "streamtail", "ls", "--profile", "") == [
        "default",
        "legacy",
        "prod",
        "prod-eu",
    ]
    assert _bash_complete(shim, "streamtail", "ls", "--profile", "prod-") == ["prod-eu"]


@pytest.fixture(scope="module")
def account(moto_server: Moto) -> Moto:
    kinesis = moto_server.client("kinesis")
    for name in ("cmp-orders", "cmp-orders-dlq", "cmp-payments"):
        kinesis.create_stream(StreamName=name, ShardCount=1)
    moto_server.client("dynamodb").create_table(
        TableName="CmpOrders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return moto_server


@pytest.mark.server
def test_bash_completes_stream_names_from_the_account(shim: dict[str, str], account: Moto) -> None:
    words = ("streamtail", "read", "--endpoint-url", account.url)
    assert _bash_complete(shim, *words, "cmp-o") == ["cmp-orders", "cmp-orders-dlq"]
    everything = _bash_complete(shim, *words, "")
    assert {"cmp-orders", "cmp-payments", "ddb:CmpOrders"} <= set(everything)
    # bash splits `ddb:Cmp` at the colon (COMP_WORDBREAKS): the reply completes the last part.
    assert _bash_complete(shim, *words, "ddb", ":", "Cmp") == ["CmpOrders"]
    assert _bash_complete(shim, *words, "ddb", ":") == ["CmpOrders"]
    assert _bash_complete(shim, *words, "dynamodb", ":", "") == ["CmpOrders"]
    # Without the split (COMP_WORDBREAKS without ':'), the whole word is replaced.
    assert _bash_complete(shim, *words, "ddb:Cmp") == ["ddb:CmpOrders"]


@pytest.mark.server
def test_names_are_cached_per_connection(shim: dict[str, str], account: Moto) -> None:
    words = ("streamtail", "shards", "--endpoint-url", account.url, "cmp-p")
    assert _bash_complete(shim, *words) == ["cmp-payments"]
    caches = list((Path(shim["XDG_CACHE_HOME"]) / "streamtail").glob("streams-*.json"))
    assert len(caches) == 1
    assert oct(caches[0].stat().st_mode & 0o777) == "0o600"
    account.client("kinesis").create_stream(StreamName="cmp-pending", ShardCount=1)
    # Within the cache's lifetime the new stream is not asked for...
    assert _bash_complete(shim, *words) == ["cmp-payments"]
    # ...another connection has its own cache.
    other = ("streamtail", "shards", "--endpoint-url", account.url + "/", "cmp-p")
    assert _bash_complete(shim, *other) == ["cmp-payments", "cmp-pending"]


@pytest.fixture
def blackhole() -> Iterator[str]:
    """An endpoint that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()


def test_an_unresponsive_account_costs_at_most_the_timeout(
    shim: dict[str, str], blackhole: str
) -> None:
    shim["STREAMTAIL_COMPLETE_TIMEOUT"] = "1"
    started = time.monotonic()
    assert _bash_complete(shim, "streamtail", "read", "--endpoint-url", blackhole, "") == []
    # Interpreter start and imports plus the 1 s budget; botocore's own timeouts would be 60 s.
    assert time.monotonic() - started < 6


def test_stale_names_are_offered_when_the_account_is_slow(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, blackhole: str
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("STREAMTAIL_COMPLETE_TIMEOUT", "0.5")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    params = {"endpoint_url": blackhole, "region": "us-east-1"}
    old = time.time() - 3600
    completion._save(
        completion.cache_file(params),
        {
            "kinesis": {"at": old, "names": ["orders", "payments"]},
            "dynamodb": {"at": old, "names": ["Carts"]},
        },
    )
    started = time.monotonic()
    assert completion.stream_candidates(params, "") == ["orders", "payments", "ddb:Carts"]
    assert time.monotonic() - started < 3


def test_a_fresh_cache_answers_without_asking(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    params = {"profile": "prod"}
    now = time.time()
    completion._save(
        completion.cache_file(params),
        {"kinesis": {"at": now, "names": ["a", "b"]}, "dynamodb": {"at": now, "names": []}},
    )

    def no_network(*_: object) -> list[str]:
        raise AssertionError("asked the account although the cache is fresh")

    monkeypatch.setattr(completion, "_fetch", no_network)
    assert completion.stream_candidates(params, "b") == ["b"]


@pytest.mark.parametrize(
    ("words", "glued", "trim"),
    [
        (["read", "ddb", ":", "Or"], ["read", "ddb:Or"], "ddb:"),
        (["read", "ddb", ":"], ["read", "ddb:"], "ddb:"),
        (
            ["read", "arn", ":", "aws", ":", "kinesis", ":", ""],
            ["read", "arn:aws:kinesis:"],
            "arn:aws:kinesis:",
        ),
        (
            ["read", "x", "--from", "2026-11-21T10", ":", "00", ":", "00Z", ""],
            ["read", "x", "--from", "2026-11-21T10:00:00Z", ""],
            "",
        ),
        (["read", "ddb:Or"], ["read", "ddb:Or"], ""),
        (["read", ""], ["read", ""], ""),
    ],
)
def test_glue_colons(words: list[str], glued: list[str], trim: str) -> None:
    assert completion.glue_colons(words) == (glued, trim)


def _complete(env: dict[str, str], shell: str, line: str) -> str:
    env = {**env, "_STREAMTAIL_COMPLETE": f"complete_{shell}", "_TYPER_COMPLETE_ARGS": line}
    env["_TYPER_COMPLETE_FISH_ACTION"] = "get-args"
    result = subprocess.run(
        [sys.executable, "-m", "streamtail"], env=env, capture_output=True, text=True, check=False
    )
    return result.stdout


def test_zsh_protocol(shim: dict[str, str]) -> None:
    out = _complete(shim, "zsh", "streamtail fo")
    assert out.startswith('_arguments \'*: :(("follow":"Follow new records')
    assert _complete(shim, "zsh", "streamtail read --no").strip() == (
        '_arguments \'*: :(("--no-color":"No colour, even on a terminal (NO_COLOR works too)."))\''
    )


def test_fish_protocol(shim: dict[str, str]) -> None:
    (line,) = _complete(shim, "fish", "streamtail ls").splitlines()
    assert line.startswith("ls\tList Kinesis streams (status, open shards")
    assert "--quiet\tNo live status line" in _complete(shim, "fish", "streamtail follow --q")


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_loads_the_script(shim: dict[str, str]) -> None:
    script = (
        "autoload -Uz compinit && compinit -u -d $HOME/.zcompdump; "
        f"source '{COMPLETIONS / '_streamtail'}'; whence -w _streamtail_completion; "
        "print -r -- $_comps[streamtail]"
    )
    out = subprocess.run(
        ["zsh", "-f", "-c", script], env=shim, capture_output=True, text=True, check=False
    )
    assert "_streamtail_completion: function" in out.stdout, out.stderr
    assert out.stdout.strip().endswith("_streamtail_completion")


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_loads_the_script(shim: dict[str, str]) -> None:
    script = f"source '{COMPLETIONS / 'streamtail.fish'}'; complete --do-complete 'streamtail fo'"
    out = subprocess.run(
        ["fish", "--no-config", "-c", script], env=shim, capture_output=True, text=True, check=False
    )
    assert out.stdout.startswith("follow"), out.stdout + out.stderr


def test_show_and_install_completion_give_the_same_script(
    shim: dict[str, str], tmp_path: Path
) -> None:
    # Typer asks shellingham for the shell, which looks at streamtail's parent process. `bash -c`
    # with one simple command execs it in place of bash, leaving the parent to be whatever ran
    # pytest (no shell at all in some CI and background runs): a second command keeps bash the
    # parent, as it is when a user types the command.
    shown = _bash(shim, "streamtail --show-completion; true")
    assert shown.strip() == (COMPLETIONS / "streamtail.bash").read_text().strip()
    out = _bash(shim, "streamtail --install-completion; true")
    assert "bash completion installed in" in out
    installed = tmp_path / ".bash_completions" / "streamtail.sh"
    assert installed.read_text().strip() == (COMPLETIONS / "streamtail.bash").read_text().strip()
    assert f"source '{installed}'" in (tmp_path / ".bashrc").read_text()
