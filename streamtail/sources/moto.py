"""moto's Kinesis: how it answers at a closed shard's end, and how to tell it is moto.

Read in moto's source (github.com/getmoto/moto, moto/kinesis/models.py and utils.py):

- `Shard.get_records` returns the records after the iterator's number and `Stream.get_records`
  always composes a next iterator (`compose_shard_iterator`), closed shard or not: GetRecords
  never answers a null NextShardIterator, and never ChildShards.
- `Shard.to_json` lists a closed shard's EndingSequenceNumber as `get_max_sequence_number()`:
  its last record's number, or "0" when it holds none. So the last record read is the listed
  end, except on a shard with no records, or a read that starts past its last record (an
  AT_TIMESTAMP iterator after it): those only ever see empty batches, and end on one at the tip
  (`null_iterator_at_end=False`).
- `Stream.get_records` counts no bytes and never answers ProvisionedThroughputExceeded:
  moto serves a shard as fast as it is asked (`read_rate=None`).
- `compose_shard_iterator` makes an iterator `base64.encodebytes(b"<stream>:<shard id>:<n>")`:
  no other service hands out iterators of that form (AWS's are opaque binary), so the first
  iterator tells (`hands_out`).

moto's DynamoDB Streams (moto/dynamodbstreams/models.py, moto/dynamodb/models/table.py) has one
shard per table that never closes (`StreamShard.to_json` gives no EndingSequenceNumber): the
rules for DynamoDB Streams hold there unchanged.
"""

from __future__ import annotations

import binascii
import dataclasses
import re
from base64 import b64decode

from streamtail.sources.base import KINESIS

MOTO_KINESIS = dataclasses.replace(
    KINESIS, name="moto (Kinesis)", null_iterator_at_end=False, read_rate=None
)
_ITERATOR = re.compile(rb"^[^:]*:(?P<shard>[^:]+):\d+\n?$")


def hands_out(iterator: str, shard_id: str) -> bool:
    """The iterator is one moto composed for this shard."""
    try:
        text = b64decode(iterator.replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    found = _ITERATOR.match(text)
    return found is not None and found.group("shard") == shard_id.encode()
