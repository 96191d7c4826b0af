"""The command line: Typer commands that parse options into requests and call core.

Every command body runs inside the one error boundary (cli_boundary.py: `StreamtailError`s,
Ctrl-C and SIGTERM, a closed pipe and Click's usage errors become one line on stderr and an exit
code there, and nowhere else). It imports nothing heavy at the top, so `--help` and `--version`
start fast.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer
import typer.core

from streamtail.cli_boundary import app, building_only, run
from streamtail.cli_command_options import (
    Binary,
    By,
    ByChoice,
    ChunkSize,
    Compress,
    Deregister,
    Duration,
    FromNdjson,
    GroupBy,
    GsrSchema,
    KeyField,
    LagApp,
    LagInterval,
    LagStream,
    LagTable,
    MaxLag,
    Prune,
    PutAvroSchema,
    PutKey,
    TopFormat,
    TopFrom,
    TopInterval,
    TopKeys,
    TopOutput,
    Watch,
)
from streamtail.cli_options import (
    AvroSchema,
    CheckpointOpt,
    Columns,
    Consumer,
    Debug,
    Decode,
    DecodeChoice,
    Delimiter,
    Efo,
    Endpoint,
    Event,
    ExpandLogs,
    Grep,
    HashKey,
    IdleExit,
    Key,
    Limit,
    ListOutput,
    NoColor,
    Output,
    Profile,
    ProtoDescriptor,
    ProtoMessage,
    PutStream,
    Quiet,
    Region,
    RetryTimeout,
    ShardOpt,
    SkipControl,
    Start,
    Stream,
    Until,
    Where,
)

if TYPE_CHECKING:
    from streamtail.aws import Connection


def _connection(profile: str | None, region: str | None, endpoint: str | None) -> Connection:
    from streamtail.aws import Connection

    return Connection(profile=profile, region=region, endpoint_url=endpoint)


def _reading(*, follow: bool, doc: str) -> Callable[..., None]:
    """`read` or `follow`: the options of both declared once, here (`--idle-exit` is
    `follow`'s alone: it is left out of `read`'s signature), each run's options into a
    `ReadRequest`, which mypy checks field by field."""

    def command(
        stream: Stream,
        start: Start = None,
        until: Until = None,
        limit: Limit = None,
        idle_exit: IdleExit = None,
        output: Output = None,
        delimiter: Delimiter = None,
        decode: Decode = DecodeChoice.auto,
        shard: ShardOpt = None,
        key: Key = None,
        hash_key: HashKey = None,
        grep: Grep = None,
        event: Event = None,
        where: Where = None,
        columns: Columns = None,
        checkpoint: CheckpointOpt = None,
        retry_timeout: RetryTimeout = None,
        efo: Efo = False,
        consumer: Consumer = None,
        expand_logs: ExpandLogs = False,
        skip_control: SkipControl = False,
        avro_schema: AvroSchema = None,
        proto_descriptor: ProtoDescriptor = None,
        proto_message: ProtoMessage = None,
        profile: Profile = None,
        region: Region = None,
        endpoint_url: Endpoint = None,
        quiet: Quiet = False,
        no_color: NoColor = False,
        debug: Debug = False,
    ) -> None:
        from streamtail.core import ReadRequest, run_read
        from streamtail.decode import DecodeMode

        request = ReadRequest(
            stream=stream,
            conn=_connection(profile, region, endpoint_url),
            follow=follow,
            start=start,
            until=until,
            limit=limit,
            idle_exit=idle_exit,
            output=output.value if output else None,
            delimiter=delimiter,
            decode=DecodeMode(decode.value),
            shards=tuple(shard or ()),
            key=key,
            hash_key=hash_key,
            grep=grep,
            events=tuple(event or ()),
            where=where,
            columns=columns,
            checkpoint=checkpoint,
            retry_timeout=retry_timeout,
            efo=efo,
            consumer=consumer,
            expand_logs=expand_logs,
            skip_control=skip_control,
            avro_schema=avro_schema,
            proto_descriptor=proto_descriptor,
            proto_message=proto_message,
        )
        run(debug, no_color, lambda env: run_read(request, env), quiet=quiet)

    # Typer reads the parameters from the signature (annotations evaluated, as it needs them).
    signature = inspect.signature(command, eval_str=True)
    if not follow:
        parameters = [p for p in signature.parameters.values() if p.name != "idle_exit"]
        signature = signature.replace(parameters=parameters)
    command.__signature__ = signature  # type: ignore[attr-defined]
    command.__name__ = command.__qualname__ = "follow" if follow else "read"
    command.__doc__ = doc
    return command


read = app.command("read")(
    _reading(
        follow=False,
        doc="Read from --from (default trim-horizon) up to the tip of every shard, then exit.",
    )
)
follow = app.command("follow")(
    _reading(
        follow=True,
        doc="Follow new records (from --from, default latest) across resharding until Ctrl-C.",
    )
)


@app.command()
def put(
    stream: PutStream,
    key: PutKey = None,
    key_field: KeyField = None,
    from_ndjson: FromNdjson = False,
    binary: Binary = False,
    chunk_size: ChunkSize = None,
    avro_schema: PutAvroSchema = None,
    gsr_schema: GsrSchema = None,
    compress: Compress = None,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: Endpoint = None,
    no_color: NoColor = False,
    debug: Debug = False,
) -> None:
    """Write stdin to a Kinesis stream: one record per line, batched, failed records retried."""
    from streamtail.put import PutRequest, run_put

    request = PutRequest(
        stream=stream,
        conn=_connection(profile, region, endpoint_url),
        key=key,
        key_field=key_field,
        from_ndjson=from_ndjson,
        binary=binary,
        chunk_size=chunk_size,
        avro_schema=avro_schema,
        gsr_schema=gsr_schema,
        compress=compress.value if compress else None,
    )
    run(debug, no_color, lambda env: run_put(request, env))


@app.command("shards")
def shards_command(
    stream: Stream,
    output: ListOutput = None,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: Endpoint = None,
    no_color: NoColor = False,
    debug: Debug = False,
) -> None:
    """Show a stream's shards: lineage, hash-key and sequence ranges, open or closed."""
    from streamtail.core import run_shards

    conn = _connection(profile, region, endpoint_url)
    fmt = output.value if output else None
    run(debug, no_color, lambda env: run_shards(stream, conn, env, fmt))


