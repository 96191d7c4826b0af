"""Enhanced fan-out (`read/follow --efo`): registered consumers, SubscribeToShard over HTTP/2.

- frames.py: the event stream of a SubscribeToShard answer, decoded into shard events;
- subscription.py: one SubscribeToShard call over HTTP/2 (httpx), signed by botocore;
- consumers.py: registering, waiting for, deregistering, listing and pruning consumers;
- source.py: a `Source` whose GetRecords is the next event of a shard's subscription, so the
  reader engine walks shards, lineage and stop rules the same way for polling and for EFO.

Imported only when `--efo` or `streamtail consumers` is used: httpx stays out of every other
command's start-up.
"""
