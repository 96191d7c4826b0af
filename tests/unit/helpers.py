"""Shared test helpers: an Env over byte buffers, records, and NDJSON lines for decoded records."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from typer.testing import CliRunner

from streamtail.cli import app
from streamtail.decode import Decoded, DecodeMode, DecodeOptions, Item, expand, is_json
from streamtail.decode.basic import loads
from streamtail.env import Env
from streamtail.model import Record
from streamtail.render import RenderContext, make_renderer

#: 2026-11-21T21:04:05.123Z
TS_MS = 1_795_295_045_123


def plain(decoded: Decoded) -> Decoded:
    """`decoded` with a JSON payload kept as it arrived (an orjson.Fragment) read into its value,
    every digit kept, so that tests can compare values."""
    if is_json(decoded) and isinstance(decoded.value, orjson.Fragment):
        return decoded._replace(value=loads(orjson.dumps(decoded.value)))
    return decoded


def make_env(*, width: int | None = None, color: bool = False) -> Env:
    return Env(
        stdout=io.BytesIO(),
        stderr=io.StringIO(),
        width=width,
        color=color,
    )


def out(env: Env) -> str:
    stdout = env.stdout
    assert isinstance(stdout, io.BytesIO)
    return stdout.getvalue().decode("utf-8")


def err(env: Env) -> str:
    stderr = env.stderr
    assert isinstance(stderr, io.StringIO)
    return stderr.getvalue()


def record(
    data: bytes,
    *,
    key: str = "user-42",
    seq: str = "4959033827149025660855969",
    shard: str = "shardId-000000000001",
) -> Record:
    return Record(shard=shard, seq=seq, key=key, ts_ms=TS_MS, data=data)


def render(items: Sequence[Item], fmt: str = "ndjson", *, width: int | None = None) -> str:
    env = make_env(width=width)
    renderer = make_renderer(fmt, RenderContext(env=env, stream="orders"))
    renderer.write(items)
    renderer.close()
    return out(env)


def ndjson(data: bytes, mode: DecodeMode = DecodeMode.AUTO, **options: bool) -> str:
    """The NDJSON lines `read` prints for one record with this payload."""
    return render(expand(record(data), DecodeOptions(mode, **options)))


@dataclass
class Result:
    code: int
    stdout: bytes
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.decode().splitlines()


def run_cli(*args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> Result:
    """The CLI through Click's runner: exit code, stdout bytes, stderr text."""
    result = CliRunner().invoke(app, list(args), input=input, env=env)
    return Result(result.exit_code, result.stdout_bytes, result.stderr)


def csv_matches_ndjson(
    text: str, header: list[str], objects: list[dict[str, Any]]
) -> list[list[str]]:
    """The rows of `-o csv` output, checked against the NDJSON objects of the same read: the
    header row, then for each path a string as it is, null or absent as empty, any other value
    as JSON on one line that reads back into the same value."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == header
    assert len(rows) - 1 == len(objects)
    for row, obj in zip(rows[1:], objects, strict=True):
        for path, cell in zip(header, row, strict=True):
            value = _at(obj, path)
            if value is None:
                assert cell == ""
            elif isinstance(value, str):
                assert cell == value
            else:
                assert json.loads(cell) == value
                assert "\n" not in cell
    return rows


def _at(obj: Any, path: str) -> Any:
    """What a dotted path names in a parsed NDJSON object (a number indexes an array)."""
    for name in path.split("."):
        if isinstance(obj, list) and name.isdigit():
            obj = obj[int(name)] if int(name) < len(obj) else None
        else:
            obj = obj.get(name) if isinstance(obj, dict) else None
    return obj
