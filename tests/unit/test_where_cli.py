"""`read --where EXPR` through the CLI on moto in-process: which records a JMESPath expression keeps
(on the same object NDJSON prints), with the other filters, --limit and checkpoints; exact numbers;
JMESPath's truth; a bad expression refused before any call; a failing one counted once."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.unit.helpers import run_cli


def _records(stdout: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in stdout.splitlines()]


def _ids(stdout: bytes) -> list[Any]:
    return [r["data"]["id"] if isinstance(r["data"], dict) else r["data"] for r in _records(stdout)]


def _stream(kinesis: Any, payloads: list[tuple[str, bytes]]) -> None:
    kinesis.create_stream(StreamName="s", ShardCount=1)
    for key, data in payloads:
        kinesis.put_record(StreamName="s", PartitionKey=key, Data=data)


# The `orders` fixture (tests/unit/seed.py): shard 0 holds ids 1 (created), 2 (paid) and a text
# line; shard 1 holds id 3 (created), a binary payload and id 4 (shipped).
@pytest.mark.parametrize(
    ("expression", "ids"),
    [
        ("data.status == 'created'", [1, 3]),
        ("data.id > `2`", [3, 4]),
        ("data.status != 'created' && enc == 'json'", [2, 4]),
        ("contains(key, 'user-1')", [1, "plain text line", 4]),
        ("shard == 'shardId-000000000001' && data.id", [3, 4]),
        ("enc == 'base64'", ["AAH+/w=="]),
        # the `ts` string of the NDJSON object, compared as text
        ("ts >= '2026-01-02T03:04:08'", ["AAH+/w==", "plain text line", 4]),
        ("data.missing", []),
    ],
)
def test_where_keeps_exactly_the_records_the_expression_selects(
    orders: Any, expression: str, ids: list[Any]
) -> None:
    result = run_cli("read", "orders", "-o", "ndjson", "--where", expression)
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    assert sorted(_ids(result.stdout), key=str) == sorted(ids, key=str)


def test_where_prints_the_same_lines_as_without_it(orders: Any) -> None:
    every = run_cli("read", "orders", "-o", "ndjson").stdout.splitlines()
    kept = run_cli("read", "orders", "-o", "ndjson", "--where", "data.status").stdout.splitlines()
    # (the shards' records interleave in either order from one run to the next)
    assert sorted(kept) == sorted(line for line in every if b'"status"' in line)
    assert len(kept) == 4


def test_where_with_key_grep_and_limit_is_and(orders: Any) -> None:
    # --key reads the shard its hash maps to (shard 1 for user-1): there its JSON record alone
    both = ["--key", "user-1", "--where", "enc == 'json'"]
    assert _ids(run_cli("read", "orders", "-o", "ndjson", *both).stdout) == [4]
    grep = ["--grep", "created", "--where", "shard == 'shardId-000000000001'"]
    assert _ids(run_cli("read", "orders", "-o", "ndjson", *grep).stdout) == [3]
    # --limit counts what --where kept: shard 0 holds ids 1, 2 and a text line
    limited = ["--shard", "0", "--where", "data.id > `1`", "-n", "1"]
    assert _ids(run_cli("read", "orders", "-o", "ndjson", *limited).stdout) == [2]


def test_checkpoint_records_what_where_printed(kinesis: Any, tmp_path: Path) -> None:
    statuses = ["created", "paid", "created", "paid"]
    _stream(
        kinesis, [("k", b'{"id":%d,"s":"%s"}' % (i, s.encode())) for i, s in enumerate(statuses)]
    )
    args = ["read", "s", "-o", "ndjson", "--checkpoint", str(tmp_path / "cp.json")]
    where = ["--where", "data.s == 'created'", "-n", "1"]
    assert _ids(run_cli(*args, *where).stdout) == [0]
    # resumed after the record printed: the one --where left out is passed over, not printed
    assert _ids(run_cli(*args, *where).stdout) == [2]
    assert _ids(run_cli(*args).stdout) == [3]


def test_jmespath_truth_zero_is_true_empty_is_false(kinesis: Any) -> None:
    _stream(
        kinesis,
        [
            ("zero", b'{"n":0,"tags":[],"name":""}'),
            ("full", b'{"n":false,"tags":["a"],"name":"x","o":{}}'),
        ],
    )

    def keys(expression: str) -> list[str]:
        result = run_cli("read", "s", "-o", "ndjson", "--where", expression)
        assert result.code == 0, result.stderr
        return [r["key"] for r in _records(result.stdout)]

    assert keys("data.n") == ["zero"]  # 0 is true in JMESPath, false is false
    assert keys("data.tags") == ["full"]  # [] is false
    assert keys("data.name") == ["full"]  # "" is false
    assert keys("data.o") == []  # {} is false
    assert keys("data") == ["zero", "full"]


def test_numbers_compare_as_numbers_with_every_digit(kinesis: Any) -> None:
    # Kept as it arrived (an orjson.Fragment on the NDJSON side); the expression sees numbers:
    # integers exactly, whatever their size, other numbers as floats like JMESPath's literals.
    big = b'{"big":123456789012345678901234567890,"price":0.1,"e":1e2,"neg":-9223372036854775809}'
    _stream(kinesis, [("a", big), ("b", b'{"big":123456789012345678901234567891,"price":0.25}')])

    def keys(expression: str) -> list[str]:
        result = run_cli("read", "s", "-o", "ndjson", "--where", expression)
        assert result.code == 0, result.stderr
        assert result.stderr == ""
        return [r["key"] for r in _records(result.stdout)]

    assert keys("data.big == `123456789012345678901234567890`") == ["a"]
    assert keys("data.big > `123456789012345678901234567890`") == ["b"]
    assert keys("data.price == `0.1`") == ["a"]
    assert keys("data.price < `0.2`") == ["a"]
    assert keys("data.e == `100`") == ["a"]
    assert keys("data.neg < `-9223372036854775808`") == ["a"]
    assert keys("data.neg && abs(data.neg) == `9223372036854775809`") == ["a"]
    # the NDJSON still carries the digits as they arrived
    line = run_cli("read", "s", "-o", "ndjson", "--where", "data.e").stdout.splitlines()[0]
    assert line.endswith(b'"data":' + big + b"}")


def test_where_sees_json_in_text_spread_over_lines_and_gzip(kinesis: Any) -> None:
    import gzip

    _stream(
        kinesis,
        [("a", b'{\n  "s": "x"\n}'), ("b", gzip.compress(b'{"s":"x"}')), ("c", b'{"s":"y"}')],
    )
    result = run_cli("read", "s", "-o", "ndjson", "--where", "data.s == 'x'")
    assert [(r["key"], r["enc"]) for r in _records(result.stdout)] == [
        ("a", "json"),
        ("b", "gzip+json"),
    ]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "data.status ==",
            "invalid --where 'data.status ==': Invalid jmespath expression: Incomplete "
            "expression (at character 15)",
        ),
        (
            "data.a ~ b",
            "invalid --where 'data.a ~ b': Bad jmespath expression: Unknown token ~ "
            "(at character 8)",
        ),
        ("", "invalid --where '': Invalid JMESPath expression: cannot be empty."),
        (
            "data.n > 100",
            "invalid --where 'data.n > 100': invalid token: Parse error at column 9, token "
            '"100" (NUMBER), for expression (at character 10)',
        ),
        # jmespath itself finds these only when a record reaches the call
        ("lenght(key)", "invalid --where 'lenght(key)': Unknown function: lenght()"),
        (
            "contains(key)",
            "invalid --where 'contains(key)': Expected 2 arguments for function contains(), "
            "received 1",
        ),
        (
            "not_null()",
            "invalid --where 'not_null()': Expected at least 1 argument for function "
            "not_null(), received 0",
        ),
    ],
)
def test_a_bad_expression_is_exit_2_before_any_call(
    aws_env: None, expression: str, message: str
) -> None:
    # No credentials, no region, no server: any call would fail with another exit code.
    result = run_cli("read", "nope", "--where", expression)
    assert result.code == 2
    assert result.stdout == b""
    assert result.stderr == (
        f"streamtail: error: {message}\n"
        "streamtail: hint: in JMESPath a string is 'single-quoted', a number or other JSON value "
        "`backticked`: data.status == 'failed' && data.amount > `100`\n"
    )


def test_an_expression_failing_on_some_records_drops_them_in_one_warning(orders: Any) -> None:
    # `<` between a string and a number raises in jmespath (Python's TypeError) on the four
    # JSON records; the text and binary ones have no data.status (null: not comparable, false).
    result = run_cli("read", "orders", "-o", "ndjson", "--where", "data.status < `1`")
    assert result.code == 0
    assert result.stdout == b""
    # (which shard's record comes first depends on the walk)
    assert re.fullmatch(
        r"streamtail: warning: --where failed on 4 records, left out \(first: shard "
        r"shardId-00000000000[01] seq 1: '<' not supported between instances of 'str' and "
        r"'int'\)\n",
        result.stderr,
    )
    # a function given the wrong type: only the records it fails on are left out
    typed = run_cli("read", "orders", "-o", "ndjson", "--where", "starts_with(data, 'plain')")
    assert _ids(typed.stdout) == ["plain text line"]
    [warning] = typed.stderr.splitlines()
    assert warning.startswith("streamtail: warning: --where failed on 4 records, left out ")
    assert "In function starts_with(), invalid type for value" in warning


def test_a_double_quoted_name_compared_is_pointed_out(orders: Any) -> None:
    # "created" is a field named created in JMESPath, absent (null): the records without a
    # status match, and stderr says why
    result = run_cli("read", "orders", "-o", "ndjson", "--where", 'data.status == "created"')
    assert result.code == 0
    assert sorted(_ids(result.stdout)) == ["AAH+/w==", "plain text line"]
    assert result.stderr == (
        'streamtail: warning: --where: "created" is a field name in JMESPath; the string is '
        "'created'\n"
    )
    # a quoted name inside a path is one
    quoted = run_cli("read", "orders", "-o", "ndjson", "--where", "data.\"status\" == 'paid'")
    assert (_ids(quoted.stdout), quoted.stderr) == ([2], "")


def test_follow_takes_where(orders: Any) -> None:
    result = run_cli(
        "follow", "orders", "--from", "trim-horizon", "-o", "ndjson", "-n", "2",
        "--where", "data.status == 'created'",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert sorted(_ids(result.stdout)) == [1, 3]


def test_where_and_aws_output_print_the_records_as_read(orders: Any) -> None:
    result = run_cli("read", "orders", "-o", "aws", "--where", "data.id == `4`")
    assert result.code == 0, result.stderr
    [record] = _records(result.stdout)
    assert record["PartitionKey"] == "user-1"
    assert record["SequenceNumber"] == "3"


def test_reads_without_where_never_load_jmespath_through_streamtail() -> None:
    code = (
        "import sys\n"
        "from streamtail.filters import RecordFilter\n"
        "plain = RecordFilter.build('k', 'x', ())\n"
        "assert plain.seeing(lambda item: {}) is plain\n"
        "print('streamtail.where' in sys.modules, 'jmespath' in sys.modules)\n"
        "RecordFilter.build(None, None, (), 'a')\n"
        "print('streamtail.where' in sys.modules, 'jmespath' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.splitlines() == ["False False", "True True"]
