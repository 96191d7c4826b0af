"""`--debug`: requests and responses on stderr, never a credential, signature or token."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from streamtail.redact import REDACTED, Redactor, mask_key_id
from tests.ux.helpers import ACCESS_KEY, SECRET, Moto, cli_env, run_cli

TOKEN = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN/with+base64=chars" * 3
SIGNATURE = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
AUTH = (
    f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20261121/us-east-1/kinesis/aws4_request, "
    f"SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature={SIGNATURE}"
)


def test_authorization_keeps_scope_loses_signature() -> None:
    shown = Redactor().headers({"Authorization": AUTH.encode(), "X-Amz-Date": "20261121T000000Z"})
    assert shown["Authorization"] == (
        f"AWS4-HMAC-SHA256 Credential={mask_key_id(ACCESS_KEY)}/20261121/us-east-1/kinesis/"
        "aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
        f"Signature={REDACTED}"
    )
    assert shown["X-Amz-Date"] == "20261121T000000Z"


def test_token_headers_and_then_the_token_anywhere() -> None:
    redactor = Redactor()
    shown = redactor.headers({"X-Amz-Security-Token": TOKEN, "Cookie": "session=abcdefghij"})
    assert shown == {"X-Amz-Security-Token": REDACTED, "Cookie": REDACTED}
    # Once seen, the token is scrubbed wherever it turns up again.
    assert TOKEN not in redactor.body(f"echo: {TOKEN}")


def test_presigned_url() -> None:
    url = (
        "https://s3.amazonaws.com/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={ACCESS_KEY}%2F20261121%2Fus-east-1%2Fs3%2Faws4_request"
        f"&X-Amz-Security-Token={TOKEN}&X-Amz-Signature={SIGNATURE}&partNumber=1"
    )
    shown = Redactor().url(url)
    assert SIGNATURE not in shown and ACCESS_KEY not in shown and "EXAMPLESESSION" not in shown
    assert "partNumber=1" in shown and "X-Amz-Algorithm=AWS4-HMAC-SHA256" in shown


def test_json_bodies_of_sso_and_sts_style_responses() -> None:
    body = json.dumps(
        {
            "roleCredentials": {
                "accessKeyId": ACCESS_KEY,
                "secretAccessKey": SECRET,
                "sessionToken": TOKEN,
                "expiration": 1,
            },
            "Credentials": {"SecretAccessKey": SECRET, "SessionToken": TOKEN},
            "StreamNames": ["orders"],
            "NextToken": "page-2",
        }
    )
    shown = Redactor().body(body.encode())
    assert SECRET not in shown and TOKEN not in shown and ACCESS_KEY not in shown
    parsed = json.loads(shown)
    assert parsed["roleCredentials"]["secretAccessKey"] == REDACTED
    assert parsed["roleCredentials"]["accessKeyId"] == mask_key_id(ACCESS_KEY)
    assert parsed["StreamNames"] == ["orders"] and parsed["NextToken"] == "page-2"


def test_xml_and_form_bodies() -> None:
    redactor = Redactor()
    xml = (
        "<AssumeRoleResponse><Credentials><AccessKeyId>ASIAEXAMPLEKEY12</AccessKeyId>"
        f"<SecretAccessKey>{SECRET}</SecretAccessKey><SessionToken>{TOKEN}</SessionToken>"
        "</Credentials></AssumeRoleResponse>"
    )
    shown = redactor.body(xml)
    assert SECRET not in shown and TOKEN not in shown
    assert f"<SecretAccessKey>{REDACTED}</SecretAccessKey>" in shown
    form = redactor.body(
        "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&TokenCode=123456"
    )
    assert "TokenCode=%3Credacted%3E" in form or f"TokenCode={REDACTED}" in form
    assert "123456" not in form


def test_known_secrets_are_scrubbed_in_any_text() -> None:
    redactor = Redactor([SECRET, "short"])
    assert redactor.scrub(f"x{SECRET}y short") == f"x{REDACTED}y short"


def test_urls_lose_userinfo_and_secret_query_values_anywhere() -> None:
    # an endpoint's and a proxy's URL: in every request line, and in a connection error
    redactor = Redactor()
    assert redactor.url("http://user:PASSWORD@host:4567/?token=abc&region=x") == (
        f"http://{REDACTED}@host:4567/?token={REDACTED}&region=x"
    )
    error = 'ProxyConnectionError: Failed to connect to proxy URL: "http://bob:pw@proxy:3128"'
    assert redactor.scrub(error) == error.replace("bob:pw@", f"{REDACTED}@")
    assert redactor.scrub("see https://example.com/a?b=1") == "see https://example.com/a?b=1"


@pytest.mark.server
def test_debug_shows_no_secret_of_the_endpoint_url(tmp_path: Path, moto_server: Moto) -> None:
    environ = cli_env(tmp_path)
    host = moto_server.url.removeprefix("http://")
    endpoint = f"http://user:PASSWORD@{host}/?token=TOKENVALUE&api_key=KEYVALUE"
    result = run_cli("ls", "-o", "ndjson", "--endpoint-url", endpoint, "--debug", env=environ)
    stderr = result.stderr.decode()
    assert "→ kinesis.ListStreams POST http://" in stderr
    assert not re.search("PASSWORD|TOKENVALUE|KEYVALUE|user:", stderr), stderr


def test_errors_show_no_secret_of_the_endpoint_url(tmp_path: Path) -> None:
    # Without --debug too: a connection error quotes the endpoint URL the user gave.
    environ = cli_env(tmp_path)
    endpoint = "http://user:PASSWORD@127.0.0.1:9/?token=TOKENVALUE"
    result = run_cli("ls", "-o", "ndjson", "--endpoint-url", endpoint, env=environ)
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "127.0.0.1:9" in stderr
    assert not re.search("PASSWORD|TOKENVALUE|user:", stderr), stderr


def _debug_run(tmp_path: Path, moto: Moto, *args: str, **env: str) -> tuple[Any, str]:
    environ = cli_env(tmp_path, AWS_SESSION_TOKEN=TOKEN, **env)
    result = run_cli(*args, "--endpoint-url", moto.url, "--debug", env=environ)
    return result, result.stderr.decode()


def _assert_clean(stderr: str) -> None:
    assert SECRET not in stderr
    assert TOKEN not in stderr and "EXAMPLESESSIONTOKEN" not in stderr
    assert ACCESS_KEY not in stderr
    # No SigV4 signature (64 hex digits) escapes.
    assert not re.search(r"Signature=[0-9a-f]{64}", stderr)
    assert not re.search(r"\b[0-9a-f]{64}\b", stderr.replace("x-amz-content-sha256", "")), stderr


@pytest.mark.server
def test_ls_debug_logs_requests_and_no_secret(
    tmp_path: Path, moto_server: Moto, orders: str
) -> None:
    result, stderr = _debug_run(tmp_path, moto_server, "ls", "-o", "ndjson")
    assert result.returncode == 0, stderr
    assert b"ux-orders" in result.stdout  # data still on stdout, logs apart
    assert "streamtail: debug: → kinesis.ListStreams POST " + moto_server.url in stderr
    assert "streamtail: debug: ← kinesis.ListStreams 200 in " in stderr
    assert f"Signature={REDACTED}" in stderr
    assert f"'X-Amz-Security-Token': '{REDACTED}'" in stderr
    assert "Credential=AKIA…MSTREAMT".replace("MSTREAMT", ACCESS_KEY[-4:]) in stderr
    assert not any(line.startswith("{") for line in stderr.splitlines())
    _assert_clean(stderr)


@pytest.mark.server
def test_read_debug_logs_get_records(tmp_path: Path, moto_server: Moto, orders: str) -> None:
    result, stderr = _debug_run(tmp_path, moto_server, "read", orders, "-n", "3", "-q")
    assert result.returncode == 0, stderr
    assert len(result.stdout.splitlines()) == 3
    for operation in ("ListShards", "GetShardIterator", "GetRecords"):
        assert f"→ kinesis.{operation} " in stderr
    _assert_clean(stderr)


@pytest.mark.server
def test_debug_traceback_shows_no_locals_and_no_secret(tmp_path: Path, moto_server: Moto) -> None:
    result, stderr = _debug_run(tmp_path, moto_server, "read", "no-such-stream")
    assert result.returncode != 0
    assert "Traceback (most recent call last)" in stderr
    assert "NotFoundError" in stderr
    # Python's plain traceback: no rich panel, and so no table of local variables.
    assert not set("╭│╰") & set(stderr)
    assert "locals:" not in stderr.lower() and "NotFoundError: " in stderr
    _assert_clean(stderr)


@pytest.mark.server
def test_without_debug_nothing_is_logged(tmp_path: Path, moto_server: Moto, orders: str) -> None:
    environ = cli_env(tmp_path)
    result = run_cli("ls", "-o", "ndjson", "--endpoint-url", moto_server.url, env=environ)
    assert result.returncode == 0
    assert result.stderr == b""


@pytest.mark.server
def test_assumed_role_credentials_never_show(
    tmp_path: Path, moto_server: Moto, orders: str
) -> None:
    """A profile that assumes a role: STS returns a secret key and a session token in its body;
    both are redacted there, and the token again in every later request's headers."""
    (tmp_path / "aws-config").write_text(
        "[profile base]\nregion = us-east-1\n"
        f"aws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET}\n"
        "[profile role]\nregion = us-east-1\nsource_profile = base\n"
        "role_arn = arn:aws:iam::123456789012:role/streamtail-test\n"
    )
    environ = cli_env(tmp_path, AWS_ENDPOINT_URL_STS=moto_server.url)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        environ.pop(key)
    result = run_cli(
        "ls",
        "-o",
        "ndjson",
        "--profile",
        "role",
        "--endpoint-url",
        moto_server.url,
        "--debug",
        env=environ,
    )
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    assert "→ sts.AssumeRole POST" in stderr
    assert f"<SecretAccessKey>{REDACTED}</SecretAccessKey>" in stderr
    assert f"<SessionToken>{REDACTED}</SessionToken>" in stderr
    assert "<SecretAccessKey>" in stderr
    secrets = re.findall(r"<(SecretAccessKey|SessionToken)>(.*?)</\1>", stderr)
    assert secrets and {value for _, value in secrets} == {REDACTED}
    assert f"'X-Amz-Security-Token': '{REDACTED}'" in stderr
    _assert_clean(stderr)
