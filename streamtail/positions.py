"""Parsing `--from` and `--until` into positions and times.

Forms (docs/CONTRACT.md): `trim-horizon`, `latest`, `at:SEQ`, `after:SEQ`, an ISO-8601 time, or a
relative time such as `-30s`, `-15m`, `-2h`, `-1d` (units may be combined: `-1h30m`, and take
decimals: `-1.5h`; `+10m` is a time in the future, which `--until` takes). The spans of time of
the other options (`--idle-exit 2s`, `--retry-timeout 3m`, lag's `--interval`) are read by
`parse_duration`, with the same units (`span`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from streamtail.errors import UsageError
from streamtail.model import LATEST, TRIM_HORIZON, Position, PositionKind

#: the units of every span of time the command line takes (--from -15m, --idle-exit 2s, ...)
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)"
_SPAN = re.compile(rf"^(?:{_PART})+$")
_SPAN_PART = re.compile(_PART)
_RELATIVE = re.compile(r"^([-+])(.+)$")
_SEQUENCE = re.compile(r"^\d{1,128}$")
_FORMS = "trim-horizon, latest, at:SEQ, after:SEQ, an ISO-8601 time or a relative time like -15m"


def parse_time(text: str, now: float) -> float | None:
    """An ISO-8601 or relative time as epoch seconds, or None if `text` is neither."""
    match = _RELATIVE.match(text)
    if match:
        seconds = span(match.group(2))
        if seconds is None:
            return None
        return now - seconds if match.group(1) == "-" else now + seconds
    if not text[:4].isdigit():
        return None
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if moment.tzinfo is None:
        # A time without an offset is taken as UTC, as the AWS CLI does for --timestamp values.
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


#: "now" as a start position is taken this many seconds early: the time is this machine's, the
#: records' arrival times the service's, and a clock a little ahead must not skip what came
#: just before the start
CLOCK_SKEW = 1.0


def now_position(now: float) -> Position:
    """The time to read from for a start at "now" (LATEST remembered as a time: a renewed
    iterator, a checkpoint's first run), a second early for clock skew with the service."""
    return Position(PositionKind.AT_TIMESTAMP, timestamp=now - CLOCK_SKEW)


def _in_range(moment: float, option: str, text: str) -> float:
    try:
        datetime.fromtimestamp(moment, UTC)
    except (OverflowError, ValueError, OSError) as exc:
        raise UsageError(f"invalid {option} {text!r}: the time is out of range") from exc
    return moment


def parse_position(text: str, now: float) -> Position:
    """Parse a `--from` value; raises UsageError (exit 2) with the accepted forms."""
    value = text.strip()
    lowered = value.lower().replace("_", "-")
    if lowered in {"trim-horizon", "earliest", "beginning"}:
        return TRIM_HORIZON
    if lowered in {"latest", "now", "tip"}:
        return LATEST
    for prefix, kind in (
        ("at:", PositionKind.AT_SEQUENCE_NUMBER),
        ("after:", PositionKind.AFTER_SEQUENCE_NUMBER),
    ):
        if lowered.startswith(prefix):
            seq = value[len(prefix) :]
            if not _SEQUENCE.match(seq):
                raise UsageError(f"invalid --from {text!r}: a sequence number is digits only")
            return Position(kind, sequence=seq)
    moment = parse_time(value, now)
    if moment is None:
        raise UsageError(f"invalid --from {text!r}: expected {_FORMS}")
    if moment > now + 1:
        # Refused for `read` and `follow` alike: a start is a record's arrival time, and no
        # record has arrived then yet (DynamoDB Streams' GetShardIterator answers a future
        # Timestamp with a ValidationException); a stop time to come is --until's.
        raise UsageError(
            f"invalid --from {text!r}: the time is in the future",
            hint="--from starts at a time that has come (-15m, now); --until +10m stops at one "
            "to come",
        )
    return Position(PositionKind.AT_TIMESTAMP, timestamp=_in_range(moment, "--from", text))


def parse_until(text: str, now: float) -> float:
    """Parse an `--until` value into epoch seconds (`latest`/`now` mean the start of the run)."""
    value = text.strip()
    if value.lower() in {"latest", "now"}:
        return now
    moment = parse_time(value, now)
    if moment is None:
        raise UsageError(
            f"invalid --until {text!r}: expected an ISO-8601 time, a relative time like -15m "
            "or +10m, or now"
        )
    return _in_range(moment, "--until", text)


def check_window(start: Position, until: float, now: float, until_text: str) -> None:
    """Refuse (exit 2) a window that is empty by construction: --until before the start, a time
    (--from -1m --until -2h) or now (`latest`: --until -5m)."""
    begins = now if start.kind is PositionKind.LATEST else start.timestamp
    if begins is None or until >= begins:
        return
    start_text = "the start (latest: now)" if start.timestamp is None else "--from's time"
    raise UsageError(
        f"empty window: --until {until_text!r} is before {start_text}, so no record can be printed",
        hint="--until takes a time after --from (a later -15m, +10m, now, or ISO-8601)",
    )


_SECOND_TEXT: dict[int, str] = {}
#: the last time formatted and its text, as one tuple that threads read and replace whole
_LAST: list[tuple[int, str]] = [(-1, "")]


def format_ts(ts_ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC with milliseconds and `Z` (the NDJSON `ts` field).

    On the hot path: records arrive in runs within the same millisecond (a PutRecords batch) and
    the same second, so the last text is reused for the same millisecond, and the formatted
    second is cached (a small dict, cleared when it grows): only the milliseconds are formatted
    anew.
    """
    last = _LAST[0]
    if last[0] == ts_ms:
        return last[1]
    seconds, millis = divmod(ts_ms, 1000)
    prefix = _SECOND_TEXT.get(seconds)
    if prefix is None:
        if len(_SECOND_TEXT) >= 4096:
            _SECOND_TEXT.clear()
        prefix = f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S}."
        _SECOND_TEXT[seconds] = prefix
    text = f"{prefix}{millis:03d}Z"
    _LAST[0] = (ts_ms, text)
    return text


def span(text: str) -> float | None:
    """A span of time with units (`500ms`, `2.5s`, `5m`, `1h30m`, `2d`, `1w`) in seconds, or None
    when `text` is not one. The one reading of units: relative times and durations alike."""
    value = text.strip().lower()
    if not _SPAN.match(value):
        return None
    return sum(float(n) * _UNITS[unit] for n, unit in _SPAN_PART.findall(value))


_DURATION_HINT = "a duration such as 30s, 2.5m, 1h30m, 2d or 500ms (a bare number is seconds)"


def parse_duration(text: str, option: str, *, never: bool = False) -> float:
    """A span of time given with units (`span`) or as plain seconds, for the options that take
    one (--idle-exit, --retry-timeout, lag's --interval and --max-lag); `never` also accepts `inf`
    and `never` (infinity). Raises UsageError (exit 2) with the accepted forms."""
    value = text.strip().lower()
    seconds = span(value)
    if seconds is not None:
        return seconds
    if never and value in {"inf", "infinity", "never"}:
        return float("inf")
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds >= 0 and seconds != float("inf"):
        return seconds
    hint = _DURATION_HINT + (", or inf: never" if never else "")
    raise UsageError(f"invalid {option} {text!r}: not a duration", hint=hint)


def format_duration(seconds: float) -> str:
    """A span of time for people: `850ms`, `42s`, `3m 20s`, `3h 12m`, `2d 5h`."""
    if seconds < 1:
        return f"{max(seconds, 0) * 1000:.0f}ms"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m {secs}s" if secs else f"{minutes}m"
    return f"{secs}s"
