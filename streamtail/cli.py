"""The command line: Typer commands that parse options into requests and call core.

This module is the one error boundary: `StreamtailError`s, Ctrl-C and SIGTERM, a closed pipe
and Click's usage errors become one line on stderr and an exit code here (docs/CONTRACT.md, "Exit
codes"), and nowhere else. It imports nothing heavy at the top, so `--help` and `--version`
start fast.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
import typer.core

from streamtail import __version__
from streamtail.cli_options import (
    AvroSchema,
    Binary,
    By,
    ByChoice,
    CheckpointOpt,
    ChunkSize,
    Columns,
    Compress,
    Consumer,
    Debug,
    Decode,
    DecodeChoice,
    Delimiter,
    Deregister,
    Duration,
    Efo,
    Endpoint,
    Event,
    ExpandLogs,
    FromNdjson,
    Grep,
    GroupBy,
    GsrSchema,
    HashKey,
    IdleExit,
    Key,
    KeyField,
    LagApp,
    LagInterval,
    LagStream,
    LagTable,
    Limit,
    ListOutput,
    MaxLag,
    NoColor,
    Output,
    OutputFormat,
    Profile,
    ProtoDescriptor,
    ProtoMessage,
    Prune,
    PutAvroSchema,
    PutKey,
    PutStream,
    Quiet,
    Region,
    RetryTimeout,
    ShardOpt,
    SkipControl,
    Start,
    Stream,
    TopFormat,
    TopFrom,
    TopInterval,
    TopKeys,
    TopOutput,
    Until,
    Watch,
    Where,
)
from streamtail.errors import ExitCode, StreamtailError
from streamtail.signals import Interrupted, handled

if TYPE_CHECKING:
    from streamtail.aws import Connection
    from streamtail.env import Env


def _fail(message: str, hint: str | None, code: int) -> NoReturn:
    from streamtail.render.safe import inert

    # Messages can quote stream names, user input and server text: never raw on the terminal.
    try:
        sys.stderr.write(f"streamtail: error: {inert(message)}\n")
        if hint:
            sys.stderr.write(f"streamtail: hint: {inert(hint)}\n")
        sys.stderr.flush()
    except OSError:  # stderr gone too (a terminal closed: SIGHUP): the exit code still tells
        pass
    sys.exit(code)


def _stdout_to_devnull() -> None:
    """stdout to /dev/null, so that the final flushes of what could not be written (at exit, by
    Python) are quiet instead of "Exception ignored" lines."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _quiet_broken_pipe() -> NoReturn:
    # The reader went away (`| head`): a normal end.
    _stdout_to_devnull()
    sys.exit(ExitCode.OK)


def _output_failed(exc: OSError | StreamtailError) -> NoReturn:
    """A write to stdout failed (a full disk, an I/O error): one line, exit 1; a closed pipe is
    the quiet end."""
    from streamtail.output import OutputError, output_error

    error = exc if not isinstance(exc, OSError) else output_error(exc)
    if isinstance(error, BrokenPipeError):
        _quiet_broken_pipe()
    _stdout_to_devnull()
    assert isinstance(error, OutputError)
    _fail(error.message, None, error.code)


# Recent Typer releases vendor Click (`typer._click`), older ones use Click itself: take the
# exception classes from wherever Typer's own BadParameter lives, so both work.
_click = sys.modules[typer.BadParameter.__module__]
_NoArgsIsHelp: type[Exception] = getattr(
    _click, "NoArgsIsHelpError", type("_Never", (Exception,), {})
)


