"""The command line's app (`app`: the Typer group, `--version`) and its one error boundary: a
command's body run so that every way it can end is an exit code and at most a line or two on
stderr (docs/CONTRACT.md, "Exit codes"), and Click's usage errors as one line.

Only Typer and the standard library at import, as cli.py: `--help` imports this module.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
import typer.core

from streamtail import __version__
from streamtail.errors import ExitCode, StreamtailError
from streamtail.signals import Interrupted, handled

if TYPE_CHECKING:
    from streamtail.env import Env


def fail(message: str, hint: str | None, code: int) -> NoReturn:
    from streamtail.redact import scrub_urls
    from streamtail.render.safe import inert

    # Messages can quote stream names, user input and server text: never raw on the terminal;
    # and the endpoint URL the user gave (a connection error quotes it): never its secrets.
    try:
        sys.stderr.write(f"streamtail: error: {inert(scrub_urls(message))}\n")
        if hint:
            sys.stderr.write(f"streamtail: hint: {inert(scrub_urls(hint))}\n")
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


def quiet_broken_pipe() -> NoReturn:
    # The reader went away (`| head`): a normal end.
    _stdout_to_devnull()
    sys.exit(ExitCode.OK)


def output_failed(exc: OSError | StreamtailError) -> NoReturn:
    """A write to stdout failed (a full disk, an I/O error): one line, exit 1; a closed pipe is
    the quiet end."""
    from streamtail.output import OutputError, output_error

    error = exc if not isinstance(exc, OSError) else output_error(exc)
    if isinstance(error, BrokenPipeError):
        quiet_broken_pipe()
    _stdout_to_devnull()
    assert isinstance(error, OutputError)
    fail(error.message, None, error.code)


# Recent Typer releases vendor Click (`typer._click`), older ones use Click itself: take the
# exception classes from wherever Typer's own BadParameter lives, so both work.
_click = sys.modules[typer.BadParameter.__module__]
_NoArgsIsHelp: type[Exception] = getattr(
    _click, "NoArgsIsHelpError", type("_Never", (Exception,), {})
)


class Group(typer.core.TyperGroup):
    """Click's usage errors as one line (`streamtail: error: ...`) instead of a usage box."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            code = self._main(*args, **kwargs)
            sys.stdout.flush()
        except OSError as exc:
            # Click's own output (--help, --version) to a full disk or a closed pipe: commands
            # handle their own in `run`.
            output_failed(exc)
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
            fail(exc.format_message(), f"see '{command} --help'", ExitCode.USAGE)
        except typer.Abort:
            sys.exit(ExitCode.INTERRUPTED)
        except _click.ClickException as exc:
            fail(exc.format_message(), None, exc.exit_code)

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


def run(debug: bool, no_color: bool, action: Callable[[Env], None], *, quiet: bool = False) -> None:
    """Run a command body inside the error boundary."""
    from streamtail.env import Env
    from streamtail.output import OutputError

    env = Env.from_process(no_color=no_color, debug=debug, quiet=quiet)
    try:
        with handled():  # SIGTERM stops as cleanly as Ctrl-C
            action(env)
            env.stdout.flush()
    except BrokenPipeError:
        quiet_broken_pipe()
    except OutputError as exc:
        output_failed(exc)
    except Interrupted as exc:
        sys.exit(exc.code)
    except KeyboardInterrupt:
        sys.exit(ExitCode.INTERRUPTED)
    except StreamtailError as exc:
        _debug_traceback(debug)
        fail(exc.message, exc.hint, exc.code)
    except Exception as exc:
        _debug_traceback(debug)
        fail(
            f"unexpected {type(exc).__name__}: {exc}",
            "run again with --debug for a traceback, and please report it",
            ExitCode.RUNTIME,
        )


def leave(exc: SystemExit) -> NoReturn:
    """End the process with `exc`'s exit status as Python's own exit would, without tearing the
    interpreter down.

    Python's exit frees the interpreter's objects one by one, and collects garbage over them all,
    before the process ends: with botocore loaded, ~75 ms of CPU after every command (a quarter
    of a small read's), where the kernel frees the same memory at once. Everything that exit
    does that anyone can see is done here first: atexit handlers run (the `--debug` log's
    `logging.shutdown`), every stdout and stderr is flushed. Where any of it is in doubt (an
    exit status that is not a number, a thread Python would wait for, a flush that fails),
    Python's own exit runs instead, as it always did.
    """
    from streamtail.output import flush_all

    code = 0 if exc.code is None else exc.code
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    current = threading.current_thread()
    waited_for = [t for t in threading.enumerate() if t is not current and not t.daemon]
    if not isinstance(code, int) or waited_for or run_exitfuncs is None:
        raise exc
    try:
        flush_all()
        run_exitfuncs()
        flush_all()  # what the handlers wrote
    except BaseException:
        raise exc from None
    os._exit(code)


def _debug_traceback(debug: bool) -> None:
    """The traceback of the error being handled, on stderr, with --debug only."""
    if debug:
        traceback.print_exc()  # --debug only: users otherwise get one line


app = typer.Typer(
    name="streamtail",
    cls=Group,
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


@contextmanager
def building_only(argv: list[str]) -> Iterator[None]:
    """While the block runs, `app` builds only the command `argv` names first. Typer builds a
    Click command for every registered command on each start (~7 ms of CPU for the nine, most of
    it reading their signatures); a run of one command needs that one. Anything else (no
    command, an unknown name, `--help` of the group, a shell asking for completions) sees them
    all."""
    from typer.main import get_command_name

    name = argv[0] if argv else None
    chosen = [
        info
        for info in app.registered_commands
        if info.callback is not None
        and (info.name or get_command_name(info.callback.__name__)) == name
    ]
    if len(chosen) != 1 or "_STREAMTAIL_COMPLETE" in os.environ:
        yield
        return
    every = app.registered_commands
    app.registered_commands = chosen
    try:
        yield
    finally:
        app.registered_commands = every
