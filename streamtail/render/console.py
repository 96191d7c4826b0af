"""rich consoles over the command's binary stdout, for the table, tree and list outputs."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

from streamtail.env import Env


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # rich exits 1 on a closed pipe; `| head` is a normal end (exit 0), which cli.py's error
        # boundary gives a BrokenPipeError.
        raise BrokenPipeError


def open_console(env: Env, *, soft_wrap: bool = False) -> tuple[Console, io.TextIOWrapper]:
    """A console writing to env.stdout (colour only when env.color), and its text wrapper.

    Markup, emoji codes and highlighting are off: what is printed is data, shown as it is.
    """
    text = io.TextIOWrapper(env.stdout, encoding="utf-8", errors="replace", write_through=True)
    console = _Console(
        file=text,
        width=env.width,
        color_system="auto" if env.color else None,
        force_terminal=env.color,
        no_color=not env.color,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=soft_wrap,
    )
    return console, text


def close_console(text: io.TextIOWrapper) -> None:
    """Flush the wrapper and hand env.stdout back untouched (it stays open)."""
    text.flush()
    text.detach()


@contextmanager
def stdout_console(env: Env) -> Iterator[Console]:
    console, text = open_console(env)
    try:
        yield console
    finally:
        close_console(text)
