"""Consumers: names that say whose they are, registration through ACTIVE, throttled calls
waited out, leftovers told apart from consumers in use; on moto in-process (which registers
consumers ACTIVE at once, docs/SERVERS.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.exceptions
import pytest

from streamtail.efo.consumers import Consumers, leftover, own_name, owner_of, stream_arn
from streamtail.errors import ServiceError
from tests.clocks import SleepingClock


def test_names_carry_host_and_process_and_are_unique() -> None:
    name = own_name("build-box.example", 4242)
    assert name.startswith("streamtail-build-box.example-4242-")
    assert owner_of(name) is not None
    assert (owner_of(name).host, owner_of(name).pid) == ("build-box.example", 4242)  # type: ignore[union-attr]
    assert own_name("h", 1) != own_name("h", 1)  # kinesis-mock deregisters by name
    assert owner_of("my-app-consumer") is None
    assert owner_of("streamtail-h-12-notahex") is None


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def consumer(name: str, *, status: str = "ACTIVE", age: timedelta = timedelta(0)) -> dict[str, Any]:
    return {
        "ConsumerName": name,
        "ConsumerStatus": status,
        "ConsumerCreationTimestamp": datetime.now(UTC) - age,
    }


def test_leftovers_are_streamtail_consumers_of_gone_processes_or_old_ones() -> None:
    now = int(datetime.now(UTC).timestamp() * 1000)
    here = "thishost"
    assert leftover(consumer(own_name(here, _dead_pid())), now, here) is not None
    assert leftover(consumer(own_name(here, os.getpid())), now, here) is None  # in use
    assert leftover(consumer(own_name("other", 1)), now, here) is None  # can't tell: too young
    assert leftover(consumer(own_name("other", 1), age=timedelta(days=8)), now, here)
    assert leftover(consumer("their-consumer", age=timedelta(days=80)), now, here) is None
    creating = consumer(own_name(here, _dead_pid()), status="CREATING")
    assert leftover(creating, now, here) is None


def test_register_wait_list_deregister_on_moto(kinesis: Any) -> None:
    kinesis.create_stream(StreamName="s", ShardCount=1)
    arn = stream_arn(kinesis, None, "s")
    statuses: list[str] = []
    consumers = Consumers(kinesis, arn, status=statuses.append)
    name = own_name()
    registered = consumers.register(name)
    assert consumers.wait_active(name) == registered
    assert [c["ConsumerName"] for c in consumers.list()] == [name]
    assert consumers.describe("nobody") is None
    consumers.deregister(registered)
    assert consumers.list() == []


class Throttled:
    """A client whose register call is throttled `times` times, then answers."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.calls = 0

    def register_stream_consumer(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.times:
            raise botocore.exceptions.ClientError(
                {
                    "Error": {"Code": "LimitExceededException", "Message": "slow down"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                },
                "RegisterStreamConsumer",
            )
        return {"Consumer": {"ConsumerARN": "arn:c"}}


def test_throttled_registrations_are_retried_with_backoff() -> None:
    clock = SleepingClock()
    client = Throttled(3)
    consumers = Consumers(client, "arn:s", clock=clock)
    assert consumers.register("c") == "arn:c"
    assert client.calls == 4
    slept = clock.slept
    assert slept == sorted(slept) and slept[0] > 0


def test_throttling_without_end_gives_up() -> None:
    consumers = Consumers(Throttled(10_000), "arn:s", clock=SleepingClock())
    with pytest.raises(ServiceError) as raised:
        consumers.register("c")
    assert raised.value.aws_code == "LimitExceededException"


class Creating:
    """DescribeStreamConsumer answers CREATING `times` times, then ACTIVE."""

    def __init__(self, times: int) -> None:
        self.times = times

    def describe_stream_consumer(self, **_: Any) -> dict[str, Any]:
        self.times -= 1
        status = "CREATING" if self.times >= 0 else "ACTIVE"
        return {"ConsumerDescription": {"ConsumerStatus": status, "ConsumerARN": "arn:c"}}


def test_waiting_for_active_says_so_once_and_when_it_is() -> None:
    lines: list[str] = []
    consumers = Consumers(Creating(3), "arn:s", status=lines.append, clock=SleepingClock())
    assert consumers.wait_active("c") == "arn:c"
    assert lines[0] == "waiting for consumer c to become ACTIVE (it is CREATING)"
    assert lines[1].startswith("consumer c is ACTIVE (after ")
    assert len(lines) == 2
    assert Consumers(Creating(0), "arn:s", status=lines.append).wait_active("c") == "arn:c"
    assert len(lines) == 2  # ACTIVE at once: nothing to say
