"""Shell completion: the shell classes, and candidates that come from outside the app.

Imported only when a shell asks for candidates (`_STREAMTAIL_COMPLETE` is set), never on plain
startup. Stream names come from the account (Kinesis ListStreams and DynamoDB Streams
ListStreams, names only), cached per connection under `$XDG_CACHE_HOME/streamtail/` for
`CACHE_TTL` seconds and fetched within `STREAMTAIL_COMPLETE_TIMEOUT` seconds (default 2); when
the account cannot be reached in time, the last names cached are offered, or none. Completion
never prints errors: a shell prompt is no place for them.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

# Typer's shell classes and registry (Typer 0.26+ vendors Click; these are its internals).
from typer._click.shell_completion import CompletionItem, add_completion_class
from typer._completion_classes import BashComplete, FishComplete, ZshComplete

#: seconds a fetched list of names is used without asking the account again
CACHE_TTL = 120.0
#: default seconds to wait for the account before answering from the cache (or with nothing)
DEFAULT_TIMEOUT = 2.0
KINDS = ("kinesis", "dynamodb")
POSITIONS = ("trim-horizon", "latest", "at:", "after:", "-15m", "-1h", "-1d")
EVENTS = ("INSERT", "MODIFY", "REMOVE")


# -- shells ----------------------------------------------------------------------------------


def glue_colons(words: list[str]) -> tuple[list[str], str]:
    """Undo bash's split of words at `:` (COMP_WORDBREAKS): `ddb`, `:`, `Or` -> `ddb:Or`.

    Returns the words and, when the last word was glued, the part of it bash will not replace
    (up to its last colon), which each candidate must lose before it goes back to bash.
    """
    out: list[str] = []
    pieces: list[int] = []
    glue = False
    for word in words:
        if word == ":" and out:
            out[-1] += word
            pieces[-1] += 1
            glue = True
        elif glue:
            out[-1] += word
            pieces[-1] += 1
            glue = word == ":"
        else:
            out.append(word)
            pieces.append(1)
            glue = word == ":"
    if not out or pieces[-1] == 1:
        return out, ""
    last = out[-1]
    return out, last[: last.rfind(":") + 1]


class _Bash(BashComplete):
    """Bash, with stream ARNs, `ddb:` names and ISO times that survive COMP_WORDBREAKS."""

    _trim = ""

    def get_completion_args(self) -> tuple[list[str], str]:
        args, incomplete = super().get_completion_args()
        words, self._trim = glue_colons([*args, incomplete])
        return words[:-1], words[-1]

    def format_completion(self, item: CompletionItem) -> str:
        value = str(item.value)
        return value[len(self._trim) :] if self._trim and value.startswith(self._trim) else value


def _plain(text: str) -> str:
    # Typer's classes render help through rich (~100 ms of imports per TAB); ours is plain text.
    return " ".join(text.split())


class _Zsh(ZshComplete):
    def format_completion(self, item: CompletionItem) -> str:
        def escape(s: str) -> str:
            return (
                s.replace('"', '""')
                .replace("'", "''")
                .replace("$", "\\$")
                .replace("`", "\\`")
                .replace(":", r"\\:")
            )

        if item.help:
            return f'"{escape(item.value)}":"{escape(_plain(item.help))}"'
        return f'"{escape(item.value)}"'


class _Fish(FishComplete):
    def format_completion(self, item: CompletionItem) -> str:
        return f"{item.value}\t{_plain(item.help)}" if item.help else str(item.value)


def register_shells() -> None:
    """Use our shell classes (called after Typer registered its own)."""
    add_completion_class(_Bash, "bash")
    add_completion_class(_Zsh, "zsh")
    add_completion_class(_Fish, "fish")


# -- candidates ------------------------------------------------------------------------------


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "streamtail"


def _timeout() -> float:
    try:
        return max(float(os.environ.get("STREAMTAIL_COMPLETE_TIMEOUT", DEFAULT_TIMEOUT)), 0.0)
    except ValueError:
        return DEFAULT_TIMEOUT


def _identity(params: Mapping[str, Any]) -> dict[str, str]:
    """What decides which account and endpoint answer: the cache is kept per identity."""
    env = os.environ
    return {
        "profile": params.get("profile") or env.get("AWS_PROFILE") or "",
        "region": params.get("region")
        or env.get("AWS_REGION")
        or env.get("AWS_DEFAULT_REGION")
        or "",
        "endpoint": params.get("endpoint_url") or env.get("AWS_ENDPOINT_URL") or "",
        "kinesis": env.get("AWS_ENDPOINT_URL_KINESIS", ""),
        "dynamodbstreams": env.get("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", ""),
        # Different static keys may mean different accounts (hashed, never stored as is).
        "key": env.get("AWS_ACCESS_KEY_ID", ""),
    }


def cache_file(params: Mapping[str, Any]) -> Path:
    identity = json.dumps(_identity(params), sort_keys=True).encode()
    return cache_dir() / f"streams-{hashlib.sha256(identity).hexdigest()[:20]}.json"


def load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".streams-", dir=path.parent)  # created 0600
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out)
    Path(tmp).replace(path)


def _fetch(params: Mapping[str, Any], kind: str) -> list[str]:
    from streamtail.aws import Clients, Connection

    conn = Connection(
        profile=params.get("profile"),
        region=params.get("region"),
        endpoint_url=params.get("endpoint_url"),
    )
    clients = Clients(conn, quick=True)
    if kind == "kinesis":
        from streamtail.sources.kinesis import stream_names

        return stream_names(clients.client("kinesis"))
    from streamtail.sources.dynamodb import table_names

    return table_names(clients.client("dynamodbstreams"))


def account_names(params: Mapping[str, Any], *, now: float | None = None) -> dict[str, list[str]]:
    """Kinesis stream names and DynamoDB tables with a stream, from the cache while it is fresh,
    else from the account within the timeout (falling back to what the cache held)."""
    now = time.time() if now is None else now
    path = cache_file(params)
    cached = load(path)
    names: dict[str, list[str]] = {}
    stale: list[str] = []
    for kind in KINDS:
        entry = cached.get(kind)
        if isinstance(entry, dict) and isinstance(entry.get("names"), list):
            names[kind] = [str(n) for n in entry["names"]]
            if now - float(entry.get("at", 0)) < CACHE_TTL:
                continue
        stale.append(kind)
    if not stale:
        return names
    fetched: dict[str, list[str] | None] = {}

    def fetch(kind: str) -> None:
        try:
            fetched[kind] = _fetch(params, kind)
        except Exception:  # no credentials, no permission, no such service: nothing to offer
            fetched[kind] = None

    threads = [threading.Thread(target=fetch, args=(k,), daemon=True) for k in stale]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + _timeout()
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.0))
    for kind in stale:
        if kind not in fetched:
            continue  # still waiting: answer from the stale cache, ask again next time
        result = fetched[kind]
        if result is not None:
            names[kind] = result
        # A failure is remembered too, so a Kinesis-only endpoint is not asked on every TAB.
        cached[kind] = {"at": now, "names": names.get(kind, [])}
    if any(kind in fetched for kind in stale):
        with suppress(OSError):  # a read-only home: no cache, completion still works
            _save(path, cached)
    return names


def stream_candidates(params: Mapping[str, Any], incomplete: str) -> list[str]:
    """Stream names for the STREAM argument that start with `incomplete`."""
    try:
        names = account_names(params)
    except Exception:
        return []
    prefix = "dynamodb:" if incomplete.startswith("dynamodb:") else "ddb:"
    candidates = list(names.get("kinesis", []))
    candidates += [prefix + table for table in names.get("dynamodb", [])]
    return [c for c in candidates if c.startswith(incomplete)]


def profile_candidates(incomplete: str) -> list[str]:
    """Profiles of the shared config and credentials files (no botocore needed)."""
    home = Path.home()
    config = Path(os.environ.get("AWS_CONFIG_FILE") or home / ".aws" / "config")
    credentials = Path(
        os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or home / ".aws" / "credentials"
    )
    profiles: set[str] = set()
    for path, is_config in ((config, True), (credentials, False)):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path.expanduser())
        except (OSError, configparser.Error):
            continue
        for section in parser.sections():
            if is_config:
                if section == "default":
                    profiles.add(section)
                elif section.startswith("profile "):
                    profiles.add(section.removeprefix("profile ").strip())
            else:
                profiles.add(section)
    return sorted(p for p in profiles if p.startswith(incomplete))


def static_candidates(choices: tuple[str, ...], incomplete: str) -> list[str]:
    return [c for c in choices if c.lower().startswith(incomplete.lower())]
