"""A small HTTP proxy between streamtail and a real local server, for tests and benchmarks.

It forwards every request to the upstream server and can add latency (to stand in for a real
network round trip) and log each call: time, operation (X-Amz-Target) and, for GetRecords and
GetShardIterator, the shard the call was about. Faults are injected by a `fault` hook that may
answer a request itself instead of forwarding it.

Stdlib only: ThreadingHTTPServer in a thread, one upstream connection per handler thread.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Call:
    at: float
    operation: str
    shard: str | None
    status: int


@dataclass
class Reply:
    """A response the proxy sends instead of forwarding (a fault)."""

    status: int
    body: bytes
    content_type: str = "application/x-amz-json-1.1"
    #: close the connection without any response (a reset)
    drop: bool = False


#: fault(operation, request_json, shard) -> a Reply to send instead, or None to forward
FaultHook = Callable[[str, dict[str, Any], "str | None"], "Reply | None"]


@dataclass
class Proxy:
    upstream: str
    latency: float = 0.0
    fault: FaultHook | None = None
    calls: list[Call] = field(default_factory=list)
    #: iterator string -> shard id, learnt from GetShardIterator and GetRecords responses
    iterators: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _local: threading.local = field(default_factory=threading.local)

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Proxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                proxy._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def operations(self, name: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.operation == name]

    # -- forwarding ---------------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            parts = urlsplit(self.upstream)
            conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
            self._local.conn = conn
        return conn

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        target = handler.headers.get("X-Amz-Target", "")
        operation = target.rsplit(".", 1)[-1]
        try:
            request = json.loads(body) if body else {}
        except ValueError:
            request = {}
        shard = request.get("ShardId") or self.iterators.get(request.get("ShardIterator", ""))
        if self.latency:
            time.sleep(self.latency)
        reply = self.fault(operation, request, shard) if self.fault else None
        if reply is not None:
            self._record(operation, shard, reply.status)
            if reply.drop:
                handler.close_connection = True
                handler.connection.close()
                return
            self._send(handler, reply.status, reply.body, {"Content-Type": reply.content_type})
            return
        status, headers, payload = self._forward(handler, body)
        self._record(operation, shard, status)
        if status == 200 and shard and operation in {"GetShardIterator", "GetRecords"}:
            self._learn(payload, shard)
        self._send(handler, status, payload, headers)

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

    def _record(self, operation: str, shard: str | None, status: int) -> None:
        with self._lock:
            self.calls.append(Call(time.monotonic(), operation, shard, status))

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]
    ) -> None:
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


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
