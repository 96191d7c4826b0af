"""`--from` and `--until` parsing, and the `ts` format (docs/CONTRACT.md, "Reading options")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from streamtail.errors import ExitCode, UsageError
from streamtail.model import LATEST, TRIM_HORIZON, Position, PositionKind
from streamtail.positions import format_ts, parse_position, parse_until

#: the "now" every parse gets: 2026-11-21T12:00:00Z
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC).timestamp()
SEQ = "49590338271490256608559692538361571095921575989136588898"


def at(seconds: float) -> Position:
    return Position(PositionKind.AT_TIMESTAMP, timestamp=seconds)


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()  # type: ignore[misc]


# -- --from ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["trim-horizon", "TRIM-HORIZON", "trim_horizon", "TRIM_HORIZON", "  trim-horizon  "]
)
def test_trim_horizon(text: str) -> None:
    assert parse_position(text, NOW) == TRIM_HORIZON


@pytest.mark.parametrize("text", ["latest", "LATEST", " latest"])
def test_latest(text: str) -> None:
    assert parse_position(text, NOW) == LATEST


@pytest.mark.parametrize(
    ("text", "kind", "seq"),
    [
        (f"at:{SEQ}", PositionKind.AT_SEQUENCE_NUMBER, SEQ),
        (f"after:{SEQ}", PositionKind.AFTER_SEQUENCE_NUMBER, SEQ),
        ("at:1", PositionKind.AT_SEQUENCE_NUMBER, "1"),
        ("AT:42", PositionKind.AT_SEQUENCE_NUMBER, "42"),
        ("After:42", PositionKind.AFTER_SEQUENCE_NUMBER, "42"),
    ],
)
def test_sequence_positions(text: str, kind: PositionKind, seq: str) -> None:
    assert parse_position(text, NOW) == Position(kind, sequence=seq)


@pytest.mark.parametrize("text", ["at:", "after:", "at:12a", "at:-1", "after: 12", "at:1.5"])
def test_bad_sequence_numbers(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_position(text, NOW)
    assert info.value.code == ExitCode.USAGE == 2
    assert info.value.message == f"invalid --from {text!r}: a sequence number is digits only"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-21T10:00:00Z", utc(2026, 11, 21, 10)),
        ("2026-11-21T10:00:00z", utc(2026, 11, 21, 10)),
        ("2026-11-21T10:00:00.123Z", utc(2026, 11, 21, 10) + 0.123),
        ("2026-11-21 10:00:00Z", utc(2026, 11, 21, 10)),
        # with an offset: converted to UTC
        ("2026-11-21T10:00:00+02:00", utc(2026, 11, 21, 8)),
        ("2026-11-21T06:00:00-05:30", utc(2026, 11, 21, 11, 30)),
        ("2026-11-21T10:00:00+00:00", utc(2026, 11, 21, 10)),
        # without an offset: UTC, as the AWS CLI takes --timestamp values
        ("2026-11-21T10:00:00", utc(2026, 11, 21, 10)),
        ("2026-11-21T10:00", utc(2026, 11, 21, 10)),
        ("2026-11-21", utc(2026, 11, 21)),
    ],
)
def test_iso_times(text: str, expected: float) -> None:
    position = parse_position(text, NOW)
    assert position.kind is PositionKind.AT_TIMESTAMP
    assert position.timestamp == pytest.approx(expected, abs=1e-6)
    assert position.sequence is None


@pytest.mark.parametrize(
    ("text", "seconds_ago"),
    [
        ("-30s", 30),
        ("-15m", 15 * 60),
        ("-2h", 2 * 3600),
        ("-1d", 86400),
        ("-1h30m", 5400),
        ("-1d2h3m4s", 86400 + 7200 + 180 + 4),
        ("-500ms", 0.5),
        ("-0s", 0),
        ("-1.5h", 5400),
        ("-2.5m", 150),
    ],
)
def test_relative_times(text: str, seconds_ago: float) -> None:
    assert parse_position(text, NOW) == at(NOW - seconds_ago)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "yesterday",
        "begin",
        "-15",  # no unit
        "15m",  # no sign
        "--15m",
        "-1.5.h",
        "-15x",
        "-15 m",
        "at",
        "2026-13-01T00:00:00Z",
        "2026-11-21T25:00:00Z",
        "1700000000",  # epoch seconds are not a documented form
        "trim horizon",
    ],
)
def test_invalid_from_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_position(text, NOW)
    assert info.value.code == 2
    assert info.value.message == (
        f"invalid --from {text!r}: expected trim-horizon, latest, at:SEQ, after:SEQ, "
        "an ISO-8601 time or a relative time like -15m"
    )


@pytest.mark.parametrize("text", ["+10m", "+1d", "2026-11-22T12:00:00Z", "2099-01-01T00:00:00"])
def test_future_times_are_rejected_for_from(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_position(text, NOW)
    assert info.value.code == 2
    assert info.value.message == f"invalid --from {text!r}: the time is in the future"


@pytest.mark.parametrize("text", ["-99999999999d", "-9999999999999999w", "0001-01-01T00:00:00Z"])
def test_times_far_in_the_past_never_break_later(text: str) -> None:
    """A time is either refused as usage (exit 2) or one that the Kinesis source can send.

    KinesisSource.get_iterator turns the timestamp into a datetime; a position it cannot convert
    would end the run with "unexpected ValueError" (exit 1) instead of exit 2.
    """
    try:
        position = parse_position(text, NOW)
    except UsageError as exc:
        assert exc.code == 2
        return
    assert position.timestamp is not None
    datetime.fromtimestamp(position.timestamp, UTC)  # must not raise


# -- --until -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("NOW", NOW),
        ("latest", NOW),
        ("+10m", NOW + 600),
        ("+1h30m", NOW + 5400),
        ("-15m", NOW - 900),
        ("2026-11-21T10:00:00Z", utc(2026, 11, 21, 10)),
        ("2026-11-21T10:00:00+01:00", utc(2026, 11, 21, 9)),
        ("2026-11-21T10:00:00", utc(2026, 11, 21, 10)),
        ("2099-01-01T00:00:00Z", utc(2099, 1, 1)),  # the future is fine for --until
    ],
)
def test_until_forms(text: str, expected: float) -> None:
    assert parse_until(text, NOW) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("text", ["", "trim-horizon", "at:5", "after:5", "soon", "10m"])
def test_invalid_until_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_until(text, NOW)
    assert info.value.code == 2
    assert info.value.message == (
        f"invalid --until {text!r}: expected an ISO-8601 time, a relative time like -15m "
        "or +10m, or now"
    )


# -- the `ts` field ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ts_ms", "expected"),
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (1, "1970-01-01T00:00:00.001Z"),
        (999, "1970-01-01T00:00:00.999Z"),
        (1000, "1970-01-01T00:00:01.000Z"),
        (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
        (1_767_323_045_250, "2026-01-02T03:04:05.250Z"),
        (1_795_262_400_000, "2026-11-21T12:00:00.000Z"),
        (1_795_262_399_999, "2026-11-21T11:59:59.999Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
    ],
)
def test_format_ts(ts_ms: int, expected: str) -> None:
    assert format_ts(ts_ms) == expected