class _Group(typer.core.TyperGroup):
    """Click's usage errors as one line (`streamtail: error: ...`) instead of a usage box."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = self._main(*args, **kwargs)
            sys.stdout.flush()
        except OSError as exc:
            # Click's own output (--help, --version) to a full disk or a closed pipe: commands
            # handle their own in `_run`.
            _output_failed(exc)
        sys.exit(code or 0)

    def _main(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().main(*args, **kwargs)
        except _NoArgsIsHelp as exc:
            # Typer's rich help prints itself while the error is built; Click's is the message.
            message = exc.format_message()  # type: ignore[attr-defined]
            if message.strip():
                sys.stdout.write(message + "\n")
                sys.stdout.flush()
            sys.exit(ExitCode.OK)
        except _click.UsageError as exc:
            argv = kwargs.get("args") or (args[0] if args else None) or sys.argv[1:]
            command = exc.ctx.command_path if exc.ctx else self._command_path(list(argv))
            _fail(exc.format_message(), f"see '{command} --help'", ExitCode.USAGE)
        except typer.Abort:
            sys.exit(ExitCode.INTERRUPTED)
        except _click.ClickException as exc:
            _fail(exc.format_message(), None, exc.exit_code)

    def _command_path(self, argv: list[str]) -> str:
        """The command an error without a context is about (Click's parser raises "Option
        '--from' requires an argument." without one): the first word of argv, if a command."""
        name = next((word for word in argv if not word.startswith("-")), None)
        return f"streamtail {name}" if name in self.commands else "streamtail"

    def _main_shell_completion(
        self, ctx_args: Any, prog_name: str, complete_var: Any = None
    ) -> None:
        # Only when the shell asks for candidates: our bash/zsh/fish classes (colon-safe, no rich).
        if complete_var is None:
            complete_var = f"_{prog_name}_COMPLETE".replace("-", "_").upper()
        if os.environ.get(complete_var):
            from streamtail.completion import register_shells

            register_shells()
        super()._main_shell_completion(ctx_args, prog_name, complete_var)


app = typer.Typer(
    name="streamtail",
    cls=_Group,
    help="Tail and inspect Kinesis streams (and Kinesis-compatible services) and DynamoDB Streams.",
    no_args_is_help=True,
    # Plain Click help: rich's help formatter costs ~100 ms of imports on every `--help`.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"streamtail {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Tail and inspect record streams: Kinesis Data Streams, every service that speaks its API
    (Yandex Data Streams, LocalStack, kinesis-mock), and DynamoDB Streams."""


def _connection(profile: str | None, region: str | None, endpoint: str | None) -> Connection:
    from streamtail.aws import Connection

    return Connection(profile=profile, region=region, endpoint_url=endpoint)


def _run(
    debug: bool, no_color: bool, action: Callable[[Env], None], *, quiet: bool = False
) -> None:
    """Run a command body inside the error boundary."""
    from streamtail.env import Env
    from streamtail.output import OutputError

    env = Env.from_process(no_color=no_color, debug=debug, quiet=quiet)
    try:
        with handled():  # SIGTERM stops as cleanly as Ctrl-C
            action(env)
            env.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()
    except OutputError as exc:
        _output_failed(exc)
    except Interrupted as exc:
        sys.exit(exc.code)
    except KeyboardInterrupt:
        sys.exit(ExitCode.INTERRUPTED)
    except StreamtailError as exc:
        _debug_traceback(debug)
        _fail(exc.message, exc.hint, exc.code)
    except Exception as exc:
        _debug_traceback(debug)
        _fail(
            f"unexpected {type(exc).__name__}: {exc}",
            "run again with --debug for a traceback, and please report it",
            ExitCode.RUNTIME,
        )


def _debug_traceback(debug: bool) -> None:
    """The traceback of the error being handled, on stderr, with --debug only."""
    if debug:
        traceback.print_exc()  # --debug only: users otherwise get one line


def _read(
    *,
    follow: bool,
    stream: str,
    start: str | None,
    until: str | None,
    limit: int | None,
    idle_exit: str | None,
    output: OutputFormat | None,
    delimiter: str | None,
    decode: DecodeChoice,
    shard: list[str] | None,
    key: str | None,
    hash_key: str | None,
    grep: str | None,
    event: list[str] | None,
    where: str | None,
    columns: str | None,
    checkpoint: str | None,
    retry_timeout: str | None,
    efo: bool,
    consumer: str | None,
    expand_logs: bool,
    skip_control: bool,
    avro_schema: str | None,
    proto_descriptor: str | None,
    proto_message: str | None,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    debug: bool,
    no_color: bool,
    quiet: bool,
) -> None:
    """`read` and `follow`: their options into a `ReadRequest`. Keyword-only and without
    defaults, so that mypy checks that each command passes every option, by name."""
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
    _run(debug, no_color, lambda env: run_read(request, env), quiet=quiet)


@app.command()
def read(
    stream: Stream,
    start: Start = None,
    until: Until = None,
    limit: Limit = None,
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
    """Read from --from (default trim-horizon) up to the tip of every shard, then exit."""
    _read(
        follow=False,
        idle_exit=None,
        stream=stream,
        start=start,
        until=until,
        limit=limit,
        output=output,
        delimiter=delimiter,
        decode=decode,
        shard=shard,
        key=key,
        hash_key=hash_key,
        grep=grep,
        event=event,
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
        profile=profile,
        region=region,
        endpoint_url=endpoint_url,
        quiet=quiet,
        no_color=no_color,
        debug=debug,
    )


@app.command()
def follow(
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
    """Follow new records (from --from, default latest) across resharding until Ctrl-C."""
    _read(
        follow=True,
        idle_exit=idle_exit,
        stream=stream,
        start=start,
        until=until,
        limit=limit,
        output=output,
        delimiter=delimiter,
        decode=decode,
        shard=shard,
        key=key,
        hash_key=hash_key,
        grep=grep,
        event=event,
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
        profile=profile,
        region=region,
        endpoint_url=endpoint_url,
        quiet=quiet,
        no_color=no_color,
        debug=debug,
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
    _run(debug, no_color, lambda env: run_put(request, env))


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
    _run(debug, no_color, lambda env: run_shards(stream, conn, env, fmt))


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
    _run(debug, no_color, lambda env: run_ls(conn, env, fmt))


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
    _run(debug, no_color, lambda env: run_lag(request, env))


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
    _run(debug, no_color, lambda env: run_top(request, env), quiet=quiet)


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
    _run(
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
    _run(
        debug,
        no_color,
        lambda env: run_consumers(stream, conn, env, fmt, prune=prune, deregister=names),
    )


def main() -> None:
    """The console script."""
    app(prog_name="streamtail")
