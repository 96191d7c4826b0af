"""`--checkpoint FILE`: where every shard of one stream was left, kept on disk for a restart.

The file is JSON, written whole (files.py), so that a crash leaves the old file or the new one. It
holds, per shard, the last record printed (`seq`, and its arrival time `ts`) and whether the shard
has nothing left to read (`done`: drained to its end, or skipped as wholly before the start), and
`part` when --limit cut that record short after so many of its output records (a KPL aggregate, a
log envelope); and the start position of the first run, for shards with no entry:

    {"streamtail_checkpoint": 1,
     "stream": {"kind": "kinesis", "name": "orders", "arn": null,
                "identity": {"account": "123456789012", "region": "us-east-1", "name": "orders",
                             "created": "2026-11-01T08:00:00.000Z"}},
     "start": {"kind": "AT_TIMESTAMP", "timestamp": 1763769845.1},
     "shards": {"shardId-000000000000": {"seq": "4959...", "ts": "2026-11-21T21:04:05.123Z"},
                "shardId-000000000001": {"seq": "4959...", "done": true}}}

`identity` binds the file to one stream, not just to a name: the account, region, name and
creation time of a Kinesis stream, the stream ARN and label of a DynamoDB stream (see each
source's `identity()`). A stream deleted and created again under the same name, or the same name
in another account or region, is refused: its sequence numbers mean nothing there. A file
written before identities were kept has none, loads as before, and is bound on its next save.

`latest` is kept as the time the first run started (a second early), so that a restart reads
what arrived meanwhile in shards that printed nothing yet. A file that is not a checkpoint, is
damaged, or belongs to another stream is refused (exit 2), never overwritten. A lock file
(files.py's `FileLock`) keeps two streamtails from writing the same checkpoint at once.
"""

from __future__ import annotations

import math
import re
import stat
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from streamtail.errors import StreamtailError, UsageError
from streamtail.files import Busy, FileLock, write_whole
from streamtail.model import Position, PositionKind, Record, Resume, SourceKind, StreamRef
from streamtail.positions import format_ts, now_position

if TYPE_CHECKING:
    pass

FORMAT = 1
MARKER = "streamtail_checkpoint"
_SEQUENCE = re.compile(r"^\d{1,128}$")
#: the largest checkpoint file read: about 60,000 shards' entries
MAX_BYTES = 16 * 1024 * 1024
_REMEDY = "fix or remove the file to start afresh (streamtail does not overwrite it)"


@dataclass(frozen=True)
class StreamId:
    """Which stream a checkpoint belongs to."""

    kind: SourceKind
    name: str | None
    arn: str | None

    @classmethod
    def of(cls, ref: StreamRef) -> StreamId:
        # A Kinesis stream named by ARN shows its name as `display`.
        name = ref.name or (ref.display if ref.kind is SourceKind.KINESIS else None)
        return cls(ref.kind, name, ref.arn)

    def same_as(self, other: StreamId) -> bool:
        if self.kind is not other.kind:
            return False
        if self.arn and other.arn:
            return self.arn == other.arn
        return self.name == other.name

    def __str__(self) -> str:
        return self.arn or self.name or "?"


