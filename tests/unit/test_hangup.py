"""hangup.py: the reader of stdout gone, seen without writing, and never seen while someone can
still read (a regular file, /dev/null, a live terminal, an open pipe)."""

from __future__ import annotations

import contextlib
import io
import os
import pty
import select
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamtail.hangup import GONE, ReaderWatch, descriptor, watch_reader


def reader_gone(fd: int) -> bool:
    """What the watch's poll(2) reports for `fd` now (no wait): the kernel facts it relies on."""
    poller = select.poll()
    poller.register(fd, 0)
    return any(events & GONE for _, events in poller.poll(0))


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    try:
        yield read_end, write_end
    finally:
        for fd in (read_end, write_end):
            with contextlib.suppress(OSError):
                os.close(fd)


def test_a_pipe_whose_reader_closed_is_seen(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    assert not reader_gone(write_end)
    os.close(read_end)
    assert reader_gone(write_end)


def test_a_full_pipe_with_its_reader_still_there_is_not_gone(pipe: tuple[int, int]) -> None:
    _, write_end = pipe
    os.set_blocking(write_end, False)
    try:
        while True:
            os.write(write_end, b"x" * 65536)
    except BlockingIOError:
        pass
    assert not reader_gone(write_end)


def test_regular_files_and_dev_null_never_look_gone(tmp_path: Path) -> None:
    with (tmp_path / "out").open("wb") as regular, open(os.devnull, "wb") as null:
        assert not reader_gone(regular.fileno())
        assert not reader_gone(null.fileno())


def test_a_terminal_is_gone_only_once_the_terminal_itself_closed() -> None:
    master, slave = pty.openpty()
    try:
        assert not reader_gone(slave)
        os.close(master)
        assert reader_gone(slave)  # the window closed: nobody will read what is written
    finally:
        os.close(slave)


def test_the_watch_calls_back_when_the_reader_leaves(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    called = threading.Event()
    with os.fdopen(os.dup(write_end), "wb") as stream, watch_reader(stream, called.set) as watch:
        assert not called.wait(0.3)
        os.close(read_end)
        assert called.wait(5)
    assert watch.gone


def test_the_watch_ends_with_its_block_when_the_reader_stays(pipe: tuple[int, int]) -> None:
    called = threading.Event()
    with os.fdopen(os.dup(pipe[1]), "wb") as stream:
        with watch_reader(stream, called.set) as watch:
            pass
        assert watch._thread is not None and not watch._thread.is_alive()
    assert not watch.gone and not called.is_set()


def test_a_stream_without_a_descriptor_is_not_watched() -> None:
    assert descriptor(io.BytesIO()) is None
    watch = ReaderWatch(None, lambda: None).start()
    assert watch._thread is None
    watch.stop()


def test_a_descriptor_closed_under_the_watch_ends_it_without_a_call(
    pipe: tuple[int, int],
) -> None:
    called = threading.Event()
    fd = os.dup(pipe[1])
    watch = ReaderWatch(fd, called.set).start()
    os.close(fd)  # poll(2) answers POLLNVAL from now on
    assert watch._thread is not None
    watch._thread.join(timeout=5)
    assert not watch._thread.is_alive()
    assert not called.is_set() and not watch.gone
    watch.stop()
