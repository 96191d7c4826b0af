"""`shards` (tree and NDJSON) and `ls` (table and NDJSON) output, against golden files."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from streamtail.env import Env
from streamtail.lineage import Lineage
from streamtail.model import Shard
from streamtail.render.listing import shards_ndjson, shards_tree, streams_ndjson, streams_table

TOP = 2**128 - 1
HALF = 2**127
# Shard 0 split into 2 and 3; 3 then merged with 1 into 4.
SHARDS = [
    Shard("shardId-000000000000", None, None, 0, HALF - 1, "100", "199"),
    Shard("shardId-000000000001", None, None, HALF, TOP, "101", "299"),
    Shard("shardId-000000000002", "shardId-000000000000", None, 0, HALF // 2 - 1, "200"),
    Shard("shardId-000000000003", "shardId-000000000000", None, HALF // 2, HALF - 1, "201", "399"),
    Shard(
        "shardId-000000000004",
        "shardId-000000000003",
        "shardId-000000000001",
        HALF // 2,
        TOP,
        "400",
    ),
]

STREAMS: list[dict[str, Any]] = [
    {
        "kind": "kinesis",
        "stream": "orders",
        "status": "ACTIVE",
        "shards": 3,
        "retention_hours": 24,
        "mode": "PROVISIONED",
        "arn": "arn:aws:kinesis:us-east-1:123456789012:stream/orders",
    },
    {
        "kind": "kinesis",
        "stream": "clicks\x1b[31m[red]x[/]",
        "status": "CREATING",
        "shards": None,
        "retention_hours": 168,
        "mode": None,
        "arn": None,
    },
]


def out(env: Env) -> bytes:
    return env.stdout.getvalue()  # type: ignore[attr-defined, no-any-return]


def test_shards_ndjson(make_env: Callable[..., Env], golden: Callable[[str, bytes], None]) -> None:
    env = make_env()
    shards_ndjson(env, "orders", Lineage(reversed(SHARDS)))
    golden("shards.ndjson", out(env))
    lines = [json.loads(line, object_pairs_hook=list) for line in out(env).splitlines()]
    assert [dict(line)["shard"][-1] for line in lines] == ["0", "1", "2", "3", "4"]
    order = [
        "stream",
        "shard",
        "state",
        "parent",
        "adjacent_parent",
        "children",
        "hash_start",
        "hash_end",
        "start_seq",
        "end_seq",
    ]
    for line in lines:
        keys = [k for k, _ in line]
        assert keys == [k for k in order if k in keys]


def test_shards_tree(make_env: Callable[..., Env], golden: Callable[[str, bytes], None]) -> None:
    env = make_env(width=100)
    shards_tree(env, "orders", Lineage(SHARDS))
    golden("shards.tree.txt", out(env))


def test_shards_tree_with_aged_out_parents(
    make_env: Callable[..., Env], golden: Callable[[str, bytes], None]
) -> None:
    env = make_env(width=100)
    shards_tree(env, "orders", Lineage(SHARDS[2:]))
    golden("shards.tree.aged-out.txt", out(env))


def test_shards_tree_is_inert(make_env: Callable[..., Env]) -> None:
    env = make_env(width=100)
    shards_tree(env, "evil\x1b]0;title\x07[bold]x[/]\u202e", Lineage([Shard("shard\x1b[2J")]))
    text = out(env).decode("utf-8")
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\u202e" not in text
    assert "evil\\e]0;title\\x07[bold]x[/]\\u202e" in text
    assert "shard\\e[2J" in text


def test_ls_ndjson(make_env: Callable[..., Env]) -> None:
    env = make_env()
    streams_ndjson(env, STREAMS)
    assert out(env) == (
        b'{"kind":"kinesis","stream":"orders","status":"ACTIVE","shards":3,"retention_hours":24,'
        b'"mode":"PROVISIONED","arn":"arn:aws:kinesis:us-east-1:123456789012:stream/orders"}\n'
        b'{"kind":"kinesis","stream":"clicks\\u001b[31m[red]x[/]","status":"CREATING",'
        b'"retention_hours":168}\n'
    )


def test_ls_table(make_env: Callable[..., Env], golden: Callable[[str, bytes], None]) -> None:
    env = make_env(width=100)
    streams_table(env, STREAMS)
    golden("ls.table.txt", out(env))
    assert b"\x1b" not in out(env)
    assert "clicks\\e[31m[red]x[/]" in out(env).decode("utf-8")
    assert env.stderr.getvalue() == ""  # type: ignore[attr-defined]


def test_ls_with_no_streams(make_env: Callable[..., Env]) -> None:
    env = make_env()
    streams_table(env, [])
    assert out(env) == b""
    assert env.stderr.getvalue() == "streamtail: no streams found\n"  # type: ignore[attr-defined]
    env = make_env()
    streams_ndjson(env, [])
    assert out(env) == b""
