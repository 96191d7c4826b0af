"""Backoff (full jitter, cap, give-up rule) and the walk's rate-limited notices, on a fake clock."""

from __future__ import annotations

import random

import pytest

from streamtail.errors import ServiceError
from streamtail.reader.retry import Backoff, Notices

THROTTLED = ServiceError("Rate exceeded", aws_code="ProvisionedThroughputExceededException")
RESET = ServiceError("network error (connection reset by peer)")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_delays_are_full_jitter_doubling_up_to_the_cap() -> None:
    backoff = Backoff(0.2, 5.0, None, rng=random.Random(7))
    bounds = [min(5.0, 0.2 * 2**n) for n in range(12)]
    samples: list[list[float]] = [[] for _ in bounds]
    for _ in range(300):
        backoff.succeeded(0.0)
        for n in range(len(bounds)):
            samples[n].append(backoff.failed(THROTTLED, float(n)))
    for n, bound in enumerate(bounds):
        assert all(0 <= d <= bound for d in samples[n])
        # full jitter: the whole range is used, not just its top
        assert min(samples[n]) < bound * 0.1
        assert max(samples[n]) > bound * 0.9


def test_giving_up_after_the_timeout_keeps_the_error_and_says_how_long() -> None:
    backoff = Backoff(0.2, 5.0, 180.0)
    backoff.failed(RESET, 0.0)
    backoff.failed(RESET, 179.9)
    with pytest.raises(ServiceError) as raised:
        backoff.failed(RESET, 180.0)
    error = raised.value
    assert error.message == "network error (connection reset by peer); gave up after 3m of retrying"
    assert error.hint == "--retry-timeout DURATION retries longer (e.g. 10m; inf: never gives up)"
    assert error.retryable is False


def test_the_last_delay_ends_at_the_deadline() -> None:
    backoff = Backoff(0.2, 5.0, 2.0, rng=random.Random(1))
    backoff.attempt = 10  # delays up to the cap from here
    assert backoff.failed(RESET, 0.0) <= 2.0
    assert backoff.failed(RESET, 1.5) <= 0.5
    with pytest.raises(ServiceError, match="gave up after 2s"):
        backoff.failed(RESET, 2.0)


def test_a_success_starts_the_count_again() -> None:
    backoff = Backoff(0.2, 5.0, 10.0)
    backoff.failed(RESET, 0.0)
    backoff.failed(RESET, 9.0)
    assert backoff.succeeded(9.5) == 9.5
    assert backoff.succeeded(9.6) is None
    backoff.failed(RESET, 15.0)
    assert backoff.attempt == 1
    backoff.failed(RESET, 24.0)  # 9 s into the new run: not yet


def test_without_a_timeout_it_never_gives_up() -> None:
    backoff = Backoff(0.2, 5.0, None)
    for moment in range(0, 10**6, 1000):
        assert backoff.failed(RESET, float(moment)) <= 5.0


def test_an_error_retrying_cannot_fix_is_raised_at_once() -> None:
    fatal = ServiceError("KMSDisabledException", aws_code="KMSDisabledException", retryable=False)
    with pytest.raises(ServiceError) as raised:
        Backoff(0.2, 5.0, None).failed(fatal, 0.0)
    assert raised.value is fatal


def make_notices(give_up_after: float | None = None) -> tuple[Notices, list[str], Clock]:
    lines: list[str] = []
    clock = Clock()
    return Notices(lines.append, clock, give_up_after=give_up_after), lines, clock


def test_notices_are_one_line_per_kind_per_interval_however_many_shards_fail() -> None:
    notices, lines, clock = make_notices(give_up_after=180.0)
    for shard in ("a", "b", "c"):
        for _ in range(5):
            notices.failure(shard, THROTTLED)
            notices.failure(shard, RESET)
            clock.now += 0.3
    assert lines == [
        "shard a: throttled (ProvisionedThroughputExceededException); backing off and retrying",
        "shard a: network error (connection reset by peer); retrying for up to 3m",
    ]
    clock.now += 10.0
    notices.failure("b", THROTTLED)
    notices.failure("c", RESET)
    assert lines[2:] == [
        "throttled 15 times on 3 shards in the last 10s (ProvisionedThroughputExceededException);"
        " backing off and retrying",
        "still failing after 14s (15 failed calls on 3 shards in the last 10s): network error "
        "(connection reset by peer); retrying for up to 3m",
    ]


def test_follow_notices_say_it_keeps_trying() -> None:
    notices, lines, _ = make_notices(give_up_after=None)
    notices.failure(None, RESET)
    assert lines == [
        "the shard list: network error (connection reset by peer); retrying (follow keeps trying)"
    ]


def test_a_long_outage_ends_with_a_line_a_blip_does_not() -> None:
    notices, lines, clock = make_notices()
    notices.failure("a", RESET)
    clock.now += 1.0
    notices.recovered("a", 1.0)
    assert len(lines) == 1  # a blip: no recovery line
    clock.now += 1.0
    notices.failure("a", RESET)  # still within the interval: rate-limited
    assert len(lines) == 1
    notices.failure("b", RESET)
    clock.now += 30.0
    notices.recovered("a", 30.0)
    assert len(lines) == 1  # b is still failing
    notices.recovered("b", 30.0)
    assert lines[1:] == ["the service answers again, after 30s of failures"]
    notices.failure("a", RESET)  # after an outage, the next failure is news at once
    assert len(lines) == 3


def test_throttling_alone_never_reports_recovery() -> None:
    notices, lines, clock = make_notices()
    notices.failure("a", THROTTLED)
    clock.now += 60.0
    notices.recovered("a", 60.0)
    assert len(lines) == 1
