"""`streamtail put` (stdin lines to records) and the record filters (--key, --grep) with --limit,
on both servers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .servers import Admin, Cli, assert_clean_stderr, counters

pytestmark = pytest.mark.server


@pytest.mark.timeout(60)
def test_key_and_grep_filters_before_limit(
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
    for result in (by_key, grep, limited):
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
