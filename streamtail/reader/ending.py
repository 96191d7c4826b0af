"""How a shard ends: the end-of-shard rules, in one place.

- A shard is finished only when the service says so: GetRecords answers a null
  NextShardIterator (the API reference: "If set to null, the shard has been closed"), or the last
  record read is the listed EndingSequenceNumber (nothing lies past it). Empty batches never end a
  closed shard: AWS answers empty batches inside a shard's data ("it might take multiple calls to
  get to a portion of the shard that contains stream records", DynamoDB Streams GetRecords).
  A service that never answers a null iterator there (moto, YDS) says so in its `Service`
  (`null_iterator_at_end=False`), and there only an empty batch at the tip of a shard the listing
  says is closed ends it too.
- A shard that must end (listed closed, or open with children listed: the rollover race, where
  DynamoDB Streams lists a child before its parent's EndingSequenceNumber) is never taken to be
  at its tip: `read` reads on until it ends, its children wait, and only when it has answered
  nothing but empty batches at its tip for `Pacing.close_wait` seconds does `read` give up on it,
  by name on stderr, without its descendants (exit 1).
- Without MillisBehindLatest (DynamoDB Streams) an open shard is at its tip after
  `EMPTY_BATCHES_AT_TIP` empty batches in a row (see there).
"""

from __future__ import annotations

from streamtail.sources.base import Service

#: Without MillisBehindLatest, this many empty batches in a row mean an open shard is at its tip.
#: DynamoDB Streams answers empty batches inside a shard's data (the GetRecords reference), so a
#: run of them alone says nothing for certain; ten, polled at the 5-calls-a-second ceiling, is
#: two seconds of the iterator moving on without finding a record, over three times the runs
#: inside data measured when the loss at a shard's end was found (three). More would make every
#: `read` of an idle table slower by the same; a shard that must end never stops on it (above).
EMPTY_BATCHES_AT_TIP = 10


def ends_here(service: Service, *, closed: bool, past_end: bool, empty_at_tip: bool) -> bool:
    """A batch with a next iterator still ends the shard: its listed EndingSequenceNumber has
    been read, or (a service that never answers a null iterator there) the shard is listed closed
    and the batch came back empty at the tip."""
    if not closed:
        return False
    return past_end or (empty_at_tip and not service.null_iterator_at_end)


def must_end(*, closed: bool, has_children: bool) -> bool:
    """The shard will end: listed closed, or a parent of a listed child (the rollover race)."""
    return closed or has_children
