"""Stream sources: one module per API behind the `Source` protocol, chosen by `open_source()`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from streamtail.model import SourceKind, StreamRef

if TYPE_CHECKING:
    from streamtail.aws import Clients
    from streamtail.sources.base import Source


def open_source(ref: StreamRef, clients: Clients) -> Source:
    """The source for a resolved stream name."""
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
