"""memory.tune(): the collector's young threshold and glibc's malloc settings for a read."""

from __future__ import annotations

import gc
import platform
import subprocess
import sys
from collections.abc import Iterator

import pytest

from streamtail import memory


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_the_young_generation_is_collected_once_a_batch() -> None:
    gc.set_threshold(700, 10, 10)
    memory.tune()
    assert gc.get_threshold() == (memory.GC_YOUNG, 10, 10)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_malloc_settings_take_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*memory._USER_SETTINGS, "GLIBC_TUNABLES"):
        monkeypatch.delenv(name, raising=False)
    assert memory.tune() is (platform.libc_ver()[0] == "glibc")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MALLOC_TOP_PAD_", "0"),
        ("MALLOC_MMAP_THRESHOLD_", "131072"),
        ("MALLOC_TRIM_THRESHOLD_", "131072"),
        ("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=131072"),
    ],
)
def test_a_user_who_tunes_malloc_is_left_alone(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    assert memory.tune() is False
    assert gc.get_threshold()[0] == memory.GC_YOUNG  # the collector is still tuned


def test_a_read_in_the_console_scripts_process_freezes_what_start_up_made() -> None:
    """`tune` freezes start-up's objects only in the console script's process (`own_process`):
    a program that runs the CLI in-process (this one) keeps every object in the collector's
    sight."""
    memory.tune()
    assert gc.get_freeze_count() == 0
    probe = (
        "import gc\n"
        "from streamtail import memory\n"
        "memory.own_process()\n"
        "import streamtail.cli, streamtail.core\n"
        "memory.tune()\n"
        "print(gc.get_freeze_count(), gc.get_count()[0])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    frozen, young = map(int, result.stdout.split())
    # start-up's objects frozen; the young count restarted (the allocator settings since)
    assert frozen > 10_000 and young < frozen // 10
