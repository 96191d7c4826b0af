"""Memory management tuned for a reader's rhythm: the C allocator (glibc) and the garbage collector.

A read handles one GetRecords response at a time: a body of up to 10 MB, then tens of thousands
of small objects and an output buffer of the same size, all freed before the next response. With
glibc's defaults those large buffers are mapped with mmap and unmapped when freed, and the heap
is trimmed back to the system after each batch, so every batch faults its memory in afresh: on the
benchmark machine, about a million page faults and a third of the CPU time for 100,000 records.

Raising the mmap threshold keeps large buffers on the heap, and the trim threshold and top pad
let the heap keep what it grew to, so each batch reuses the pages of the one before. Memory stays
flat at the read's high-water mark (which the record budget bounds), rather than being handed
back and taken again. A user who tunes malloc through the environment is left alone; elsewhere
than glibc on Linux nothing is done.

The garbage collector, by default, runs a young-generation pass every 700 new container objects;
a batch makes tens of thousands that all live until it is printed, so each pass walks survivors
and promotes them, about a fifth of the per-record time. Passes run every 100,000 new objects
instead: about one per 10,000-record batch. Nothing on the read path builds reference cycles, so
this changes when garbage is found, not how much memory a read holds.

In the console script's process (`own_process`, called by `__main__.entry` before anything is
imported) the threshold is raised from the start, and when a read begins (`tune`) what start-up
made (~100,000 objects: modules, classes, botocore's models, all living as long as the process)
is frozen out of the collector's sight (`gc.freeze`): the first young pass of a read no longer
walks them all (16-20 ms of CPU, for a few hundred objects found), and the older passes of a long
`follow` never do. A program that runs the CLI in its own process (the tests) keeps its collector
as it was: nothing of its own is frozen.
"""

from __future__ import annotations

import gc
import os
import sys

#: mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
_SETTINGS = (
    # the most glibc accepts on 64-bit systems (HEAP_MAX_SIZE / 2): a 10 MB body stays on the heap
    (_M_MMAP_THRESHOLD, 32 << 20),
    (_M_TRIM_THRESHOLD, 128 << 20),
    (_M_TOP_PAD, 16 << 20),
)
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")


#: the young generation's threshold (Python's default is 700); the older two keep theirs
GC_YOUNG = 100_000


#: whether this process is the console script's (`own_process`)
_OWN = {"process": False}


def tune() -> bool:
    """Tune the collector (in the console script's process, start-up's objects frozen), then the
    allocator; whether the allocator settings took (False off glibc or when the user tunes
    malloc)."""
    collect_less()
    if _OWN["process"]:
        gc.freeze()
    return _tune_malloc()


def own_process() -> None:
    """This process is the console script's: the collector is tuned now, before anything is
    imported, and `tune` freezes what start-up made."""
    _OWN["process"] = True
    collect_less()


def collect_less() -> None:
    """Young-generation passes every `GC_YOUNG` new objects. Start-up makes ~100,000 objects
    (modules, classes, botocore's models) that all live, and Python's default threshold walked
    them in ~80 passes, ~10 ms of CPU that found no garbage."""
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG, older, oldest)


def _tune_malloc() -> bool:
    if not sys.platform.startswith("linux") or _user_tunes():
        return False
    import ctypes  # only the commands that read records need it

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in _SETTINGS)


def _user_tunes() -> bool:
    return any(name in os.environ for name in _USER_SETTINGS) or "glibc.malloc." in os.environ.get(
        "GLIBC_TUNABLES", ""
    )
