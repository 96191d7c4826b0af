"""streamtail's benchmark: one command, a table of figures, each beside a same-run baseline.

    python bench/run.py            # full run (a few minutes)
    python bench/run.py --quick    # smaller volumes, for a smoke check

Servers: moto's server (the integration tests' fixture code, with moto's seeding made linear by
bench/moto_server.py), through tests/proxy.py where calls are counted or a network round trip is
added. Figures (issue 5's goals in brackets):

0. a small `read` (1 record, 1 shard), start to exit: wall and CPU, medians of runs taken in turn
   with the naive boto3 reader's [wall <= 1.10x, CPU <= 1.0x]
1. client CPU per record reading a seeded 4-shard stream to the tip, vs a naive boto3 reader
   [whole run <= 0.50x, past start-up <= 0.20x of the loop's per record; medians of rounds];
   1b. `top --from trim-horizon` on the same stream against `read` [<= read's]
2. decode-to-NDJSON throughput on one core from recorded GetRecords responses [>= 150,000/s];
   2b. the same order events as Glue Schema Registry Avro frames (per-record cost of Avro next to
   JSON), vs fastavro + json.dumps by hand; 2c. the same events zstd- and lz4-compressed, each
   beside gzip
3. `streamtail --help` wall time vs `python -c pass` [<= 150 ms]
4. put-to-print latency in follow, p50/p99, and the GetRecords rate it cost [250 ms / 1 s, <= 5/s]
5. wall time to read a 64-shard stream to the tip vs the sequential naive reader [>= 8x], with
   0, 25 and 50 ms added to each call, and the CPU moto spent on streamtail's run
6. peak RSS reading 200,000 records, and with a slow stdout reader [<= 150 MB]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
import orjson  # noqa: E402

from bench._data import (  # noqa: E402
    AVRO_VERSION_ID,
    ORDER_AVRO,
    get_records_body,
    gsr_avro_payload,
    payload,
)
from tests.integration.servers import start_moto  # noqa: E402
from tests.proxy import Proxy, max_calls_in_any_second  # noqa: E402

ENV = {
    **os.environ,
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "PYTHONPATH": str(ROOT),
}
ENV.pop("AWS_PROFILE", None)
# As installed: pip writes every module's bytecode at install time, and boto3's is there already;
# an editable checkout run with PYTHONDONTWRITEBYTECODE would compile streamtail's ~60 modules
# on every start (~45 ms of CPU) and measure a start-up no user has.
ENV.pop("PYTHONDONTWRITEBYTECODE", None)
STREAMTAIL = [sys.executable, "-m", "streamtail"]
NAIVE = [sys.executable, str(ROOT / "bench" / "naive_reader.py")]
ROWS: list[tuple[str, str, str, str]] = []


def row(figure: str, ours: str, baseline: str, goal: str) -> None:
    ROWS.append((figure, ours, baseline, goal))
    print(f"  {figure}: {ours} | baseline {baseline} | goal {goal}", file=sys.stderr)


def run_measured(
    argv: list[str], *, stdout: Any = subprocess.DEVNULL
) -> tuple[float, float, int, float]:
    """(cpu seconds user+sys, wall seconds, peak RSS KiB, exit code) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=ENV, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{argv} failed ({proc.returncode}): {err[-2000:]}")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss, proc.returncode


def admin(endpoint: str) -> Any:
    return boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )


def seed(client: Any, stream: str, shards: int, records: int) -> None:
    client.create_stream(StreamName=stream, ShardCount=shards)
    rng = random.Random(3)
    batch: list[dict[str, Any]] = []
    for n in range(records):
        batch.append({"PartitionKey": f"k{n % 997}", "Data": payload(rng, n)})
        if len(batch) == 500:
            client.put_records(StreamName=stream, Records=batch)
            batch = []
    if batch:
        client.put_records(StreamName=stream, Records=batch)


# -- 0 ---------------------------------------------------------------------------------------


