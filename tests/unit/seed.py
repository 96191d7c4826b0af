"""The records the CLI tests seed into moto, and where and when they arrive."""

from __future__ import annotations

from datetime import UTC, datetime

#: ApproximateArrivalTimestamp of the first seeded record; each next put arrives 1 s later.
#: A quarter second is exact in binary floating point, so moto's AT_TIMESTAMP comparisons are too.
SEED_BASE = datetime(2026, 1, 2, 3, 4, 5, 250000, tzinfo=UTC)
#: ExplicitHashKey values that land a record in shard 0 or shard 1 of a two-shard stream.
SHARD_0_HASH = "0"
SHARD_1_HASH = str(2**127)
#: (shard hash key, partition key, payload) in put order; put i arrives at SEED_BASE + i s.
SEED_RECORDS: list[tuple[str, str, bytes]] = [
    (SHARD_0_HASH, "user-1", b'{"id": 1, "status": "created"}'),
    (SHARD_1_HASH, "user-3", b'{"id": 3, "status": "created"}'),
    (SHARD_0_HASH, "user-2", b'{"id": 2, "status": "paid"}'),
    (SHARD_1_HASH, "bin", b"\x00\x01\xfe\xff"),
    (SHARD_0_HASH, "user-1", b"plain text line"),
    (SHARD_1_HASH, "user-1", b'{"id": 4, "status": "shipped"}'),
]
