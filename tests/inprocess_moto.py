"""moto in-process (`mock_aws`), taught the DynamoDB Streams endpoints AWS really serves.

botocore 1.44 sends a DynamoDB Streams call whose StreamArn (or shard iterator, which starts with
the stream ARN) names an account to an account-based endpoint,
`https://ACCOUNT.streams-ddb.REGION.amazonaws.com/` (the `{ParsedArn#accountId}.streams-ddb`
rules of botocore/data/dynamodbstreams/2012-08-10/endpoint-rule-set-1.json). moto 5.2.5 routes
only `streams.dynamodb.REGION.amazonaws.com` (moto/dynamodbstreams/urls.py), so under
`mock_aws` every such call would be `404: Not yet implemented`.

The tests that use this exercise the user-facing path: streamtail's own clients, with the
endpoint botocore chooses for a user on AWS (account-based on botocore 1.44 and later, regional
before). Rather than turning the account endpoint off (`AWS_ACCOUNT_ID_ENDPOINT_MODE=disabled`,
which would test a configuration users do not have), moto is taught to answer on that host too.
tests/dynamodb/test_endpoints.py checks which host the calls really went to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

ACCOUNT_STREAMS_HOST = r"https?://\d{12}\.streams-ddb\.(.+)\.amazonaws\.com"


def teach_account_endpoints() -> None:
    """Make moto's in-process router and its DynamoDB Streams backend accept the account host.

    Idempotent: moto keeps both tables at module level for the life of the process.
    """
    from moto import backend_index
    from moto.dynamodbstreams import urls

    if ACCOUNT_STREAMS_HOST not in urls.url_bases:
        urls.url_bases.append(ACCOUNT_STREAMS_HOST)
    patterns = backend_index.backend_url_patterns
    if not any(p.pattern == ACCOUNT_STREAMS_HOST for _, p in patterns):
        patterns.insert(0, ("dynamodbstreams", re.compile(ACCOUNT_STREAMS_HOST)))


@contextmanager
def mock_aws_as_aws() -> Iterator[None]:
    """`moto.mock_aws()`, answering on every endpoint botocore may choose for these services."""
    from moto import mock_aws

    teach_account_endpoints()
    with mock_aws():
        yield
