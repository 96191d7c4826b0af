"""`--debug`: every AWS request and response as a few redacted lines on stderr.

Hooks botocore's `before-send` and `response-received` events on the botocore session (so the
calls credential providers make, STS AssumeRole and SSO GetRoleCredentials, are logged and
redacted too). botocore's own DEBUG logging is left off: it prints signed headers verbatim.
Everything printed goes through `redact.Redactor`.
"""

from __future__ import annotations

import configparser
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamtail.redact import Redactor

#: characters of a body shown; GetRecords responses can be megabytes of payload
MAX_BODY = 2_000
_PREFIX = "streamtail: debug: "


def _shown_body(text: str) -> str:
    if len(text) <= MAX_BODY:
        return text
    return f"{text[:MAX_BODY]}… ({len(text):,} characters)"


def _configured_secrets(session: Any) -> list[str]:
    """Secrets configured for this session that can be read without resolving credentials
    (resolving them from inside a hook could re-enter a credential provider mid-refresh)."""
    secrets = [os.environ.get("AWS_SECRET_ACCESS_KEY", ""), os.environ.get("AWS_SESSION_TOKEN", "")]
    try:
        scoped = session.get_scoped_config()
        profile = session.profile or "default"
        credentials_file = Path(session.get_config_variable("credentials_file")).expanduser()
    except Exception:  # a broken profile is reported by the command itself
        return secrets
    secrets += [scoped.get("aws_secret_access_key", ""), scoped.get("aws_session_token", "")]
    parser = configparser.RawConfigParser()
    try:
        parser.read(credentials_file)
    except (OSError, configparser.Error):
        return secrets
    if parser.has_section(profile):
        for key in ("aws_secret_access_key", "aws_session_token"):
            secrets.append(parser.get(profile, key, fallback=""))
    return secrets


class _Hooks:
    def __init__(self, redactor: Redactor, log: Callable[[str], None]) -> None:
        self.redactor = redactor
        self.log = log
        self._local = threading.local()

    def _emit(self, text: str) -> None:
        self.log(_PREFIX + self.redactor.scrub(text))

    def before_send(self, request: Any, event_name: str = "", **_: Any) -> None:
        redact = self.redactor
        # Headers first: they teach the redactor this request's signature and token.
        headers = redact.headers(dict(request.headers.items()))
        self._local.started = time.monotonic()
        operation = _operation(event_name)
        self._emit(f"→ {operation} {request.method} {redact.url(request.url)}")
        self._emit(f"  headers {headers}")
        body = request.body
        if isinstance(body, bytes | str) and body:
            self._emit(f"  body {_shown_body(redact.body(body))}")

    def response_received(
        self,
        event_name: str = "",
        response_dict: dict[str, Any] | None = None,
        exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        started = getattr(self._local, "started", None)
        took = "" if started is None else f" in {(time.monotonic() - started) * 1000:.0f} ms"
        operation = _operation(event_name)
        if response_dict is None and getattr(exception, "handed_over", False):
            # `--efo`: botocore signed SubscribeToShard and handed it to the HTTP/2 client
            self._emit(f"← {operation} signed, sent over HTTP/2 (efo/subscription.py)")
            return
        if response_dict is None:
            reason = f"{type(exception).__name__}: {exception}" if exception else "no response"
            self._emit(f"← {operation} failed{took}: {reason}")
            return
        body = response_dict.get("body")
        size = len(body) if isinstance(body, bytes | str) else 0
        self._emit(f"← {operation} {response_dict.get('status_code')}{took}, {size:,} bytes")
        self._emit(f"  headers {self.redactor.headers(response_dict.get('headers') or {})}")
        if isinstance(body, bytes | str) and body:
            self._emit(f"  body {_shown_body(self.redactor.body(body))}")


def _operation(event_name: str) -> str:
    """`before-send.kinesis.GetRecords` -> `kinesis.GetRecords`."""
    return event_name.partition(".")[2] or "request"


def attach(session: Any, log: Callable[[str], None]) -> Redactor:
    """Log the requests and responses of every client `session` (a botocore session) creates."""
    redactor = Redactor(_configured_secrets(session))
    hooks = _Hooks(redactor, log)
    session.register("before-send", hooks.before_send, unique_id="streamtail-debug-send")
    session.register(
        "response-received", hooks.response_received, unique_id="streamtail-debug-received"
    )
    return redactor
