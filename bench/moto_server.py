"""moto's server for the benchmark, with moto's seeding made linear.

moto finds a shard's first and last sequence numbers by copying the list of all its records, once
for every record put, so seeding grows with the square of the records (100,000 records in four
shards took about two minutes). Here both are found in constant time. Nothing else changes: reads
are served by moto's own code. Usage: python bench/moto_server.py -H HOST -p PORT
"""

from __future__ import annotations

from typing import Any

from moto.kinesis.models import Shard
from moto.server import main


def _first(self: Any) -> int:
    return next(iter(self.records)) if self.records else 0


def _last(self: Any) -> int:
    return next(reversed(self.records)) if self.records else 0


Shard.get_min_sequence_number = _first
Shard.get_max_sequence_number = _last

if __name__ == "__main__":
    main()
