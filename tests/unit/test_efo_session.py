"""`enhanced()`: the run's consumer is deregistered on every way out of the walk; a named one
is kept; services without SubscribeToShard are refused before anything is registered. On moto
in-process (no subscription is made here: that needs HTTP/2, tests/integration/test_efo.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from streamtail.aws import Clients, Connection
from streamtail.efo.command import run_consumers
from streamtail.efo.session import enhanced
from streamtail.env import Env
from streamtail.errors import UsageError
from streamtail.model import SourceKind, StreamRef
from streamtail.sources import open_source
from streamtail.sources.kinesis import KinesisSource


def names(kinesis: Any) -> list[str]:
    arn = kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["StreamARN"]
    return [c["ConsumerName"] for c in kinesis.list_stream_consumers(StreamARN=arn)["Consumers"]]


@pytest.fixture
def stream(kinesis: Any) -> tuple[Clients, KinesisSource]:
    kinesis.create_stream(StreamName="s", ShardCount=1)
    clients = Clients(Connection(region="us-east-1"))
    source = open_source(StreamRef(SourceKind.KINESIS, display="s", name="s"), clients)
    assert isinstance(source, KinesisSource)
    return clients, source


@pytest.mark.parametrize(
    "way_out", [KeyboardInterrupt, BrokenPipeError, RuntimeError], ids=["ctrl-c", "pipe", "error"]
)
def test_the_runs_consumer_is_deregistered_however_the_walk_ends(
    kinesis: Any,
    stream: tuple[Clients, KinesisSource],
    make_env: Callable[..., Env],
    way_out: type[BaseException],
) -> None:
    clients, source = stream
    env = make_env()
    with pytest.raises(way_out), enhanced(source, clients, env) as efo:
        [name] = names(kinesis)
        assert name.startswith("streamtail-")
        assert f"/consumer/{name}" in efo.consumer_arn
        raise way_out()
    assert names(kinesis) == []
    assert f"registering enhanced fan-out consumer {name}" in env.stderr.getvalue()  # type: ignore[attr-defined]


def test_quiet_and_a_stream_deleted_under_the_walk_leave_stderr_empty(
    kinesis: Any, stream: tuple[Clients, KinesisSource], make_env: Callable[..., Env]
) -> None:
    clients, source = stream
    env = make_env()
    env.quiet = True  # -q: none of the notices (registering, waiting for ACTIVE, ACTIVE)
    with enhanced(source, clients, env):
        assert len(names(kinesis)) == 1
        # the stream goes, and its consumers with it: nothing is left to deregister
        kinesis.delete_stream(StreamName="s", EnforceConsumerDeletion=True)
    assert env.stderr.getvalue() == ""  # type: ignore[attr-defined]


def test_a_named_consumer_is_registered_if_missing_and_kept(
    kinesis: Any, stream: tuple[Clients, KinesisSource], make_env: Callable[..., Env]
) -> None:
    clients, source = stream
    for _ in range(2):
        with enhanced(source, clients, make_env(), consumer="ops-tail"):
            pass
        assert names(kinesis) == ["ops-tail"]


def test_a_stream_without_subscribe_to_shard_is_refused_before_registering(
    kinesis: Any, stream: tuple[Clients, KinesisSource], make_env: Callable[..., Env]
) -> None:
    clients, _ = stream
    yds = KinesisSource(
        StreamRef(SourceKind.KINESIS, display="/ru-central1/a/b/s", name="/ru-central1/a/b/s"), None
    )
    gap = "Yandex Data Streams has no enhanced fan-out"
    with pytest.raises(UsageError, match=gap), enhanced(yds, clients, make_env()):
        pass
    assert names(kinesis) == []


def test_consumers_table_marks_streamtails_own(
    kinesis: Any, stream: tuple[Clients, KinesisSource], make_env: Callable[..., Env]
) -> None:
    arn = kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["StreamARN"]
    kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="their-app")
    kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="streamtail-elsewhere-7-abcdef")
    env = make_env(isatty=True, width=120)
    run_consumers("s", Connection(region="us-east-1"), env, None)
    out = env.stdout.getvalue().decode()  # type: ignore[attr-defined]
    rows = {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}
    assert rows["streamtail-elsewhere-7-abcdef"].rstrip().endswith("yes")
    assert not rows["their-app"].rstrip().endswith("yes")
