"""Fixtures for the fast tests: an in-memory Env, a clean AWS environment, moto in-process.

Golden files live in tests/unit/golden/ (the `golden` fixture of tests/conftest.py). To rewrite
them after an intended output change, run `STREAMTAIL_UPDATE_GOLDEN=1 python -m pytest
tests/unit` (those tests then fail, saying what they rewrote), read the diff, and run again.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from streamtail.env import Env
from tests.awsenv import clean_environ, use_environ
from tests.inprocess_moto import mock_aws_as_aws

from .seed import SEED_BASE, SEED_RECORDS


@pytest.fixture
def make_env() -> Callable[..., Env]:
    """An Env writing to byte/str buffers, with a fixed width and no colour unless asked."""

    def make(*, width: int = 100, color: bool = False, isatty: bool = False) -> Env:
        return Env(
            stdout=io.BytesIO(),
            stderr=io.StringIO(),
            stdout_isatty=isatty,
            color=color,
            width=width,
        )

    return make


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AWS setting from the developer's machine leaks in; no credentials or region either
    (tests of their absence use this alone; `kinesis` adds them)."""
    environ = clean_environ(tmp_path, credentials=None, region=None)
    use_environ(monkeypatch, {**environ, "HOME": str(tmp_path)})


@pytest.fixture
def kinesis(aws_env: None, fast_pacing: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A boto3 Kinesis client on an in-process moto (us-east-1, fake credentials)."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws_as_aws():
        yield boto3.client("kinesis", region_name="us-east-1")


class ArrivalClock:
    """Stands in for moto's clock so ApproximateArrivalTimestamp is known in advance."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        # moto works in naive UTC datetimes.
        return self.current.replace(tzinfo=None)


@pytest.fixture
def arrival_clock(monkeypatch: pytest.MonkeyPatch) -> ArrivalClock:
    # moto stamps records with moto.core.utils.utcnow, imported into its kinesis models; a
    # frozen stamp makes `ts` and AT_TIMESTAMP exact (there is no API to set arrival times).
    import moto.kinesis.models

    clock = ArrivalClock(SEED_BASE)
    monkeypatch.setattr(moto.kinesis.models, "utcnow", clock)
    return clock


@pytest.fixture
def orders(kinesis: Any, arrival_clock: ArrivalClock) -> Any:
    """Stream `orders`, two shards, seeded with SEED_RECORDS at known arrival times."""
    kinesis.create_stream(StreamName="orders", ShardCount=2)
    for i, (hash_key, key, data) in enumerate(SEED_RECORDS):
        arrival_clock.current = SEED_BASE + timedelta(seconds=i)
        kinesis.put_record(
            StreamName="orders", Data=data, PartitionKey=key, ExplicitHashKey=hash_key
        )
    return kinesis
