"""boto3 sessions and clients, and the one place botocore exceptions become streamtail errors.

Imported only by commands that talk to AWS, so `streamtail --help` never loads boto3.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import botocore.config
import botocore.exceptions
import botocore.session

from streamtail import __version__, leanparse
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

    def __init__(
        self,
        conn: Connection,
        *,
        region_hint: str | None = None,
        default_region: str | None = None,
        pool: int = 16,
        lean: bool = True,
        quick: bool = False,
        log: Callable[[str], None] | None = None,
    ) -> None:
        """`quick`: short timeouts and no retries (shell completion must answer fast).
        `log`: `--debug`, every request and response as redacted lines (debuglog.py)."""
        self.conn = conn
        # botocore alone (not boto3, which also loads s3transfer and resources): same profiles,
        # credential chain and endpoint settings, a quicker start.
        try:
            self._session = botocore.session.Session(profile=conn.profile)
            configured = self._session.get_config_variable("region")
        except botocore.exceptions.BotoCoreError as exc:
            raise translate(exc, "the AWS profile") from exc
        if lean:
            leanparse.install(self._session)
        if log is not None:
            from streamtail.debuglog import attach

            # On the session, so credential providers' own calls (STS, SSO) are logged and
            # redacted too.
            attach(self._session, log)
        # botocore reads AWS_DEFAULT_REGION but not AWS_REGION, which the AWS CLI v2 honours.
        # A region named by the stream itself (an ARN's) wins over the configured one; a region a
        # name merely suggests (a Yandex path's) only fills in when none is configured.
        region = (
            conn.region
            or region_hint
            or os.environ.get("AWS_REGION")
            or configured
            or default_region
        )
        endpoint_env = any(name.startswith("AWS_ENDPOINT_URL") for name in os.environ)
        if region is None and (conn.endpoint_url or endpoint_env):
            region = LOCAL_DEFAULT_REGION
        self.region = region
        self._config = botocore.config.Config(
            connect_timeout=5,
            read_timeout=30,
            max_pool_connections=max(pool, 10),
            retries={"mode": "standard", "max_attempts": 3},
            user_agent_extra=f"streamtail/{__version__}",
        )
        if quick:
            self._config = self._config.merge(
                botocore.config.Config(
                    connect_timeout=1, read_timeout=2, retries={"total_max_attempts": 1}
                )
            )
        # GetRecords is retried by the reader itself, paced per shard (5 calls/s), so its client
        # must not add botocore's own retries on top.
        self._data_config = self._config.merge(
            botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1})
        )
        self._clients: dict[tuple[str, bool], Any] = {}

    def ca_bundle(self) -> str | None:
        """The CA bundle botocore verifies TLS with (AWS_CA_BUNDLE, the profile's ca_bundle),
        or None for its default; for connections made without botocore (`--efo`)."""
        bundle = self._session.get_config_variable("ca_bundle")
        return str(bundle) if bundle else None

    def client(self, service: str, *, data_plane: bool = False) -> Any:
        """A client for `service`; `data_plane` clients make exactly one attempt per call."""
        key = (service, data_plane)
        if key not in self._clients:
            try:
                self._clients[key] = self._session.create_client(
                    service,
                    region_name=self.region,
                    endpoint_url=self.conn.endpoint_url,
                    config=self._data_config if data_plane else self._config,
                )
            except botocore.exceptions.BotoCoreError as exc:
                raise translate(exc, service) from exc
            except ValueError as exc:  # botocore raises ValueError for a malformed endpoint URL
                raise translate(exc, service) from exc
        return self._clients[key]


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
