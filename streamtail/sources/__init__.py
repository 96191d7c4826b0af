"""Stream sources: one module per API behind the `Source` protocol, chosen by `open_source()`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from streamtail.errors import UsageError
from streamtail.model import SourceKind, StreamRef

if TYPE_CHECKING:
    from streamtail.aws import Clients
    from streamtail.sources.base import Source


def open_source(ref: StreamRef, clients: Clients) -> Source:
    """The source for a resolved stream name."""
    if ref.kind is SourceKind.KINESIS:
        from streamtail.sources.kinesis import KinesisSource

        return KinesisSource(ref, clients.client("kinesis"))
    raise UsageError(
        f"{ref.kind.value} streams are not supported yet ({ref.display})",
        hint="streamtail reads Kinesis streams in this version",
    )
