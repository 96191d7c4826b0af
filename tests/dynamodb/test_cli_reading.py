"""Reading positions and stop rules of `read`/`follow` on a DynamoDB stream (moto in-process):
sequence order, --event, --limit, trim-horizon / latest / at: / after: / a time, --until, the tip,
and `follow` picking up changes written after it started."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import pytest

from .helpers import (
    ACCOUNT,
    NO_TIMESTAMP_NOTICE,
    REGION,
    ChangeClock,
    api_records,
    change_line,
    cli,
    create_table,
    explain,
    shard_of,
    with_shard,
)


def _item(n: int, **extra: Any) -> dict[str, Any]:
    return {"pk": {"S": f"k{n:04d}"}, "v": {"N": str(n)}, **extra}


def _seqs(stdout: str) -> list[str]:
    return [json.loads(line)["seq"] for line in stdout.splitlines()]


def _events(stdout: str) -> list[tuple[str, str]]:
    objs = [json.loads(line) for line in stdout.splitlines()]
    return [(o["event"], o["keys"]["pk"]) for o in objs]


@pytest.fixture
def mixed(ddb: Any, streams: Any) -> list[dict[str, Any]]:
    """Table `Orders` with 12 changes: INSERT k0..k5, MODIFY k0,k2,k4, REMOVE k1,k3,k5."""
    arn = create_table(ddb, "Orders", "NEW_AND_OLD_IMAGES")
    assert arn is not None
    for n in range(6):
        ddb.put_item(TableName="Orders", Item=_item(n))
    for n in (0, 2, 4):
        ddb.put_item(TableName="Orders", Item=_item(n, note={"S": "changed"}))
    for n in (1, 3, 5):
        ddb.delete_item(TableName="Orders", Key={"pk": {"S": f"k{n:04d}"}})
    return with_shard(api_records(streams, arn), shard_of(streams, arn))


ALL_EVENTS = [("INSERT", f"k{n:04d}") for n in range(6)] + [
    ("MODIFY", "k0000"),
    ("MODIFY", "k0002"),
    ("MODIFY", "k0004"),
    ("REMOVE", "k0001"),
    ("REMOVE", "k0003"),
    ("REMOVE", "k0005"),
]


def test_records_come_out_in_sequence_order(mixed: list[dict[str, Any]]) -> None:
    result = cli("read", "ddb:Orders")
    assert result.exit_code == 0, explain(result)
    assert _events(result.stdout) == ALL_EVENTS
    seqs = _seqs(result.stdout)
    assert seqs == [r["dynamodb"]["SequenceNumber"] for r in mixed]
    assert [int(s) for s in seqs] == sorted(int(s) for s in seqs)


def test_order_holds_across_full_batches(ddb: Any, streams: Any) -> None:
    # More than one GetRecords batch (DynamoDB Streams: at most 1,000 records a call).
    arn = create_table(ddb, "Bulk", "KEYS_ONLY")
    assert arn is not None
    for start in range(0, 1010, 25):
        ddb.batch_write_item(
            RequestItems={
                "Bulk": [
                    {"PutRequest": {"Item": _item(n)}} for n in range(start, min(start + 25, 1010))
                ]
            }
        )
    result = cli("read", "ddb:Bulk")
    assert result.exit_code == 0, explain(result)
    seqs = _seqs(result.stdout)
    assert seqs == [r["dynamodb"]["SequenceNumber"] for r in api_records(streams, arn)]
    assert len(seqs) == 1010
    assert len(set(seqs)) == 1010


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (["--event", "INSERT"], {"INSERT"}),
        (["--event", "modify", "--event", "Remove"], {"MODIFY", "REMOVE"}),
        (["--event", "remove"], {"REMOVE"}),
    ],
)
def test_event_filter_is_repeatable_and_case_insensitive(
    mixed: list[dict[str, Any]], args: list[str], wanted: set[str]
) -> None:
    result = cli("read", "ddb:Orders", *args)
    assert result.exit_code == 0, explain(result)
    assert _events(result.stdout) == [e for e in ALL_EVENTS if e[0] in wanted]


def test_invalid_event_is_a_usage_error(mixed: list[dict[str, Any]]) -> None:
    result = cli("read", "ddb:Orders", "--event", "UPSERT")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "streamtail: error: invalid --event 'UPSERT': choose INSERT, MODIFY or REMOVE\n"
    )


def test_limit_stops_after_n_records(mixed: list[dict[str, Any]]) -> None:
    result = cli("read", "ddb:Orders", "--limit", "4")
    assert result.exit_code == 0, explain(result)
    assert _events(result.stdout) == ALL_EVENTS[:4]


def test_limit_counts_records_kept_by_the_event_filter(mixed: list[dict[str, Any]]) -> None:
    result = cli("read", "ddb:Orders", "--event", "REMOVE", "-n", "2")
    assert result.exit_code == 0, explain(result)
    assert _events(result.stdout) == [("REMOVE", "k0001"), ("REMOVE", "k0003")]


def test_shard_option_takes_the_table_stream_shard(mixed: list[dict[str, Any]]) -> None:
    shard = mixed[0]["_shard"]
    result = cli("read", "ddb:Orders", "--shard", shard)
    assert result.exit_code == 0, explain(result)
    assert _events(result.stdout) == ALL_EVENTS
    missing = cli("read", "ddb:Orders", "--shard", "shardId-nope")
    assert missing.exit_code == 2
    assert missing.stderr.startswith("streamtail: error: no shard shardId-nope in stream ")


# -- positions -----------------------------------------------------------------------------------


def test_trim_horizon_is_the_default_of_read(mixed: list[dict[str, Any]]) -> None:
    default = cli("read", "ddb:Orders")
    explicit = cli("read", "ddb:Orders", "--from", "trim-horizon")
    assert explicit.exit_code == 0, explain(explicit)
    assert explicit.stdout == default.stdout
    assert _events(explicit.stdout) == ALL_EVENTS
    assert explicit.stderr == ""


def test_read_from_latest_prints_nothing_and_exits_0(mixed: list[dict[str, Any]]) -> None:
    result = cli("read", "ddb:Orders", "--from", "latest")
    assert result.exit_code == 0, explain(result)
    assert result.stdout == ""


def test_at_sequence_number_includes_it_after_excludes_it(mixed: list[dict[str, Any]]) -> None:
    seq = mixed[7]["dynamodb"]["SequenceNumber"]
    at = cli("read", "ddb:Orders", "--from", f"at:{seq}")
    after = cli("read", "ddb:Orders", "--from", f"after:{seq}")
    assert at.exit_code == 0, explain(at)
    assert after.exit_code == 0, explain(after)
    assert _events(at.stdout) == ALL_EVENTS[7:]
    assert _events(after.stdout) == ALL_EVENTS[8:]
    assert _seqs(at.stdout)[0] == seq


def test_after_the_last_sequence_number_reads_nothing(mixed: list[dict[str, Any]]) -> None:
    seq = mixed[-1]["dynamodb"]["SequenceNumber"]
    result = cli("read", "ddb:Orders", "--from", f"after:{seq}")
    assert result.exit_code == 0, explain(result)
    assert result.stdout == ""


def test_a_sequence_number_before_the_shard_reads_it_all(mixed: list[dict[str, Any]]) -> None:
    result = cli("read", "ddb:Orders", "--from", "at:1")
    assert result.exit_code == 0, explain(result)
    assert _events(result.stdout) == ALL_EVENTS


class Timed(NamedTuple):
    arn: str
    records: list[dict[str, Any]]


@pytest.fixture
def timed(ddb: Any, streams: Any, change_clock: ChangeClock) -> Timed:
    """Table `Timed`: INSERT t0..t3 stamped 3 h, 2 h, 40 min and 20 min ago (whole ms)."""
    arn = create_table(ddb, "Timed", "NEW_IMAGE")
    assert arn is not None
    now = datetime.now(UTC).replace(microsecond=123_000)
    agos = (timedelta(hours=3), timedelta(hours=2), timedelta(minutes=40), timedelta(minutes=20))
    for n, ago in enumerate(agos):
        change_clock.current = now - ago
        ddb.put_item(TableName="Timed", Item={"pk": {"S": f"t{n}"}})
    change_clock.current = None
    records = with_shard(api_records(streams, arn), shard_of(streams, arn))
    # the clock took: every stamp is exact
    assert [_stamp(r) for r in records] == [now - ago for ago in agos]
    return Timed(arn, records)


def _pks(stdout: str) -> list[str]:
    return [pk for _, pk in _events(stdout)]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _stamp(record: dict[str, Any]) -> datetime:
    moment: datetime = record["dynamodb"]["ApproximateCreationDateTime"]
    return moment


def test_relative_time_skips_older_records_with_one_notice(timed: Timed) -> None:
    result = cli("read", "ddb:Timed", "--from", "-1h")
    assert result.exit_code == 0, explain(result)
    assert _pks(result.stdout) == ["t2", "t3"]
    assert result.stderr.splitlines() == [NO_TIMESTAMP_NOTICE]


def test_iso_time_is_inclusive_to_the_millisecond(timed: Timed) -> None:
    at = _stamp(timed.records[1])
    exact = cli("read", "ddb:Timed", "--from", _iso(at))
    later = cli("read", "ddb:Timed", "--from", _iso(at + timedelta(milliseconds=1)))
    assert exact.exit_code == 0, explain(exact)
    assert later.exit_code == 0, explain(later)
    assert _pks(exact.stdout) == ["t1", "t2", "t3"]
    assert _pks(later.stdout) == ["t2", "t3"]
    for result in (exact, later):
        assert result.stderr.splitlines() == [NO_TIMESTAMP_NOTICE]


def test_time_after_every_record_prints_nothing(timed: Timed) -> None:
    result = cli("read", "ddb:Timed", "--from", "-1m")
    assert result.exit_code == 0, explain(result)
    assert result.stdout == ""
    assert result.stderr.splitlines() == [NO_TIMESTAMP_NOTICE]


def test_until_stops_at_the_first_record_after_it(timed: Timed) -> None:
    exact = cli("read", "ddb:Timed", "--until", _iso(_stamp(timed.records[1])))
    assert exact.exit_code == 0, explain(exact)
    assert _pks(exact.stdout) == ["t0", "t1"]
    assert exact.stderr == ""
    relative = cli("read", "ddb:Timed", "--from", "-150m", "--until", "-30m")
    assert relative.exit_code == 0, explain(relative)
    assert _pks(relative.stdout) == ["t1", "t2"]
    assert relative.stderr.splitlines() == [NO_TIMESTAMP_NOTICE]


def test_follow_stops_at_until_with_exit_0(timed: Timed) -> None:
    started = time.monotonic()
    result = cli("follow", "ddb:Timed", "--from", "-150m", "--until", "-30m")
    assert result.exit_code == 0, explain(result)
    assert _pks(result.stdout) == ["t1", "t2"]
    assert result.stderr.splitlines() == [NO_TIMESTAMP_NOTICE]
    assert time.monotonic() - started < 10


def test_time_position_output_is_the_exact_contract_lines(timed: Timed) -> None:
    result = cli("read", "ddb:Timed", "--from", "-1h")
    assert result.stdout.splitlines() == [
        change_line(r, stream=timed.arn, table="Timed", keys={"pk": pk}, new={"pk": pk})
        for r, pk in zip(timed.records[2:], ("t2", "t3"), strict=True)
    ]


# -- the tip -------------------------------------------------------------------------------------


@pytest.mark.real_pacing
def test_read_at_the_tip_exits_0(mixed: list[dict[str, Any]]) -> None:
    # at the tip after EMPTY_BATCHES_AT_TIP empty batches at 5 calls/s (reader/ending.py; the
    # time it takes is a speed goal, for bench/)
    result = cli("read", "ddb:Orders")
    assert result.exit_code == 0, explain(result)
    assert len(result.stdout.splitlines()) == len(mixed)


@pytest.mark.real_pacing
def test_read_of_a_stream_without_records_exits_0(ddb: Any) -> None:
    create_table(ddb, "Empty", "NEW_AND_OLD_IMAGES")
    result = cli("read", "ddb:Empty")
    assert result.exit_code == 0, explain(result)
    assert result.stdout == ""
    assert result.stderr == ""


# -- follow --------------------------------------------------------------------------------------


def _iterators() -> int:
    """How many shard iterators moto has handed out: one per GetShardIterator (a follower's
    LATEST) and one per GetRecords (moto/dynamodbstreams/models.py, `ShardIterator.get`, stores
    the next iterator it returns)."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    return len(dynamodbstreams_backends[ACCOUNT][REGION].shard_iterators)


