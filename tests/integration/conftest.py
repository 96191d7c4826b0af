"""Fixtures for the integration tests: real moto and kinesis-mock servers, started once per session
on free loopback ports, a clean AWS environment for streamtail, and a unique stream per test.

kinesis-mock needs Node.js: without it the kinesis-mock tests are skipped, except on CI (CI=true),
where they fail so that a broken CI image cannot pass quietly.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator

import pytest

from .servers import (
    KINESIS_MOCK,
    MOTO,
    Admin,
    Cli,
    ServerProcess,
    ServerUnavailable,
    clean_aws_env,
    start_kinesis_mock,
)

SERVERS = (KINESIS_MOCK, MOTO)


@pytest.fixture(scope="session")
def moto_server(moto_process: ServerProcess) -> ServerProcess:
    """The session's moto server (tests/conftest.py), shared with the other packages."""
    return moto_process


@pytest.fixture(scope="session")
def kinesis_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    unavailable = None
    try:
        server = start_kinesis_mock(tmp_path_factory.mktemp("kinesis-mock"))
    except ServerUnavailable as exc:
        unavailable = str(exc)
    if unavailable is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"kinesis-mock cannot start on CI: {unavailable}", pytrace=False)
        pytest.skip(f"kinesis-mock unavailable: {unavailable}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest) -> ServerProcess:
    """Each test using it runs once on kinesis-mock and once on moto."""
    fixture = "moto_server" if request.param == MOTO else "kinesis_mock"
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


@pytest.fixture
def admin(server: ServerProcess) -> Iterator[Admin]:
    admin = Admin(server)
    try:
        yield admin
    finally:
        admin.close()


@pytest.fixture
def km(kinesis_mock: ServerProcess) -> Iterator[Admin]:
    admin = Admin(kinesis_mock)
    try:
        yield admin
    finally:
        admin.close()


@pytest.fixture
def moto(moto_server: ServerProcess) -> Iterator[Admin]:
    admin = Admin(moto_server)
    try:
        yield admin
    finally:
        admin.close()


@pytest.fixture(scope="session")
def aws_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return clean_aws_env(tmp_path_factory.mktemp("aws"))


@pytest.fixture
def cli(aws_env: dict[str, str]) -> Cli:
    return Cli(dict(aws_env))


@pytest.fixture
def stream_name(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Unique stream names for this test: `stream_name("a")` -> `test-foo-a-1f2e3d4c`."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")[:60]

    def make(suffix: str = "s") -> str:
        return f"{base}-{suffix}-{uuid.uuid4().hex[:8]}"

    return make
