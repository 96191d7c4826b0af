"""memory.tune(): the collector's young threshold and glibc's malloc settings for a read."""

from __future__ import annotations

import gc
import platform
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