@app.command("ls")
def ls_command(
    output: ListOutput = None,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: Endpoint = None,
    no_color: NoColor = False,
    debug: Debug = False,
) -> None:
    """List Kinesis streams (status, open shards, retention) and DynamoDB tables with a stream."""
    from streamtail.core import run_ls

    conn = _connection(profile, region, endpoint_url)
    fmt = output.value if output else None
    run(debug, no_color, lambda env: run_ls(conn, env, fmt))


@app.command("lag")
def lag_command(
    app_name: LagApp,
    table: LagTable = None,
    stream: LagStream = None,
    interval: LagInterval = "5s",
    watch: Watch = False,
    max_lag: MaxLag = None,
    output: ListOutput = None,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: Endpoint = None,
    no_color: NoColor = False,
    debug: Debug = False,
) -> None:
    """Show where a KCL consumer application is, shard by shard, and how far behind."""
    from streamtail.lag import LagRequest, run_lag

    request = LagRequest(
        app=app_name,
        conn=_connection(profile, region, endpoint_url),
        table=table,
        stream=stream,
        interval=interval,
        watch=watch,
        max_lag=max_lag,
        output=output.value if output else None,
    )
    run(debug, no_color, lambda env: run_lag(request, env))


@app.command("top")
def top_command(
    stream: Stream,
    by: By = ByChoice.records,
    top: TopKeys = 10,
    duration: Duration = None,
    interval: TopInterval = "1s",
    group_by: GroupBy = None,
    where: Where = None,
    start: TopFrom = None,
    until: Until = None,
    output: TopOutput = None,
    efo: Efo = False,
    consumer: Consumer = None,
    retry_timeout: RetryTimeout = None,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: Endpoint = None,
    quiet: Quiet = False,
    no_color: NoColor = False,
    debug: Debug = False,
) -> None:
    """Where a stream's traffic goes, live: records/s, KiB/s and load per shard, busiest keys."""
    from streamtail.core import ReadRequest
    from streamtail.top import TopRequest, run_top

    fmt: TopFormat | None = output
    request = TopRequest(
        read=ReadRequest(
            stream=stream,
            conn=_connection(profile, region, endpoint_url),
            start=start,
            until=until,
            efo=efo,
            consumer=consumer,
            retry_timeout=retry_timeout,
            where=where,
        ),
        by=by.value,
        top=top,
        duration=duration,
        interval=interval,
        group_by=group_by,
        output=fmt.value if fmt else None,
    )
    run(debug, no_color, lambda env: run_top(request, env), quiet=quiet)


@app.command()
def demo(
    limit: Limit = None,
    output: Output = None,
    rate: Annotated[
        float, typer.Option("--rate", help="Records a second the demo producer writes.", min=0.1)
    ] = 4.0,
    ddb: Annotated[
        bool, typer.Option("--ddb", help="Follow the demo DynamoDB table instead of the stream.")
    ] = False,
    quiet: Quiet = False,
    no_color: NoColor = False,
    debug: Debug = False,
) -> None:
    """Start an embedded local Kinesis and DynamoDB (moto), write sample traffic, follow it."""
    from streamtail.demo import run_demo

    fmt = output.value if output else None
    run(
        debug,
        no_color,
        lambda env: run_demo(env, limit=limit, output=fmt, rate=rate, ddb=ddb),
        quiet=quiet,
    )


@app.command("consumers")
def consumers_command(
    stream: Stream,
    prune: Prune = False,
    deregister: Deregister = None,
    output: ListOutput = None,
    profile: Profile = None,
    region: Region = None,
    endpoint_url: Endpoint = None,
    no_color: NoColor = False,
    debug: Debug = False,
) -> None:
    """List a Kinesis stream's enhanced fan-out consumers, marking streamtail's own (--efo);
    --prune and --deregister remove them."""
    from streamtail.efo.command import run_consumers

    conn = _connection(profile, region, endpoint_url)
    fmt = output.value if output else None
    names = tuple(deregister or ())
    run(
        debug,
        no_color,
        lambda env: run_consumers(stream, conn, env, fmt, prune=prune, deregister=names),
    )


def main() -> None:
    """The app on `sys.argv`; ends in SystemExit (the console script is `__main__.entry`)."""
    with building_only(sys.argv[1:]):
        app(prog_name="streamtail")
