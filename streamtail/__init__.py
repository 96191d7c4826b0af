"""streamtail: tail and inspect Kinesis and DynamoDB record streams."""

__version__ = "0.1.0"
