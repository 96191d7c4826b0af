"""A `Source` that reads shards through enhanced fan-out subscriptions.

The reader engine asks every source for an iterator and then for batch after batch; here an
"iterator" is where a subscription starts (a StartingPosition, as text) and a batch is the next
SubscribeToShardEvent of the shard's subscription. Each batch hands back the position after the
event's ContinuationSequenceNumber as the next iterator, so whatever makes the worker ask again
from there (a renewal, a dropped connection, a retry) continues without gap or repeat: the
continuation is where AWS says to continue (API reference, SubscribeToShardEvent), and what KCL's
FanOutRecordsPublisher resubscribes from (AFTER_SEQUENCE_NUMBER of the last
continuationSequenceNumber, `isAtShardEnd` when it is null).

Subscriptions are renewed before the service's 5-minute cut, and after it ends one; the shard's
worker pacing is the service's push cadence (core.py gives an EFO walk no polling pauses).
Listing shards goes to the polling source underneath.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Generator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from streamtail.efo.frames import ShardEvent
from streamtail.efo.subscription import Dropped, Subscriber, Unsupported
from streamtail.errors import NotFoundError, ServiceError, StreamtailError
from streamtail.model import Batch, Position, PositionKind, Shard
from streamtail.sources.base import Service, Source

#: renew a subscription this long after it began: before the service's 5-minute cut
RENEW_AFTER = 280.0
#: the service refuses a second subscription for the same consumer and shard while it holds the
#: previous one (AWS: within 5 s of a successful call; kinesis-mock: until it notices the closed
#: connection): wait this long in all before telling the worker (which backs off and retries)
IN_USE_PATIENCE = 12.0
IN_USE = "ResourceInUseException"
#: SubscribeToShard allows one call a second per consumer and shard (API reference)
SUBSCRIBE_INTERVAL = 1.0
#: connections dropped unanswered, on a service never seen to answer a subscription, before
#: calling it unsupported (moto drops the HTTP/2 connection; see subscription.py for answers
#: that are not event streams, unsupported at once). Connection failures (refused, TLS) are not
#: counted: they are faults, retried as any other call's.
FIRST_TRIES = 3


class Subscribing(Protocol):
    """What the source needs of subscription.Subscriber (a test double stands in for it)."""

    http_version: str

    def subscribe(
        self, what: str, consumer_arn: str, shard_id: str, start: dict[str, Any]
    ) -> Generator[ShardEvent, None, None]: ...

    def close(self) -> None: ...


@dataclass
class _Live:
    """A shard's open subscription and the position its next event continues from."""

    token: str
    events: Generator[ShardEvent, None, None]
    subscriber: Subscribing
    began: float


@dataclass
class EfoStats:
    """What the subscriptions cost: SubscribeToShard calls and renewals (for --debug, bench)."""

    subscribe_calls: int = 0
    renewals: int = 0
    resubscribes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)


def token_of(position: Position) -> str:
    """A StartingPosition as an iterator string."""
    start: dict[str, Any] = {"Type": position.kind.value}
    if position.sequence is not None:
        start["SequenceNumber"] = position.sequence
    if position.kind is PositionKind.AT_TIMESTAMP:
        assert position.timestamp is not None
        start["Timestamp"] = position.timestamp
    return orjson.dumps(start).decode()


def _start_of(token: str) -> dict[str, Any]:
    start: dict[str, Any] = orjson.loads(token)
    if "Timestamp" in start:
        start["Timestamp"] = datetime.fromtimestamp(start["Timestamp"], UTC)
    return start


def _after(seq: str) -> str:
    return token_of(Position(PositionKind.AFTER_SEQUENCE_NUMBER, sequence=seq))


