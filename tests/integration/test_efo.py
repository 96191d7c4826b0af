"""`read --efo` / `follow --efo` against kinesis-mock over HTTP/2 (cleartext with prior knowledge,
and TLS through ALPN with a certificate of the test's own, verified), the consumer's lifecycle,
`consumers --prune`, and `--efo` on moto (no SubscribeToShard: exit 2, no consumer left).

Facts these rely on are in docs/SERVERS.md ("HTTP/2 and enhanced fan-out on kinesis-mock"): pushes
about once a second, no initial-response, no ChildShards (a closed parent's end is told from the
listing), ResourceInUse until it notices a closed connection, consumers deregistered by name.
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.tcp_relay import TcpRelay

from .servers import (
    KINESIS_MOCK,
    KINESIS_MOCK_MAIN,
    Admin,
    Cli,
    ServerProcess,
    _spawn,
    _wait_answering,
    assert_lineage_order,
    assert_no_errors,
    assert_shard_order,
    ensure_kinesis_mock_installed,
    free_port,
    wait_until,
)

pytestmark = pytest.mark.server


def consumers_of(admin: Admin, name: str) -> list[dict[str, Any]]:
    return list(admin.client.list_stream_consumers(StreamARN=admin.arn(name))["Consumers"])


def wait_no_consumer(admin: Admin, name: str) -> None:
    """Deregistration is asynchronous (DELETING, then gone): wait until nothing else is left."""
    wait_until(
        lambda: all(c["ConsumerStatus"] == "DELETING" for c in consumers_of(admin, name)),
        timeout=20,
        what=f"no consumer left on {name}",
    )


def keys(records: list[dict[str, Any]]) -> list[str]:
    return sorted(r["key"] for r in records)


def test_read_efo_reads_every_record_once_and_leaves_no_consumer(
    km: Admin, cli: Cli, stream_name: Any
) -> None:
    name = stream_name()
    km.create_stream(name, 3)
    km.wait_active(name)
    puts = km.put_counted(name, 0, 60)
    result = cli.run("read", name, "--efo", "-o", "ndjson", endpoint=km.server.endpoint, timeout=90)
    assert result.returncode == 0, result.describe()
    assert keys(result.records) == sorted(p.key for p in puts)
    assert_shard_order(result.records)
    assert "registering enhanced fan-out consumer streamtail-" in result.stderr
    assert_no_errors(result.stderr)
    wait_no_consumer(km, name)


def test_read_efo_after_a_split_reads_parents_then_children(
    km: Admin, cli: Cli, stream_name: Any
) -> None:
    """kinesis-mock never ends a closed parent's subscription (no ChildShards, a continuation
    always): the listing says it is closed, and its first caught-up event ends it."""
    name = stream_name()
    km.create_stream(name, 1)
    km.wait_active(name)
    before = km.put_counted(name, 0, 20, tag="a")
    km.split(name, km.open_shards(name)[0])
    after = km.put_counted(name, 20, 20, tag="b")
    result = cli.run("read", name, "--efo", "-o", "ndjson", endpoint=km.server.endpoint, timeout=90)
    assert result.returncode == 0, result.describe()
    assert keys(result.records) == sorted(p.key for p in before + after)
    assert_lineage_order(result.records, km.list_shards(name))
    wait_no_consumer(km, name)


def test_an_error_after_registering_still_removes_the_consumer(
    km: Admin, cli: Cli, stream_name: Any
) -> None:
    name = stream_name()
    km.create_stream(name, 1)
    km.wait_active(name)
    result = cli.run(
        "read", name, "--efo", "--shard", "shardId-000000000099", endpoint=km.server.endpoint
    )
    assert result.returncode == 2, result.describe()
    assert "no shard shardId-000000000099" in result.stderr
    assert "registering enhanced fan-out consumer" in result.stderr  # it was registered first
    wait_no_consumer(km, name)


def test_subscriptions_use_http2_and_renew_without_gap_or_repeat(
    km: Admin, stream_name: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process, to see the protocol used and to renew every 2.5 s instead of every 280 s."""
    from streamtail.aws import Clients, Connection
    from streamtail.efo.session import enhanced
    from streamtail.env import Env
    from streamtail.model import TRIM_HORIZON, SourceKind, StreamRef
    from streamtail.reader import Walker, WalkPlan
    from streamtail.sources import open_source

    name = stream_name()
    km.create_stream(name, 2)
    km.wait_active(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    ref = StreamRef(SourceKind.KINESIS, display=name, name=name)
    clients = Clients(Connection(region="us-east-1", endpoint_url=km.server.endpoint))
    env = Env.from_process()
    seen: list[Any] = []
    puts = km.put_counted(name, 0, 20)
    with (
        open_source(ref, clients) as polling,
        enhanced(polling, clients, env, renew_after=2.5) as source,
    ):
        plan = WalkPlan(position=TRIM_HORIZON, follow=True, idle_exit=9.0)
        walker = Walker(source, plan)
        assert (walker.pacing.window, walker.pacing.idle_interval) == (0.0, 0.0)  # pushed
        batches = walker.batches()
        for batch in batches:
            seen.extend(batch)
            if len(seen) >= 20 and len(puts) == 20:
                puts += km.put_counted(name, 20, 20)  # lands after a renewal or two
        assert source.http_version == "HTTP/2"
        assert source.stats.renewals >= 2, source.stats
    assert sorted(r.key for r in seen) == sorted(p.key for p in puts)
    wait_no_consumer(km, name)


def test_follow_efo_across_a_split_then_ctrl_c_removes_the_consumer(
    km: Admin, cli: Cli, stream_name: Any
) -> None:
    name = stream_name()
    km.create_stream(name, 1)
    km.wait_active(name)
    follower = cli.follow(
        "follow",
        name,
        "--efo",
        "--from",
        "trim-horizon",
        "-o",
        "ndjson",
        endpoint=km.server.endpoint,
    )
    try:
        before = km.put_counted(name, 0, 30, tag="a")
        follower.wait_tagged("a", 30, timeout=60)
        km.split(name, km.open_shards(name)[0])
        after = km.put_counted(name, 30, 30, tag="b")
        records = follower.wait_tagged("b", 30, timeout=90)
        follower.process.send_signal(signal.SIGINT)
        assert follower.wait_exit(timeout=30) == 130, follower.describe()
    finally:
        follower.kill()
    records = follower.records()
    assert keys(records) == sorted(p.key for p in before + after)
    assert_lineage_order(records, km.list_shards(name))
    wait_no_consumer(km, name)


def test_resubscribes_after_a_dropped_connection(km: Admin, cli: Cli, stream_name: Any) -> None:
    name = stream_name()
    km.create_stream(name, 2)
    km.wait_active(name)
    port = int(km.server.endpoint.rsplit(":", 1)[1])
    relay = TcpRelay(port)
    follower = cli.follow(
        "follow", name, "--efo", "--from", "trim-horizon", "-o", "ndjson", endpoint=relay.endpoint
    )
    try:
        wait_until(
            lambda: (
                any(c["ConsumerStatus"] == "ACTIVE" for c in consumers_of(km, name))
                and relay.accepted >= 2
            ),
            timeout=30,
            what="subscriptions open",
        )
        first = km.put_counted(name, 0, 20, tag="a")
        follower.wait_tagged("a", 20, timeout=60)
        assert relay.drop_all() >= 1
        second = km.put_counted(name, 20, 20, tag="b")
        follower.wait_tagged("b", 20, timeout=90)
        follower.process.send_signal(signal.SIGTERM)
        assert follower.wait_exit(timeout=30) == 143, follower.describe()
    finally:
        follower.kill()
        relay.close()
    assert keys(follower.records()) == sorted(p.key for p in first + second)
    assert_shard_order(follower.records())
    wait_no_consumer(km, name)


def test_a_stream_deleted_under_follow_efo_is_exit_3_and_one_line(
    km: Admin, cli: Cli, stream_name: Any
) -> None:
    name = stream_name()
    km.create_stream(name, 2)
    km.wait_active(name)
    # -q: no status line, and none of --efo's notices (registering, waiting, ACTIVE) either
    follower = cli.follow(
        "follow",
        name,
        "--efo",
        "-q",
        "--from",
        "trim-horizon",
        "-o",
        "ndjson",
        endpoint=km.server.endpoint,
    )
    try:
        km.put_counted(name, 0, 4, tag="a")
        follower.wait_tagged("a", 4, timeout=60)
        km.client.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
        assert follower.wait_exit(timeout=60) == 3, follower.describe()
    finally:
        follower.kill()
    # no "connection failed ... retrying" first, no "could not deregister": the consumer went
    # with the stream
    [line] = follower.stderr.splitlines()
    assert line.startswith(
        f"streamtail: error: stream {name!r} no longer exists: it was deleted while being read ("
    ), follower.describe()


@pytest.mark.parametrize(("stop", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_or_sighup_while_following_removes_the_consumer(
    km: Admin, cli: Cli, stream_name: Any, stop: signal.Signals, code: int
) -> None:
    """SIGHUP is a closed terminal or SSH session: the consumer must not stay ACTIVE (billed)."""
    name = stream_name()
    km.create_stream(name, 1)
    km.wait_active(name)
    follower = cli.follow("follow", name, "--efo", "-o", "ndjson", endpoint=km.server.endpoint)
    try:
        wait_until(
            lambda: any(c["ConsumerStatus"] == "ACTIVE" for c in consumers_of(km, name)),
            timeout=30,
            what="the consumer registered",
        )
        follower.process.send_signal(stop)
        assert follower.wait_exit(timeout=30) == code, follower.describe()
    finally:
        follower.kill()
    wait_no_consumer(km, name)


def test_stdout_closed_by_its_reader_removes_the_consumer(
    km: Admin, cli: Cli, stream_name: Any
) -> None:
    """`follow --efo | head -1`: the next write finds the pipe closed: exit 0, consumer gone."""
    name = stream_name()
    km.create_stream(name, 1)
    km.wait_active(name)
    process = subprocess.Popen(
        cli.argv(
            ["follow", name, "--efo", "--from", "trim-horizon", "-o", "ndjson"],
            km.server.endpoint,
        ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli.env,
    )
    try:
        wait_until(
            lambda: any(c["ConsumerStatus"] == "ACTIVE" for c in consumers_of(km, name)),
            timeout=30,
            what="the consumer registered",
        )
        km.put_counted(name, 0, 1, tag="a")
        assert process.stdout is not None
        assert process.stdout.readline()  # the first record arrived; the reader goes away
        process.stdout.close()
        km.put_counted(name, 1, 1, tag="b")  # the write that finds the pipe closed
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    wait_no_consumer(km, name)


def test_checkpoints_work_the_same_under_efo(
    km: Admin, cli: Cli, stream_name: Any, tmp_path: Path
) -> None:
    name = stream_name()
    km.create_stream(name, 2)
    km.wait_active(name)
    checkpoint = str(tmp_path / "efo.checkpoint")
    first = km.put_counted(name, 0, 10, tag="a")
    args = ("read", name, "--efo", "--checkpoint", checkpoint, "-o", "ndjson")
    one = cli.run(*args, endpoint=km.server.endpoint, timeout=90)
    assert one.returncode == 0, one.describe()
    assert keys(one.records) == sorted(p.key for p in first)
    second = km.put_counted(name, 10, 10, tag="b")
    two = cli.run(*args, endpoint=km.server.endpoint, timeout=90)
    assert two.returncode == 0, two.describe()
    assert keys(two.records) == sorted(p.key for p in second)  # no repeat, no gap
    wait_no_consumer(km, name)


def test_a_named_consumer_is_kept_and_reused(km: Admin, cli: Cli, stream_name: Any) -> None:
    name = stream_name()
    km.create_stream(name, 1)
    km.wait_active(name)
    consumer = f"mine-{name[-8:]}"
    km.put_counted(name, 0, 5)
    for _ in range(2):  # registered by the first run, found by the second
        result = cli.run(
            "read",
            name,
            "--efo",
            "--consumer",
            consumer,
            "-o",
            "ndjson",
            endpoint=km.server.endpoint,
            timeout=90,
        )
        assert result.returncode == 0, result.describe()
        assert len(result.records) == 5
        [kept] = consumers_of(km, name)
        assert (kept["ConsumerName"], kept["ConsumerStatus"]) == (consumer, "ACTIVE")


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_consumers_lists_and_prunes_only_streamtail_leftovers(
    km: Admin, cli: Cli, stream_name: Any
) -> None:
    from streamtail.efo.consumers import own_name, this_host

    name = stream_name()
    km.create_stream(name, 1)
    km.wait_active(name)
    host = this_host()
    dead = own_name(host, _dead_pid())
    alive = own_name(host, os.getpid())
    other = f"someone-else-{name[-8:]}"
    for consumer in (dead, alive, other):
        km.client.register_stream_consumer(StreamARN=km.arn(name), ConsumerName=consumer)
    wait_until(
        lambda: all(c["ConsumerStatus"] == "ACTIVE" for c in consumers_of(km, name)),
        timeout=20,
        what="consumers ACTIVE",
    )
    listed = cli.run("consumers", name, "-o", "ndjson", endpoint=km.server.endpoint)
    assert listed.returncode == 0, listed.describe()
    rows = {r["consumer"]: r for r in listed.records}
    assert {c: (r["streamtail"], bool(r["leftover"])) for c, r in rows.items()} == {
        dead: (True, True),
        alive: (True, False),
        other: (False, False),
    }
    assert all(r["status"] == "ACTIVE" for r in rows.values())  # listing changed nothing

    pruned = cli.run("consumers", name, "--prune", "-o", "ndjson", endpoint=km.server.endpoint)
    assert pruned.returncode == 0, pruned.describe()
    assert f"deregistered consumer {dead}" in pruned.stderr
    wait_until(
        lambda: (
            {c["ConsumerName"] for c in consumers_of(km, name) if c["ConsumerStatus"] != "DELETING"}
            == {alive, other}
        ),
        timeout=20,
        what="the leftover deregistered",
    )


def test_consumers_deregister_removes_a_named_consumer_and_says_so(
    km: Admin, cli: Cli, stream_name: Any
) -> None:
    name = stream_name()
    km.create_stream(name, 1)
    km.wait_active(name)
    kept, other = f"ops-{name[-8:]}", f"other-{name[-8:]}"
    for consumer in (kept, other):
        km.client.register_stream_consumer(StreamARN=km.arn(name), ConsumerName=consumer)
    wait_until(
        lambda: all(c["ConsumerStatus"] == "ACTIVE" for c in consumers_of(km, name)),
        timeout=20,
        what="consumers ACTIVE",
    )
    endpoint = km.server.endpoint
    # a name not there: exit 3, nothing removed (not even the one that is there)
    missing = cli.run(
        "consumers", name, "--deregister", kept, "--deregister", "nope", endpoint=endpoint
    )
    assert missing.returncode == 3, missing.describe()
    assert missing.stderr.splitlines() == [
        f"streamtail: error: consumer 'nope' not found on stream {name!r}: nothing deregistered",
        f"streamtail: hint: `streamtail consumers {name}` lists its consumers",
    ]
    assert all(c["ConsumerStatus"] == "ACTIVE" for c in consumers_of(km, name))

    gone = cli.run("consumers", name, "--deregister", kept, "-o", "ndjson", endpoint=endpoint)
    assert gone.returncode == 0, gone.describe()
    [said] = gone.stderr.splitlines()
    assert said.startswith(f"streamtail: deregistered consumer {kept} (arn:aws:kinesis:")
    assert {r["consumer"]: r["status"] for r in gone.records} == {
        kept: "DELETING",
        other: "ACTIVE",
    }
    wait_until(
        lambda: (
            {c["ConsumerName"] for c in consumers_of(km, name) if c["ConsumerStatus"] != "DELETING"}
            == {other}
        ),
        timeout=20,
        what="the named consumer deregistered",
    )


def test_efo_on_moto_is_a_usage_error_and_leaves_no_consumer(
    moto: Admin, cli: Cli, stream_name: Any
) -> None:
    name = stream_name()
    moto.create_stream(name, 1)
    moto.wait_active(name)
    moto.put_counted(name, 0, 3)
    result = cli.run("read", name, "--efo", endpoint=moto.server.endpoint, timeout=60)
    assert result.returncode == 2, result.describe()
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    assert "does not serve SubscribeToShard" in errors[0]
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    wait_until(lambda: not consumers_of(moto, name), timeout=10, what="no consumer on moto")


def test_efo_refuses_a_yandex_stream_before_any_call(cli: Cli) -> None:
    with_closed_port = f"http://127.0.0.1:{free_port()}"
    result = cli.run("read", "/ru-central1/b1g/etn/s", "--efo", endpoint=with_closed_port)
    assert result.returncode == 2, result.describe()
    assert "Yandex Data Streams has no enhanced fan-out" in result.stderr


# -- TLS with verification on ------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_kinesis_mock(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerProcess, str, Path]]:
    """kinesis-mock serving TLS with a certificate for 127.0.0.1 made here (its bundled one has
    no subjectAltName and cannot be verified): (server, https endpoint, CA file)."""
    import json
    import shutil

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    ensure_kinesis_mock_installed()
    folder = tmp_path_factory.mktemp("kinesis-mock-tls")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    server_json = folder / "server.json"
    server_json.write_text(json.dumps({"server": {"key": key_pem, "cert": cert_pem}}))
    ca = folder / "ca.pem"
    ca.write_text(cert_pem)
    port, tls_port = free_port(), free_port()
    node = shutil.which("node")
    assert node is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "KINESIS_MOCK_PLAIN_PORT": str(port),
            "KINESIS_MOCK_TLS_PORT": str(tls_port),
            "KINESIS_MOCK_CERT_PATH": str(server_json),
            "LOG_LEVEL": "WARN",
            "CREATE_STREAM_DURATION": "100ms",
        }
    )
    server = _spawn(KINESIS_MOCK, [node, str(KINESIS_MOCK_MAIN)], env, port, folder)
    try:
        _wait_answering(server, 60)
        yield server, f"https://127.0.0.1:{tls_port}", ca
    finally:
        server.stop()


def test_read_efo_over_tls_verifies_the_certificate(
    tls_kinesis_mock: tuple[ServerProcess, str, Path], cli: Cli, stream_name: Any
) -> None:
    server, https, ca = tls_kinesis_mock
    admin = Admin(server)
    try:
        name = stream_name()
        admin.create_stream(name, 2)
        admin.wait_active(name)
        puts = admin.put_counted(name, 0, 20)
        trusted = {**cli.env, "AWS_CA_BUNDLE": str(ca)}
        result = cli.run(
            "read", name, "--efo", "-o", "ndjson", endpoint=https, env=trusted, timeout=90
        )
        assert result.returncode == 0, result.describe()
        assert keys(result.records) == sorted(p.key for p in puts)
        wait_no_consumer(admin, name)
        # Without the CA, botocore refuses the certificate first (verification is on): exit 1.
        untrusted = cli.run("read", name, "--efo", endpoint=https, timeout=60)
        assert untrusted.returncode == 1, untrusted.describe()
        assert "SSL" in untrusted.stderr or "certificate" in untrusted.stderr
    finally:
        admin.close()


def test_the_http2_client_verifies_tls_and_negotiates_http2_by_alpn(
    tls_kinesis_mock: tuple[ServerProcess, str, Path], stream_name: Any
) -> None:
    """In-process, so the subscription client itself is seen: HTTP/2 through ALPN with the
    test's CA; without it, its own TLS verification refuses the server (a ServiceError)."""
    from streamtail.efo.source import _start_of, token_of
    from streamtail.efo.subscription import Subscriber
    from streamtail.errors import ServiceError
    from streamtail.model import TRIM_HORIZON

    server, https, ca = tls_kinesis_mock
    admin = Admin(server)
    try:
        name = stream_name()
        admin.create_stream(name, 1)
        admin.wait_active(name)
        admin.put_counted(name, 0, 3)
        arn = admin.client.register_stream_consumer(
            StreamARN=admin.arn(name), ConsumerName=f"tls-{name[-8:]}"
        )["Consumer"]["ConsumerARN"]
        wait_until(
            lambda: (
                admin.client.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"][
                    "ConsumerStatus"
                ]
                == "ACTIVE"
            ),
            timeout=20,
            what="consumer ACTIVE",
        )
        import boto3

        client = boto3.client(
            "kinesis",
            endpoint_url=https,
            region_name="us-east-1",
            aws_access_key_id="t",
            aws_secret_access_key="t",
            verify=str(ca),
        )
        shard = admin.list_shards(name)[0]["ShardId"]
        start = _start_of(token_of(TRIM_HORIZON))
        trusted = Subscriber(client, verify=str(ca))
        events = trusted.subscribe("s", arn, shard, start)
        try:
            first = next(events)
        finally:
            events.close()
            trusted.close()
        assert trusted.http_version == "HTTP/2"
        assert len(first.records) == 3
        untrusted = Subscriber(client, verify=True)
        with pytest.raises(ServiceError, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
            next(untrusted.subscribe("s", arn, shard, start))
        untrusted.close()
        client.close()
    finally:
        admin.close()
