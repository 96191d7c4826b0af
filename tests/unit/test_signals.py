"""SIGINT and SIGTERM as a clean stop, held back while a batch is printed and recorded."""

from __future__ import annotations

import os
import signal

import pytest

from streamtail.errors import ExitCode
from streamtail.signals import Interrupted, handled, shielded


def _send(signum: int) -> None:
    """Signal this process; Python runs the handler in the main thread at its next check."""
    os.kill(os.getpid(), signum)


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGINT, ExitCode.INTERRUPTED), (signal.SIGTERM, ExitCode.TERMINATED)],
)
def test_either_signal_raises_interrupted_with_its_exit_code(signum: int, code: int) -> None:
    with pytest.raises(Interrupted) as raised, handled():
        _send(signum)
        for _ in range(10**6):  # the handler runs between two bytecodes of this loop
            pass
    assert raised.value.code == code
    assert isinstance(raised.value, KeyboardInterrupt)  # what `finally` blocks expect


def test_a_signal_waits_for_the_end_of_a_shielded_block() -> None:
    steps: list[str] = []
    with pytest.raises(Interrupted) as raised, handled():
        with shielded():
            steps.append("write")
            _send(signal.SIGTERM)
            for _ in range(10**5):
                pass
            steps.append("record")  # still runs: the batch is printed and recorded
        steps.append("after")  # never: the held signal is raised when the block ends
    assert steps == ["write", "record"]
    assert raised.value.code == ExitCode.TERMINATED


def test_a_second_signal_is_not_held_back() -> None:
    steps: list[str] = []
    with pytest.raises(Interrupted), handled(), shielded():
        _send(signal.SIGINT)
        for _ in range(10**5):
            pass
        steps.append("held")
        _send(signal.SIGINT)
        for _ in range(10**6):
            pass
        steps.append("never")
    assert steps == ["held"]


def test_the_previous_handlers_come_back() -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with handled():
        assert signal.getsignal(signal.SIGTERM) is not before[0]
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_a_shielded_block_without_a_signal_leaves_no_shield_behind() -> None:
    """Once a quiet shielded block ends, the next signal stops the command at once."""
    steps: list[str] = []
    with pytest.raises(Interrupted) as raised, handled():
        with shielded():
            steps.append("batch")
        _send(signal.SIGINT)
        for _ in range(10**6):
            pass
        steps.append("never")  # reached only if the signal were still held back
    assert steps == ["batch"]
    assert raised.value.code == ExitCode.INTERRUPTED
