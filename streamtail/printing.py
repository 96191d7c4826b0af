"""One read's print pipeline: a batch of records to stdout and the checkpoint.

`Printing` takes each batch the walker yields a chunk at a time (one inflated record, or about
1 MiB of small ones): expanded and decoded (`decode.expand`), what an earlier run printed of a
record it cut short left out (`PartialRecords`), filtered, cut to `--limit`, written, and noted in
the checkpoint, the last two together under `signals.shielded()`. `DecodeProblems` names
payloads that did not decode as they claimed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from streamtail.decode import Decoded, DecodeOptions, Item, expand, undecodable
from streamtail.env import Env
from streamtail.errors import StreamtailError
from streamtail.filters import RecordFilter
from streamtail.model import Record, Resume
from streamtail.output import OutputError
from streamtail.reader.messages import Progress
from streamtail.signals import shielded

if TYPE_CHECKING:
    from streamtail.checkpoint import Checkpoint
    from streamtail.render import Renderer

_NOT_DECODED = Decoded("base64", None)
#: small records are written in chunks of about this many payload bytes
CHUNK_BYTES = 1 << 20


@dataclass
class Printing:
    """One read's way from batches to stdout: expand, filter, --limit, print, checkpoint."""

    renderer: Renderer
    record_filter: RecordFilter
    options: DecodeOptions
    decoding: bool
    #: print the records themselves (`aws`) rather than what they expand to
    originals: bool
    problems: DecodeProblems
    parts: PartialRecords
    checkpoint: Checkpoint | None
    remaining: int | None
    write: Callable[[Sequence[Item]], None]
    shown: int = 0
    #: what the walk has got through, as the walker last reported it (`progressed`)
    progress: Progress | None = None

    def progressed(self, progress: Progress) -> None:
        """The walker's report (`Walker(on_progress=...)`). The first comes once the stream is
        known to exist, before anything is printed: the checkpoint is saved then, so that a file
        that cannot be written fails early."""
        first = self.progress is None
        self.progress = progress
        if first and self.checkpoint is not None:
            save(self.checkpoint, progress)

    def batch(self, records: list[Record]) -> bool:
        """Print one batch; True once --limit is reached.

        Records are decoded and printed a chunk at a time (about `CHUNK_BYTES` of payloads, or
        one record whose payload was inflated), so memory holds one large record's output at
        most, never a whole batch inflated. Each chunk is noted in the checkpoint once it is
        written whole (a write that fails raises first), and the checkpoint is saved at the end
        of the batch, or on the way out (`save_last`): it names only what was written whole.
        """
        chunk: list[Item] = []
        start = weight = 0
        for index, record in enumerate(records):
            items = expand(record, self.options) if self.decoding else [(record, _NOT_DECODED)]
            chunk += items
            weight += len(record.data)
            # A payload that was inflated (gzip, zlib: "gzip+json") goes out at once.
            if weight >= CHUNK_BYTES or (items and "+" in items[0][1].enc):
                self._print(chunk, records[start : index + 1])
                chunk, weight, items = [], 0, []  # nothing of it held past its printing
                start = index + 1
                if self.remaining == 0:
                    break
        if chunk and self.remaining != 0:
            self._print(chunk, records[start:])
        if self.checkpoint is not None:
            with shielded():
                save(self.checkpoint, self.progress or Progress())
        return self.remaining == 0

    def _print(self, items: list[Item], records: list[Record]) -> None:
        """The items of whole `records`: what an earlier run printed left out, filtered, cut to
        --limit, written, and noted in the checkpoint."""
        if self.decoding:
            items = self.parts.unprinted(items)
        kept = self.record_filter.apply(items)
        kept = records_of(records, kept) if self.originals else list(kept)
        partial = None
        if self.remaining is not None:
            if len(kept) > self.remaining and not self.originals:
                partial = self.parts.cut(items, kept[self.remaining - 1])
            kept = kept[: self.remaining]
            self.remaining -= len(kept)
        if self.renderer.needs_decoded:
            # Only what is printed: a record filtered out or past --limit is no one's concern.
            self.problems.note(kept)
        # Printed and noted together, or neither: Ctrl-C, SIGTERM and SIGHUP wait for this.
        with shielded():
            if kept:
                self._write(kept)
            if self.checkpoint is not None and (kept or partial):
                self.checkpoint.note((record for record, _ in kept), partial)

    def _write(self, items: list[Item]) -> None:
        try:
            self.write(items)
        except orjson.JSONEncodeError:
            # A value the output cannot write (decoders keep JSON within orjson's depth; this is
            # the net under them): each item alone, the one that fails as its bytes in base64.
            for item in items:
                try:
                    self.write([item])
                except orjson.JSONEncodeError as exc:
                    record = item[0]
                    shown = (record, undecodable(record.data, exc))
                    self.problems.note([shown])
                    self.write([shown])
        self.shown += len(items)


