"""The baseline: how one would read a stream with boto3 in a few lines.

Every shard, one after another, from the trim horizon to the tip; botocore parses each response;
each record printed with json.dumps. Usage: naive_reader.py STREAM ENDPOINT
"""

from __future__ import annotations

import base64
import json
import sys

import boto3


def main() -> None:
    stream, endpoint = sys.argv[1], sys.argv[2]
    client = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1")
    out = sys.stdout
    shards = client.list_shards(StreamName=stream)["Shards"]
    for shard in shards:
        iterator = client.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            response = client.get_records(ShardIterator=iterator, Limit=10000)
            for record in response["Records"]:
                try:
                    data = json.loads(record["Data"])
                except ValueError:
                    data = base64.b64encode(record["Data"]).decode()
                out.write(
                    json.dumps(
                        {
                            "stream": stream,
                            "shard": shard["ShardId"],
                            "seq": record["SequenceNumber"],
                            "key": record["PartitionKey"],
                            "ts": record["ApproximateArrivalTimestamp"].isoformat(),
                            "data": data,
                        }
                    )
                    + "\n"
                )
            if not response["Records"] and response.get("MillisBehindLatest") == 0:
                break
            iterator = response.get("NextShardIterator")


if __name__ == "__main__":
    main()
