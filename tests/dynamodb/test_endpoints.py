"""Which host streamtail's DynamoDB Streams calls go to, as users get it.

- On AWS (no endpoint URL), botocore 1.44 and later send every call that carries the stream ARN
  (DescribeStream, GetShardIterator) or an iterator (which starts with the ARN) to the account's
  own endpoint, `ACCOUNT.streams-ddb.REGION.amazonaws.com` (botocore's endpoint-rule-set-1.json
  for dynamodbstreams). moto in-process is taught that host (tests/inprocess_moto.py), so the
  read below is the path a user on AWS takes, end to end.
- With an endpoint URL (LocalStack, moto's server), every call goes to that URL and the account
  endpoint is not used.

The `--debug` log names each request's URL (debuglog.py), so the host is read from what was sent.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest

from .helpers import ACCOUNT, REGION, cli, create_table, explain

_SENT = re.compile(r"→ dynamodb-streams\.(\w+) POST (\S+)")


def _sent(stderr: str) -> list[tuple[str, str]]:
    return _SENT.findall(stderr)


def test_on_aws_calls_go_to_the_account_endpoint(aws: None, ddb: Any) -> None:
    create_table(ddb, "Orders")
    ddb.put_item(TableName="Orders", Item={"pk": {"S": "a"}})

    result = cli("read", "ddb:Orders", "-o", "ndjson", "--debug")

    assert result.exit_code == 0, explain(result)
    assert result.stdout.count("\n") == 1 and '"event":"INSERT"' in result.stdout
    sent = _sent(result.stderr)
    assert {op for op, _ in sent} >= {"DescribeStream", "GetShardIterator", "GetRecords"}
    account_host = f"https://{ACCOUNT}.streams-ddb.{REGION}.amazonaws.com/"
    assert {url for _, url in sent} == {account_host}, sent


@pytest.mark.server
def test_with_an_endpoint_url_calls_go_to_that_url(server: str) -> None:
    import boto3

    ddb = boto3.client("dynamodb", region_name=REGION, endpoint_url=server)
    create_table(ddb, "Orders")
    ddb.put_item(TableName="Orders", Item={"pk": {"S": "a"}})

    command = ["read", "ddb:Orders", "-o", "ndjson", "--debug", "--endpoint-url", server]
    debug = subprocess.run(
        [sys.executable, "-m", "streamtail", *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=os.environ.copy(),
    )
    assert debug.returncode == 0, debug.stderr
    assert debug.stdout.count("\n") == 1 and '"event":"INSERT"' in debug.stdout
    sent = _sent(debug.stderr)
    assert {op for op, _ in sent} >= {"DescribeStream", "GetShardIterator", "GetRecords"}
    assert {url for _, url in sent} == {f"{server}/"}, sent
