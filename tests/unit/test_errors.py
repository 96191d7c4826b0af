"""How AWS errors are classified: exit codes, and which ServiceErrors are worth retrying."""

from __future__ import annotations

from typing import Any

import pytest

from streamtail.errors import (
    CredentialsError,
    ExitCode,
    NotFoundError,
    ServiceError,
    UsageError,
    from_client_error,
)


class FakeClientError(Exception):
    def __init__(self, code: str, status: int | None) -> None:
        response: dict[str, Any] = {"Error": {"Code": code, "Message": "msg"}}
        if status is not None:
            response["ResponseMetadata"] = {"HTTPStatusCode": status}
        super().__init__(code)
        self.response = response


@pytest.mark.parametrize(
    ("code", "status", "cls", "retryable"),
    [
        ("ProvisionedThroughputExceededException", 400, ServiceError, True),
        ("LimitExceededException", 400, ServiceError, True),
        ("ResourceInUseException", 400, ServiceError, True),
        ("KMSThrottlingException", 400, ServiceError, True),
        ("InternalFailure", 500, ServiceError, True),
        ("SomethingNew", 503, ServiceError, True),
        ("SomethingNew", None, ServiceError, True),
        ("KMSDisabledException", 400, ServiceError, False),
        ("KMSNotFoundException", 400, ServiceError, False),
        ("SomethingNew", 400, ServiceError, False),
        ("ResourceNotFoundException", 400, NotFoundError, None),
        ("AccessDeniedException", 400, CredentialsError, None),
        ("ExpiredTokenException", 400, CredentialsError, None),
        ("InvalidArgumentException", 400, UsageError, None),
    ],
)
def test_classification(code: str, status: int | None, cls: type, retryable: bool | None) -> None:
    error = from_client_error(FakeClientError(code, status), "stream 'orders'")
    assert type(error) is cls
    assert error.aws_code == code
    if retryable is not None:
        assert isinstance(error, ServiceError)
        assert error.retryable is retryable


def test_sigterm_has_its_own_exit_code() -> None:
    assert ExitCode.TERMINATED == 143
    assert ExitCode.INTERRUPTED == 130


@pytest.mark.parametrize(
    "make",
    [
        lambda b: b.EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
        lambda b: b.ConnectTimeoutError(endpoint_url="http://127.0.0.1:9"),
        lambda b: b.ReadTimeoutError(endpoint_url="http://127.0.0.1:9"),
        lambda b: b.ConnectionClosedError(endpoint_url="http://127.0.0.1:9"),
    ],
    ids=["refused", "connect-timeout", "read-timeout", "reset"],
)
def test_network_faults_are_retryable_service_errors(make: Any) -> None:
    import botocore.exceptions

    from streamtail.aws import translate

    error = translate(make(botocore.exceptions), "stream 'orders'")
    assert type(error) is ServiceError
    assert error.retryable
    assert error.code is ExitCode.RUNTIME
