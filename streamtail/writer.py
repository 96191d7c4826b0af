"""`put`'s engine: entries into PutRecords batches, failed entries retried with backoff.

- A batch holds at most 500 records and 5 MiB (data and partition keys), the PutRecords limits.
  It is sent when full, when the input ends, or when its oldest entry has waited `linger` seconds
  (so `tail -f log | streamtail put` writes as lines come, and a file goes out in full batches).
- Input is read on a thread into a bounded queue, so a slow stream slows the reading down.
- Entries the service refused for a transient reason (throttling, internal failure) are sent
  again, alone, with full-jitter exponential backoff; a batch gives up after `retry_window`
  seconds without progress, and its remaining entries count as failed. A whole call that fails
  with a service or network error is retried the same way; usage, not-found and credential errors
  end the run. Other per-entry errors (KMS access, for instance) are not retried.
- Batches go out one at a time, so records with the same key are written in input order unless
  a retry has to send one again after later ones.
"""

from __future__ import annotations

import queue
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from streamtail.clock import SYSTEM, Clock, pause
from streamtail.entries import Rejected
from streamtail.errors import TRANSIENT_CODES, ServiceError
from streamtail.model import PutEntry as Entry
from streamtail.model import PutResult
from streamtail.signals import shielded
from streamtail.stdin import Stopped

MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 5 * 1024 * 1024
#: per-entry error codes worth sending again
RETRY_CODES = TRANSIENT_CODES | {"InternalFailure", "ServiceUnavailable"}


#: sends a batch; one result per entry, in order
PutCall = Callable[[Sequence[Entry]], list[PutResult]]


@dataclass(frozen=True)
class WritePacing:
    #: send a partial batch once its oldest entry has waited this long (None: only when full)
    linger: float | None = 0.1
    retry_base: float = 0.1
    retry_cap: float = 5.0
    #: a batch that makes no progress for this long gives up on its remaining entries
    retry_window: float = 60.0
    #: entries read ahead of the sender
    queue_size: int = 4 * MAX_BATCH_RECORDS


@dataclass
class PutStats:
    written: int = 0
    failed: int = 0
    rejected: int = 0
    calls: int = 0
    retried: int = 0
    #: error code -> how many entries finally failed with it
    errors: Counter[str] = field(default_factory=Counter)
    #: the first failure's message, to show the user
    first_error: str | None = None
    #: entries read but not sent because the run was interrupted
    unsent: int = 0
    interrupted: bool = False


_END = object()
#: how long the end of a run waits for the input thread to see its stop event
_JOIN_TIMEOUT = 2.0
#: the error code given to every entry of a call that failed as a whole (network, 5xx)
_CALL_FAILED = "ServiceError"


class _ReadFailure(NamedTuple):
    error: BaseException


