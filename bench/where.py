"""The per-record cost of `--where` and of the `csv` output, beside a plain NDJSON read.

    python bench/where.py            # 7 rounds of ~1 s CPU each per case
    python bench/where.py --quick

What a read does with each GetRecords response (records from the API's JSON, expanded and
decoded, filtered, written), on one core, from recorded responses of ~200-byte JSON order events
(bench/_data.py): without a filter, with `--grep`, with `--where` (two expressions), and written
as `csv` instead of NDJSON. Prints microseconds a record (median of the rounds, and their spread).
`--where` must cost nothing to a read that does not use it: the first line is that read.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from bench._data import get_records_body  # noqa: E402
from streamtail import memory  # noqa: E402
from streamtail.decode import DecodeOptions, expand_all  # noqa: E402
from streamtail.env import Env  # noqa: E402
from streamtail.filters import RecordFilter  # noqa: E402
from streamtail.render import RenderContext, make_renderer  # noqa: E402
from streamtail.render.ndjson import record_object  # noqa: E402
from streamtail.sources.kinesis import records_from_api  # noqa: E402

BATCH = 10_000


def pipeline(output: str, where: str | None = None, grep: str | None = None) -> Callable[[], None]:
    """One GetRecords response through what `read` does with it (printing.Printing.batch)."""
    body = get_records_body(BATCH, seed=1)
    out = io.BytesIO()
    ctx = RenderContext(env=Env(stdout=out, stderr=io.StringIO()), stream="s")
    renderer = make_renderer(output, ctx)
    record_filter = RecordFilter.build(None, grep, (), where)
    record_filter = record_filter.seeing(lambda item: record_object(ctx, item))
    options = DecodeOptions()

    def run() -> None:
        records = records_from_api(orjson.loads(body)["Records"], "shardId-000000000001")
        renderer.write(record_filter.apply(expand_all(records, options)))
        out.seek(0)
        out.truncate()

    return run


def us_per_record(run: Callable[[], None], seconds: float, rounds: int = 7) -> list[float]:
    run()
    found = []
    for _ in range(rounds):
        done = 0
        start = time.process_time()
        while time.process_time() - start < seconds / rounds:
            run()
            done += BATCH
        found.append((time.process_time() - start) / done * 1e6)
    return sorted(found)


CASES: list[tuple[str, str, str | None, str | None]] = [
    ("ndjson, no filter", "ndjson", None, None),
    ('ndjson --grep \'"status":"paid"\'', "ndjson", None, '"status":"paid"'),
    ("ndjson --where \"data.status == 'paid'\"", "ndjson", "data.status == 'paid'", None),
    (
        "ndjson --where \"data.total > `100` && contains(data.customer, '-00')\"",
        "ndjson",
        "data.total > `100` && contains(data.customer, '-00')",
        None,
    ),
    ("csv (default columns)", "csv", None, None),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    seconds = 1.5 if parser.parse_args().quick else 7.0
    memory.tune()
    base = None
    for label, output, where, grep in CASES:
        found = us_per_record(pipeline(output, where, grep), seconds)
        median = found[len(found) // 2]
        base = base or median
        print(
            f"{label:<75} {median:6.2f} us/record ({found[0]:.2f}-{found[-1]:.2f}), "
            f"+{median - base:.2f} us"
        )


if __name__ == "__main__":
    main()
