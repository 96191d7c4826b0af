"""Fixtures for the terminal-manners tests: the session's moto server, and a stream on it.

The helpers (`cli_env`, `run_cli`, `run_pty`, `Moto`) live in tests/ux/helpers.py; they are
imported here too, for tests that still import them from this module.
"""

from __future__ import annotations

import pytest

from tests.integration.servers import ServerProcess
from tests.ux.helpers import (  # noqa: F401  (re-exported)
    ACCESS_KEY,
    ROOT,
    SECRET,
    Moto,
    PtyResult,
    cli_env,
    run_cli,
    run_pty,
)


@pytest.fixture(scope="session")
def moto_server(moto_process: ServerProcess) -> Moto:
    """The session's moto server (tests/conftest.py), with clients for these tests' credentials."""
    return Moto(moto_process.endpoint)


@pytest.fixture(scope="session")
def orders(moto_server: Moto) -> str:
    """A two-shard Kinesis stream with 40 JSON records, 20 per shard."""
    import json as _json

    client = moto_server.client("kinesis")
    name = "ux-orders"
    client.create_stream(StreamName=name, ShardCount=2)
    shards = client.list_shards(StreamName=name)["Shards"]
    for i in range(40):
        shard = shards[i % 2]
        client.put_record(
            StreamName=name,
            Data=_json.dumps({"order": i, "status": "created", "note": "x" * 150}).encode(),
            PartitionKey=f"cust-{i:03d}",
            ExplicitHashKey=shard["HashKeyRange"]["StartingHashKey"],
        )
    return name
