"""Stream names, paths and ARNs (docs/CONTRACT.md, "Naming a stream")."""

from __future__ import annotations

import pytest

from streamtail.errors import UsageError
from streamtail.model import SourceKind, StreamRef
from streamtail.names import resolve

DDB_STREAM_ARN = (
    "arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2026-11-21T00:00:00.000"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("orders", StreamRef(SourceKind.KINESIS, display="orders", name="orders")),
        (
            "my_stream.v2-a",
            StreamRef(SourceKind.KINESIS, display="my_stream.v2-a", name="my_stream.v2-a"),
        ),
        ("  orders  ", StreamRef(SourceKind.KINESIS, display="orders", name="orders")),
        ("a" * 128, StreamRef(SourceKind.KINESIS, display="a" * 128, name="a" * 128)),
        (
            "arn:aws:kinesis:eu-central-1:123456789012:stream/orders",
            StreamRef(
                SourceKind.KINESIS,
                display="orders",
                arn="arn:aws:kinesis:eu-central-1:123456789012:stream/orders",
                region="eu-central-1",
            ),
        ),
        (
            "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/orders",
            StreamRef(
                SourceKind.KINESIS,
                display="orders",
                arn="arn:aws-cn:kinesis:cn-north-1:123456789012:stream/orders",
                region="cn-north-1",
            ),
        ),
        (
            "/ru-central1/b1gabc123/etn456def/orders",
            StreamRef(
                SourceKind.KINESIS,
                display="/ru-central1/b1gabc123/etn456def/orders",
                name="/ru-central1/b1gabc123/etn456def/orders",
                default_region="ru-central1",
            ),
        ),
        (
            "/ru-central1/b1g.../etn.../orders",
            StreamRef(
                SourceKind.KINESIS,
                display="/ru-central1/b1g.../etn.../orders",
                name="/ru-central1/b1g.../etn.../orders",
                default_region="ru-central1",
            ),
        ),
        (
            # a path that is not under a Yandex region: a name, with no region hint
            "/local/db/orders",
            StreamRef(SourceKind.KINESIS, display="/local/db/orders", name="/local/db/orders"),
        ),
        ("ddb:Orders", StreamRef(SourceKind.DYNAMODB, display="Orders", name="Orders")),
        ("dynamodb:Orders", StreamRef(SourceKind.DYNAMODB, display="Orders", name="Orders")),
        (
            "DDB:my-table.v1",
            StreamRef(SourceKind.DYNAMODB, display="my-table.v1", name="my-table.v1"),
        ),
        (
            DDB_STREAM_ARN,
            StreamRef(
                SourceKind.DYNAMODB,
                display=DDB_STREAM_ARN,
                name="Orders",
                arn=DDB_STREAM_ARN,
                region="eu-west-1",
            ),
        ),
    ],
)
def test_resolve(text: str, expected: StreamRef) -> None:
    assert resolve(text) == expected


@pytest.mark.parametrize(
    ("text", "message", "hint_part"),
    [
        ("", "empty stream name", "ddb:TABLE"),
        ("   ", "empty stream name", "ddb:TABLE"),
        ("bad name", "invalid stream name 'bad name'", "1-128 characters"),
        ("orders!", "invalid stream name 'orders!'", "1-128 characters"),
        ("a" * 129, f"invalid stream name {'a' * 129!r}", "1-128 characters"),
        ("ord\x1bers", "invalid stream name 'ord\\x1bers'", "1-128 characters"),
        ("/", "invalid stream path '/'", "Yandex path"),
        ("/orders", "invalid stream path '/orders'", "Yandex path"),
        ("/ru-central1//orders", "invalid stream path '/ru-central1//orders'", "Yandex path"),
        (
            "/ru-central1/b1g/etn/or ders",
            "invalid stream path '/ru-central1/b1g/etn/or ders'",
            "Yandex path",
        ),
        ("ddb:", "invalid DynamoDB table name ''", "3-255 characters"),
        ("ddb:ab", "invalid DynamoDB table name 'ab'", "3-255 characters"),
        ("dynamodb:bad table", "invalid DynamoDB table name 'bad table'", "3-255 characters"),
    ],
)
def test_invalid_names(text: str, message: str, hint_part: str) -> None:
    with pytest.raises(UsageError) as info:
        resolve(text)
    assert info.value.code == 2
    assert info.value.message == message
    assert info.value.hint is not None
    assert hint_part in info.value.hint


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:kinesis:us-east-1:12345:stream/orders",  # account is 12 digits
        "arn:aws:kinesis:us-east-1:123456789012:stream/",
        "arn:aws:kinesis:us-east-1:123456789012:orders",
        "arn:aws:kinesis::123456789012:stream/orders",
        "arn:aws:sqs:us-east-1:123456789012:orders",
        "arn:aws:dynamodb:us-east-1:123456789012:table/Orders",  # a table, not its stream
        "arn:",
    ],
)
def test_invalid_arns(arn: str) -> None:
    with pytest.raises(UsageError) as info:
        resolve(arn)
    assert info.value.code == 2
    assert info.value.message == f"invalid or unsupported ARN {arn!r}"