class EfoSource:
    """Shards listed by `polling`, records pushed to `consumer_arn` by SubscribeToShard."""

    max_limit = 10_000
    supports_timestamp = True

    def __init__(
        self,
        polling: Source,
        client: Any,
        consumer_arn: str,
        *,
        verify: str | bool = True,
        renew_after: float = RENEW_AFTER,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        connect: Callable[[], Subscribing] | None = None,
    ) -> None:
        self.ref = polling.ref
        self._polling = polling
        self.consumer_arn = consumer_arn
        self.renew_after = renew_after
        self._clock = clock
        self._sleep = sleep
        #: a new connection for each subscription (one shard's fault stays its own)
        self._connect = connect or (lambda: Subscriber(client, verify=verify))
        self._live: dict[str, _Live] = {}
        #: when each shard's last SubscribeToShard was made (for SUBSCRIBE_INTERVAL)
        self._subscribed_at: dict[str, float] = {}
        self._lock = threading.Lock()
        #: a subscription has been answered with an event stream: the service has EFO
        self._proven = False
        #: `service` for the polling source's service it was made from
        self._service: tuple[Service, Service] | None = None
        self.stats = EfoStats()
        #: the HTTP version subscriptions were answered over (tests check it is HTTP/2)
        self.http_version = ""

    @property
    def service(self) -> Service:
        """The polling source's service (only one with SubscribeToShard gets here), whose closed
        shards also end on an event with MillisBehindLatest 0 and no records (reader/ending.py):
        a subscription pushes what the shard holds, so at a closed shard's tip it has pushed
        everything. AWS ends it first with ChildShards and no continuation; kinesis-mock never
        does (docs/SERVERS.md)."""
        polling = self._polling.service
        if self._service is None or self._service[0] is not polling:
            self._service = (polling, dataclasses.replace(polling, null_iterator_at_end=False))
        return self._service[1]

    def identity(self) -> dict[str, str]:
        return self._polling.identity()

    def list_shards(self) -> list[Shard]:
        return self._polling.list_shards()

    def get_iterator(self, shard: Shard, position: Position) -> str:
        """Where the shard's next subscription starts.

        A sequence number (a checkpoint's, `--from at:SEQ`) is first checked with the polling
        source's GetShardIterator: a number the service no longer holds is refused there the
        way the shard worker knows how to handle (it moves to the trim horizon and says what
        was lost), rather than by SubscribeToShard in the middle of the walk."""
        if position.sequence is not None:
            self._polling.get_iterator(shard, position)
        return token_of(position)

    def get_records(self, shard: Shard, iterator: str, limit: int) -> Batch:
        """The shard's next event; `limit` does not apply (the service sends what it has)."""
        del limit
        event = self._next_event(shard, iterator)
        with self._lock:
            live = self._live.get(shard.shard_id)
        next_token = None if event.continuation is None else _after(event.continuation)
        if live is not None:
            if next_token is None:
                self._drop(shard.shard_id)
            else:
                live.token = next_token
        return Batch(
            records=event.records,
            next_iterator=next_token,
            millis_behind=event.millis_behind,
            child_shards=event.child_shards,
            # never "full": whether the tip is reached is for MillisBehindLatest to say
            limit=0,
        )

    def _next_event(self, shard: Shard, token: str) -> ShardEvent:
        shard_id = shard.shard_id
        with self._lock:
            live = self._live.get(shard_id)
        if live is not None and live.token == token:
            if self._clock() - live.began < self.renew_after:
                try:
                    return next(live.events)
                except StopIteration:
                    # The service ended the subscription (its 5-minute cut, or a server-closed
                    # stream): continue from the last continuation.
                    self.stats.count("resubscribes")
                except ServiceError as exc:
                    self._drop(shard_id)
                    self._raise_if_deleted(exc)
                    raise
            else:
                self.stats.count("renewals")
        self._drop(shard_id)
        return self._subscribe(shard, token)

    def _subscribe(self, shard: Shard, token: str) -> ShardEvent:
        what = f"stream {self.ref.display!r} shard {shard.shard_id}"
        waited = 0.0
        failures = 0
        while True:
            last = self._subscribed_at.get(shard.shard_id)
            if last is not None and self._clock() - last < SUBSCRIBE_INTERVAL:
                self._sleep(SUBSCRIBE_INTERVAL - (self._clock() - last))
            subscriber = self._connect()
            began = self._clock()
            self._subscribed_at[shard.shard_id] = began
            self.stats.count("subscribe_calls")
            events = subscriber.subscribe(what, self.consumer_arn, shard.shard_id, _start_of(token))
            try:
                first = next(events)
            except StopIteration:
                subscriber.close()
                raise ServiceError(
                    f"{what}: the subscription ended before its first event"
                ) from None
            except ServiceError as exc:
                subscriber.close()
                if exc.aws_code == IN_USE and waited < IN_USE_PATIENCE:
                    pause = min(0.25 * 2 ** min(failures, 3), IN_USE_PATIENCE - waited)
                    failures += 1
                    waited += pause
                    self._sleep(pause)
                    continue
                if not self._proven and isinstance(exc, Dropped):
                    failures += 1
                    if failures >= FIRST_TRIES:
                        raise self._unsupported(exc) from exc
                    self._sleep(0.2)
                    continue
                raise
            except BaseException:
                subscriber.close()
                raise
            self._proven = True
            self.http_version = subscriber.http_version
            with self._lock:
                self._live[shard.shard_id] = _Live(token, events, subscriber, began)
            return first

    def _raise_if_deleted(self, exc: ServiceError) -> None:
        """A subscription cut off in its middle (the connection dropped: what a stream deleted
        under it looks like first): when the stream is gone, raise that (the walk ends, exit 3)
        rather than a fault to retry and warn about. One DescribeStreamSummary per cut."""
        if not exc.retryable:
            return
        try:
            self._polling.identity()
        except NotFoundError as gone:
            raise gone from exc
        except StreamtailError:
            return  # not known to be gone: the fault is retried as it is

    def _unsupported(self, exc: ServiceError) -> Unsupported:
        return Unsupported(
            f"--efo: this service does not serve SubscribeToShard (enhanced fan-out): "
            f"{exc.message}",
            hint="read without --efo (polling GetRecords)",
        )

    def _drop(self, shard_id: str) -> None:
        with self._lock:
            live = self._live.pop(shard_id, None)
        if live is not None:
            live.subscriber.close()
            # ValueError: the generator is running in the shard's thread (the walk is ending);
            # closing the connection above ends it there.
            with suppress(ValueError):
                live.events.close()

    def close(self) -> None:
        """End every subscription (the walk is over)."""
        with self._lock:
            shard_ids = list(self._live)
        for shard_id in shard_ids:
            self._drop(shard_id)
