"""Stream sources: one module per API behind the `Source` protocol, opened by `open_source()`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from streamtail.clock import SYSTEM, Clock
from streamtail.model import SourceKind, StreamRef

if TYPE_CHECKING:
    from streamtail.aws import Clients
    from streamtail.env import Env
    from streamtail.sources.base import Source


@contextmanager
def open_source(
    ref: StreamRef,
    clients: Clients,
    *,
    efo: bool = False,
    consumer: str | None = None,
    clock: Clock = SYSTEM,
    env: Env | None = None,
) -> Iterator[Source]:
    """The one way to open a source: the source for a resolved stream name while the block runs,
    closed after it. With `efo`, a subscription source (efo/source.py) while the run's consumer
    is registered (efo/session.py, `enhanced`; `consumer` names one to use and keep), running on
    the walk's `clock`, its consumer's lines on `env`'s stderr. Its `Service` says whether records
    are pushed or polled, which is all the reader needs to know of it."""
    source = _polling(ref, clients)
    try:
        if not efo:
            yield source
            return
        from streamtail.efo.session import enhanced

        assert env is not None, "--efo tells the user about its consumer"
        with enhanced(source, clients, env, consumer=consumer, clock=clock) as pushed:
            yield pushed  # closed by enhanced(), before its consumer is deregistered
    finally:
        source.close()


def _polling(ref: StreamRef, clients: Clients) -> Source:
    if ref.kind is SourceKind.KINESIS:
        from streamtail.sources.kinesis import KinesisSource

        return KinesisSource(
            ref,
            clients.client("kinesis"),
            data=clients.client("kinesis", data_plane=True),
            note=clients.log,
        )
    from streamtail import yandex
    from streamtail.sources.dynamodb import DynamoDBSource, resolve_stream
    from streamtail.sources.yds import YDS

    if yandex.recognise(clients.conn.endpoint_url):
        YDS.require("DynamoDB Streams", f"reading {ref.display!r}")

    resolved = resolve_stream(ref, clients.client("dynamodb"))
    return DynamoDBSource(
        resolved,
        clients.client("dynamodbstreams"),
        data=clients.client("dynamodbstreams", data_plane=True),
    )
