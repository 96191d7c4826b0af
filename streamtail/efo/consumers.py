"""Stream consumers for enhanced fan-out: register, wait for ACTIVE, deregister, list, prune.

A consumer streamtail registers for one run is named `streamtail-HOST-PID-RANDOM`, so a person
reading ListStreamConsumers can tell whose it is, and `consumers --prune` can tell a leftover
(its process is gone from this host, or it is old) from one in use. The random part keeps names
unique across streams: kinesis-mock deregisters a consumer by name from the first stream that
has one (docs/SERVERS.md). Register, Deregister and ListStreamConsumers share a low limit (AWS: 5
registrations a second per account; kinesis-mock: 5 calls at once): LimitExceededException is
waited out with backoff.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from streamtail.aws import call
from streamtail.clock import SYSTEM, Clock, pause
from streamtail.errors import NotFoundError, ServiceError
from streamtail.sources.base import epoch_ms

PREFIX = "streamtail-"
_NAME = re.compile(r"^streamtail-(?P<host>.+)-(?P<pid>\d+)-(?P<tag>[0-9a-f]{6})$")
#: a registration still not ACTIVE after this long is an error
ACTIVE_TIMEOUT = 120.0
#: throttled (LimitExceeded) consumer calls are retried for this long
THROTTLED_PATIENCE = 60.0
#: `consumers --prune`: a streamtail consumer of another host is a leftover once this old
STALE_AFTER = 7 * 24 * 3600.0


def this_host() -> str:
    """This machine's name as consumer names carry it (ConsumerName allows [a-zA-Z0-9_.-])."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname().split(".")[0])[:80] or "host"


def own_name(host: str | None = None, pid: int | None = None) -> str:
    """A consumer name that says it is this streamtail process's."""
    return f"{PREFIX}{host or this_host()}-{pid or os.getpid()}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int


def owner_of(name: str) -> Owner | None:
    """The host and process a streamtail consumer name carries, or None if it is not one."""
    match = _NAME.match(name)
    if match is None:
        return None
    return Owner(match["host"], int(match["pid"]))


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def leftover(consumer: dict[str, Any], now_ms: int, host: str | None = None) -> str | None:
    """Why a listed consumer is a leftover of a streamtail run (None: it is not, or is in use)."""
    owner = owner_of(str(consumer.get("ConsumerName", "")))
    if owner is None or consumer.get("ConsumerStatus") != "ACTIVE":
        return None
    if owner.host == (host or this_host()):
        return None if pid_alive(owner.pid) else f"process {owner.pid} is gone"
    age = (now_ms - epoch_ms(consumer.get("ConsumerCreationTimestamp"))) / 1000
    if age >= STALE_AFTER:
        return f"registered {age / 86400:.0f} days ago on host {owner.host}"
    return None


class Consumers:
    """The consumer calls of one stream."""

    def __init__(
        self,
        client: Any,
        stream_arn: str,
        *,
        status: Callable[[str], None] = lambda _m: None,
        clock: Clock = SYSTEM,
    ) -> None:
        self._client = client
        self.stream_arn = stream_arn
        self._status = status
        self._clock = clock

    def _call(self, what: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        """A consumer call, waiting out LimitExceeded (throttled registrations)."""
        began = self._clock.monotonic()
        delay = 0.2
        while True:
            try:
                return call(what, fn, **kwargs)
            except ServiceError as exc:
                if exc.aws_code != "LimitExceededException":
                    raise
                if self._clock.monotonic() - began + delay > THROTTLED_PATIENCE:
                    raise
                pause(self._clock, delay)
                delay = min(delay * 2, 5.0)

    def list(self) -> list[dict[str, Any]]:
        consumers: list[dict[str, Any]] = []
        args: dict[str, Any] = {"StreamARN": self.stream_arn}
        while True:
            page = self._call("the stream's consumers", self._client.list_stream_consumers, **args)
            consumers.extend(page.get("Consumers", []))
            token = page.get("NextToken")
            if not token:
                return consumers
            args = {"StreamARN": self.stream_arn, "NextToken": token}

    def describe(self, name: str) -> dict[str, Any] | None:
        try:
            answer = self._call(
                f"consumer {name!r}",
                self._client.describe_stream_consumer,
                StreamARN=self.stream_arn,
                ConsumerName=name,
            )
        except NotFoundError:
            return None
        description: dict[str, Any] = answer["ConsumerDescription"]
        return description

    def register(self, name: str) -> str:
        """Register `name`; its ARN (not yet ACTIVE: see `wait_active`)."""
        answer = self._call(
            f"consumer {name!r}",
            self._client.register_stream_consumer,
            StreamARN=self.stream_arn,
            ConsumerName=name,
        )
        return str(answer["Consumer"]["ConsumerARN"])

    def wait_active(self, name: str) -> str:
        """Wait until `name` is ACTIVE (DescribeStreamConsumer, as SDKs do); its ARN."""
        began = self._clock.monotonic()
        delay = 0.25
        told = False
        while True:
            description = self.describe(name)
            if description is None:
                raise NotFoundError(f"consumer {name!r} disappeared while being registered")
            state = description.get("ConsumerStatus")
            waited = self._clock.monotonic() - began
            if state == "ACTIVE":
                if told:
                    self._status(f"consumer {name} is ACTIVE (after {waited:.1f} s)")
                return str(description["ConsumerARN"])
            if waited > ACTIVE_TIMEOUT:
                raise ServiceError(
                    f"consumer {name!r} still {state} after {waited:.0f} s", retryable=False
                )
            if not told:
                self._status(f"waiting for consumer {name} to become ACTIVE (it is {state})")
                told = True
            pause(self._clock, delay)
            delay = min(delay * 1.5, 2.0)

    def deregister(self, arn: str, *, patient: bool = False) -> None:
        """Deregister a consumer; `patient`: one still CREATING (a run stopped while waiting
        for it) cannot be deregistered yet (ResourceInUseException): wait and try again."""
        began = self._clock.monotonic()
        while True:
            try:
                self._call("the consumer", self._client.deregister_stream_consumer, ConsumerARN=arn)
                return
            except ServiceError as exc:
                if not patient or exc.aws_code != "ResourceInUseException":
                    raise
                if self._clock.monotonic() - began > ACTIVE_TIMEOUT / 4:
                    raise
                pause(self._clock, 0.5)


def stream_arn(client: Any, ref_arn: str | None, name: str | None) -> str:
    """The stream's ARN (RegisterStreamConsumer and ListStreamConsumers take only an ARN)."""
    if ref_arn:
        return ref_arn
    answer = call(f"stream {name!r}", client.describe_stream_summary, StreamName=name)
    return str(answer["StreamDescriptionSummary"]["StreamARN"])


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)
