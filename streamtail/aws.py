"""boto3 sessions and clients, and the one place botocore exceptions become streamtail errors.

Imported only by commands that talk to AWS, so `streamtail --help` never loads boto3.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import botocore
import botocore.config
import botocore.exceptions
import botocore.session

from streamtail import __version__, leanparse
from streamtail.errors import (
    ServiceError,
    StreamtailError,
    UsageError,
    from_botocore_error,
    from_client_error,
)

T = TypeVar("T")

#: A region for endpoints that do not care (local servers) when none is configured anywhere.
LOCAL_DEFAULT_REGION = "us-east-1"
#: Yandex Data Streams lives in this region; its stream paths start with it.
YANDEX_REGION = "ru-central1"
#: a Yandex Cloud IAM token (`yc iam create-token`), sent instead of a signature to Kinesis
#: endpoints that are not AWS's: YDS takes it in X-YaCloud-SubjectToken
#: (ydb/core/http_proxy/http_req.cpp, `THttpRequestContext::ParseHeaders`, and `GetSignature`:
#: no signature is checked when an IAM token came)
IAM_TOKEN_ENV = "YC_IAM_TOKEN"
_IAM_HEADER = "X-YaCloud-SubjectToken"
#: services beside the stream whose own endpoint variable wins over --endpoint-url (which names
#: the stream's endpoint); botocore reads the variable itself when no endpoint_url is passed
_OWN_ENDPOINT_ENV = {"glue": "AWS_ENDPOINT_URL_GLUE"}


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
        check_endpoint(conn.endpoint_url, "--endpoint-url")
        self.conn = conn
        #: `--debug`'s line writer, for what sources decide about the service
        self.log = log
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
        if region is None and _yandex_host(conn.endpoint_url):
            region = YANDEX_REGION  # YDS checks signatures for ru-central1
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
            endpoint = self.conn.endpoint_url
            if os.environ.get(_OWN_ENDPOINT_ENV.get(service, "-")):
                endpoint = None
            try:
                self._clients[key] = self._session.create_client(
                    service,
                    region_name=self.region,
                    endpoint_url=endpoint,
                    config=self._data_config if data_plane else self._config,
                )
            except botocore.exceptions.InvalidRegionError as exc:
                raise UsageError(
                    f"invalid region {self.region!r}: not a region name",
                    hint="a region such as us-east-1 or eu-west-1 (from --region, AWS_REGION, "
                    "AWS_DEFAULT_REGION or the profile)",
                ) from exc
            except botocore.exceptions.BotoCoreError as exc:
                raise translate(exc, service) from exc
            except ValueError as exc:  # botocore raises ValueError for a malformed endpoint URL
                # --endpoint-url is checked first: this one came from AWS_ENDPOINT_URL* or config
                raise UsageError(
                    f"{service}: {exc}",
                    hint="an endpoint URL needs its scheme, e.g. http://127.0.0.1:4566: check "
                    "AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_* and the profile's endpoint_url",
                ) from exc
            if service == "kinesis":
                _use_iam_token(self._clients[key])
        return self._clients[key]


def check_endpoint(url: str | None, option: str) -> None:
    """An endpoint URL is http(s)://HOST[:PORT][/PATH]: anything else is a usage error (exit 2)
    with the likely fix (botocore only says "Invalid endpoint")."""
    if url is None:
        return
    parts = urlsplit(url.strip())
    if parts.scheme in {"http", "https"} and parts.netloc:
        return
    if "://" in url or not url.strip():
        hint = "the scheme is http or https: http://127.0.0.1:4566, https://kinesis.example.com"
    else:
        hint = f"give the scheme: {option} http://{url.strip()} (or https://)"
    raise UsageError(f"invalid {option} {url!r}: not an http(s) URL", hint=hint)


def iam_token_for(endpoint: str | None) -> str | None:
    """The IAM token to send to `endpoint`: never to AWS's own endpoints."""
    token = os.environ.get(IAM_TOKEN_ENV, "").strip()
    host = (urlsplit(endpoint or "").hostname or "").lower()
    if not token or not host or host.endswith((".amazonaws.com", ".amazonaws.com.cn")):
        return None
    return token


def _use_iam_token(client: Any) -> None:
    token = iam_token_for(client.meta.endpoint_url)
    if token is None:
        return

    def unsigned(**_: Any) -> Any:
        return botocore.UNSIGNED

    def add_token(request: Any, **_: Any) -> None:
        request.headers[_IAM_HEADER] = token

    client.meta.events.register("choose-signer.kinesis", unsigned)
    client.meta.events.register("before-sign.kinesis", add_token)


def _yandex_host(endpoint: str | None) -> bool:
    from streamtail.sources.yds import endpoint_is_yds

    return endpoint_is_yds(endpoint)


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
