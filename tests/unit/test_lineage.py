"""The shard tree: split and merge lineage, order, selection, ChildShards and aged-out parents."""

from __future__ import annotations

import itertools

import pytest

from streamtail.lineage import Lineage
from streamtail.model import Shard

TOP = 2**128 - 1
HALF = 2**127

# Shard 0 splits into 2 and 3; then 3 merges with 1 into 4 (parent 3, adjacent parent 1).
S0 = Shard("shardId-000000000000", None, None, 0, HALF - 1, "100", "199")
S1 = Shard("shardId-000000000001", None, None, HALF, TOP, "101", "299")
S2 = Shard("shardId-000000000002", S0.shard_id, None, 0, HALF // 2 - 1, "200")
S3 = Shard("shardId-000000000003", S0.shard_id, None, HALF // 2, HALF - 1, "201", "399")
S4 = Shard("shardId-000000000004", S3.shard_id, S1.shard_id, HALF // 2, TOP, "400")
ALL = [S0, S1, S2, S3, S4]


def ids(shards: list[Shard]) -> list[str]:
    return [s.shard_id for s in shards]


def short(shard_ids: object) -> object:
    """shardId-000000000004 -> 4, for readable expectations."""
    if isinstance(shard_ids, str):
        return int(shard_ids.removeprefix("shardId-"))
    if isinstance(shard_ids, set):
        return {short(s) for s in shard_ids}
    assert isinstance(shard_ids, list)
    return [short(s) for s in shard_ids]


def test_split_and_merge_children() -> None:
    lineage = Lineage(ALL)
    assert short(lineage.children[S0.shard_id]) == [2, 3]
    assert short(lineage.children[S3.shard_id]) == [4]
    assert short(lineage.children[S1.shard_id]) == [4]
    assert S2.shard_id not in lineage.children
    assert S4.parents == (S3.shard_id, S1.shard_id)


def test_ordered_parents_first_in_id_order() -> None:
    assert short(ids(Lineage(ALL).ordered())) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("perm", list(itertools.permutations(ALL)))
def test_ordered_is_deterministic_whatever_the_listing_order(perm: tuple[Shard, ...]) -> None:
    assert short(ids(Lineage(perm).ordered())) == [0, 1, 2, 3, 4]


def test_ordered_puts_parents_first_even_when_their_ids_sort_later() -> None:
    # Shard ids need not grow with age on Kinesis-compatible services.
    parent = Shard("shard-z", hash_start=0, hash_end=TOP, start_seq="1", end_seq="9")
    left = Shard("shard-a", parent="shard-z", start_seq="10")
    right = Shard("shard-m", parent="shard-z", start_seq="11", end_seq="19")
    merged = Shard("shard-b", parent="shard-m", adjacent_parent="shard-c", start_seq="20")
    other = Shard("shard-c", hash_start=0, hash_end=1, start_seq="2", end_seq="12")
    for perm in itertools.permutations([parent, left, right, merged, other]):
        order = ids(Lineage(perm).ordered())
        assert order == ["shard-c", "shard-z", "shard-a", "shard-m", "shard-b"]
        for shard in perm:
            for p in shard.parents:
                assert order.index(p) < order.index(shard.shard_id)


def test_roots() -> None:
    assert short(Lineage(ALL).roots()) == [0, 1]


def test_descendants() -> None:
    lineage = Lineage(ALL)
    assert short(lineage.descendants([S0.shard_id])) == {0, 2, 3, 4}
    assert short(lineage.descendants([S1.shard_id])) == {1, 4}
    assert short(lineage.descendants([S3.shard_id])) == {3, 4}
    assert short(lineage.descendants([S2.shard_id])) == {2}
    assert short(lineage.descendants([S2.shard_id, S1.shard_id])) == {1, 2, 4}
    assert lineage.descendants([]) == set()


def test_depth() -> None:
    lineage = Lineage(ALL)
    assert [lineage.depth(s.shard_id) for s in ALL] == [0, 0, 1, 1, 2]
    assert lineage.depth("shardId-999") == 0


def test_contains() -> None:
    lineage = Lineage(ALL)
    assert S4.shard_id in lineage
    assert "shardId-000000000099" not in lineage


def test_parents_that_aged_out_of_the_listing() -> None:
    # Past the retention period the service stops listing closed parents.
    lineage = Lineage([S2, S3, S4])
    assert short(lineage.roots()) == [2, 3]
    assert short(ids(lineage.ordered())) == [2, 3, 4]
    assert lineage.depth(S2.shard_id) == 0
    assert lineage.depth(S4.shard_id) == 1
    # the aged-out parents still know their listed children
    assert short(lineage.descendants([S0.shard_id])) == {0, 2, 3, 4}


def test_child_shards_entries_are_replaced_by_richer_listing_entries() -> None:
    open_parent = Shard(S0.shard_id, None, None, 0, HALF - 1, "100")
    lineage = Lineage([open_parent, S1])
    # GetRecords' ChildShards: ids, parents and hash ranges, no sequence range.
    from_child_shards = [
        Shard(S2.shard_id, S0.shard_id, None, 0, HALF // 2 - 1),
        Shard(S3.shard_id, S0.shard_id, None, HALF // 2, HALF - 1),
    ]
    assert ids(lineage.update(from_child_shards)) == [S2.shard_id, S3.shard_id]
    assert lineage.shards[S2.shard_id].start_seq is None

    # The next listing: the parent closed, the children have sequence ranges; nothing is new.
    assert lineage.update([S0, S1, S2, S3]) == []
    assert lineage.shards[S0.shard_id] == S0
    assert lineage.shards[S0.shard_id].closed
    assert lineage.shards[S2.shard_id] == S2
    assert lineage.shards[S3.shard_id] == S3
    # no child is registered twice
    assert short(lineage.children[S0.shard_id]) == [2, 3]


def test_poorer_entries_do_not_replace_listing_entries() -> None:
    lineage = Lineage(ALL)
    assert lineage.update([Shard(S2.shard_id, S0.shard_id, None, 0, HALF // 2 - 1)]) == []
    assert lineage.shards[S2.shard_id] == S2
    assert lineage.update([Shard(S0.shard_id, None, None, 0, HALF - 1, "100")]) == []
    assert lineage.shards[S0.shard_id].closed


def test_update_returns_only_new_shards_in_the_given_order() -> None:
    lineage = Lineage([S0, S1])
    assert ids(lineage.update([S4, S2, S3, S0])) == [S4.shard_id, S2.shard_id, S3.shard_id]
    assert short(ids(lineage.ordered())) == [0, 1, 2, 3, 4]


def test_named_and_resolve_take_short_ids() -> None:
    from streamtail.errors import UsageError
    from streamtail.lineage import short_id

    lineage = Lineage(
        [Shard("shard-000000"), Shard("shard-000001"), Shard("shard-000002", parent="shard-000000")]
    )
    assert lineage.resolve("1", "s") == "shard-000001"
    assert lineage.resolve("shard-000002", "s") == "shard-000002"
    with pytest.raises(UsageError, match="no shard 7 in stream 's'"):
        lineage.resolve("7", "s")
    twins = Lineage([Shard("shardId-000000000001"), Shard("shard-000001")])
    with pytest.raises(UsageError, match="ambiguous"):
        twins.resolve("1", "s")
    assert short_id("shardId-00000001700000000000-abcdef01") == "abcdef01"
