"""Output of `ls` and `shards`: NDJSON for programs, a rich table or tree for people."""

from __future__ import annotations

from typing import Any

import orjson

from streamtail.env import Env
from streamtail.lineage import Lineage
from streamtail.model import Shard
from streamtail.render.safe import inert


def _write_lines(env: Env, objects: list[dict[str, Any]]) -> None:
    env.stdout.write(b"".join(orjson.dumps(obj) + b"\n" for obj in objects))
    env.stdout.flush()


def shard_object(shard: Shard, lineage: Lineage) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "shard": shard.shard_id,
        "state": "closed" if shard.closed else "open",
        "parent": shard.parent,
        "adjacent_parent": shard.adjacent_parent,
        "children": sorted(lineage.children.get(shard.shard_id, [])),
        # 128-bit hash keys do not fit JSON numbers that most readers parse exactly: strings.
        "hash_start": None if shard.hash_start is None else str(shard.hash_start),
        "hash_end": None if shard.hash_end is None else str(shard.hash_end),
        "start_seq": shard.start_seq,
        "end_seq": shard.end_seq,
    }
    return {k: v for k, v in obj.items() if v is not None}


def shards_ndjson(env: Env, stream: str, lineage: Lineage) -> None:
    _write_lines(env, [{"stream": stream, **shard_object(s, lineage)} for s in lineage.ordered()])


def _shard_label(shard: Shard) -> Any:
    from rich.text import Text

    label = Text(inert(shard.shard_id), style="bold" if not shard.closed else "dim")
    label.append(
        "  open" if not shard.closed else "  closed", style="green" if not shard.closed else "red"
    )
    if shard.hash_start is not None and shard.hash_end is not None:
        share = (shard.hash_end - shard.hash_start + 1) / 2**128
        label.append(f"  hash {share:.1%}", style="cyan")
    if shard.start_seq is not None:
        label.append(f"  seq {inert(shard.start_seq)}…{inert(shard.end_seq or '')}", style="dim")
    if shard.adjacent_parent:
        label.append(f"  (merged with {inert(shard.adjacent_parent)})", style="yellow")
    if shard.hash_start is not None and shard.hash_end is not None:
        # the range itself, on a line of its own (two 39-digit numbers): what --hash-key takes
        label.append(f"\nhash keys {shard.hash_start}…{shard.hash_end}", style="dim cyan")
    return label


def shards_tree(env: Env, stream: str, lineage: Lineage) -> None:
    from rich.text import Text
    from rich.tree import Tree

    root = Tree(Text(inert(stream), style="bold"))
    nodes: dict[str, Any] = {}
    for shard in lineage.ordered():
        # A merged child hangs under its first parent; the label names the adjacent one.
        parent_node = nodes.get(shard.parent or "") or root
        nodes[shard.shard_id] = parent_node.add(_shard_label(shard))
    from streamtail.render.console import stdout_console

    with stdout_console(env) as console:
        console.print(root)


_STREAM_COLUMNS = ("stream", "status", "shards", "retention_hours")


def streams_ndjson(env: Env, streams: list[dict[str, Any]]) -> None:
    _write_lines(env, [{k: v for k, v in row.items() if v is not None} for row in streams])


def streams_table(env: Env, streams: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    columns = ["KIND", "STREAM", "STATUS", "SHARDS", "RETENTION (h)", "MODE / VIEW"]
    # A DynamoDB stream is known by its ARN (a table's stream is replaced when it is turned off
    # and on again); a Kinesis stream by its name.
    arns = any(row["kind"] == "dynamodb" for row in streams)
    for column in [*columns, "STREAM ARN"] if arns else columns:
        table.add_column(column)
    from rich.text import Text

    for row in streams:
        cells = [
            Text(inert(str(row["kind"]))),
            *(Text(inert("" if row.get(k) is None else str(row[k]))) for k in _STREAM_COLUMNS),
            Text(inert(str(row.get("mode") or row.get("view") or ""))),
        ]
        if arns:
            cells.append(
                Text(inert(str(row.get("arn") or "") if row["kind"] == "dynamodb" else ""))
            )
        table.add_row(*cells)
    if not streams:
        env.stderr.write("streamtail: no streams found\n")
        return
    from streamtail.render.console import stdout_console

    with stdout_console(env) as console:
        console.print(table)


class NdjsonListing:
    """`ls` and `shards` for programs: one JSON object per stream or shard."""

    def __init__(self, env: Env) -> None:
        self.env = env

    def shards(self, stream: str, lineage: Lineage) -> None:
        shards_ndjson(self.env, stream, lineage)

    def streams(self, rows: list[dict[str, Any]]) -> None:
        streams_ndjson(self.env, rows)


class TableListing:
    """`ls` and `shards` for people: a table of streams, the shard tree."""

    def __init__(self, env: Env) -> None:
        self.env = env

    def shards(self, stream: str, lineage: Lineage) -> None:
        shards_tree(self.env, stream, lineage)

    def streams(self, rows: list[dict[str, Any]]) -> None:
        streams_table(self.env, rows)
