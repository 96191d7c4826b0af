"""Follow latency with `--efo` beside polling, on the same kinesis-mock, with the calls each made.

    python bench/efo.py            # 30 s of puts per mode
    python bench/efo.py --quick    # 8 s per mode

kinesis-mock is the one local server with SubscribeToShard (docs/SERVERS.md): it pushes an event
about once a second, so its cadence, not the client, sets the EFO latency measured here (AWS
documents about 70 ms average propagation for EFO). Measured at the subscription client itself,
with no reader engine in between, kinesis-mock pushes a record 1.0-1.8 s after it was put (each
event carries the records put in the second before the previous one), so a p50 of about 1.6 s is
the server's. Polling runs through tests/proxy.py, which counts its GetRecords calls; the EFO run
is direct (the proxy speaks HTTP/1.1 only) with `--debug`, whose request lines count its calls
(SubscribeToShard, the consumer calls, ListShards).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from bench.run import ENV, STREAMTAIL, admin, machine  # noqa: E402
from tests.integration.servers import start_kinesis_mock  # noqa: E402
from tests.proxy import Proxy  # noqa: E402

SHARDS = 2


def follow(
    endpoint: str, client: Any, stream: str, extra: list[str], seconds: float
) -> dict[str, Any]:
    """Run `follow` while putting records at random 50-450 ms intervals; latencies and stderr."""
    proc = subprocess.Popen(
        [*STREAMTAIL, "follow", stream, "--endpoint-url", endpoint, "-o", "raw", *extra],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    latencies: list[float] = []
    errors: list[str] = []
    ready = threading.Event()

    def read_out() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            latencies.append(time.time() - json.loads(line)["put_at"])

    def read_err() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            errors.append(line)
            if "SubscribeToShard signed, sent" in line:
                ready.set()

    threads = [threading.Thread(target=f, daemon=True) for f in (read_out, read_err)]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    # Polling: let follow take its LATEST iterators; EFO: wait for the subscriptions (register,
    # ACTIVE, SubscribeToShard), and the time that takes is a figure of its own.
    if "--efo" not in extra:
        ready.set()  # polling: its LATEST iterators are taken within the 3 s below
    if not ready.wait(60):
        proc.kill()
        raise SystemExit("follow never started:\n" + "".join(errors[-30:]))
    warmup = time.monotonic() - started
    time.sleep(3.0)
    rng = random.Random(5)
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < seconds:
        client.put_record(
            StreamName=stream,
            PartitionKey=f"k{n}",
            Data=orjson.dumps({"n": n, "put_at": time.time()}),
        )
        n += 1
        time.sleep(rng.uniform(0.05, 0.45))
    time.sleep(3.0)
    elapsed = time.monotonic() - start
    proc.terminate()
    proc.wait(30)
    for thread in threads:
        thread.join(5)
    # botocore's requests are logged as "→ kinesis.Operation ..."; SubscribeToShard, handed to
    # the HTTP/2 client before botocore would send it, as "← kinesis.SubscribeToShard signed, ..."
    calls = Counter(line.split("→ ", 1)[1].split()[0] for line in errors if "debug: → " in line)
    if "--efo" in extra:
        calls["kinesis.SubscribeToShard"] = sum(
            "SubscribeToShard signed, sent" in e for e in errors
        )
    return {"latencies": latencies, "puts": n, "calls": calls, "elapsed": elapsed, "warmup": warmup}


def summary(result: dict[str, Any]) -> str:
    q = statistics.quantiles(result["latencies"], n=100)
    return (
        f"{len(result['latencies'])}/{result['puts']} records, p50 {q[49] * 1000:.0f} ms, "
        f"p99 {q[98] * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    seconds = 8.0 if parser.parse_args().quick else 30.0
    with tempfile.TemporaryDirectory() as tmp:
        server = start_kinesis_mock(Path(tmp))
        try:
            client = admin(server.endpoint)
            client.create_stream(StreamName="bench-poll", ShardCount=SHARDS)
            client.create_stream(StreamName="bench-efo", ShardCount=SHARDS)
            time.sleep(1.0)
            proxy = Proxy(server.endpoint).start()
            polled = follow(proxy.endpoint, client, "bench-poll", [], seconds)
            get_records = len(proxy.operations("GetRecords"))
            proxy.stop()
            pushed = follow(server.endpoint, client, "bench-efo", ["--efo", "--debug"], seconds)
        finally:
            server.stop()
    span = polled["elapsed"]
    efo_calls = ", ".join(
        f"{n} {op.removeprefix('kinesis.')}" for op, n in sorted(pushed["calls"].items())
    )
    print(f"\nmachine: {machine()}; kinesis-mock, {SHARDS} shards, {seconds:.0f} s of puts\n")
    print("| mode | put-to-print latency | calls made |")
    print("|---|---|---|")
    print(
        f"| polling (`follow`) | {summary(polled)} | {get_records} GetRecords "
        f"({get_records / span / SHARDS:.2f}/s per shard) |"
    )
    print(
        f"| enhanced fan-out (`follow --efo`) | {summary(pushed)} | {efo_calls}; ready "
        f"{pushed['warmup']:.1f} s after start (register, ACTIVE, subscribe) |"
    )


if __name__ == "__main__":
    main()