def save(checkpoint: Checkpoint, progress: Progress) -> None:
    """Save what has been printed, and which shards have nothing left to read."""
    checkpoint.save(progress.finished, progress.listed)


def save_last(checkpoint: Checkpoint | None, progress: Progress | None) -> None:
    """The save on the way out: even when stdout went away (| head) or the walk failed; not
    when the stream was never listed (a mistyped name leaves no checkpoint behind)."""
    if checkpoint is None:
        return
    progress = progress or Progress()
    if checkpoint.existed or progress.listed:
        with shielded():
            save(checkpoint, progress)


def records_of(records: list[Record], kept: Sequence[Item]) -> list[Item]:
    """The records (as read) that any kept item came from, once each, in order."""
    wanted = {record.seq for record, _ in kept}
    return [(record, _NOT_DECODED) for record in records if record.seq in wanted]


def wind_down(steps: Sequence[Callable[[], None]], env: Env, *, failing: bool) -> None:
    """The steps of a read's end (stop the walk, flush, save the checkpoint), each run even if
    one before it fails. When the read is already failing, their own errors are warnings: the
    first cause (a full disk, say) is the one reported, not a flush or save that failed after
    it. Otherwise the first error of a step is raised once all have run."""
    first: BaseException | None = None
    for step in steps:
        try:
            step()
        except (StreamtailError, OSError) as exc:
            if failing:
                # stdout failing again is the same cause; a checkpoint that cannot be saved is news
                if not isinstance(exc, BrokenPipeError | OutputError):
                    env.warn(getattr(exc, "message", None) or str(exc))
            elif first is None:
                first = exc
    if first is not None:
        raise first


def guarded(
    write: Callable[[Sequence[Item]], None], env: Env, *, shared: bool
) -> Callable[[Sequence[Item]], None]:
    """Records on the terminal that also shows the status line: erase it first, under the lock
    that every writer of that terminal holds, so a row never lands on the status line."""
    if not shared:
        return write

    def guarded(items: Sequence[Item]) -> None:
        with env.terminal_lock:
            env.erase_status()
            write(items)

    return guarded


class DecodeProblems:
    """Printed payloads that did not decode as they claimed: the first of each kind named on
    stderr (shard and sequence number), a count of each kind among those printed at the end."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.counts: dict[str, int] = {}

    def note(self, items: Sequence[Item]) -> None:
        for record, decoded in items:
            warning = decoded.warning
            if warning is None:
                continue
            count = self.counts.get(warning, 0)
            self.counts[warning] = count + 1
            if count == 0:
                self.env.warn(f"shard {record.shard} seq {record.seq}: {warning}")

    def close(self, printed: int) -> None:
        """The count of each kind, of the `printed` records."""
        for warning, count in self.counts.items():
            if count > 1:
                self.env.warn(f"{count} of the {printed:,} records printed: {warning}")


class PartialRecords:
    """Records that show as several output records (a KPL aggregate's user records, a log
    envelope's events) and that --limit cut short: how many of them were printed."""

    def __init__(self, resume: Mapping[str, Resume]) -> None:
        #: (shard, seq) -> output records already printed, from the checkpoint
        self.skip = {(shard, r.seq): r.part for shard, r in resume.items() if r.part}
        self.skipped: dict[tuple[str, str], int] = {}

    def unprinted(self, items: list[Item]) -> list[Item]:
        """Leave out what an earlier run printed of a record it cut short."""
        if not self.skip:
            return items
        kept: list[Item] = []
        for item in items:
            key = (item[0].shard, item[0].seq)
            printed = self.skip.get(key)
            if printed is not None:
                seen = self.skipped.get(key, 0)
                if seen < printed:
                    self.skipped[key] = seen + 1
                    continue
                del self.skip[key]
            kept.append(item)
        return kept

    def cut(self, items: list[Item], last: Item) -> tuple[Record, int] | None:
        """The record `last` came from and how many of its output records are printed up to it,
        when that is not all of them."""
        record = last[0]
        key = (record.shard, record.seq)
        mine = [i for i, item in enumerate(items) if (item[0].shard, item[0].seq) == key]
        upto = next(i for i, item in enumerate(items) if item is last)
        printed = sum(1 for i in mine if i <= upto)
        if printed == len(mine):
            return None
        return record, printed + self.skipped.get(key, 0)
