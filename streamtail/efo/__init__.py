"""Enhanced fan-out (`read/follow --efo`): registered consumers, SubscribeToShard over HTTP/2.

- frames.py: the event stream of a SubscribeToShard answer, decoded into shard events;
- subscription.py: one SubscribeToShard call over HTTP/2 (httpx), signed by botocore;
- consumers.py: registering, waiting for, deregistering, listing and pruning consumers;
- source.py: a `Source` whose GetRecords is the next event of a shard's subscription, so the
  reader engine walks shards, lineage and stop rules the same way for polling and for EFO;
- session.py: the run's consumer around the walk (`sources.open_source(efo=True)` opens it).

Imported only when `--efo` or `streamtail consumers` is used: httpx stays out of every other
command's start-up.
"""

from __future__ import annotations

import re

from streamtail.errors import UsageError

#: RegisterStreamConsumer's ConsumerName pattern (botocore's kinesis service-2.json)
_CONSUMER_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")


def check_consumer_option(efo: bool, consumer: str | None) -> None:
    """`--consumer NAME`: with --efo only, and a name the service accepts (exit 2 otherwise)."""
    if consumer is None:
        return
    if not efo:
        raise UsageError("--consumer applies with --efo only")
    if not _CONSUMER_NAME.match(consumer):
        raise UsageError(
            f"invalid --consumer {consumer!r}",
            hint="consumer names are 1-128 characters: letters, digits, _ . -",
        )
