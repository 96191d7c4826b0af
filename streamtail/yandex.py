"""Yandex Cloud's facts about hosts, names and ids, and the one decision "is this Yandex Data
Streams?" (`recognise`), used by aws.py (the region and the IAM token), sources/ (the service a
source speaks to) and `ls` (no DynamoDB Streams there).

Telling YDS apart: the endpoint's host (yandexcloud.net) settles it before any call; a stream
path (`/ru-central1/<folder>/<database>/<stream>`) is YDS's naming, and AWS and its look-alikes do
not take slashes in names; an endpoint that hides the host (a proxy, a tunnel, a test double) with
a plain name is known by its answers: shard ids of YDB's form (ydb/services/lib/sharding/
sharding.cpp, `GetShardName`: "shard-%06d"). Taking another service for YDS costs little
(DescribeStream instead of ListShards, lag not shown); taking YDS for another service loses
records (ListShards' made-up tree), so every sign counts. Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from urllib.parse import urlsplit

#: Yandex Data Streams lives in this region; its stream paths start with it, and it checks
#: signatures for it
REGION = "ru-central1"
#: a Yandex Cloud IAM token (`yc iam create-token`), sent instead of a signature to Kinesis
#: endpoints that are not AWS's: YDS takes it in X-YaCloud-SubjectToken
#: (ydb/core/http_proxy/http_req.cpp, `THttpRequestContext::ParseHeaders`, and `GetSignature`:
#: no signature is checked when an IAM token came)
IAM_TOKEN_ENV = "YC_IAM_TOKEN"
IAM_HEADER = "X-YaCloud-SubjectToken"
_HOST_SUFFIX = ".yandexcloud.net"
_SHARD_ID = re.compile(r"^shard-\d{6,}$")


class Sign(StrEnum):
    """What told YDS apart (said in `--debug`)."""

    ENDPOINT = "endpoint"
    STREAM_PATH = "stream path"
    SHARD_IDS = "shard ids"


def recognise(
    endpoint: str | None, name: str | None = None, shard_ids: Iterable[str] = ()
) -> Sign | None:
    """Whether the service is Yandex Data Streams, and by which sign: the endpoint's host, a
    stream name that is a path, or (after a listing) shard ids of YDB's form; None: not YDS."""
    if endpoint:
        host = (urlsplit(endpoint).hostname or "").lower()
        if host == _HOST_SUFFIX[1:] or host.endswith(_HOST_SUFFIX):
            return Sign.ENDPOINT
    if name is not None and name.startswith("/"):
        return Sign.STREAM_PATH
    if any(_SHARD_ID.match(shard_id) for shard_id in shard_ids):
        return Sign.SHARD_IDS
    return None
