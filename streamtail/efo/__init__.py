"""Enhanced fan-out (`read/follow --efo`): registered consumers, SubscribeToShard over HTTP/2.

- frames.py: the event stream of a SubscribeToShard answer, decoded into shard events;
- subscription.py: one SubscribeToShard call over HTTP/2 (httpx), signed by botocore;
- consumers.py: registering, waiting for, deregistering, listing and pruning consumers;
- source.py: a `Source` whose GetRecords is the next event of a shard's subscription, so the
  reader engine walks shards, lineage and stop rules the same way for polling and for EFO.

Imported only when `--efo` or `streamtail consumers` is used: httpx stays out of every other
command's start-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from streamtail.errors import UsageError

if TYPE_CHECKING:
    from streamtail.aws import Clients
    from streamtail.core import ReadRequest
    from streamtail.env import Env
    from streamtail.model import StreamRef
    from streamtail.reader import Pacing
    from streamtail.sources.base import Source

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


@contextmanager
def reading_source(
    request: ReadRequest, ref: StreamRef, clients: Clients, env: Env, pacing: Pacing | None
) -> Iterator[tuple[Source, Pacing | None]]:
    """The source a read walks, and its pacing: the polling source, or with --efo a subscription
    source while the run's consumer is registered (session.enhanced)."""
    from streamtail.sources import open_source

    source = open_source(ref, clients)
    if not request.efo:
        yield source, pacing
        return
    from streamtail.efo.session import enhanced, push_pacing

    with enhanced(source, clients, env, consumer=request.consumer) as pushed:
        yield pushed, push_pacing(pacing)