def small_read(endpoint: str, runs: int) -> None:
    """What a shell script feels: one record on one shard, read to the tip and exit, streamtail
    and the naive loop in turn (the machine's load falls on both alike)."""
    client = admin(endpoint)
    client.create_stream(StreamName="bench-small", ShardCount=1)
    client.put_record(StreamName="bench-small", PartitionKey="k", Data=b'{"n": 1}')
    ours: list[tuple[float, float, int, float]] = []
    naive: list[tuple[float, float, int, float]] = []
    for _ in range(2):  # warm-up, not counted: bytecode written, files in the page cache
        run_measured([*STREAMTAIL, "read", "bench-small", "--endpoint-url", endpoint])
        run_measured([*NAIVE, "bench-small", endpoint])
    for _ in range(runs):
        ours.append(run_measured([*STREAMTAIL, "read", "bench-small", "--endpoint-url", endpoint]))
        naive.append(run_measured([*NAIVE, "bench-small", endpoint]))
    for what, index in (("wall", 1), ("CPU", 0)):
        mine = sorted(r[index] for r in ours)
        base = sorted(r[index] for r in naive)
        ratio = statistics.median(mine) / statistics.median(base)
        row(
            f"0. small read (1 record, 1 shard), {what}, median of {runs}",
            f"{statistics.median(mine):.3f} s (range {mine[0]:.3f}-{mine[-1]:.3f})",
            f"{statistics.median(base):.3f} s (range {base[0]:.3f}-{base[-1]:.3f}; "
            f"ratio {ratio:.2f})",
            "<= 1.10x" if what == "wall" else "<= 1.0x",
        )


# -- 1 ---------------------------------------------------------------------------------------


def cpu_per_record(endpoint: str, records: int, rounds: int = 3) -> None:
    """CPU of a whole read, streamtail's and the naive loop's, and of streamtail's read of an
    empty 4-shard stream (its start-up), taken in turn `rounds` times: medians (this machine's
    speed moves by a third from one minute to the next, a single run of each can land apart)."""
    client = admin(endpoint)
    seed(client, "bench-cpu", 4, records)
    empty_stream = "bench-cpu-empty"
    client.create_stream(StreamName=empty_stream, ShardCount=4)
    ours, naive, startup = [], [], []
    for _ in range(rounds):
        ours.append(run_measured([*STREAMTAIL, "read", "bench-cpu", "--endpoint-url", endpoint])[0])
        naive.append(run_measured([*NAIVE, "bench-cpu", endpoint])[0])
        startup.append(
            run_measured([*STREAMTAIL, "read", empty_stream, "--endpoint-url", endpoint])[0]
        )
    mine, base, start = (statistics.median(found) for found in (ours, naive, startup))
    per, base_per = mine / records * 1e6, base / records * 1e6
    marginal = (mine - start) / records * 1e6
    row(
        f"1. client CPU per record, 4 shards, {records:,} records, median of {rounds}",
        f"{per:.1f} us, whole run {mine:.3f} s (range {min(ours):.3f}-{max(ours):.3f}); "
        f"{marginal:.1f} us past {start * 1000:.0f} ms start-up (ratio {marginal / base_per:.2f})",
        f"{base_per:.1f} us, whole run {base:.3f} s (range {min(naive):.3f}-{max(naive):.3f}; "
        f"ratio {per / base_per:.2f})",
        "whole run <= 0.50x, past start-up <= 0.20x",
    )


def top_cpu_per_record(endpoint: str, records: int, rounds: int = 3) -> None:
    """1b. `top --from trim-horizon` against `read` on the same stream (figure 1's), alternated in
    one run so both see the same load; CPU per record as a range over the rounds."""
    stream = "bench-cpu"
    base = [*STREAMTAIL, "--endpoint-url", endpoint]
    reads, tops = [], []
    for _ in range(rounds):
        reads.append(run_measured([*base[:3], "read", stream, *base[3:]])[0] / records * 1e6)
        top = [*base[:3], "top", stream, "--from", "trim-horizon", "-o", "ndjson", *base[3:]]
        tops.append(run_measured(top)[0] / records * 1e6)
    row(
        f"1b. `top --from trim-horizon` CPU per record, 4 shards, {records:,} records, 997 keys",
        f"{min(tops):.1f}-{max(tops):.1f} us",
        f"`read`: {min(reads):.1f}-{max(reads):.1f} us",
        "<= read's",
    )


# -- 2 ---------------------------------------------------------------------------------------


