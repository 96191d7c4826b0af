"""Parsing `--from` and `--until` into positions and times.

Forms (docs/CONTRACT.md): `trim-horizon`, `latest`, `at:SEQ`, `after:SEQ`, an ISO-8601 time, or a
relative time such as `-30s`, `-15m`, `-2h`, `-1d` (units may be combined: `-1h30m`; `--until`
also takes `+10m`, a time in the future).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from streamtail.errors import UsageError
from streamtail.model import LATEST, TRIM_HORIZON, Position, PositionKind

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_RELATIVE = re.compile(r"^([-+])((?:\d+(?:ms|s|m|h|d|w))+)$")
_RELATIVE_PART = re.compile(r"(\d+)(ms|s|m|h|d|w)")
_SEQUENCE = re.compile(r"^\d{1,128}$")
_FORMS = "trim-horizon, latest, at:SEQ, after:SEQ, an ISO-8601 time or a relative time like -15m"


def parse_time(text: str, now: float) -> float | None:
    """An ISO-8601 or relative time as epoch seconds, or None if `text` is neither."""
    match = _RELATIVE.match(text)
    if match:
        seconds = sum(int(n) * _UNITS[unit] for n, unit in _RELATIVE_PART.findall(match.group(2)))
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
        raise UsageError(f"invalid --from {text!r}: the time is in the future")
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


_SECOND_TEXT: dict[int, str] = {}


def format_ts(ts_ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC with milliseconds and `Z` (the NDJSON `ts` field).

    On the hot path: records arrive in runs within the same second, so the formatted second is
    cached (a small dict, cleared when it grows) and only the milliseconds are formatted anew.
    """
    seconds, millis = divmod(ts_ms, 1000)
    prefix = _SECOND_TEXT.get(seconds)
    if prefix is None:
        if len(_SECOND_TEXT) >= 4096:
            _SECOND_TEXT.clear()
        prefix = f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S}."
        _SECOND_TEXT[seconds] = prefix
    return f"{prefix}{millis:03d}Z"


_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_duration(text: str, option: str) -> float:
    """A span of time given as `500ms`, `2.5s`, `5m`, `1h30m`, `2d` (or plain seconds), in
    seconds."""
    value = text.strip().lower()
    if _DURATION.match(value):
        return sum(float(n) * _UNITS[unit] for n, unit in _DURATION_PART.findall(value))
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds >= 0 and seconds != float("inf"):
        return seconds
    raise UsageError(
        f"invalid {option} {text!r}", hint="a duration such as 30s, 5m, 1h30m or 500ms"
    )


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
