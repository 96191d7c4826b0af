"""One `--efo` run's consumer and source: registered (or adopted), used, deregistered.

`enhanced()` is a context manager around the walk. Without `--consumer` it registers a consumer
of its own, says so on stderr, waits for it to become ACTIVE, and deregisters it however the run
ends: the end of `read`, Ctrl-C or SIGTERM (cli.py's signal handling raises in the main thread,
so this `finally` runs), an error, stdout closed (BrokenPipeError passes through here too).
The deregistration itself is shielded from a first signal. With `--consumer NAME` the consumer is
used as it is (registered if missing) and left registered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from streamtail.clock import SYSTEM, Clock
from streamtail.efo.consumers import Consumers, own_name, stream_arn
from streamtail.efo.source import RENEW_AFTER, EfoSource
from streamtail.errors import NotFoundError, StreamtailError, UsageError
from streamtail.signals import shielded

if TYPE_CHECKING:
    from streamtail.aws import Clients
    from streamtail.env import Env
    from streamtail.sources.base import Source

COSTS = "billed per consumer-shard-hour and per GB retrieved: see the README"


def efo_gap(source: Source) -> str | None:
    """Why this source cannot subscribe to shards, or None when it can."""
    # What a service lacks is its source's declaration (sources/base.Service.lacks): DynamoDB
    # Streams and Yandex Data Streams have no SubscribeToShard.
    service = source.service
    if "SubscribeToShard" in service.lacks:
        return f"{service.name} has no enhanced fan-out (SubscribeToShard)"
    return None


@contextmanager
def enhanced(
    source: Source,
    clients: Clients,
    env: Env,
    *,
    consumer: str | None = None,
    renew_after: float | None = None,
    clock: Clock = SYSTEM,
) -> Iterator[EfoSource]:
    """The walk's source while a consumer is registered for it (see the module's docstring)."""
    gap = efo_gap(source)
    if gap is not None:
        raise UsageError(f"--efo: {gap}", hint="read without --efo (polling GetRecords)")
    client = clients.client("kinesis")
    ref = source.ref
    notice = _notices(env)
    consumers = Consumers(client, stream_arn(client, ref.arn, ref.name), status=notice, clock=clock)
    registered: str | None = None
    try:
        if consumer is None:
            name = own_name()
            notice(
                f"registering enhanced fan-out consumer {name} on stream {ref.display!r} for "
                f"this run (deregistered on exit; {COSTS})"
            )
            with shielded():  # a signal now waits until the ARN to deregister is known
                registered = consumers.register(name)
        else:
            name = consumer
            if consumers.describe(name) is None:
                notice(
                    f"registering enhanced fan-out consumer {name} on stream {ref.display!r} "
                    f"(--consumer: it stays registered; {COSTS})"
                )
                consumers.register(name)
        arn = consumers.wait_active(name)
        efo = EfoSource(
            source,
            clients.client("kinesis"),
            arn,
            verify=_verify(clients),
            renew_after=RENEW_AFTER if renew_after is None else renew_after,
            clock=clock,
        )
        try:
            yield efo
        finally:
            efo.close()
    finally:
        if registered is not None:
            _deregister(consumers, registered, env)


def _verify(clients: Clients) -> str | bool:
    bundle = clients.ca_bundle()
    return bundle if bundle else True


def _notices(env: Env) -> Callable[[str], None]:
    """--efo's notices on stderr (registering, waiting for ACTIVE, ACTIVE); none with -q."""
    if env.quiet:
        return lambda _: None
    return lambda message: env.line(f"streamtail: {message}")


def _deregister(consumers: Consumers, arn: str, env: Env) -> None:
    with shielded():
        try:
            consumers.deregister(arn, patient=True)
        except NotFoundError:
            # Gone already: a stream deleted takes its consumers with it. Nothing is left.
            return
        except StreamtailError as exc:
            env.warn(
                f"could not deregister consumer {arn} ({exc.message}): "
                "`streamtail consumers STREAM --prune` removes it"
            )
