"""ListShards paging against both servers: AWS's rule (a bare NextToken) on kinesis-mock, and
moto, which rejects a token sent without the stream. streamtail must page through both."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from streamtail.aws import Clients, Connection
from streamtail.model import SourceKind, StreamRef
from streamtail.sources.kinesis import KinesisSource
from tests.integration.servers import ACCESS_KEY, REGION, SECRET_KEY, Admin

pytestmark = pytest.mark.server


@pytest.mark.timeout(60)
def test_listing_pages_on_each_server(
    admin: Admin, stream_name: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = stream_name("paged")
    admin.create_stream(name, shards=5)
    admin.wait_active(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    clients = Clients(Connection(region=REGION, endpoint_url=admin.server.endpoint))
    ref = StreamRef(SourceKind.KINESIS, display=name, name=name)
    source = KinesisSource(ref, clients.client("kinesis"), page_size=2)
    listed = [shard.shard_id for shard in source.list_shards()]
    expected = [s["ShardId"] for s in admin.list_shards(name)]
    assert listed == expected
    assert len(listed) == 5
