"""Fixtures for the DynamoDB Streams tests.

- `aws`: a clean AWS environment (fake credentials, us-east-1, no profile) with moto in-process;
  `ddb` and `streams` are boto3 clients on it. The CLI runs in the same process (CliRunner).
- CLI reads poll fast (`FastPacing`): the walker's real pacing (5 calls/s, EMPTY_BATCHES_AT_TIP
  empty batches to call the tip) costs most of a second a read; tests marked `real_pacing` keep it.
- `change_clock`: pins moto's ApproximateCreationDateTime, so time positions, `--until` and the
  golden tables are exact (moto has no API to set it).
- `moto_server`: moto's real HTTP server, once per session, for `python -m streamtail` subprocesses.

Golden files live in tests/dynamodb/golden/; rewrite them after an intended change with
`STREAMTAIL_UPDATE_GOLDEN=1 python -m pytest tests/dynamodb`, then read the diff.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from streamtail.reader import Pacing
from tests.inprocess_moto import mock_aws_as_aws

from .helpers import REGION, ChangeClock

GOLDEN_DIR = Path(__file__).parent / "golden"


def _clean_aws_env(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No AWS setting from the developer's machine leaks in: no profile, no config, no IMDS."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES"):
        monkeypatch.delenv(name, raising=False)
    empty = home / "aws-empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@pytest.fixture(scope="package", autouse=True)
def _shared_botocore_loader() -> Iterator[None]:
    """One botocore data loader for every session the CLI creates in this process.

    Each `streamtail` run builds a fresh botocore session, which re-reads and re-parses the
    service models (about 0.2 s of CPU a run, most of this folder's time). A shared loader hands
    every session the same parsed models, as one session already does for its own clients.
    """
    import botocore.loaders
    import botocore.session

    original = botocore.session.create_loader
    shared: dict[Any, botocore.loaders.Loader] = {}

    def create_loader(search_path_string: Any = None) -> botocore.loaders.Loader:
        if search_path_string not in shared:
            shared[search_path_string] = original(search_path_string)
        return shared[search_path_string]

    botocore.session.create_loader = create_loader
    try:
        yield
    finally:
        botocore.session.create_loader = original


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "real_pacing: run the CLI with the walker's real polling pace, not FastPacing"
    )


@dataclass(frozen=True)
class FastPacing(Pacing):
    """Same rules, shorter waits: moto in-process neither throttles nor needs the politeness."""

    min_interval: float = 0.01
    idle_interval: float = 0.05


@pytest.fixture
def aws(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[None]:
    import streamtail.reader

    _clean_aws_env(monkeypatch, tmp_path)
    if request.node.get_closest_marker("real_pacing") is None:
        # Walker builds `Pacing()` when the CLI passes none.
        monkeypatch.setattr(streamtail.reader, "Pacing", FastPacing)
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


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """Compare text with tests/dynamodb/golden/NAME (rewrite with STREAMTAIL_UPDATE_GOLDEN=1)."""

    def check(name: str, actual: str) -> None:
        path = GOLDEN_DIR / name
        if os.environ.get("STREAMTAIL_UPDATE_GOLDEN"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        assert path.exists(), f"no golden file {path}: run with STREAMTAIL_UPDATE_GOLDEN=1"
        assert actual.splitlines() == path.read_text(encoding="utf-8").splitlines()
        assert actual == path.read_text(encoding="utf-8")

    return check


# -- moto's HTTP server --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _reset(url: str) -> None:
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=5):
        pass


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`moto_server` on a free loopback port for the whole session; yields its URL."""
    exe = shutil.which("moto_server")
    if exe is None:
        pytest.fail("moto_server is not installed: pip install -e '.[test]'")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("moto") / "moto_server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [exe, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _reset(url)
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start:\n{log_path.read_text()}")
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def server(moto_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The moto server emptied, with a clean AWS environment for this test and its subprocesses."""
    _clean_aws_env(monkeypatch, tmp_path)
    _reset(moto_server)
    return moto_server
