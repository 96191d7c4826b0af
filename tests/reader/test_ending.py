"""The end-of-shard rules (streamtail/reader/ending.py), case by case."""

from __future__ import annotations

import pytest

from streamtail.reader.ending import ends_here, must_end
from streamtail.sources.base import KINESIS, Service
from streamtail.sources.dynamodb import DYNAMODB_STREAMS
from streamtail.sources.moto import MOTO_KINESIS
from streamtail.sources.yds import YDS


@pytest.mark.parametrize("service", [KINESIS, DYNAMODB_STREAMS])
def test_empty_batches_never_end_a_closed_shard_where_the_service_ends_it_null(
    service: Service,
) -> None:
    assert service.null_iterator_at_end
    assert not ends_here(service, closed=True, past_end=False, empty_at_tip=True)
    assert ends_here(service, closed=True, past_end=True, empty_at_tip=False)


@pytest.mark.parametrize("service", [MOTO_KINESIS, YDS])
def test_an_empty_batch_at_the_tip_ends_a_closed_shard_where_the_service_declares_it(
    service: Service,
) -> None:
    assert ends_here(service, closed=True, past_end=False, empty_at_tip=True)
    assert not ends_here(service, closed=True, past_end=False, empty_at_tip=False)


def test_an_open_shard_never_ends_by_these_rules() -> None:
    for service in (KINESIS, DYNAMODB_STREAMS, MOTO_KINESIS, YDS):
        assert not ends_here(service, closed=False, past_end=True, empty_at_tip=True)


def test_a_shard_must_end_when_closed_or_a_parent() -> None:
    assert must_end(closed=True, has_children=False)
    assert must_end(closed=False, has_children=True)  # the rollover race
    assert not must_end(closed=False, has_children=False)