@dataclass
class Checkpoint:
    """A checkpoint file, open for one walk: loaded (if it exists), locked, saved as it goes."""

    path: Path
    stream: StreamId | None = None
    start: Position | None = None
    #: the stream's identity (see the module doc); None in a file written before it was kept
    identity: dict[str, str] | None = None
    positions: dict[str, Resume] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)
    #: whether the file held positions when opened
    existed: bool = False
    _lock: FileLock | None = None
    _saved: bytes = b""

    # -- opening ----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> Checkpoint:
        """Lock and load `path` (a missing file is a new checkpoint); UsageError if unusable."""
        checkpoint = cls(path)
        checkpoint._take_lock()
        try:
            checkpoint.load()
        except BaseException:
            checkpoint.close()
            raise
        return checkpoint

    def _take_lock(self) -> None:
        """Hold FILE.lock (files.py: flock(2), removed on close, a killed streamtail's harmless)."""
        if self.path.is_dir():
            raise UsageError(f"checkpoint file {self.path} is a directory")
        self._check_file()
        lock = FileLock(self.path)
        try:
            lock.acquire()
        except Busy as exc:
            raise UsageError(
                f"checkpoint file {self.path} is in use by another streamtail",
                hint="give each running streamtail its own checkpoint file",
            ) from exc
        except OSError as exc:
            raise UsageError(f"cannot use checkpoint file {self.path}: {exc.strerror}") from exc
        self._lock = lock

    def _check_file(self) -> None:
        """A checkpoint is a regular file of a checkpoint's size, or missing: /dev/zero, a FIFO
        or a huge file is refused at once (it would be read without end, or locked beside in
        /dev), never read."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise UsageError(f"cannot use checkpoint file {self.path}: {exc.strerror}") from exc
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(
                f"checkpoint file {self.path} is not a regular file",
                hint="--checkpoint takes a file name (a new name starts a new checkpoint)",
            )
        if info.st_size > MAX_BYTES:
            raise self._bad(f"is too large for a checkpoint ({info.st_size} bytes)")

    def load(self) -> None:
        try:
            with self.path.open("rb") as file:
                raw = file.read(MAX_BYTES + 1)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise UsageError(f"cannot read checkpoint file {self.path}: {exc.strerror}") from exc
        if len(raw) > MAX_BYTES:
            raise self._bad("is too large for a checkpoint")
        if not raw.strip():
            return  # empty (`mktemp`, `touch`): a new checkpoint, written at the first save
        self._saved = raw
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise self._bad("is not a streamtail checkpoint (not JSON)") from None
        if not isinstance(data, dict) or MARKER not in data:
            raise self._bad("is not a streamtail checkpoint")
        version = data[MARKER]
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise self._bad(f"is damaged: {MARKER} is {version!r}")
        if version > FORMAT:
            raise self._bad(f"was written by a newer streamtail (format {version})")
        self.stream = _stream(data.get("stream"), self)
        self.identity = _identity(data["stream"].get("identity"), self)
        self.start = _start(data.get("start"), self)
        shards = data.get("shards")
        if not isinstance(shards, dict):
            raise self._bad("is damaged: no shards")
        for shard_id, entry in shards.items():
            self._load_shard(shard_id, entry)
        self.existed = True

    def _load_shard(self, shard_id: str, entry: Any) -> None:
        if not shard_id or not isinstance(entry, dict):
            raise self._bad(f"is damaged: shard entry {shard_id!r}")
        seq, ts, done = entry.get("seq"), entry.get("ts"), entry.get("done", False)
        part = entry.get("part")
        if seq is not None and not (isinstance(seq, str) and _SEQUENCE.match(seq)):
            raise self._bad(f"is damaged: shard {shard_id} has seq {seq!r}")
        if part is not None and (
            not isinstance(part, int) or isinstance(part, bool) or part < 1 or seq is None
        ):
            raise self._bad(f"is damaged: shard {shard_id} has part {part!r}")
        if not isinstance(done, bool):
            raise self._bad(f"is damaged: shard {shard_id} has done {done!r}")
        if seq is None and not done:
            raise self._bad(f"is damaged: shard {shard_id} has neither seq nor done")
        ts_ms = None
        if ts is not None:
            ts_ms = _parse_ts(ts)
            if ts_ms is None:
                raise self._bad(f"is damaged: shard {shard_id} has ts {ts!r}")
        if seq is not None:
            self.positions[shard_id] = Resume(seq, ts_ms, part)
        if done:
            self.finished.add(shard_id)

    def _bad(self, what: str) -> UsageError:
        return UsageError(f"checkpoint file {self.path} {what}", hint=_REMEDY)

    def adopt(
        self,
        ref: StreamRef,
        start: Position,
        now: float,
        identity: Mapping[str, str] | None = None,
    ) -> Position:
        """Check the file is this stream's (its name, and its `identity` when known on both
        sides), and return the position for shards without an entry: the first run's, or
        `start` for a new checkpoint (`latest` kept as the time of now)."""
        ours = StreamId.of(ref)
        start_over = f"to start over, remove {self.path} or give another --checkpoint file"
        if self.stream is not None and not self.stream.same_as(ours):
            raise UsageError(
                f"checkpoint file {self.path} belongs to stream {self.stream}, not {ours}: "
                f"{start_over}"
            )
        if identity and self.identity:
            differ = sorted(
                k for k in identity.keys() & self.identity.keys() if identity[k] != self.identity[k]
            )
            if differ:
                raise UsageError(
                    f"checkpoint file {self.path} belongs to another stream named {ours} "
                    f"({_describe(self.identity, differ)}; this one: "
                    f"{_describe(identity, differ)}): its positions mean nothing here; "
                    f"{start_over}"
                )
        if identity:
            self.identity = dict(identity)
        self.stream = ours
        if self.start is None:
            if start.kind is PositionKind.LATEST:
                # The time of now, as the reader remembers LATEST (a second early for skew).
                self.start = now_position(now)
            else:
                self.start = start
            return start
        return self.start

    # -- recording ----------------------------------------------------------------------------

    def note(self, records: Iterable[Record], partial: tuple[Record, int] | None = None) -> None:
        """Records printed (in order within each shard): the last of each shard is its position;
        `partial`, a record of which only so many output records were printed (--limit)."""
        last: dict[str, Record] = {}
        for record in records:
            last[record.shard] = record
        for shard_id, record in last.items():
            self.positions[shard_id] = Resume(record.seq, record.ts_ms)
        if partial is not None:
            record, part = partial
            self.positions[record.shard] = Resume(record.seq, record.ts_ms, part)

    def save(self, finished: Iterable[str] = (), listed: Collection[str] = ()) -> None:
        """Write the file if anything changed. Entries of shards the stream no longer lists
        (`listed`, when known) are dropped; `finished` shards are marked done."""
        self.finished.update(finished)
        if listed:
            self.positions = {k: v for k, v in self.positions.items() if k in listed}
            self.finished &= set(listed)
        payload = orjson.dumps(self._document(), option=orjson.OPT_INDENT_2) + b"\n"
        if payload == self._saved:
            return
        try:
            write_whole(self.path, payload)
        except OSError as exc:
            raise StreamtailError(
                f"cannot write checkpoint file {self.path}: {exc.strerror}"
            ) from exc
        self._saved = payload

    def _document(self) -> dict[str, Any]:
        assert self.stream is not None and self.start is not None
        shards: dict[str, dict[str, Any]] = {}
        for shard_id in sorted(set(self.positions) | self.finished):
            entry: dict[str, Any] = {}
            resume = self.positions.get(shard_id)
            if resume is not None:
                entry["seq"] = resume.seq
                if resume.ts_ms is not None:
                    entry["ts"] = format_ts(resume.ts_ms)
                if resume.part is not None:
                    entry["part"] = resume.part
            if shard_id in self.finished:
                entry["done"] = True
            shards[shard_id] = entry
        start: dict[str, Any] = {"kind": self.start.kind.value}
        if self.start.sequence is not None:
            start["sequence"] = self.start.sequence
        if self.start.timestamp is not None:
            start["timestamp"] = self.start.timestamp
        return {
            MARKER: FORMAT,
            "stream": {
                "kind": self.stream.kind.value,
                "name": self.stream.name,
                "arn": self.stream.arn,
                **({"identity": self.identity} if self.identity else {}),
            },
            "start": start,
            "shards": shards,
        }

    def close(self) -> None:
        """Remove the lock file and let go of the lock."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def _stream(value: Any, checkpoint: Checkpoint) -> StreamId:
    if not isinstance(value, dict):
        raise checkpoint._bad("is damaged: no stream")
    kinds = {kind.value: kind for kind in SourceKind}
    name, arn = value.get("name"), value.get("arn")
    if (
        value.get("kind") not in kinds
        or not isinstance(name, str | None)
        or not isinstance(arn, str | None)
        or not (name or arn)
    ):
        raise checkpoint._bad(f"is damaged: stream {value!r}")
    return StreamId(kinds[value["kind"]], name, arn)