def decode_throughput(seconds: float) -> None:
    from botocore.parsers import create_parser
    from botocore.session import get_session

    from streamtail import memory
    from streamtail.decode import DecodeOptions, expand_all
    from streamtail.env import Env
    from streamtail.render import RenderContext
    from streamtail.render.ndjson import NdjsonRenderer
    from streamtail.sources.kinesis import records_from_api

    # As `read` and `follow` do before reading (the baseline runs in this process too).
    memory.tune()

    bodies = [get_records_body(10_000, seed=s) for s in range(3)]
    options = DecodeOptions()
    out = io.BytesIO()
    renderer = NdjsonRenderer(RenderContext(env=Env(stdout=out, stderr=io.StringIO()), stream="s"))

    def ours(body: bytes) -> None:
        # What a read does with each response: the source's records, expanded, written.
        records = records_from_api(orjson.loads(body)["Records"], "shardId-000000000001")
        renderer.write(expand_all(records, options))

    shape = get_session().get_service_model("kinesis").operation_model("GetRecords").output_shape
    parser = create_parser("json")

    def naive(body: bytes) -> None:
        parsed = parser.parse({"body": body, "headers": {}, "status_code": 200}, shape)
        for record in parsed["Records"]:
            try:
                data = json.loads(record["Data"])
            except ValueError:
                data = base64.b64encode(record["Data"]).decode()
            line = {
                "stream": "s",
                "shard": "shardId-000000000001",
                "seq": record["SequenceNumber"],
                "key": record["PartitionKey"],
                "ts": record["ApproximateArrivalTimestamp"].isoformat(),
                "data": data,
            }
            out.write((json.dumps(line) + "\n").encode())

    def rates(fn: Any, rounds: int = 7) -> list[float]:
        """Records/s in each of `rounds` rounds of CPU time (the spread shows the noise)."""
        fn(bodies[0])
        found = []
        for _ in range(rounds):
            done = 0
            start = time.process_time()
            while time.process_time() - start < seconds / rounds:
                fn(bodies[done // 10_000 % 3])
                done += 10_000
                out.seek(0)
                out.truncate()
            found.append(done / (time.process_time() - start))
        return sorted(found)

    def median(found: list[float]) -> str:
        low, high = found[0], found[-1]
        return f"{statistics.median(found):,.0f} records/s (rounds {low:,.0f}-{high:,.0f})"

    ours_rate, naive_rate = rates(ours), rates(naive)
    row(
        "2. decode-to-NDJSON, one core, ~200 B JSON payloads",
        median(ours_rate),
        f"{median(naive_rate)}, botocore parse + json.dumps",
        ">= 150,000 records/s",
    )
    json_us = 1e6 / statistics.median(ours_rate)

    # 2b: the same events as GSR Avro frames, the schema version known (as after the first
    # record of a run: fetched once, then cached).
    from streamtail.decode.schema import Schemas, SchemaVersion

    version = SchemaVersion(AVRO_VERSION_ID, "AVRO", json.dumps(ORDER_AVRO), "bench", "orders", 1)

    class Known:
        def schema_version(self, version_id: str) -> SchemaVersion:
            return version

    bodies[:] = [get_records_body(10_000, seed=s, make=gsr_avro_payload) for s in range(3)]
    options = DecodeOptions(schemas=Schemas(resolver=Known()))
    import fastavro

    parsed = fastavro.parse_schema(ORDER_AVRO)

    def by_hand(body: bytes) -> None:
        # fastavro and json.dumps, no mapping beyond str() for what json cannot write.
        for record in orjson.loads(body)["Records"]:
            data = base64.b64decode(record["Data"])
            value = fastavro.schemaless_reader(io.BytesIO(data[18:]), parsed, None)
            line = {"seq": record["SequenceNumber"], "key": record["PartitionKey"], "data": value}
            out.write((json.dumps(line, default=str) + "\n").encode())

    avro_rate, hand_rate = rates(ours), rates(by_hand)
    avro_us = 1e6 / statistics.median(avro_rate)
    row(
        "2b. decode-to-NDJSON, one core, the same events as GSR Avro frames",
        f"{median(avro_rate)}: {avro_us:.1f} us/record, {avro_us - json_us:+.1f} us beside JSON",
        f"{median(hand_rate)}, fastavro + json.dumps",
        "(measured, no goal)",
    )

    # 2c: the same events compressed one by one, as producers that compress each record do.
    options = DecodeOptions()
    found: dict[str, list[float]] = {}
    for codec, pack in compressed_payloads().items():
        bodies[:] = [
            get_records_body(10_000, seed=s, make=lambda rng, n, pack=pack: pack(payload(rng, n)))
            for s in range(3)
        ]
        found[codec] = rates(ours)
    gzip_us = 1e6 / statistics.median(found["gzip"])
    for codec in ("zstd", "lz4"):
        us = 1e6 / statistics.median(found[codec])
        row(
            f"2c. decode-to-NDJSON, one core, the same events each {codec}-compressed",
            f"{median(found[codec])}: {us:.1f} us/record, {us - json_us:+.1f} us beside JSON",
            f"{median(found['gzip'])}, each gzip-compressed ({gzip_us:.1f} us/record)",
            "(measured, no goal)",
        )


def compressed_payloads() -> dict[str, Any]:
    """How each payload is compressed: gzip as gzip.compress, zstd through a stream (no size in
    the header, as YDB's topic SDK and most streaming producers write it), lz4 frames."""
    import gzip

    import lz4.frame
    import zstandard

    def zstd(data: bytes) -> bytes:
        stream = zstandard.ZstdCompressor().compressobj()
        return stream.compress(data) + stream.flush()

    return {"gzip": gzip.compress, "zstd": zstd, "lz4": lz4.frame.compress}


# -- 3 ---------------------------------------------------------------------------------------


def help_time(runs: int) -> None:
    exe = shutil.which("streamtail")
    argv = [exe, "--help"] if exe else [*STREAMTAIL, "--help"]

    def median(cmd: list[str]) -> float:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(cmd, env=ENV, stdout=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1000

    ours, base = median(argv), median([sys.executable, "-c", "pass"])
    row(
        "3. `streamtail --help` wall time (median)",
        f"{ours:.0f} ms",
        f"{base:.0f} ms (python -c pass)",
        "<= 150 ms",
    )


# -- 4 ---------------------------------------------------------------------------------------


def follow_latency(endpoint: str, seconds: float) -> None:
    client = admin(endpoint)
    client.create_stream(StreamName="bench-follow", ShardCount=4)
    proxy = Proxy(endpoint).start()
    proc = subprocess.Popen(
        [*STREAMTAIL, "follow", "bench-follow", "--endpoint-url", proxy.endpoint, "-o", "raw"],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    latencies: list[float] = []

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            latencies.append(time.time() - json.loads(line)["put_at"])

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    time.sleep(2.0)  # let follow take its LATEST iterators before the first put
    rng = random.Random(5)
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < seconds:
        client.put_record(
            StreamName="bench-follow",
            PartitionKey=f"k{n}",
            Data=orjson.dumps({"n": n, "put_at": time.time()}),
        )
        n += 1
        time.sleep(rng.uniform(0.05, 0.45))
    time.sleep(1.5)
    proc.terminate()
    proc.wait(10)
    thread.join(5)
    calls = proxy.operations("GetRecords")
    proxy.stop()
    per_shard: dict[str, list[float]] = {}
    for call in calls:
        per_shard.setdefault(call.shard or "?", []).append(call.at)
    span = max(c.at for c in calls) - min(c.at for c in calls)
    rate = len(calls) / max(span, 1e-9) / 4
    worst = max(max_calls_in_any_second(t) for t in per_shard.values())
    quantiles = statistics.quantiles(latencies, n=100)
    row(
        f"4. follow put-to-print latency, {len(latencies)}/{n} records, 4 shards",
        f"p50 {quantiles[49] * 1000:.0f} ms, p99 {quantiles[98] * 1000:.0f} ms",
        f"{rate:.2f} GetRecords/s per shard (max {worst} in any second)",
        "p50 <= 250 ms, p99 <= 1 s, <= 5 calls/s",
    )


# -- 5 ---------------------------------------------------------------------------------------


#: figure 5's added round trips: none (the local server's own pace), 25 ms, and 50 ms, about
#: what the proxy added by accident before it set TCP_NODELAY (43 ms a call), the figure of earlier
#: runs
WIDE_LATENCIES = (0.0, 0.025, 0.05)


def wide_stream(endpoint: str, server: int, per_shard: int, latency: float, runs: int = 3) -> None:
    """streamtail's median of `runs` (a second of wall time moves by a third with this machine's
    speed from one minute to the next) beside one run of the sequential loop, and the CPU the
    server (pid `server`) spent on streamtail's run: moto serves on one core, so a parallel read
    cannot take less wall time than that."""
    stream = f"bench-wide-{int(latency * 1000)}"
    seed(admin(endpoint), stream, 64, 64 * per_shard)
    proxy = Proxy(endpoint, latency=latency).start()
    argv = [*STREAMTAIL, "read", stream, "--endpoint-url", proxy.endpoint]
    walls, served = [], []
    for _ in range(runs):
        before = cpu_of(server)
        walls.append(run_measured(argv)[1])
        served.append(cpu_of(server) - before)
    naive = run_measured([*NAIVE, stream, proxy.endpoint])
    proxy.stop()
    walls.sort()
    ours = statistics.median(walls)
    row(
        f"5. read 64 shards x {per_shard} records to the tip, {latency * 1000:.0f} ms added RTT",
        f"{ours:.2f} s wall (median of {runs}, range {walls[0]:.2f}-{walls[-1]:.2f}; "
        f"moto's CPU {statistics.median(served):.2f} s)",
        f"{naive[1]:.2f} s (sequential naive; {naive[1] / ours:.1f}x)",
        ">= 8x faster",
    )


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has spent, from /proc (0.0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- 6 ---------------------------------------------------------------------------------------


SLOW_READER = (
    "import sys, time\nread = sys.stdin.buffer.read\nwhile read(65536):\n    time.sleep(0.002)\n"
)


def peak_rss(endpoint: str, records: int) -> None:
    # 16 shards: the read's memory budget does not depend on the shard count.
    seed(admin(endpoint), "bench-rss", 16, records)
    fast = run_measured([*STREAMTAIL, "read", "bench-rss", "--endpoint-url", endpoint])
    slow_reader = subprocess.Popen([sys.executable, "-c", SLOW_READER], stdin=subprocess.PIPE)
    slow = run_measured(
        [*STREAMTAIL, "read", "bench-rss", "--endpoint-url", endpoint], stdout=slow_reader.stdin
    )
    assert slow_reader.stdin is not None
    slow_reader.stdin.close()
    slow_reader.wait(60)
    naive = run_measured([*NAIVE, "bench-rss", endpoint])
    row(
        f"6. peak RSS, {records:,} records (fast stdout / slow stdout reader)",
        f"{fast[2] / 1024:.0f} MB / {slow[2] / 1024:.0f} MB (slow run {slow[1]:.1f} s)",
        f"{naive[2] / 1024:.0f} MB (naive reader)",
        "<= 150 MB",
    )


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()}"


def everything(endpoint: str, server: int, *, quick: bool, top: bool) -> None:
    """Every figure (`top`: figures 1 and 1b only)."""
    if not top:
        small_read(endpoint, 5 if quick else 9)
        decode_throughput(1.4 if quick else 7.0)
        help_time(5 if quick else 15)
    cpu_per_record(endpoint, 20_000 if quick else 100_000)
    top_cpu_per_record(endpoint, 20_000 if quick else 100_000)
    if not top:
        follow_latency(endpoint, 8.0 if quick else 30.0)
        for latency in WIDE_LATENCIES:
            wide_stream(endpoint, server, 20 if quick else 100, latency)
        peak_rss(endpoint, 40_000 if quick else 200_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller volumes")
    parser.add_argument("--top", action="store_true", help="figures 1 and 1b only (`top`)")
    parser.add_argument(
        "--small", action="store_true", help="figures 0 and 1 only (a small read, CPU per record)"
    )
    parser.add_argument("--wide", action="store_true", help="figure 5 only (64 shards)")
    args = parser.parse_args()
    quick = args.quick
    print(f"machine: {machine()}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        server = start_moto(Path(tmp), program=[str(ROOT / "bench" / "moto_server.py")])
        try:
            if args.small:
                small_read(server.endpoint, 5 if quick else 9)
                cpu_per_record(server.endpoint, 20_000, rounds=5)
            elif args.wide:
                for latency in WIDE_LATENCIES:
                    wide_stream(server.endpoint, server.process.pid, 20 if quick else 100, latency)
            else:
                everything(server.endpoint, server.process.pid, quick=quick, top=args.top)
        finally:
            server.stop()
    print(f"\nmachine: {machine()}\n")
    print("| figure | streamtail | baseline (same run) | goal |")
    print("|---|---|---|---|")
    for figure, ours, baseline, goal in ROWS:
        print(f"| {figure} | {ours} | {baseline} | {goal} |")


if __name__ == "__main__":
    main()
