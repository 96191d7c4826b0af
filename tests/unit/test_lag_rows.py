"""`lag`'s pure parts: lease rows parsed from DynamoDB items, states and liveness, the summary,
`--max-lag`, durations, and the table and NDJSON output."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import orjson
import pytest

from streamtail.env import Env
from streamtail.errors import UsageError
from streamtail.lag.leases import Lease, lease_from_item, stream_name
from streamtail.lag.measure import Measured
from streamtail.lag.output import LagNdjson, LagTable, summary_line
from streamtail.lag.rows import LagRow, over_limit, plan_rows, summarize, with_lag
from streamtail.model import Shard
from streamtail.positions import parse_duration


def lease(shard: str, checkpoint: str = "5", owner: str | None = "w", counter: int = 1,
          parents: tuple[str, ...] = ()) -> Lease:  # fmt: skip
    return Lease(shard, shard, None, owner, counter, checkpoint, 0, 0, parents)


# -- lease rows ------------------------------------------------------------------------------------


def test_multi_stream_item_as_the_serializer_writes_it() -> None:
    # DynamoDBMultiStreamLeaseSerializer: streamName = StreamIdentifier.serialize(), shardId;
    # leaseKey = streamName:shardId (MultiStreamLease.getLeaseKey)
    item = {
        "leaseKey": {"S": "123456789012:orders:1700000000:shardId-000000000003"},
        "streamName": {"S": "123456789012:orders:1700000000"},
        "shardId": {"S": "shardId-000000000003"},
        "leaseOwner": {"S": "w-1"},
        "leaseCounter": {"N": "42"},
        "ownerSwitchesSinceCheckpoint": {"N": "3"},
        "checkpoint": {"S": "49590338271490256608559692538361571095921575989136588898"},
        "checkpointSubSequenceNumber": {"N": "2"},
        "parentShardId": {"SS": ["shardId-000000000001", "shardId-000000000000"]},
        "throughputKBps": {"N": "12.5"},
        "checkpointOwner": {"S": "w-0"},
    }
    assert lease_from_item(item) == Lease(
        key="123456789012:orders:1700000000:shardId-000000000003",
        shard="shardId-000000000003",
        stream="orders",
        owner="w-1",
        counter=42,
        checkpoint="49590338271490256608559692538361571095921575989136588898",
        subseq=2,
        owner_switches=3,
        parents=("shardId-000000000000", "shardId-000000000001"),
        checkpoint_owner="w-0",
    )


def test_multi_stream_lease_key_names_stream_and_shard() -> None:
    item = {
        "leaseKey": {"S": "123456789012:orders:1700000000:shardId-000000000003"},
        "leaseCounter": {"N": "1"},
        "checkpoint": {"S": "TRIM_HORIZON"},
    }
    parsed = lease_from_item(item)
    assert parsed is not None
    assert (parsed.stream, parsed.shard) == ("orders", "shardId-000000000003")
    single = lease_from_item({**item, "leaseKey": {"S": "shardId-000000000003"}})
    assert single is not None and (single.stream, single.shard) == (None, "shardId-000000000003")


def test_rows_that_are_not_leases_are_left_out() -> None:
    # EntityType: other entities may share a 3.x lease table
    assert lease_from_item({"leaseKey": {"S": "x"}, "entityType": {"S": "LEADER"}}) is None
    assert lease_from_item({"leaseKey": {"S": "x"}, "note": {"S": "hand-made"}}) is None
    row = {"leaseKey": {"S": "s"}, "entityType": {"S": "LEASE"}, "checkpoint": {"S": "LATEST"}}
    parsed = lease_from_item(row)
    assert parsed is not None and (parsed.owner, parsed.counter) == (None, 0)


@pytest.mark.parametrize(
    ("identifier", "name"),
    [
        ("123456789012:orders:1700000000", "orders"),
        ("arn:aws:kinesis:us-east-1:123456789012:stream/orders", "orders"),
        ("orders", "orders"),
    ],
)
def test_stream_name(identifier: str, name: str) -> None:
    assert stream_name(identifier) == name


# -- states and liveness ---------------------------------------------------------------------------

PARENT = Shard("p0", end_seq="9")
LEFT = Shard("c1", parent="p0")
RIGHT = Shard("c2", parent="p0")


def states(rows: list[LagRow]) -> list[tuple[str, str, bool | None]]:
    return [(r.shard, r.state, r.renewed) for r in rows]


def test_child_waits_while_its_parent_runs_and_a_shard_without_lease_is_shown() -> None:
    after = {"p0": lease("p0", counter=3), "c1": lease("c1", "TRIM_HORIZON", parents=("p0",))}
    before = {"p0": lease("p0", counter=2), "c1": lease("c1", "TRIM_HORIZON", parents=("p0",))}
    plan = plan_rows("app", "s", before, after, [PARENT, LEFT, RIGHT])
    assert states(plan.rows) == [
        ("p0", "active", True),
        ("c1", "waiting", False),
        ("c2", "waiting", None),
    ]
    assert plan.rows[2].parents == ("p0",)  # from the listing: it has no lease
    assert plan.checkpoints == {"p0": ("5", 0), "c1": ("TRIM_HORIZON", 0)}
    # a waiting child is not nobody's work yet
    assert over_limit(plan.rows, 10**9) == []


def test_finished_parent_and_cleaned_up_parent() -> None:
    after = {"p0": lease("p0", "SHARD_END"), "c1": lease("c1", owner=None)}
    rows = plan_rows("app", "s", None, after, [PARENT, LEFT, RIGHT]).rows
    assert states(rows) == [
        ("p0", "finished", None),
        ("c1", "unowned", None),
        ("c2", "unowned", None),
    ]
    assert rows[0].lag_ms == 0
    # no lease for the closed parent, but its children have them: KCL cleaned it up
    rows = plan_rows("app", "s", None, {"c1": lease("c1")}, [PARENT, LEFT, RIGHT]).rows
    assert states(rows)[0] == ("p0", "finished", None)
    # a closed shard nobody ever leased, and no leased descendant: not started
    rows = plan_rows("app", "s", None, {}, [PARENT, LEFT, RIGHT]).rows
    assert [r.state for r in rows] == ["unowned", "waiting", "waiting"]
    # with two reads: a shard without a lease and no parent to wait for is nobody's
    rows = plan_rows("app", "s", {}, {}, [PARENT, LEFT, RIGHT]).rows
    assert [r.renewed for r in rows] == [False, None, None]


def test_counter_standing_still_is_not_renewed_and_a_new_owner_is() -> None:
    before = {"a": lease("a", counter=5), "b": lease("b", counter=5, owner="old")}
    after = {"a": lease("a", counter=5), "b": lease("b", counter=5, owner="new")}
    rows = plan_rows("app", None, before, after, None).rows
    assert states(rows) == [("a", "active", False), ("b", "active", True)]
    assert [r.shard for r in over_limit(rows, 10**9)] == ["a"]


def test_max_lag_is_strictly_more_than_the_limit_and_unknown_lag_does_not_count() -> None:
    plan = plan_rows("app", "s", None, {"a": lease("a"), "b": lease("b"), "c": lease("c")}, None)
    rows = with_lag(plan.rows, {"a": Measured(5000), "b": Measured(4999), "c": Measured(None, "x")})
    assert [r.shard for r in over_limit(rows, 5000)] == []
    assert [r.shard for r in over_limit(rows, 4999)] == ["a"]


def test_summary() -> None:
    after = {
        "a": lease("a", owner="w-2"),
        "b": lease("b", owner="w-1"),
        "c": lease("c", owner="w-1"),
        "d": lease("d", "SHARD_END", owner="w-3"),
    }
    before = {**after, "c": lease("c", owner="w-1", counter=0)}
    rows = with_lag(
        plan_rows("app", "s", before, after, None).rows,
        {"a": Measured(1500), "b": Measured(125_000), "c": Measured(0)},
    )
    summary = summarize(rows)
    assert summary.workers == {"w-1": 2, "w-2": 1}
    assert summary.worst is not None and summary.worst.shard == "b"
    assert summary_line(summary) == (
        "2 workers (w-1: 2 shards, w-2: 1) · worst lag 2m 5s (b) · 2 shards nobody renews (a, b)"
    )
    # one read of the table (--interval 0) says nothing about renewal
    once = summarize(plan_rows("app", "s", None, after, None).rows)
    assert summary_line(once).endswith(" · renewal not checked")
    earlier = {k: replace(v, counter=0) for k, v in after.items()}
    renewed = summarize(plan_rows("app", "s", earlier, after, None).rows)
    assert summary_line(renewed).endswith(" · every shard with work is renewed")


# -- durations -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5m", 300.0),
        ("1h30m", 5400.0),
        ("500ms", 0.5),
        ("0.5s", 0.5),
        ("2", 2.0),
        ("0", 0.0),
        ("0.5", 0.5),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text, "--max-lag") == seconds


@pytest.mark.parametrize("text", ["", "5 minutes", "-5m", "nan", "inf", "5x"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(UsageError, match="invalid --max-lag"):
        parse_duration(text, "--max-lag")


# -- output ----------------------------------------------------------------------------------------


def sample_rows() -> list[LagRow]:
    after = {
        "shardId-0": lease("shardId-0", "SHARD_END"),
        "shardId-1": Lease("shardId-1", "shardId-1", None, "w-1", 2, "41", 3, 1, ("shardId-0",)),
        "shardId-2": lease("shardId-2", "LATEST", owner=None, parents=("shardId-0",)),
    }
    plan = plan_rows("app", "orders", dict(after), after, None)
    return with_lag(plan.rows, {"shardId-1": Measured(75_500), "shardId-2": Measured(None, "x")})


def test_ndjson_rows_and_summary_on_stderr(make_env: Callable[..., Env]) -> None:
    env = make_env()
    rows = sample_rows()
    LagNdjson(env).write(rows, summarize(rows))
    lines = env.stdout.getvalue().splitlines()  # type: ignore[attr-defined]
    assert [orjson.loads(line) for line in lines] == [
        {"app": "app", "stream": "orders", "shard": "shardId-0", "state": "finished",
         "owner": "w", "checkpoint": "SHARD_END", "subseq": 0, "lag_ms": 0, "renewed": None,
         "owner_switches": 0, "parents": []},
        {"app": "app", "stream": "orders", "shard": "shardId-1", "state": "active",
         "owner": "w-1", "checkpoint": "41", "subseq": 3, "lag_ms": 75500, "renewed": False,
         "owner_switches": 1, "parents": ["shardId-0"]},
        {"app": "app", "stream": "orders", "shard": "shardId-2", "state": "unowned",
         "owner": None, "checkpoint": "LATEST", "subseq": 0, "lag_ms": None, "renewed": False,
         "owner_switches": 0, "parents": ["shardId-0"]},
    ]  # fmt: skip
    assert env.stderr.getvalue() == (  # type: ignore[attr-defined]
        "streamtail: 1 worker (w-1: 1 shard) · worst lag 1m 16s (shardId-1) · 2 shards nobody "
        "renews (shardId-1, shardId-2)\n"
    )


def test_table(make_env: Callable[..., Env]) -> None:
    env = make_env(width=100)
    rows = sample_rows()
    LagTable(env, redraw=True).write(rows, summarize(rows))  # not a terminal: no redraw codes
    assert env.stdout.getvalue().decode().splitlines() == [  # type: ignore[attr-defined]
        " SHARD      STATE     OWNER  CHECKPOINT     LAG  RENEWED  SWITCHES  PARENTS   ",
        " shardId-0  finished  w      SHARD_END      0ms  -               0  -         ",
        " shardId-1  active    w-1    41 #3       1m 16s  NO              1  shardId-0 ",
        " shardId-2  unowned   -      LATEST           ?  NO              0  shardId-0 ",
        # the summary wraps at the terminal's width like any text
        "1 worker (w-1: 1 shard) · worst lag 1m 16s (shardId-1) · 2 shards nobody renews "
        "(shardId-1, ",
        "shardId-2)",
    ]
