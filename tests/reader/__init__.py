"""Tests of the shard walker (streamtail.reader) against an in-memory simulated Kinesis stream."""