class Writer:
    def __init__(
        self,
        put: PutCall,
        *,
        pacing: WritePacing | None = None,
        on_reject: Callable[[Rejected], None] | None = None,
        on_retry: Callable[[str], None] | None = None,
        clock: Clock = SYSTEM,
    ) -> None:
        self.put = put
        self.pacing = pacing or WritePacing()
        self.on_reject = on_reject or (lambda _rejected: None)
        self.on_retry = on_retry or (lambda _message: None)
        self.clock = clock
        self.stats = PutStats()
        #: entries read and not yet resolved (the batch being filled, or what is being retried)
        self._open: list[Entry] = []
        #: the signal that stopped the run (`signals.Interrupted`, or KeyboardInterrupt)
        self.interruption: KeyboardInterrupt | None = None

    def run(
        self, entries: Iterable[Entry | Rejected], *, stop: threading.Event | None = None
    ) -> PutStats:
        """Send every entry; returns the counts (also kept in `stats`). Ctrl-C, SIGTERM and
        SIGHUP stop the run: `stats.interrupted` is set, `interruption` keeps the signal's
        exception, and `stats.unsent` counts what was read and not written. `stop` is set when
        the run ends, so that a read of the input waiting on it ends too (stdin.Input)."""
        inbox: queue.Queue[object] = queue.Queue(maxsize=self.pacing.queue_size)
        stop = stop or threading.Event()
        reader = threading.Thread(
            target=_pump, args=(entries, inbox, stop), name="put-input", daemon=True
        )
        reader.start()
        try:
            self._loop(inbox)
        except KeyboardInterrupt as exc:
            self.stats.interrupted = True
            self.interruption = exc
            self.stats.unsent += len(self._open) + _drain(inbox)
        finally:
            stop.set()
            # The input thread sees the event within a tenth of a second (waiting for input or
            # for room in the queue) and ends: nothing of it is left running at exit.
            reader.join(_JOIN_TIMEOUT)
        return self.stats

    def _loop(self, inbox: queue.Queue[object]) -> None:
        batch: list[Entry] = []
        self._open = batch
        size = 0
        oldest = 0.0
        linger = self.pacing.linger
        while True:
            timeout = (
                None if not batch or linger is None else oldest + linger - self.clock.monotonic()
            )
            try:
                item = inbox.get(timeout=None if timeout is None else max(timeout, 0.0))
            except queue.Empty:
                self._flush(batch)
                size = 0
                continue
            if item is _END:
                self._flush(batch)
                return
            if isinstance(item, _ReadFailure):
                self._flush(batch)
                raise item.error
            if isinstance(item, Rejected):
                self.stats.rejected += 1
                self.on_reject(item)
                continue
            assert isinstance(item, Entry)
            if batch and (len(batch) >= MAX_BATCH_RECORDS or size + item.size > MAX_BATCH_BYTES):
                self._flush(batch)
                size = 0
            if not batch:
                oldest = self.clock.monotonic()
            batch.append(item)
            size += item.size
            if len(batch) >= MAX_BATCH_RECORDS:
                self._flush(batch)
                size = 0

    def _flush(self, batch: list[Entry]) -> None:
        """Send a batch until every entry is written or has failed; empties `batch`."""
        todo = list(batch)
        failing_since: float | None = None
        attempt = 0
        while todo:
            self._open = todo
            # A signal during the call waits for its answer: what it wrote is counted written.
            with shielded():
                try:
                    results = self._call(todo)
                except ServiceError as exc:
                    results = [PutResult(exc.aws_code or _CALL_FAILED, exc.message)] * len(todo)
                retry: list[tuple[Entry, PutResult]] = []
                for entry, result in zip(todo, results, strict=True):
                    if result.error_code is None:
                        self.stats.written += 1
                    elif result.error_code in RETRY_CODES or result.error_code == _CALL_FAILED:
                        retry.append((entry, result))
                    else:
                        self._fail(result)
                self._open = [entry for entry, _result in retry]
            if not retry:
                break
            now = self.clock.monotonic()
            if len(retry) < len(todo):
                failing_since, attempt = now, 0  # progress: the window starts again
            elif failing_since is None:
                failing_since = now
            if now - failing_since > self.pacing.retry_window:
                for _entry, result in retry:
                    self._fail(result)
                break
            self.stats.retried += len(retry)
            self.on_retry(f"PutRecords refused records ({retry[0][1].error_code}); retrying")
            cap = min(self.pacing.retry_cap, self.pacing.retry_base * 2**attempt)
            attempt += 1
            pause(self.clock, random.uniform(0, cap))
            todo = [entry for entry, _result in retry]
        batch.clear()
        self._open = batch

    def _call(self, entries: list[Entry]) -> list[PutResult]:
        self.stats.calls += 1
        results = self.put(entries)
        if len(results) != len(entries):
            raise ServiceError(
                f"PutRecords answered {len(results)} results for {len(entries)} records"
            )
        return results

    def _fail(self, result: PutResult) -> None:
        self.stats.failed += 1
        code = result.error_code or "unknown error"
        if code == _CALL_FAILED:
            code = "request failed"
        self.stats.errors[code] += 1
        if self.stats.first_error is None:
            detail = f": {result.error_message}" if result.error_message else ""
            self.stats.first_error = f"{code}{detail}"


def _drain(inbox: queue.Queue[object]) -> int:
    """How many entries were read and are still waiting in the queue."""
    count = 0
    while True:
        try:
            item = inbox.get_nowait()
        except queue.Empty:
            return count
        count += isinstance(item, Entry)


def _pump(
    entries: Iterable[Entry | Rejected], inbox: queue.Queue[object], stop: threading.Event
) -> None:
    """The input thread: entries into the queue until the input ends or the run stops."""

    def deliver(item: object) -> bool:
        while not stop.is_set():
            try:
                inbox.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    try:
        for entry in entries:
            if not deliver(entry):
                return
    except Stopped:  # the run ended while the input was idle
        return
    except Exception as exc:  # an unreadable stdin: handed to the sender, which raises it
        deliver(_ReadFailure(exc))
        return
    deliver(_END)
