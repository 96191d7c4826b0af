"""Exit codes and the exception tree.

Every failure a user can meet is a `StreamtailError` carrying its exit code and, where one helps, a
hint. Only cli.py turns them into an exit status and one line on stderr (see docs/CONTRACT.md).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    OK = 0
    RUNTIME = 1
    USAGE = 2
    NOT_FOUND = 3
    CREDENTIALS = 4
    #: SIGHUP: the terminal or SSH session closed (128 + 1)
    HANGUP = 129
    INTERRUPTED = 130
    #: SIGTERM: a clean stop like Ctrl-C (128 + 15, as shells report a process ended by SIGTERM)
    TERMINATED = 143


class StreamtailError(Exception):
    """An error meant for the user: one line, an exit code, an optional hint."""

    code: ExitCode = ExitCode.RUNTIME

    def __init__(self, message: str, hint: str | None = None, *, aws_code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        #: the AWS error code behind this error, if it came from the service
        self.aws_code = aws_code


class UsageError(StreamtailError):
    code = ExitCode.USAGE


class UnsupportedError(UsageError):
    """The service lacks an operation a command needs (Yandex Data Streams has no
    SubscribeToShard, say): asking again cannot help, so it is a usage error (exit 2)."""


class NotFoundError(StreamtailError):
    code = ExitCode.NOT_FOUND


class CredentialsError(StreamtailError):
    code = ExitCode.CREDENTIALS


class ServiceError(StreamtailError):
    """The service or the network failed (after retries, where retrying makes sense).

    `retryable` is False for answers that will not change by asking again (a 4xx the service
    gives for a reason of its own, such as a disabled KMS key): the reader then stops at once
    instead of retrying forever.
    """

    code = ExitCode.RUNTIME

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        aws_code: str = "",
        retryable: bool = True,
    ) -> None:
        super().__init__(message, hint, aws_code=aws_code)
        self.retryable = retryable


class NotYet(ServiceError):
    """The service asks to be called again a little later, as it says it may (a subscription it
    still holds, its one-call-a-second limit): the reader retries through its backoff, waiting
    `after` seconds at least, without a warning (it is not a fault)."""

    def __init__(self, message: str, *, after: float, aws_code: str = "") -> None:
        super().__init__(message, aws_code=aws_code, retryable=True)
        self.after = after


_CREDENTIAL_CODES = frozenset(
    {
        "AccessDeniedException",
        "AccessDenied",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredTokenException",
        "ExpiredToken",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "KMSAccessDeniedException",
    }
)
#: (Glue answers EntityNotFoundException for a schema, registry or version it does not hold)
_NOT_FOUND_CODES = frozenset(
    {"ResourceNotFoundException", "TableNotFoundException", "EntityNotFoundException"}
)
_USAGE_CODES = frozenset({"InvalidArgumentException", "ValidationException"})
#: The service lacks the operation: DynamoDB Local answers InvalidAction to any Kinesis call,
#: Kinesis look-alikes UnknownOperationException to an API they do not have (exit 2, named).
_UNSUPPORTED_CODES = frozenset({"UnknownOperationException", "InvalidAction"})

#: The service pushes back: slow down and retry (counted apart in the status line and notices).
THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "KMSThrottlingException",
    }
)
#: Error codes worth retrying: the service pushes back or hiccups, the request itself is fine.
TRANSIENT_CODES = THROTTLING_CODES | frozenset(
    {
        "InternalFailure",
        "InternalFailureException",
        "InternalServerError",
        "InternalServerErrorException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        # the stream is being created, updated or resharded: it answers again in a moment
        "ResourceInUseException",
        # a ListShards NextToken outlived its 300 s: listing again from the start works
        "ExpiredNextTokenException",
    }
)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError, or ''."""
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def from_client_error(exc: BaseException, what: str) -> StreamtailError:
    """Map a botocore ClientError about `what` (a stream or table) to a user-facing error."""
    code = error_code(exc)
    message: str = ""
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        # Some servers send a multi-line body as the message; the error is one line.
        message = " ".join(str(response.get("Error", {}).get("Message", "") or "").split())
    detail = f"{code}: {message}" if message else code
    if code in _NOT_FOUND_CODES:
        return NotFoundError(f"{what} not found ({detail})", aws_code=code)
    if code in _CREDENTIAL_CODES:
        return CredentialsError(
            f"access to {what} denied ({detail})",
            hint="check the credentials and the IAM permissions of the profile in use",
            aws_code=code,
        )
    if code in _UNSUPPORTED_CODES:
        operation = getattr(exc, "operation_name", "") or "the operation"
        return UnsupportedError(
            f"the service does not implement {operation}, which the request for {what} needs "
            f"({detail})",
            aws_code=code,
        )
    if code in _USAGE_CODES:
        return UsageError(f"the service rejected the request for {what} ({detail})", aws_code=code)
    status = None
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    # 5xx and the known transient codes are worth another try; any other 4xx is the service's
    # considered answer. (The reader handles ExpiredIterator and TrimmedDataAccess itself.)
    retryable = code in TRANSIENT_CODES or not isinstance(status, int) or status >= 500
    return ServiceError(f"request for {what} failed ({detail})", aws_code=code, retryable=retryable)


def from_botocore_error(exc: BaseException) -> StreamtailError | None:
    """Map botocore's non-ClientError exceptions (credentials, config, network) by class name.

    Matching by name keeps botocore out of the import graph of modules that only classify errors.
    """
    names = {cls.__name__ for cls in type(exc).__mro__}
    text = str(exc)
    if names & {"NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"}:
        return CredentialsError(
            f"no AWS credentials found ({text})",
            hint="configure a profile (aws configure), pass --profile, or set "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (local servers accept any values)",
        )
    if names & {"TokenRetrievalError", "SSOTokenLoadError", "UnauthorizedSSOTokenError"}:
        return CredentialsError(
            f"credentials expired or unavailable ({text})", hint="aws sso login"
        )
    if "ProfileNotFound" in names:
        return UsageError(text)
    if "NoRegionError" in names:
        return UsageError(
            "no AWS region configured",
            hint="pass --region or set AWS_REGION (or AWS_DEFAULT_REGION)",
        )
    if names & {"EndpointConnectionError", "ConnectionClosedError", "ConnectTimeoutError"}:
        return ServiceError(f"cannot reach the service ({text})", hint="check --endpoint-url")
    if names & {"ReadTimeoutError", "HTTPClientError", "ProxyConnectionError"}:
        return ServiceError(f"network error ({text})")
    if "InvalidEndpointURL" in names or "InvalidEndpointConfigurationError" in names:
        return UsageError(text)
    if "ParamValidationError" in names:
        return UsageError(text.replace("\n", " "))
    return None
