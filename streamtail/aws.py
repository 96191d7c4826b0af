"""boto3 sessions and clients, and the one place botocore exceptions become streamtail errors.

Imported only by commands that talk to AWS, so `streamtail --help` never loads boto3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
import botocore.config
import botocore.exceptions

from streamtail import __version__
from streamtail.errors import (
    ServiceError,
    StreamtailError,
    from_botocore_error,
    from_client_error,
)

T = TypeVar("T")

#: A region for endpoints that do not care (local servers) when none is configured anywhere.
LOCAL_DEFAULT_REGION = "us-east-1"
#: Yandex Data Streams lives in this region; its stream paths start with it.
YANDEX_REGION = "ru-central1"


@dataclass(frozen=True)
class Connection:
    """Connection options shared by every command (`--profile`, `--region`, `--endpoint-url`)."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None


class Clients:
    """Creates and caches boto3 clients for one connection (clients are thread-safe)."""

    def __init__(self, conn: Connection, *, region_hint: str | None = None, pool: int = 16) -> None:
        self.conn = conn
        try:
            self._session = boto3.session.Session(profile_name=conn.profile)
        except botocore.exceptions.BotoCoreError as exc:
            raise translate(exc, "the AWS profile") from exc
        region = conn.region or self._session.region_name or region_hint
        if region is None and conn.endpoint_url:
            region = LOCAL_DEFAULT_REGION
        self.region = region
        self._config = botocore.config.Config(
            connect_timeout=5,
            read_timeout=30,
            max_pool_connections=max(pool, 10),
            retries={"mode": "standard", "max_attempts": 3},
            user_agent_extra=f"streamtail/{__version__}",
        )
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            try:
                self._clients[service] = self._session.client(
                    service,
                    region_name=self.region,
                    endpoint_url=self.conn.endpoint_url,
                    config=self._config,
                )
            except botocore.exceptions.BotoCoreError as exc:
                raise translate(exc, service) from exc
            except ValueError as exc:  # botocore raises ValueError for a malformed endpoint URL
                raise translate(exc, service) from exc
        return self._clients[service]


def translate(exc: BaseException, what: str) -> StreamtailError:
    """A botocore exception about `what` as a streamtail error (exit code and hint)."""
    if isinstance(exc, botocore.exceptions.ClientError):
        return from_client_error(exc, what)
    mapped = from_botocore_error(exc)
    if mapped is not None:
        return mapped
    if isinstance(exc, ValueError):
        return ServiceError(f"{what}: {exc}")
    return ServiceError(f"request for {what} failed ({type(exc).__name__}: {exc})", aws_code="")


def call(what: str, fn: Callable[..., T], **kwargs: Any) -> T:
    """Call a boto3 client method, turning botocore failures into streamtail errors."""
    try:
        return fn(**kwargs)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise translate(exc, what) from exc
