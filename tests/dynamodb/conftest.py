"""Fixtures for the DynamoDB Streams tests.

- `aws`: a clean AWS environment (fake credentials, us-east-1, no profile) with moto in-process;
  `ddb` and `streams` are boto3 clients on it. The CLI runs in the same process (CliRunner).
- CLI reads poll fast (tests/conftest.py's `fast_pacing`): the walker's real pacing (5 calls/s,
  EMPTY_BATCHES_AT_TIP empty batches to call the tip) costs most of a second a read; tests marked
  `real_pacing` keep it.
- `change_clock`: pins moto's ApproximateCreationDateTime, so time positions, `--until` and the
  golden tables are exact (moto has no API to set it).
- `moto_server`: the URL of the session's moto server (tests/conftest.py), for `python -m
  streamtail` subprocesses; `server` deletes the tables each test creates.

Golden files live in tests/dynamodb/golden/ (tests/conftest.py's `golden`); rewrite them after an
intended change with `STREAMTAIL_UPDATE_GOLDEN=1 python -m pytest tests/dynamodb` (the tests that
rewrote one fail, saying so), read the diff, and run again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.awsenv import clean_environ, use_environ
from tests.inprocess_moto import mock_aws_as_aws
from tests.integration.servers import ServerProcess

from .helpers import REGION, ChangeClock


def _clean_aws_env(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No AWS setting from the developer's machine leaks in; fake credentials, us-east-1."""
    use_environ(monkeypatch, clean_environ(home, region=REGION))


@pytest.fixture
def aws(fast_pacing: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    _clean_aws_env(monkeypatch, tmp_path)
    with mock_aws_as_aws():
        yield


@pytest.fixture
def ddb(aws: None) -> Any:
    import boto3

    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def streams(aws: None) -> Any:
    import boto3

    return boto3.client("dynamodbstreams", region_name=REGION)


@pytest.fixture
def change_clock(aws: None, monkeypatch: pytest.MonkeyPatch) -> ChangeClock:
    # moto stamps stream records with moto.core.utils.utcnow, imported into its table model.
    import moto.dynamodb.models.table

    clock = ChangeClock()
    monkeypatch.setattr(moto.dynamodb.models.table, "utcnow", clock)
    return clock


# -- moto's HTTP server --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_server(moto_process: ServerProcess) -> str:
    """The URL of the session's moto server."""
    return moto_process.endpoint


def _tables(url: str) -> tuple[Any, set[str]]:
    """A DynamoDB client on the server, and the tables it holds."""
    import boto3

    ddb = boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    pages = ddb.get_paginator("list_tables").paginate()
    return ddb, {name for page in pages for name in page["TableNames"]}


@pytest.fixture
def server(moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """The session's moto server, with a clean AWS environment for this test and its
    subprocesses; the tables the test creates are deleted after it, so the server is left as
    the other packages' tests expect it (tests/ux lists every table)."""
    _clean_aws_env(monkeypatch, tmp_path)
    _, before = _tables(moto_server)
    yield moto_server
    ddb, after = _tables(moto_server)
    for name in sorted(after - before):
        ddb.delete_table(TableName=name)
