"""One SubscribeToShard call over HTTP/2: signed by botocore, sent and read by httpx.

SubscribeToShard is defined over HTTP/2 only (AWS API reference, SubscribeToShard: "This
operation establishes an HTTP/2 connection"; botocore's kinesis service-2.json says
`"protocolSettings": {"h2": "eventstream"}`), which botocore does not speak. So botocore
builds the request as it would send it (endpoint rules: on AWS the account's
`ACCOUNT.data-kinesis.REGION` endpoint for the consumer ARN; the JSON body; SigV4 signature with
the session's credentials) and hands it over from its `before-send` event, and httpx sends it:
with ALPN over TLS, with prior knowledge (h2c) over cleartext (kinesis-mock; an `http://`
--endpoint-url).

TLS verification is on, against the CA bundle botocore would use (AWS_CA_BUNDLE, the profile's
ca_bundle), or httpx's default (certifi, as botocore's).
"""

from __future__ import annotations

import ssl
from collections.abc import Generator
from contextlib import suppress
from typing import Any

import httpx

from streamtail.efo.frames import EventDecoder, ShardEvent, service_error
from streamtail.errors import ServiceError, UsageError

EVENT_STREAM = "application/vnd.amazon.eventstream"
#: no event for this long means the connection is dead (AWS and kinesis-mock send one at least
#: every few seconds, empty when nothing arrived)
READ_TIMEOUT = 30.0


class _Prepared(Exception):
    """Raised from botocore's before-send to take the signed request without sending it."""

    #: debuglog.py logs it as handed over, not as failed
    handed_over = True

    def __init__(self, request: Any) -> None:
        super().__init__("signed request handed to the HTTP/2 client")
        self.request = request


def _take(request: Any, **_: Any) -> None:
    raise _Prepared(request)


class Dropped(ServiceError):
    """The server took the connection and closed it without answering the request."""


class Unsupported(UsageError):
    """The service answered SubscribeToShard in a way that says it has no such call."""


class Subscriber:
    """SubscribeToShard calls for one shard, each on its own HTTP/2 connection."""

    def __init__(self, client: Any, *, verify: str | bool = True) -> None:
        #: a botocore kinesis client: endpoint, credentials, signing
        self._client = client
        # once per client, however many subscribers share it
        client.meta.events.register(
            "before-send.kinesis.SubscribeToShard", _take, unique_id="streamtail-efo-take"
        )
        url = str(client.meta.endpoint_url)
        self.cleartext = url.startswith("http://")
        self._verify: ssl.SSLContext | bool = False
        if not self.cleartext and verify is not False:
            self._verify = (
                ssl.create_default_context(cafile=verify) if isinstance(verify, str) else True
            )
        self._http: httpx.Client | None = None
        #: the HTTP version of the last answer ("HTTP/2" whenever this works as meant)
        self.http_version = ""

    def _prepare(self, consumer_arn: str, shard_id: str, start: dict[str, Any]) -> Any:
        try:
            self._client.subscribe_to_shard(
                ConsumerARN=consumer_arn, ShardId=shard_id, StartingPosition=start
            )
        except _Prepared as prepared:
            return prepared.request
        raise AssertionError("botocore sent SubscribeToShard itself")  # pragma: no cover

    def _connection(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(
                # Cleartext: HTTP/2 with prior knowledge (there is no ALPN to ask with). TLS:
                # offered through ALPN; an answer over HTTP/1.1 is refused below.
                http1=not self.cleartext,
                http2=True,
                verify=self._verify,
                timeout=httpx.Timeout(10.0, read=READ_TIMEOUT),
            )
        return self._http

    def subscribe(
        self, what: str, consumer_arn: str, shard_id: str, start: dict[str, Any]
    ) -> Generator[ShardEvent, None, None]:
        """The events of one subscription, until the service ends it (about 5 minutes) or the
        iterator is closed. Raises ServiceError (retryable) for network faults, the mapped
        error for an error answer or exception event, `Unsupported` for an answer that is not
        an event stream where one is due."""
        request = self._prepare(consumer_arn, shard_id, start)
        http = self._connection()
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        answered = False
        try:
            with http.stream("POST", request.url, headers=headers, content=request.body) as answer:
                answered = True
                self.http_version = answer.http_version
                self._check(what, answer)
                decoder = EventDecoder(shard_id, what)
                for chunk in answer.iter_raw():
                    yield from decoder.feed(chunk)
        except httpx.TransportError as exc:
            self.close()
            message = f"{what}: SubscribeToShard connection failed ({type(exc).__name__}: {exc})"
            if not answered and isinstance(
                exc, httpx.ProtocolError | httpx.ReadError | httpx.WriteError
            ):
                # connected, then dropped without an answer (moto, on HTTP/2)
                raise Dropped(message) from exc
            raise ServiceError(message) from exc

    def _check(self, what: str, answer: httpx.Response) -> None:
        kind = answer.headers.get("content-type", "").split(";")[0].strip()
        if answer.status_code == 200 and kind == EVENT_STREAM:
            if answer.http_version != "HTTP/2":
                raise Unsupported(
                    f"{what}: SubscribeToShard was answered over {answer.http_version}, not "
                    "HTTP/2 (enhanced fan-out needs HTTP/2)"
                )
            return
        body = answer.read()
        code, message = _error_of(answer, body)
        if code:
            raise service_error(what, code, message, answer.status_code)
        raise Unsupported(
            f"{what}: SubscribeToShard answered HTTP {answer.status_code} "
            f"{kind or 'without a content type'}, not an event stream"
        )

    def close(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            with suppress(Exception):
                http.close()


def _error_of(answer: httpx.Response, body: bytes) -> tuple[str, str]:
    """The AWS error code and message of an error answer (JSON protocol: `__type`, or the
    x-amzn-ErrorType header), or ("", "") when it carries none."""
    import orjson

    code = answer.headers.get("x-amzn-errortype", "").split(":")[0]
    message = ""
    try:
        parsed = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        parsed = {}
    if isinstance(parsed, dict):
        code = code or str(parsed.get("__type", "")).rsplit("#", 1)[-1]
        message = str(parsed.get("message") or parsed.get("Message") or "")
    return code, message
