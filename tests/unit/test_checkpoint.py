"""The checkpoint file: what it holds, how it is written (atomically), what it refuses (exit 2)."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest

from streamtail.checkpoint import Checkpoint
from streamtail.errors import ExitCode, StreamtailError, UsageError
from streamtail.model import (
    LATEST,
    TRIM_HORIZON,
    Position,
    PositionKind,
    Record,
    Resume,
    SourceKind,
    StreamRef,
)

ORDERS = StreamRef(SourceKind.KINESIS, display="orders", name="orders")
ORDERS_ARN = StreamRef(
    SourceKind.KINESIS,
    display="orders",
    arn="arn:aws:kinesis:us-east-1:123456789012:stream/orders",
    region="us-east-1",
)
DDB_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2026-11-21T00:00:00.000"
ORDERS_TABLE = StreamRef(SourceKind.DYNAMODB, display=DDB_ARN, name="Orders", arn=DDB_ARN)
NOW = 1_763_769_845.5


def record(shard: str, seq: str, ts_ms: int = 1_763_769_845_123) -> Record:
    return Record(shard, seq, "k", ts_ms, b"x")


def fresh(path: Path, ref: StreamRef = ORDERS, start: Position = TRIM_HORIZON) -> Checkpoint:
    checkpoint = Checkpoint.open(path)
    checkpoint.adopt(ref, start, NOW)
    return checkpoint


def test_what_the_file_holds(tmp_path: Path) -> None:
    path = tmp_path / "cp.json"
    checkpoint = fresh(path)
    checkpoint.note(
        [record("shardId-1", "10"), record("shardId-0", "7"), record("shardId-1", "12")]
    )
    checkpoint.save(finished=["shardId-0", "shardId-9"])
    checkpoint.close()
    assert json.loads(path.read_text()) == {
        "streamtail_checkpoint": 1,
        "stream": {"kind": "kinesis", "name": "orders", "arn": None},
        "start": {"kind": "TRIM_HORIZON"},
        "shards": {
            "shardId-0": {"seq": "7", "ts": "2025-11-22T00:04:05.123Z", "done": True},
            "shardId-1": {"seq": "12", "ts": "2025-11-22T00:04:05.123Z"},
            "shardId-9": {"done": True},
        },
    }
    again = Checkpoint.open(path)
    assert again.existed
    assert again.positions == {
        "shardId-0": Resume("7", 1_763_769_845_123),
        "shardId-1": Resume("12", 1_763_769_845_123),
    }
    assert again.finished == {"shardId-0", "shardId-9"}
    assert again.adopt(ORDERS, LATEST, NOW + 100) == TRIM_HORIZON  # the first run's start wins
    again.close()


def test_a_record_printed_in_part_keeps_how_much(tmp_path: Path) -> None:
    path = tmp_path / "cp.json"
    checkpoint = fresh(path)
    whole, cut = record("s", "5"), record("s", "9")
    checkpoint.note([whole, cut], partial=(cut, 3))
    checkpoint.save()
    checkpoint.close()
    assert json.loads(path.read_text())["shards"]["s"] == {
        "seq": "9",
        "ts": "2025-11-22T00:04:05.123Z",
        "part": 3,
    }
    again = Checkpoint.open(path)
    assert again.positions["s"] == Resume("9", 1_763_769_845_123, 3)
    again.note([record("s", "12")])  # a whole record later: no part any more
    assert again.positions["s"] == Resume("12", 1_763_769_845_123)
    again.close()


def test_latest_is_kept_as_the_time_of_the_first_run(tmp_path: Path) -> None:
    path = tmp_path / "cp.json"
    checkpoint = fresh(path, start=LATEST)
    assert checkpoint.start == Position(PositionKind.AT_TIMESTAMP, timestamp=NOW - 1.0)
    checkpoint.save()
    checkpoint.close()
    again = Checkpoint.open(path)
    assert again.adopt(ORDERS, LATEST, NOW + 3600) == Position(
        PositionKind.AT_TIMESTAMP, timestamp=NOW - 1.0
    )
    again.close()


@pytest.mark.parametrize(
    "start",
    [
        Position(PositionKind.AT_SEQUENCE_NUMBER, sequence="4959"),
        Position(PositionKind.AFTER_SEQUENCE_NUMBER, sequence="4959"),
        Position(PositionKind.AT_TIMESTAMP, timestamp=NOW - 60),
    ],
)
def test_every_start_position_round_trips(tmp_path: Path, start: Position) -> None:
    path = tmp_path / "cp.json"
    checkpoint = fresh(path, start=start)
    checkpoint.save()
    checkpoint.close()
    again = Checkpoint.open(path)
    assert again.adopt(ORDERS, TRIM_HORIZON, NOW) == start
    again.close()


def test_writes_are_atomic_renames_and_skipped_when_nothing_changed(tmp_path: Path) -> None:
    path = tmp_path / "cp.json"
    checkpoint = fresh(path)
    checkpoint.note([record("s", "1")])
    checkpoint.save()
    first = path.stat().st_ino
    checkpoint.save()
    assert path.stat().st_ino == first  # unchanged: not written again
    checkpoint.note([record("s", "2")])
    checkpoint.save()
    assert path.stat().st_ino != first  # a new file renamed over the old one
    checkpoint.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cp.json"]  # lock file removed


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cp.json"
    checkpoint = fresh(path)
    checkpoint.note([record("s", "1")])
    checkpoint.save()
    before = path.read_bytes()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    checkpoint.note([record("s", "2")])
    with pytest.raises(StreamtailError) as raised:
        checkpoint.save()
    assert raised.value.code is ExitCode.RUNTIME
    assert raised.value.message == f"cannot write checkpoint file {path}: No space left on device"
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cp.json", "cp.json.lock"]
    checkpoint.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cp.json"]  # lock file removed


def test_a_temporary_file_left_by_a_killed_run_is_removed(tmp_path: Path) -> None:
    stale = tmp_path / ".cp.json.12345.tmp"
    stale.write_text("half")
    Checkpoint.open(tmp_path / "cp.json").close()
    assert not stale.exists()


def test_entries_of_shards_the_stream_no_longer_lists_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "cp.json"
    checkpoint = fresh(path)
    checkpoint.note([record("old", "1"), record("new", "2")])
    checkpoint.save(finished=["gone"], listed=())  # no listing known: nothing dropped
    assert set(json.loads(path.read_text())["shards"]) == {"old", "new", "gone"}
    checkpoint.save(listed={"new"})
    assert set(json.loads(path.read_text())["shards"]) == {"new"}
    checkpoint.close()


def test_a_second_streamtail_on_the_same_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cp.json"
    first = Checkpoint.open(path)
    with pytest.raises(UsageError) as raised:
        Checkpoint.open(path)
    assert raised.value.message == f"checkpoint file {path} is in use by another streamtail"
    first.close()
    Checkpoint.open(path).close()  # free again
    assert not (tmp_path / "cp.json.lock").exists()


def test_a_lock_file_left_by_a_killed_streamtail_is_harmless(tmp_path: Path) -> None:
    """flock(2) locks die with their process: a lock file left behind is simply locked again."""
    import subprocess
    import sys

    path = tmp_path / "cp.json"
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, sys; from streamtail.checkpoint import Checkpoint; "
            f"Checkpoint.open(__import__('pathlib').Path({str(path)!r})); os._exit(9)",
        ],
        check=False,
    )
    assert killed.returncode == 9
    assert (tmp_path / "cp.json.lock").exists()  # left behind, its process gone
    checkpoint = fresh(path)
    checkpoint.save()
    checkpoint.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cp.json"]


def test_a_lock_file_removed_while_waited_for_is_not_shared(tmp_path: Path) -> None:
    """A streamtail that opened FILE.lock just before its holder removed it gets the lock on a
    file nobody else can find: it must take a fresh one instead, or two runs would share."""
    path = tmp_path / "cp.json"
    lock = tmp_path / "cp.json.lock"
    first = Checkpoint.open(path)
    stale_fd = os.open(lock, os.O_RDWR)  # opened, not yet locked, as a second run would
    first.close()  # removes the lock file, then lets go
    import fcntl

    fcntl.flock(stale_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the orphan inode is lockable...
    second = Checkpoint.open(path)  # ...but the path is what counts: a new, free lock file
    with pytest.raises(UsageError, match="in use by another streamtail"):
        Checkpoint.open(path)
    second.close()
    os.close(stale_fd)


@pytest.mark.parametrize(
    ("ref", "other", "same"),
    [
        (ORDERS, ORDERS_ARN, True),  # a name and the ARN of that name
        (ORDERS_ARN, ORDERS, True),
        (ORDERS, StreamRef(SourceKind.KINESIS, display="payments", name="payments"), False),
        (ORDERS_TABLE, ORDERS_TABLE, True),
        (ORDERS_TABLE, StreamRef(SourceKind.DYNAMODB, "x", "Orders", DDB_ARN + "1"), False),
        (ORDERS, StreamRef(SourceKind.DYNAMODB, display="orders", name="orders"), False),
    ],
)
def test_a_checkpoint_belongs_to_one_stream(
    tmp_path: Path, ref: StreamRef, other: StreamRef, same: bool
) -> None:
    path = tmp_path / "cp.json"
    checkpoint = fresh(path, ref)
    checkpoint.save()
    checkpoint.close()
    again = Checkpoint.open(path)
    if same:
        again.adopt(other, TRIM_HORIZON, NOW)
    else:
        with pytest.raises(UsageError, match=r"^checkpoint file .* belongs to stream "):
            again.adopt(other, TRIM_HORIZON, NOW)
    again.close()


KINESIS_ID = {
    "account": "123456789012",
    "region": "us-east-1",
    "name": "orders",
    "created": "2026-11-01T08:00:00.000Z",
}


@pytest.mark.parametrize(
    ("theirs", "ours", "refused"),
    [
        (KINESIS_ID, KINESIS_ID, None),
        (KINESIS_ID, {**KINESIS_ID, "created": "2026-12-01T08:00:00.000Z"}, "created"),
        (KINESIS_ID, {**KINESIS_ID, "account": "210987654321"}, "account"),
        (KINESIS_ID, {**KINESIS_ID, "region": "eu-west-1"}, "region"),
        # a field one side lacks (a service that leaves it out) is not compared
        (KINESIS_ID, {"name": "orders", "created": KINESIS_ID["created"]}, None),
        (None, KINESIS_ID, None),  # a file written before identities were kept
        (KINESIS_ID, None, None),  # the service would not tell: checked by name only
    ],
)
def test_a_checkpoint_belongs_to_one_stream_identity(
    tmp_path: Path,
    theirs: dict[str, str] | None,
    ours: dict[str, str] | None,
    refused: str | None,
) -> None:
    path = tmp_path / "cp.json"
    checkpoint = Checkpoint.open(path)
    checkpoint.adopt(ORDERS, TRIM_HORIZON, NOW, theirs)
    checkpoint.save()
    checkpoint.close()
    again = Checkpoint.open(path)
    if refused is None:
        again.adopt(ORDERS, TRIM_HORIZON, NOW, ours)
        again.save()
        assert json.loads(path.read_text())["stream"].get("identity") == (ours or theirs)
    else:
        assert theirs is not None and ours is not None
        with pytest.raises(UsageError) as raised:
            again.adopt(ORDERS, TRIM_HORIZON, NOW, ours)
        assert raised.value.code is ExitCode.USAGE
        assert raised.value.hint is None  # one line, which says how to start over
        assert raised.value.message == (
            f"checkpoint file {path} belongs to another stream named orders ({refused} "
            f"{theirs[refused]}; this one: {refused} {ours[refused]}): its positions mean "
            f"nothing here; to start over, remove {path} or give another --checkpoint file"
        )
    again.close()


def _valid() -> dict[str, Any]:
    return {
        "streamtail_checkpoint": 1,
        "stream": {"kind": "kinesis", "name": "orders", "arn": None},
        "start": {"kind": "TRIM_HORIZON"},
        "shards": {"shardId-0": {"seq": "7"}},
    }


def _with(**changes: Any) -> bytes:
    data = _valid()
    data.update(changes)
    return json.dumps(data).encode()


BAD_FILES: dict[str, tuple[bytes, str]] = {
    "too large": (b" " * (16 * 1024 * 1024 + 1), "is too large for a checkpoint"),
    "not json": (b"seq=7\n", "is not a streamtail checkpoint (not JSON)"),
    "not utf-8": (b"\xff\xfe{}", "is not a streamtail checkpoint (not JSON)"),
    "a list": (b"[1, 2]", "is not a streamtail checkpoint"),
    "foreign json": (b'{"shardId-0": "7"}', "is not a streamtail checkpoint"),
    "marker wrong": (_with(streamtail_checkpoint="yes"), "is damaged: streamtail_checkpoint"),
    "marker bool": (_with(streamtail_checkpoint=True), "is damaged: streamtail_checkpoint"),
    "newer format": (_with(streamtail_checkpoint=2), "was written by a newer streamtail"),
    "no stream": (_with(stream=None), "is damaged: no stream"),
    "stream kind": (_with(stream={"kind": "kafka", "name": "x"}), "is damaged: stream"),
    "stream nameless": (_with(stream={"kind": "kinesis"}), "is damaged: stream"),
    "stream name type": (_with(stream={"kind": "kinesis", "name": 7}), "is damaged: stream"),
    "identity type": (
        _with(stream={"kind": "kinesis", "name": "o", "identity": ["x"]}),
        "is damaged: stream identity",
    ),
    "identity empty": (
        _with(stream={"kind": "kinesis", "name": "o", "identity": {}}),
        "is damaged: stream identity",
    ),
    "identity value": (
        _with(stream={"kind": "kinesis", "name": "o", "identity": {"created": 7}}),
        "is damaged: stream identity",
    ),
    "no start": (_with(start=None), "is damaged: start"),
    "start latest": (_with(start={"kind": "LATEST"}), "is damaged: start"),
    "start kind": (_with(start={"kind": "NOW"}), "is damaged: start"),
    "start seq": (
        _with(start={"kind": "AT_SEQUENCE_NUMBER", "sequence": "-1"}),
        "is damaged: start",
    ),
    "start time nan": (
        b'{"streamtail_checkpoint": 1, "stream": {"kind": "kinesis", "name": "o"}, '
        b'"start": {"kind": "AT_TIMESTAMP", "timestamp": NaN}, "shards": {}}',
        "is not a streamtail checkpoint (not JSON)",
    ),
    "start time huge": (
        _with(start={"kind": "AT_TIMESTAMP", "timestamp": 1e300}),
        "is damaged: start",
    ),
    "no shards": (_with(shards=[]), "is damaged: no shards"),
    "entry type": (_with(shards={"shardId-0": "7"}), "is damaged: shard entry"),
    "empty shard id": (_with(shards={"": {"seq": "7"}}), "is damaged: shard entry"),
    "seq not digits": (_with(shards={"s": {"seq": "7a"}}), "is damaged: shard s has seq"),
    "seq a number": (_with(shards={"s": {"seq": 7}}), "is damaged: shard s has seq"),
    "neither": (_with(shards={"s": {}}), "is damaged: shard s has neither seq nor done"),
    "done type": (_with(shards={"s": {"seq": "7", "done": "yes"}}), "is damaged: shard s has done"),
    "part zero": (_with(shards={"s": {"seq": "7", "part": 0}}), "is damaged: shard s has part"),
    "part text": (_with(shards={"s": {"seq": "7", "part": "2"}}), "is damaged: shard s has part"),
    "part no seq": (_with(shards={"s": {"done": True, "part": 2}}), "is damaged: shard s has part"),
    "bad ts": (_with(shards={"s": {"seq": "7", "ts": "yesterday"}}), "is damaged: shard s has ts"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_damaged_or_foreign_file_is_refused_and_left_alone(tmp_path: Path, name: str) -> None:
    content, message = BAD_FILES[name]
    path = tmp_path / "cp.json"
    path.write_bytes(content)
    with pytest.raises(UsageError) as raised:
        Checkpoint.open(path)
    error = raised.value
    assert error.code is ExitCode.USAGE
    assert error.message.startswith(f"checkpoint file {path} {message}"), error.message
    assert "\n" not in error.message
    assert error.hint == "fix or remove the file to start afresh (streamtail does not overwrite it)"
    assert path.read_bytes() == content
    Checkpoint.open(tmp_path / "other.json").close()  # the failed open released its lock


@pytest.mark.parametrize("content", [b"", b"\n", b"  \n\t"])
def test_an_empty_file_is_a_new_checkpoint(tmp_path: Path, content: bytes) -> None:
    # `mktemp` and `touch` make one; issue 26: it was refused as "not JSON".
    path = tmp_path / "cp.json"
    path.write_bytes(content)
    checkpoint = Checkpoint.open(path)
    try:
        assert not checkpoint.existed and checkpoint.positions == {} and checkpoint.stream is None
    finally:
        checkpoint.close()


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_a_checkpoint_that_is_not_a_regular_file_is_refused_at_once(
    tmp_path: Path, kind: str
) -> None:
    # `--checkpoint /dev/zero` was read without end (23.5 GB, SIGTERM ignored meanwhile).
    if kind == "fifo":
        path = tmp_path / "fifo"
        os.mkfifo(path)  # opening it to read would block until a writer came
    else:
        path = Path("/dev/zero")
    with pytest.raises(UsageError) as raised:
        Checkpoint.open(path)
    assert raised.value.message == f"checkpoint file {path} is not a regular file"
    assert not path.with_name(path.name + ".lock").exists()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d, "is a directory"),
        (lambda d: d / "missing" / "cp.json", ": No such file or directory"),
    ],
)
def test_a_path_that_cannot_be_a_checkpoint_is_refused(
    tmp_path: Path, make: Any, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        Checkpoint.open(make(tmp_path))
