"""The golden-file check (tests/conftest.py) can fail, and an update run is never green."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import UPDATE_GOLDEN, check_golden


def test_equal_output_passes_and_different_output_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(UPDATE_GOLDEN, raising=False)
    path = tmp_path / "out.txt"
    path.write_bytes(b"a\nb\n")
    check_golden(path, b"a\nb\n")
    check_golden(path, "a\nb\n")
    with pytest.raises(AssertionError):
        check_golden(path, b"a\nc\n")
    with pytest.raises(AssertionError):
        check_golden(path, b"a\nb")  # a missing final newline is a difference too
    with pytest.raises(AssertionError, match="no golden file"):
        check_golden(tmp_path / "missing.txt", b"")


@pytest.mark.parametrize("before", [None, b"old\n", b"new\n"], ids=["new", "changed", "same"])
def test_an_update_run_rewrites_and_still_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, before: bytes | None
) -> None:
    monkeypatch.setenv(UPDATE_GOLDEN, "1")
    path = tmp_path / "golden" / "out.txt"
    if before is not None:
        path.parent.mkdir()
        path.write_bytes(before)
    with pytest.raises(pytest.fail.Exception, match=f"run again without {UPDATE_GOLDEN}"):
        check_golden(path, "new\n")
    assert path.read_bytes() == b"new\n"
