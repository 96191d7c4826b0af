"""What a service does not serve: `ls` lists the side it serves, and a command that needs an
operation the service lacks says which, exit 2 (UnknownOperationException, InvalidAction)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ddb_streams_double import StreamsDouble
from tests.proxy import Proxy, Reply, aws_error

from .servers import Admin, Cli, closed_port

pytestmark = pytest.mark.server

#: the enhanced fan-out API, which Kinesis look-alikes without it answer this way
CONSUMER_API = frozenset(
    {
        "RegisterStreamConsumer",
        "DescribeStreamConsumer",
        "ListStreamConsumers",
        "DeregisterStreamConsumer",
        "SubscribeToShard",
    }
)


def no_consumer_api(operation: str, _request: dict[str, Any], _shard: str | None) -> Reply | None:
    if operation in CONSUMER_API:
        return aws_error(400, "UnknownOperationException", "", "unknown-operation")
    return None


def test_read_efo_without_the_consumer_api_names_the_operation_exit_2(
    moto: Admin, cli: Cli, stream_name: Any
) -> None:
    name = stream_name()
    moto.create_stream(name, 1)
    moto.wait_active(name)
    proxy = Proxy(moto.server.endpoint, fault=no_consumer_api).start()
    try:
        result = cli.run("read", name, "--efo", endpoint=proxy.endpoint)
    finally:
        proxy.stop()
    assert result.returncode == 2, result.describe()
    (line,) = result.stderr.splitlines()[-1:]
    assert "the service does not implement " in line
    assert any(f"implement {op}," in line for op in CONSUMER_API), line
    assert "UnknownOperationException" in line


def test_ls_lists_the_side_an_endpoint_serves(cli: Cli) -> None:
    double = StreamsDouble()
    with double.serve() as url:
        result = cli.run("ls", "-o", "ndjson", endpoint=url)
    assert result.returncode == 0, result.describe()
    (row,) = result.records
    assert (row["kind"], row["stream"], row["arn"]) == ("dynamodb", "ddb:orders", double.arn)
    assert result.stderr == (
        "streamtail: warning: Kinesis streams not listed: the service does not implement "
        "ListStreams, which the request for the stream list needs (InvalidAction: The action or "
        "operation requested is invalid)\n"
    )


def test_ls_fails_when_no_side_answers(cli: Cli) -> None:
    with closed_port() as port:
        result = cli.run("ls", endpoint=f"http://127.0.0.1:{port}", timeout=90)
    assert result.returncode == 1, result.describe()
    assert result.stderr.startswith("streamtail: error: cannot reach the service")
    assert len(result.stderr.splitlines()) <= 2  # the error, and its hint
