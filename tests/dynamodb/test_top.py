"""`top` on a DynamoDB stream (moto in-process): a past window counts changes per shard, their
kinds and their Keys exactly, with no write limit (DynamoDB publishes none per stream shard)."""

from __future__ import annotations

import json
from typing import Any

from .helpers import api_records, cli, create_table, explain


def test_window_counts_changes_by_kind_and_keys(ddb: Any, streams: Any) -> None:
    arn = create_table(ddb, "Carts", "NEW_AND_OLD_IMAGES")
    assert arn is not None
    for n in range(3):
        ddb.put_item(TableName="Carts", Item={"pk": {"S": "cart#1"}, "n": {"N": str(n)}})
    ddb.put_item(TableName="Carts", Item={"pk": {"S": "cart#2"}})
    ddb.delete_item(TableName="Carts", Key={"pk": {"S": "cart#2"}})
    sizes = [r["dynamodb"]["SizeBytes"] for r in api_records(streams, arn)]

    result = cli("top", "ddb:Carts", "--from", "trim-horizon", "-o", "ndjson")
    assert result.exit_code == 0, explain(result)
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    (shard,) = [o for o in objects if o["type"] == "shard"]
    assert (shard["records"], shard["bytes"]) == (5, sum(sizes))
    assert shard["events"] == {"INSERT": 2, "MODIFY": 2, "REMOVE": 1}
    assert shard["limit_pct"] is None and shard["hash_space_pct"] is None
    assert shard["peak_second"]["records"] >= 1 and shard["peak_second"]["limit_pct"] is None
    keys = [(o["key"], o["records"]) for o in objects if o["type"] == "key"]
    assert keys == [('{"pk":"cart#1"}', 3), ('{"pk":"cart#2"}', 2)]
    assert not [o for o in objects if o["type"] == "advice"]