class Writer(threading.Thread):
    """Writes `items` once the follower has its iterator (so none is written before it)."""

    def __init__(self, ddb: Any, table: str, items: list[dict[str, Any]]) -> None:
        super().__init__(daemon=True)
        self.ddb, self.table, self.items = ddb, table, items
        self.before = _iterators()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            # The follower's iterator, then two polls that found nothing new.
            _wait_for_iterators(self.before + 3)
            for item in self.items:
                self.ddb.put_item(TableName=self.table, Item=item)
        except BaseException as exc:
            self.error = exc


def _wait_for_iterators(count: int) -> None:
    deadline = time.monotonic() + 20
    while _iterators() < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the follower never got to {count} shard iterators")
        time.sleep(0.02)


def test_follow_picks_up_changes_written_after_it_started(ddb: Any, streams: Any) -> None:
    arn = create_table(ddb, "Live", "NEW_IMAGE")
    assert arn is not None
    ddb.put_item(TableName="Live", Item={"pk": {"S": "before"}})  # before: not followed
    items = [{"pk": {"S": f"after-{n}"}} for n in range(3)]
    writer = Writer(ddb, "Live", items)
    writer.start()

    result = cli("follow", "ddb:Live", "-o", "ndjson", "--limit", "3")

    writer.join(10)
    assert writer.error is None
    assert result.exit_code == 0, explain(result)
    records = with_shard(api_records(streams, arn), shard_of(streams, arn))[1:]
    assert result.stdout.splitlines() == [
        change_line(r, stream=arn, table="Live", keys={"pk": pk}, new={"pk": pk})
        for r, pk in zip(records, ("after-0", "after-1", "after-2"), strict=True)
    ]


def test_follow_from_trim_horizon_with_idle_exit(mixed: list[dict[str, Any]]) -> None:
    started = time.monotonic()
    result = cli("follow", "ddb:Orders", "--from", "trim-horizon", "--idle-exit", "1")
    assert result.exit_code == 0, explain(result)
    assert _events(result.stdout) == ALL_EVENTS
    assert time.monotonic() - started < 10
