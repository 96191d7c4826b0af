"""Split advice: which shard ran hot, which keys carried it, and where SplitShard would halve it.

A record goes to the shard whose HashKeyRange holds the MD5 of its partition key (or its
ExplicitHashKey), so a key always lands on one shard: when one key carries most of a hot shard's
load no split can spread it. Otherwise SplitShard's NewStartingHashKey can be set between the
keys' hash keys so that each child takes about half of what the shard took.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from streamtail.filters import partition_hash
from streamtail.top.sketch import Count

#: a shard above this share of its write limit in any second is named
HOT_PCT = 80.0
#: a key carrying more than this share of a hot shard's load: a split cannot help
ONE_KEY_SHARE = 0.5


@dataclass(frozen=True)
class Advice:
    shard: str
    #: the shard's busiest second: its start (epoch seconds) and load in % of the write limit
    peak_second: int
    peak_pct: float
    #: the limit that binds: "records" or "bytes"
    measure: str
    #: the keys that carry the shard's load, most first: (key, share of the shard's load in %)
    keys: tuple[tuple[str, float], ...]
    #: "hot-key" (one key carries most of it: a split cannot help), "split" (NewStartingHashKey
    #: below), "keys" (keys named; no split point: --group-by values are not partition keys, or
    #: the keys' hash keys are not in the shard's range)
    verdict: str
    new_starting_hash_key: int | None = None
    #: the shares of the shard's observed load each child would have taken, in %
    lower_pct: float | None = None
    upper_pct: float | None = None

    def sentence(self) -> str:
        at = time.strftime("%H:%M:%S", time.gmtime(self.peak_second))
        head = (
            f"{self.shard} reached {self.peak_pct:.0f}% of its write limit ({self.measure}) "
            f"at {at} UTC"
        )
        if not self.keys:
            return head + "; no key was counted on it"
        key, share = self.keys[0]
        if self.verdict == "hot-key":
            return (
                f"{head}: key {key!r} carries {share:.0f}% of it; a split cannot help (a key "
                "always lands on one shard): spread that key's writes (e.g. a suffix) instead"
            )
        named = ", ".join(f"{k!r} {s:.0f}%" for k, s in self.keys[:3])
        if self.verdict == "split" and self.new_starting_hash_key is not None:
            return (
                f"{head}: keys {named}; SplitShard at NewStartingHashKey "
                f"{self.new_starting_hash_key} splits its load {self.lower_pct:.0f}/"
                f"{self.upper_pct:.0f}"
            )
        return f"{head}: keys {named}"


def advise(
    shard: str,
    peak_second: int,
    peak_pct: float,
    measure: str,
    *,
    keys: Sequence[Count],
    hash_range: tuple[int, int] | None,
    routed_by_key: bool,
) -> Advice:
    """Advice for one hot shard from its keys' counts over the span (`measure`'s counts weigh
    them); `routed_by_key`: the keys are partition keys (a split point can be computed)."""
    index = 1 if measure == "bytes" else 0
    weights = [(str(c.item), (c.records, c.bytes)[index]) for c in keys]
    weights = [(k, w) for k, w in weights if w > 0]
    total = sum(w for _, w in weights)
    weights.sort(key=lambda kw: (-kw[1], kw[0]))
    shares = tuple((k, 100.0 * w / total) for k, w in weights[:5]) if total else ()
    base = Advice(shard, peak_second, peak_pct, measure, shares, "keys")
    if not shares:
        return base
    if shares[0][1] > ONE_KEY_SHARE * 100:
        return Advice(shard, peak_second, peak_pct, measure, shares, "hot-key")
    if not routed_by_key or hash_range is None:
        return base
    point = split_point([(partition_hash(k), w) for k, w in weights], hash_range)
    if point is None:
        return base
    at, lower, inside = point
    return Advice(
        shard,
        peak_second,
        peak_pct,
        measure,
        shares,
        "split",
        at,
        100.0 * lower / inside,
        100.0 * (inside - lower) / inside,
    )


def split_point(
    hashed: Sequence[tuple[int, int]], hash_range: tuple[int, int]
) -> tuple[int, int, int] | None:
    """The NewStartingHashKey that divides weighted hash keys most evenly, the weight below it
    and the weight inside the range; None when fewer than two distinct hash keys lie in the
    shard's range (keys outside it were written with an ExplicitHashKey: they do not count).

    SplitShard takes a NewStartingHashKey greater than the shard's StartingHashKey and at most
    its EndingHashKey; the point chosen lies halfway between the last hash key of the lower child
    and the first of the upper one, so that keys not yet seen divide like the space.
    """
    start, end = hash_range
    inside: dict[int, int] = {}
    for point, weight in hashed:
        if start <= point <= end:
            inside[point] = inside.get(point, 0) + weight
    ordered = sorted(inside.items())
    if len(ordered) < 2:
        return None
    total = sum(w for _, w in ordered)
    best: tuple[int, int, int] | None = None  # (imbalance, index, weight below)
    below = 0
    for i in range(len(ordered) - 1):
        below += ordered[i][1]
        imbalance = abs(total - 2 * below)
        if best is None or imbalance < best[0]:
            best = (imbalance, i, below)
    assert best is not None
    _, i, below = best
    low, high = ordered[i][0], ordered[i + 1][0]
    return (low + high) // 2 + 1, below, total
