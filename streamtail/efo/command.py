"""`streamtail consumers STREAM [--prune]`: a stream's EFO consumers, streamtail's marked.

Without --prune it only reads (ListStreamConsumers). With --prune it deregisters streamtail's
leftovers: consumers named by a streamtail run (consumers.py) that are ACTIVE, and whose process
is gone from this host, or, registered from another host, are over 7 days old. Consumers in use
(their process runs here) and any consumer streamtail did not name are left alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from streamtail.efo.consumers import Consumers, leftover, now_ms, owner_of, stream_arn
from streamtail.errors import NotFoundError, StreamtailError, UsageError
from streamtail.formats import LISTING_FORMATS
from streamtail.model import SourceKind
from streamtail.names import resolve
from streamtail.render import output_format
from streamtail.render.safe import inert
from streamtail.sources.base import epoch_ms

if TYPE_CHECKING:
    from streamtail.aws import Connection
    from streamtail.env import Env


def run_consumers(
    name: str,
    conn: Connection,
    env: Env,
    output: str | None,
    *,
    prune: bool = False,
    deregister: tuple[str, ...] = (),
) -> None:
    from streamtail.aws import clients_for

    ref = resolve(name)
    if ref.kind is not SourceKind.KINESIS:
        raise UsageError("consumers applies to Kinesis streams only (DynamoDB Streams has none)")
    client = clients_for(conn, env, ref).client("kinesis")
    consumers = Consumers(client, stream_arn(client, ref.arn, ref.name), clock=env.time_source)
    listed = consumers.list()
    now = now_ms()
    rows = [_row(ref.display, c, now) for c in listed]
    if deregister:
        _deregister_named(consumers, rows, deregister, env, ref.display)
    if prune:
        _prune(consumers, rows, env)
    if output_format(output, env, LISTING_FORMATS) == "ndjson":
        env.stdout.write(b"".join(orjson.dumps(row) + b"\n" for row in rows))
        env.stdout.flush()
    else:
        _table(env, rows)


def _row(stream: str, consumer: dict[str, Any], now: int) -> dict[str, Any]:
    name = str(consumer.get("ConsumerName", ""))
    created = epoch_ms(consumer.get("ConsumerCreationTimestamp"))
    return {
        "stream": stream,
        "consumer": name,
        "status": consumer.get("ConsumerStatus"),
        "arn": consumer.get("ConsumerARN"),
        "created_ms": created or None,
        "streamtail": owner_of(name) is not None,
        "leftover": leftover(consumer, now),
    }


def _prune(consumers: Consumers, rows: list[dict[str, Any]], env: Env) -> None:
    for row in rows:
        if not row["leftover"]:
            continue
        try:
            consumers.deregister(str(row["arn"]))
        except StreamtailError as exc:
            env.warn(f"could not deregister consumer {row['consumer']}: {exc.message}")
            continue
        env.line(f"streamtail: deregistered consumer {row['consumer']} ({row['leftover']})")
        row["status"] = "DELETING"


def _deregister_named(
    consumers: Consumers, rows: list[dict[str, Any]], names: tuple[str, ...], env: Env, stream: str
) -> None:
    """`--deregister NAME`: the named consumers, streamtail's or not, without asking (all are
    checked to exist first: a misspelt name removes nothing)."""
    by_name = {row["consumer"]: row for row in rows}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise NotFoundError(
            f"consumer {', '.join(map(repr, missing))} not found on stream {stream!r}: nothing "
            "deregistered",
            hint=f"`streamtail consumers {stream}` lists its consumers",
        )
    for name in dict.fromkeys(names):
        row = by_name[name]
        if row["status"] == "DELETING":
            env.line(f"streamtail: consumer {name} is already being deregistered")
            continue
        consumers.deregister(str(row["arn"]), patient=True)
        env.line(f"streamtail: deregistered consumer {name} ({row['arn']})")
        row["status"] = "DELETING"


def _table(env: Env, rows: list[dict[str, Any]]) -> None:
    if not rows:
        env.stderr.write("streamtail: no consumers registered on this stream\n")
        return
    from rich.table import Table
    from rich.text import Text

    from streamtail.positions import format_ts
    from streamtail.render.console import stdout_console

    table = Table(box=None, header_style="bold")
    for column in ("CONSUMER", "STATUS", "CREATED", "STREAMTAIL"):
        table.add_column(column)
    for row in rows:
        mark = ""
        if row["streamtail"]:
            mark = f"yes, leftover: {row['leftover']}" if row["leftover"] else "yes"
        created = format_ts(row["created_ms"]) if row["created_ms"] else ""
        table.add_row(
            *(Text(inert(str(v))) for v in (row["consumer"], row["status"], created, mark))
        )
    with stdout_console(env) as console:
        console.print(table)
