"""`streamtail put` (stdin lines to records) and the record filters (--key, --grep, --where) with
--limit and `-o csv`, on both servers."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest

from .servers import Admin, Cli, assert_clean_stderr, counters

pytestmark = pytest.mark.server


@pytest.mark.timeout(60)
def test_filters_before_limit_and_csv(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    name = admin.create_stream(stream_name("filters"), shards=2)
    admin.put_counted(name, 0, 30)
    endpoint = admin.server.endpoint

    by_key = cli.run("read", name, "--key", "r-7", endpoint=endpoint)
    assert by_key.returncode == 0, by_key.describe()
    assert counters(by_key.records) == [7]

    # payloads are {"n": N, "tag": "r"}; --grep sees the decoded JSON
    grep = cli.run("read", name, "--grep", r'"n":\s*1\d\b', endpoint=endpoint)
    assert grep.returncode == 0, grep.describe()
    assert sorted(counters(grep.records)) == list(range(10, 20))

    # --limit counts the records printed, after the filters
    limited = cli.run("read", name, "--grep", r'"n":\s*2\d\b', "-n", "4", endpoint=endpoint)
    assert limited.returncode == 0, limited.describe()
    assert len(limited.records) == 4
    assert all(20 <= n < 30 for n in counters(limited.records))

    # --where: JMESPath on the NDJSON object, numbers as numbers
    where = cli.run("read", name, "--where", "data.n >= `10` && data.n < `20`", endpoint=endpoint)
    assert where.returncode == 0, where.describe()
    assert sorted(counters(where.records)) == list(range(10, 20))

    # ANDed with --grep, and --limit counts what both kept
    both = ["--grep", r'"n":\s*1[5-9]\b', "--where", "data.n > `16`", "-n", "2"]
    limited_where = cli.run("read", name, *both, endpoint=endpoint)
    assert limited_where.returncode == 0, limited_where.describe()
    assert len(limited_where.records) == 2
    assert set(counters(limited_where.records)) <= {17, 18, 19}

    # csv parses back into the NDJSON's values
    table = cli.run(
        "read", name, "-o", "csv", "--columns", "key,data.n,data", "--where", "data.n < `3`",
        endpoint=endpoint,
    )  # fmt: skip
    assert table.returncode == 0, table.describe()
    rows = list(csv.reader(io.StringIO(table.stdout)))
    assert rows[0] == ["key", "data.n", "data"]
    assert sorted(rows[1:]) == [[f"r-{n}", str(n), f'{{"n":{n},"tag":"r"}}'] for n in range(3)]
    for result in (by_key, grep, limited, where, limited_where, table):
        assert_clean_stderr(result.stderr)


@pytest.mark.timeout(60)
def test_put_writes_one_record_per_line(
    admin: Admin, cli: Cli, stream_name: Callable[[str], str]
) -> None:
    name = admin.create_stream(stream_name("put"), shards=2)
    lines = [f'{{"n": {n}}}' for n in range(250)] + ["plain text", "ünïcode ✓"]

    put = cli.run("put", name, endpoint=admin.server.endpoint, stdin="\n".join(lines) + "\n")

    assert put.returncode == 0, put.describe()
    held = admin.server_records(name)
    written = sorted(r["Data"].decode() for records in held.values() for r in records)
    assert written == sorted(lines)
