"""The lean GetRecords parser yields exactly the records botocore's own parser yields."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from streamtail.aws import Clients, Connection
from streamtail.errors import ServiceError, StreamtailError
from streamtail.model import TRIM_HORIZON, SourceKind, StreamRef
from streamtail.sources.dynamodb import DynamoDBSource, resolve_stream
from streamtail.sources.kinesis import KinesisSource
from tests.decoding import decoded
from tests.inprocess_moto import mock_aws_as_aws

PAYLOADS = [
    b'{"id": 1, "name": "caf\xc3\xa9"}',
    b"plain text line",
    bytes(range(256)),
    b"\x00",
    b"x" * 70_000,
]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws_as_aws():
        yield


def _kinesis(lean: bool) -> KinesisSource:
    clients = Clients(Connection(region="us-east-1"), lean=lean)
    ref = StreamRef(SourceKind.KINESIS, display="lean", name="lean")
    return KinesisSource(ref, clients.client("kinesis"))


def _read_all(source: Any) -> list[Any]:
    batches = []
    for shard in source.list_shards():
        iterator = source.get_iterator(shard, TRIM_HORIZON)
        batch = source.get_records(shard, iterator, 3)
        while batch.records:
            batches.append(batch)
            batch = source.get_records(shard, batch.next_iterator, 3)
    return batches


def test_kinesis_records_identical(aws: None) -> None:
    setup = _kinesis(lean=False)._client
    setup.create_stream(StreamName="lean", ShardCount=2)
    for n, payload in enumerate(PAYLOADS * 2):
        setup.put_record(StreamName="lean", PartitionKey=f"key-{n}", Data=payload)
    lean, botocore_parsed = _read_all(_kinesis(True)), _read_all(_kinesis(False))
    assert sum(len(b.records) for b in lean) == 2 * len(PAYLOADS)
    assert [b.records for b in lean] == [b.records for b in botocore_parsed]
    assert [b.millis_behind for b in lean] == [b.millis_behind for b in botocore_parsed]
    assert {r.data for b in lean for r in b.records} == set(PAYLOADS)


def test_lean_parser_is_used_for_get_records_only(aws: None) -> None:
    source = _kinesis(lean=True)
    source._client.create_stream(StreamName="lean", ShardCount=1)
    source._client.put_record(StreamName="lean", PartitionKey="k", Data=b"abc")
    shard = source.list_shards()[0]
    raw = source._client.get_records(
        ShardIterator=source.get_iterator(shard, TRIM_HORIZON), Limit=10
    )
    assert raw["Records"][0]["Data"] == "YWJj"  # base64 text, as the API sent it
    assert isinstance(raw["Records"][0]["ApproximateArrivalTimestamp"], float)
    described = source._client.describe_stream_summary(StreamName="lean")
    assert not isinstance(described["StreamDescriptionSummary"]["StreamCreationTimestamp"], float)


def test_errors_map_the_same_either_way(aws: None) -> None:
    errors = []
    for lean in (True, False):
        source = _kinesis(lean)
        source._client.create_stream(StreamName="lean", ShardCount=1)
        shard = source.list_shards()[0]
        iterator = source.get_iterator(shard, TRIM_HORIZON)
        source._client.delete_stream(StreamName="lean")
        with pytest.raises(StreamtailError) as caught:
            source.get_records(shard, iterator, 10)
        errors.append((type(caught.value), caught.value.aws_code, caught.value.code))
    assert errors[0] == errors[1]
    assert errors[0][1] == "ResourceNotFoundException"


def _ddb(lean: bool) -> DynamoDBSource:
    clients = Clients(Connection(region="us-east-1"), lean=lean)
    ref = resolve_stream(
        StreamRef(SourceKind.DYNAMODB, display="Lean", name="Lean"), clients.client("dynamodb")
    )
    return DynamoDBSource(ref, clients.client("dynamodbstreams"))


def test_dynamodb_records_identical(aws: None) -> None:
    ddb = Clients(Connection(region="us-east-1"), lean=False).client("dynamodb")
    ddb.create_table(
        TableName="Lean",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    for n in range(4):
        ddb.put_item(
            TableName="Lean",
            Item={
                "pk": {"S": f"k{n % 2}"},
                "n": {"N": "12345678901234567890123456789012345678"},
                "b": {"B": bytes(range(n, n + 8))},
                "bs": {"BS": [b"\x00\x01", b"\xff"]},
                "m": {"M": {"l": {"L": [{"N": "1.50"}, {"NULL": True}]}}},
            },
        )
    lean, parsed = _read_all(_ddb(True)), _read_all(_ddb(False))
    lean_records = [r for b in lean for r in b.records]
    parsed_records = [r for b in parsed for r in b.records]
    assert len(lean_records) == 4
    assert [(r.seq, r.ts_ms, r.change.event) for r in lean_records] == [
        (r.seq, r.ts_ms, r.change.event) for r in parsed_records
    ]
    assert [orjson.dumps(decoded(r).value) for r in lean_records] == [
        orjson.dumps(decoded(r).value) for r in parsed_records
    ]


def test_service_error_is_raised_for_an_unknown_stream(aws: None) -> None:
    with pytest.raises(StreamtailError) as caught:
        _kinesis(lean=True).list_shards()
    assert caught.value.code == 3
    assert not isinstance(caught.value, ServiceError)


def test_a_service_is_found_without_listing_every_service() -> None:
    """The lean model lookup answers "is this service known" from the service's own folder,
    and the whole list (botocore's unknown-service message) as botocore lists it."""
    import botocore.loaders
    import botocore.session

    from streamtail import leanparse

    session = botocore.session.Session()
    leanparse.install(session)
    leanparse.install(session)  # a second session on a shared loader: installed once
    loader = session.get_component("data_loader")
    names = loader.list_available_services("service-2")
    assert isinstance(names, leanparse.ServiceNames)
    assert "kinesis" in names and "dynamodbstreams" in names
    assert "kinesiss" not in names and 7 not in names
    every = botocore.loaders.Loader().list_available_services("service-2")
    assert list(names) == every and len(names) == len(every) and names[0] == every[0]
    assert "kinesis" in every  # the same answer as the listing
    client = session.create_client("kinesis", region_name="us-east-1")
    assert client.meta.service_model.service_name == "kinesis"
    with pytest.raises(botocore.exceptions.UnknownServiceError, match="kinesis, "):
        session.create_client("kinesiss", region_name="us-east-1")


def test_data_files_are_read_by_orjson_as_botocore_reads_them(tmp_path: Path) -> None:
    """Every file a read's clients load (endpoints, the models and rule sets of the services
    streamtail calls, the SDK defaults) comes out equal to botocore's own reading; a file
    orjson refuses, and a name with no file, are botocore's to answer."""
    import botocore.loaders
    import botocore.session

    from streamtail import leanparse

    session = botocore.session.Session()
    leanparse.install(session)
    loader = session.get_component("data_loader")
    assert isinstance(loader.file_loader, leanparse.OrjsonFileLoader)
    ours, theirs = loader.file_loader, botocore.loaders.JSONFileLoader()
    data = Path(botocore.__file__).parent / "data"
    names = ["endpoints", "partitions", "sdk-default-configuration", "_retry"]
    for service in ("kinesis", "dynamodbstreams", "dynamodb", "glue", "sts"):
        (version,) = loader.list_api_versions(service, "service-2")
        names += [f"{service}/{version}/{kind}" for kind in ("service-2", "endpoint-rule-set-1")]
    for name in names:
        loaded = ours.load_file(str(data / name))
        assert loaded is not None and loaded == theirs.load_file(str(data / name)), name
    (tmp_path / "nan.json").write_text('{"a": NaN}')  # the standard library reads NaN
    assert ours.load_file(str(tmp_path / "nan")) == {"a": pytest.approx(float("nan"), nan_ok=True)}
    assert ours.load_file(str(tmp_path / "missing")) is None
    client = session.create_client("kinesis", region_name="us-east-1")
    assert client.meta.endpoint_url == "https://kinesis.us-east-1.amazonaws.com"
