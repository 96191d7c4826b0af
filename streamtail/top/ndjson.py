"""`top -o ndjson`: one object per shard, per key and per piece of advice, for each interval
(live) or once for a past window (docs/CONTRACT.md, "top NDJSON objects"). Knows nothing of the
reader or boto3."""

from __future__ import annotations

from typing import Any

import orjson

from streamtail.env import Env
from streamtail.positions import format_ts
from streamtail.top.report import Rate, Report
from streamtail.top.tally import Peak


def _ts(seconds: float) -> str:
    return format_ts(round(seconds * 1000))


def _peak(peak: Peak | None, seconds: int, *, limited: bool) -> dict[str, Any] | None:
    if peak is None:
        return None
    return {
        "at": _ts(peak.start),
        "records": peak.records,
        "bytes": peak.bytes,
        "limit_pct": round(peak.pct(seconds), 1) if limited else None,
    }


def _rates(rate: Rate) -> dict[str, Any]:
    return {
        "records": rate.records,
        "bytes": rate.bytes,
        "records_per_s": round(rate.per_s, 2),
        "kib_per_s": round(rate.kib_per_s, 2),
    }


def report_objects(report: Report) -> list[dict[str, Any]]:
    """The report as the contract's objects: shards, then keys, then advice."""
    span = {"stream": report.stream, "start": _ts(report.start), "end": _ts(report.end)}
    seconds = round(report.end - report.start, 3)
    objects: list[dict[str, Any]] = []
    for row in report.shards:
        shard: dict[str, Any] = {"type": "shard", **span, "seconds": seconds, "shard": row.shard}
        shard.update(_rates(row.span))
        shard["limit_pct"] = None if report.dynamodb else round(row.span.limit_pct, 1)
        limited = not report.dynamodb  # DynamoDB publishes no write limit per stream shard
        shard["peak_second"] = _peak(row.peak_second, 1, limited=limited)
        if not report.live:
            shard["peak_minute"] = _peak(row.peak_minute, 60, limited=limited)
        shard["hash_space_pct"] = None if row.space_pct is None else round(row.space_pct, 3)
        shard["closed"] = row.closed
        if report.dynamodb:
            shard["events"] = row.events
        objects.append(shard)
    error_records, error_bytes = report.error
    for key in report.keys:
        obj: dict[str, Any] = {"type": "key", **span, "key": key.key, "shard": key.shard}
        obj["shards"] = list(key.shards)
        obj.update(_rates(key.rate))
        obj["share_pct"] = round(key.share_pct, 2)
        obj["estimated"] = report.estimated
        obj["records_error"] = key.count.records_error
        obj["bytes_error"] = key.count.bytes_error
        if report.key_name not in {"partition key", "Keys"}:
            obj["group_by"] = report.key_name
        objects.append(obj)
    for advice in report.advice:
        objects.append(
            {
                "type": "advice",
                **span,
                "shard": advice.shard,
                "at": _ts(advice.peak_second),
                "limit_pct": round(advice.peak_pct, 1),
                "measure": advice.measure,
                "verdict": advice.verdict,
                "keys": [{"key": k, "share_pct": round(s, 1)} for k, s in advice.keys],
                "new_starting_hash_key": None
                if advice.new_starting_hash_key is None
                else str(advice.new_starting_hash_key),
                "message": advice.sentence(),
            }
        )
    if report.estimated:
        # Said once per report where it applies: the bound on every key count above.
        objects.append(
            {
                "type": "estimate",
                **span,
                "counters": report.capacity,
                "records_error": error_records,
                "bytes_error": error_bytes,
            }
        )
    return objects


class TopNdjson:
    """Writes each report as lines of JSON, flushed at once."""

    def __init__(self, env: Env, *, live: bool) -> None:
        self.env = env

    def frame(self, report: Report) -> None:
        lines = b"".join(orjson.dumps(obj) + b"\n" for obj in report_objects(report))
        self.env.stdout.write(lines)
        self.env.stdout.flush()

    def close(self) -> None:
        return None
