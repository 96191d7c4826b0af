"""Fixtures for the fast tests: an in-memory Env, golden files, a clean AWS environment, moto.

Golden files live in tests/unit/golden/. To rewrite them after an intended output change, run
`STREAMTAIL_UPDATE_GOLDEN=1 python -m pytest tests/unit`, then read the diff before committing.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from streamtail.env import Env
from tests.inprocess_moto import mock_aws_as_aws

from .seed import SEED_BASE, SEED_RECORDS

GOLDEN_DIR = Path(__file__).parent / "golden"


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
def golden() -> Callable[[str, bytes], None]:
    """Compare bytes with tests/unit/golden/NAME (or rewrite it with STREAMTAIL_UPDATE_GOLDEN=1)."""

    def check(name: str, actual: bytes) -> None:
        path = GOLDEN_DIR / name
        if os.environ.get("STREAMTAIL_UPDATE_GOLDEN"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(actual)
            return
        assert path.exists(), f"no golden file {path}: run with STREAMTAIL_UPDATE_GOLDEN=1"
        expected = path.read_bytes()
        if actual != expected:
            # Line by line, so pytest shows a readable diff instead of two long byte strings.
            assert (
                actual.decode("utf-8", "replace").splitlines()
                == expected.decode("utf-8", "replace").splitlines()
            )
            assert actual == expected

    return check


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AWS setting from the developer's machine leaks in: no profile, no config, no IMDS."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "aws-empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.fixture
def kinesis(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
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
