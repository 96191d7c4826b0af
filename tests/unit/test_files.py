"""files.py: a lock beside a file (one holder at a time, removed on release) and writing a file
whole (no temporary file left, the old content replaced at once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamtail.files import Busy, FileLock, stale_temporaries, write_whole


def test_write_whole_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "cache.json"
    target.write_bytes(b"old")
    write_whole(target, b"new" * 1000)
    assert target.read_bytes() == b"new" * 1000
    assert list(stale_temporaries(target)) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache.json"]


def test_write_whole_into_a_missing_folder_fails_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "gone" / "cache.json"
    with pytest.raises(OSError):
        write_whole(target, b"x")
    assert not target.parent.exists()


def test_a_lock_has_one_holder_and_its_file_goes_with_its_release(tmp_path: Path) -> None:
    target = tmp_path / "cp.json"
    first, second = FileLock(target), FileLock(target)
    first.acquire()
    assert first.path == tmp_path / "cp.json.lock" and first.path.exists()
    with pytest.raises(Busy):
        second.acquire()
    first.release()
    assert not first.path.exists()
    second.acquire()  # free again
    second.release()
