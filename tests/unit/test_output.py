"""stdout written whole (streamtail/output.py): short writes continued, failures one error."""

from __future__ import annotations

from typing import Any

import pytest

from streamtail import output


def test_short_writes_are_continued_and_a_failure_is_an_output_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # write(2) may take part of what it is given (a disk filling up, a pipe with little room);
    # an unbuffered stdout dropped the rest while the checkpoint recorded it as printed.
    taken: list[bytes] = []

    def short(_fd: int, data: Any) -> int:
        if len(taken) == 3:
            raise OSError(28, "No space left on device")
        taken.append(bytes(data[:4]))
        return len(taken[-1])

    monkeypatch.setattr(output.os, "write", short)
    writer = output.WholeWriter(1)
    assert writer.write(b"0123456789") == 10
    assert b"".join(taken) == b"0123456789"
    with pytest.raises(output.OutputError) as raised:
        writer.write(b"more")
    assert raised.value.message == "cannot write to stdout: No space left on device"
    assert raised.value.code == 1


def test_a_closed_pipe_stays_a_broken_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    def closed(_fd: int, _data: Any) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(output.os, "write", closed)
    with pytest.raises(BrokenPipeError):
        output.WholeWriter(1).write(b"x")