def _identity(value: Any, checkpoint: Checkpoint) -> dict[str, str] | None:
    if value is None:
        return None  # written before identities were kept
    if (
        not isinstance(value, dict)
        or not value
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    ):
        raise checkpoint._bad(f"is damaged: stream identity {value!r}")
    return dict(value)


#: how an identity's fields read in a message, in this order
_FIELDS = {
    "created": "created {}",
    "account": "account {}",
    "region": "region {}",
    "label": "label {}",
    "arn": "{}",
    "name": "named {}",
}


def _describe(identity: Mapping[str, str], fields: Collection[str]) -> str:
    return ", ".join(text.format(identity[k]) for k, text in _FIELDS.items() if k in fields)


def _start(value: Any, checkpoint: Checkpoint) -> Position:
    bad = checkpoint._bad(f"is damaged: start {value!r}")
    if not isinstance(value, dict):
        raise bad
    try:
        kind = PositionKind(str(value.get("kind")))
    except ValueError:
        raise bad from None
    sequence: Any = value.get("sequence")
    timestamp: Any = value.get("timestamp")
    if kind in {PositionKind.AT_SEQUENCE_NUMBER, PositionKind.AFTER_SEQUENCE_NUMBER}:
        if not (isinstance(sequence, str) and _SEQUENCE.match(sequence)):
            raise bad
        return Position(kind, sequence=sequence)
    if kind is PositionKind.AT_TIMESTAMP:
        valid = isinstance(timestamp, int | float) and not isinstance(timestamp, bool)
        if not valid or not math.isfinite(timestamp):
            raise bad
        try:
            datetime.fromtimestamp(timestamp, UTC)
        except (OverflowError, ValueError, OSError):
            raise bad from None
        return Position(kind, timestamp=float(timestamp))
    if kind is PositionKind.TRIM_HORIZON:
        return Position(kind)
    raise bad  # LATEST is never stored (it is kept as a time)


def _parse_ts(value: Any) -> int | None:
    """An NDJSON-style `ts` (ISO-8601 UTC) as epoch milliseconds, or None."""
    if not isinstance(value, str) or not value.endswith("Z"):
        return None
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00")
    except ValueError:
        return None
    return round(moment.timestamp() * 1000)
