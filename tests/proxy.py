"""A small HTTP proxy between streamtail and a real local server, for tests and benchmarks.

It forwards every request to the upstream server and can add latency (to stand in for a real
network round trip) and log each call: time, operation (X-Amz-Target), status and, for GetRecords
and GetShardIterator, the shard the call was about. Faults are injected by a `fault` hook that
may answer a request itself instead of forwarding it; `FaultPlan` is such a hook, injecting the
faults neither local server raises, at chosen rates:

- `throttle`: ProvisionedThroughputExceededException (LimitExceededException for ListShards);
- `expired`: ExpiredIteratorException (GetRecords only);
- `error5xx`: 500 InternalFailure or 503 ServiceUnavailable;
- `reset`: the request reaches the server, the connection is closed without an answer.

`outage(seconds)` takes the proxy off the network for a while: its listening socket is closed
and every open connection cut, so that new connections are refused, as with a service that is
down; then it listens on the same port again. `max_limit` lowers the Limit of GetRecords
requests (local servers do not check signatures), so that a few hundred records take many calls.
`rewrite` changes what the server answered (records trimmed past retention, say).

Stdlib only: ThreadingHTTPServer in a thread, one upstream connection per handler thread.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Call:
    #: when the request arrived (time.monotonic())
    at: float
    operation: str
    shard: str | None
    status: int
    #: the fault injected instead of (or after) forwarding, if any
    fault: str | None = None


@dataclass
class Reply:
    """A response the proxy sends instead of forwarding (a fault)."""

    status: int
    body: bytes
    content_type: str = "application/x-amz-json-1.1"
    #: close the connection without any response (a reset)
    drop: bool = False
    #: forward the request first (the server does the work), then reply with this
    after_forwarding: bool = False
    #: a name for the call log
    fault: str | None = None


#: fault(operation, request_json, shard) -> a Reply to send instead, or None to forward
FaultHook = Callable[[str, dict[str, Any], "str | None"], "Reply | None"]
#: rewrite(operation, response_json) -> the response to send (forwarded 200 answers only)
RewriteHook = Callable[[str, dict[str, Any]], dict[str, Any]]


def aws_error(status: int, code: str, message: str, fault: str) -> Reply:
    body = json.dumps({"__type": code, "message": message}).encode()
    return Reply(status, body, fault=fault)


@dataclass
class FaultPlan:
    """Faults at chosen rates (0..1 of the calls each applies to), from a seeded generator; or,
    with `every`, every so many calls, taking the kinds in `rotate` in turn (each kind then
    happens however the threads interleave)."""

    throttle: float = 0.0
    expired: float = 0.0
    error5xx: float = 0.0
    reset: float = 0.0
    seed: int = 0
    every: int = 0
    rotate: tuple[str, ...] = ("throttle", "expired", "error5xx", "reset")
    #: operations the faults apply to
    operations: Collection[str] = ("GetRecords", "GetShardIterator", "ListShards")
    injected: Counter[str] = field(default_factory=Counter)
    _rng: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _calls: int = 0
    _turn: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def __call__(self, operation: str, request: dict[str, Any], shard: str | None) -> Reply | None:
        if operation not in self.operations:
            return None
        with self._lock:
            if self.every:
                reply = self._next_in_turn(operation, shard)
            else:
                reply = self._choose(self._rng.random(), operation, shard)
            if reply is not None:
                self.injected[reply.fault or "?"] += 1
        return reply

    def _next_in_turn(self, operation: str, shard: str | None) -> Reply | None:
        self._calls += 1
        if self._calls % self.every:
            return None
        for _ in self.rotate:  # the next kind that applies to this operation
            kind = self.rotate[self._turn % len(self.rotate)]
            self._turn += 1
            reply = self._make(kind, operation, shard)
            if reply is not None:
                return reply
        return None

    def _make(self, kind: str, operation: str, shard: str | None) -> Reply | None:
        where = f"shard {shard}" if shard else "stream"
        if kind == "throttle":
            return self._throttled(operation, where)
        if kind == "expired":
            return self._expired(operation)
        if kind == "error5xx":
            return self._server_error()
        if kind == "reset":
            return Reply(0, b"", drop=True, after_forwarding=True, fault="reset")
        raise ValueError(f"unknown fault {kind!r}")

    def _choose(self, roll: float, operation: str, shard: str | None) -> Reply | None:
        for kind, rate in (
            ("throttle", self.throttle),
            ("expired", self.expired),
            ("error5xx", self.error5xx),
            ("reset", self.reset),
        ):
            if roll < rate:
                return self._make(kind, operation, shard)
            roll -= rate
        return None

    @staticmethod
    def _throttled(operation: str, where: str) -> Reply:
        if operation == "ListShards":
            return aws_error(400, "LimitExceededException", "Rate exceeded", "throttle")
        return aws_error(
            400,
            "ProvisionedThroughputExceededException",
            f"Rate exceeded for {where} under account 000000000000.",
            "throttle",
        )

    @staticmethod
    def _expired(operation: str) -> Reply | None:
        if operation != "GetRecords":
            return None
        return aws_error(
            400,
            "ExpiredIteratorException",
            "Iterator expired. The iterator was created at time Sat Nov 21 10:00:00 UTC 2026 "
            "while right now it is Sat Nov 21 10:05:01 UTC 2026 which is further in the future "
            "than the tolerated delay of 300000 milliseconds.",
            "expired",
        )

    def _server_error(self) -> Reply:
        if self._rng.random() < 0.5:
            return aws_error(500, "InternalFailure", "Internal service failure.", "error5xx")
        return aws_error(503, "ServiceUnavailable", "Service Unavailable", "error5xx")


@dataclass
class Proxy:
    upstream: str
    latency: float = 0.0
    fault: FaultHook | None = None
    #: lower GetRecords' Limit to this (None: forward it as sent)
    max_limit: int | None = None
    #: change what the server answered (a stream whose oldest records were trimmed, say)
    rewrite: RewriteHook | None = None
    calls: list[Call] = field(default_factory=list)
    #: iterator string -> shard id, learnt from GetShardIterator and GetRecords responses
    iterators: dict[str, str] = field(default_factory=dict)
    #: (start, end) monotonic times of outages
    outages: list[tuple[float, float]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _port: int = 0
    _local: threading.local = field(default_factory=threading.local)
    _open: set[socket.socket] = field(default_factory=set)
    _handler: Any = None
    _stopped: threading.Event = field(default_factory=threading.Event)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> Proxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The status line and headers, then the body, go out in two writes: with Nagle's
            # algorithm the body waited for the client's delayed ACK of the first, ~40 ms a call
            # (48 ms through the proxy, 5 ms direct to moto), an RTT nobody asked for.
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                with proxy._lock:
                    proxy._open.add(self.connection)

            def finish(self) -> None:
                with proxy._lock:
                    proxy._open.discard(self.connection)
                with contextlib.suppress(OSError):
                    super().finish()

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                proxy._handle(self)

        self._handler = Handler
        self._listen()
        return self

    def _listen(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", self._port), self._handler)
        server.daemon_threads = True
        self._port = int(server.server_address[1])
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def _unlisten(self) -> None:
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        with self._lock:
            cut = list(self._open)
        for sock in cut:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            if self._server is None:
                return
        self._unlisten()

    def outage(self, seconds: float) -> None:
        """Refuse every connection for `seconds` (blocks), then serve again on the same port
        (unless the proxy is stopped meanwhile)."""
        started = time.monotonic()
        self._unlisten()
        if self._stopped.wait(seconds):
            return
        self._listen()
        with self._lock:
            self.outages.append((started, time.monotonic()))

    def outage_in_background(self, after: float, seconds: float) -> threading.Thread:
        def run() -> None:
            time.sleep(after)
            self.outage(seconds)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    # -- the call log ---------------------------------------------------------------------------

    def operations(self, name: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.operation == name]

    def times_per_shard(self, operation: str) -> dict[str, list[float]]:
        """When each shard got `operation`, failed and faulted calls included."""
        per_shard: dict[str, list[float]] = {}
        for call in self.operations(operation):
            if call.shard is not None:
                per_shard.setdefault(call.shard, []).append(call.at)
        return per_shard

    def max_per_second(self, operation: str = "GetRecords") -> int:
        """The most `operation` calls any one shard got in any window of one second."""
        return max(
            (max_calls_in_any_second(t) for t in self.times_per_shard(operation).values()),
            default=0,
        )

    def tightest_span(self, operation: str = "GetRecords", calls: int = 6) -> float | None:
        """The shortest time any shard took for `calls` consecutive `operation` calls (more
        than 1 s for 6 calls: never more than 5 in a second)."""
        spans = [
            times[i + calls - 1] - times[i]
            for times in map(sorted, self.times_per_shard(operation).values())
            for i in range(len(times) - calls + 1)
        ]
        return round(min(spans), 3) if spans else None

    def faults(self) -> Counter[str]:
        with self._lock:
            return Counter(c.fault for c in self.calls if c.fault)

    # -- forwarding -----------------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            parts = urlsplit(self.upstream)
            conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
            self._local.conn = conn
        return conn

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        arrived = time.monotonic()  # what a rate limit counts: arrivals, not answers
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        target = handler.headers.get("X-Amz-Target", "")
        operation = target.rsplit(".", 1)[-1]
        try:
            request = json.loads(body) if body else {}
        except ValueError:
            request = {}
        with self._lock:
            shard = request.get("ShardId") or self.iterators.get(request.get("ShardIterator", ""))
        if operation == "GetRecords" and self.max_limit is not None:
            request["Limit"] = min(int(request.get("Limit") or self.max_limit), self.max_limit)
            body = json.dumps(request).encode()
        if self.latency:
            time.sleep(self.latency)
        reply = self.fault(operation, request, shard) if self.fault else None
        if reply is not None and not reply.after_forwarding:
            self._reply(handler, reply, Call(arrived, operation, shard, reply.status, reply.fault))
            return
        status, headers, payload = self._forward(handler, body)
        if status == 200 and shard and operation in {"GetShardIterator", "GetRecords"}:
            self._learn(payload, shard)
        if reply is not None:
            self._reply(handler, reply, Call(arrived, operation, shard, reply.status, reply.fault))
            return
        if status == 200 and self.rewrite is not None:
            payload = json.dumps(self.rewrite(operation, json.loads(payload))).encode()
        self._record(Call(arrived, operation, shard, status))
        self._send(handler, status, payload, headers)

    def _reply(self, handler: BaseHTTPRequestHandler, reply: Reply, call: Call) -> None:
        self._record(call)
        if reply.drop:
            handler.close_connection = True
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(handler, reply.status, reply.body, {"Content-Type": reply.content_type})

    def _forward(
        self, handler: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        skip = {"host", "content-length", "connection"}
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in skip}
        for attempt in range(2):
            conn = self._connection()
            try:
                conn.request("POST", handler.path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
                continue
            kept = {
                k: v
                for k, v in response.getheaders()
                if k.lower() not in {"content-length", "connection", "transfer-encoding"}
            }
            return response.status, kept, payload
        raise AssertionError("unreachable")

    def _learn(self, payload: bytes, shard: str) -> None:
        try:
            data = json.loads(payload)
        except ValueError:
            return
        for key in ("ShardIterator", "NextShardIterator"):
            if data.get(key):
                with self._lock:
                    self.iterators[data[key]] = shard

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]
    ) -> None:
        try:
            handler.send_response(status)
            for key, value in headers.items():
                handler.send_header(key, value)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:  # the client went away, or an outage cut the connection
            handler.close_connection = True


def max_calls_in_any_second(times: list[float]) -> int:
    """The most calls that fall in any window of one second."""
    ordered = sorted(times)
    best = 0
    start = 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best
