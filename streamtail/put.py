"""Wiring for `put STREAM`: stdin lines (or binary chunks) to PutRecords, a count on stderr.

Knows nothing of Typer; takes a frozen request from cli.py and an `Env`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from streamtail.aws import clients_for
from streamtail.env import Env
from streamtail.errors import ServiceError, UsageError
from streamtail.model import SourceKind
from streamtail.names import resolve

if TYPE_CHECKING:
    from streamtail.aws import Clients, Connection
    from streamtail.entries import Encoder
    from streamtail.writer import PutStats, WritePacing


@dataclass(frozen=True)
class PutRequest:
    """Everything `put` was asked to do."""

    stream: str
    conn: Connection
    key: str | None = None
    key_field: str | None = None
    from_ndjson: bool = False
    binary: bool = False
    chunk_size: int | None = None
    #: --avro-schema FILE: lines written as bare Avro binary
    avro_schema: str | None = None
    #: --gsr-schema [REGISTRY/]NAME: lines written as GSR frames of the latest version
    gsr_schema: str | None = None
    #: --compress gzip|zstd: each record's data compressed (after any schema encoding)
    compress: str | None = None


#: rejected input lines named one by one on stderr before they are only counted
_REJECTS_SHOWN = 10


def run_put(request: PutRequest, env: Env, *, pacing: WritePacing | None = None) -> None:
    """`put STREAM`: stdin lines (or binary chunks) to PutRecords; counts on stderr at the end.

    Exit: 0 when every record was written; 1 (ServiceError) when the service refused some after
    retries; 2 (UsageError) when some input lines could not become records; 130 on Ctrl-C.
    """
    from streamtail.entries import (
        KeySource,
        Rejected,
        chunk_entries,
        default_chunk_size,
        line_entries,
        line_limit,
    )
    from streamtail.sources.kinesis import KinesisSource
    from streamtail.stdin import Input, lines
    from streamtail.writer import Writer

    keys = KeySource.build(request.key, request.key_field, from_ndjson=request.from_ndjson)
    chunk_size = _chunk_size(request, default_chunk_size(keys))
    ref = resolve(request.stream)
    if ref.kind is not SourceKind.KINESIS:
        raise UsageError("put writes to Kinesis streams only")
    if env.stdin is None:
        raise UsageError("put reads records from standard input, and there is none")
    clients = clients_for(request.conn, env, ref)
    encoder = _encoder(request, clients)
    sink = KinesisSource(
        ref, clients.client("kinesis"), data=clients.client("kinesis", data_plane=True)
    )
    sink.check()  # a missing stream or a denied key fails now, before the input is read
    if env.stdin_isatty:
        env.stderr.write("streamtail: reading records from the terminal, one a line; Ctrl-D ends\n")
    # stdin read from its descriptor, in bounded lines, by a thread the stop event ends (stdin.py)
    source = Input(env.stdin)
    if request.binary:
        entries = chunk_entries(source, keys, chunk_size, encoder=encoder)
    else:
        limit = line_limit(transformed=request.from_ndjson or encoder is not None)
        entries = line_entries(
            lines(source, limit), keys, from_ndjson=request.from_ndjson, encoder=encoder
        )

    first_reject: list[Rejected] = []

    def on_reject(rejected: Rejected) -> None:
        first_reject[:] = first_reject or [rejected]
        if writer.stats.rejected <= _REJECTS_SHOWN:
            env.warn(f"line {rejected.origin}: {rejected.reason}; not written")
        if writer.stats.rejected == _REJECTS_SHOWN + 1:
            env.warn("more lines are not valid records: counting them without naming each")

    writer = Writer(
        sink.put_records,
        pacing=pacing,
        on_reject=on_reject,
        on_retry=lambda message: env.warn(message, every=10.0),
        clock=env.time_source,
    )
    try:
        stats = writer.run(entries, stop=source.stop)
    finally:
        stats = writer.stats
        _put_summary(env, ref.display, stats)
    if writer.interruption is not None:
        raise writer.interruption  # the signal's own exit code (130, 143, 129)
    if stats.failed:
        raise ServiceError(
            f"{_count(stats.failed)} could not be written ({stats.first_error})",
            hint="the stream may be throttled or its KMS key unusable: see the message above",
        )
    if stats.rejected:
        first = first_reject[0]
        raise UsageError(
            f"{stats.rejected} input {'line was' if stats.rejected == 1 else 'lines were'} not "
            f"written (first: line {first.origin}, {first.reason})",
            hint=first.hint,
        )


def _encoder(request: PutRequest, clients: Clients) -> Encoder | None:
    """How each input line (or chunk) becomes a payload: `--avro-schema` or `--gsr-schema`
    (the schema read, compiled or fetched before any input is), then `--compress`."""
    encode = _schema_encoder(request, clients)
    if request.compress is None:
        return encode
    from streamtail.decode.compress import compressor

    compress = compressor(request.compress)
    if encode is None:
        return compress
    return lambda text: compress(encode(text))


def _schema_encoder(request: PutRequest, clients: Clients) -> Encoder | None:
    if request.avro_schema is None and request.gsr_schema is None:
        return None
    if request.avro_schema is not None and request.gsr_schema is not None:
        raise UsageError("--avro-schema and --gsr-schema each say how to write records: give one")
    if request.binary:
        raise UsageError("--avro-schema and --gsr-schema write JSON lines, not --binary chunks")
    from streamtail.decode.avro import AvroCodec
    from streamtail.decode.schema import AVRO, JSON, frame
    from streamtail.schemas import avro_codec, latest_version

    if request.avro_schema is not None:
        codec: AvroCodec = avro_codec(request.avro_schema)
        return lambda text: codec.encode(_json_value(text))
    assert request.gsr_schema is not None
    version = latest_version(clients.client("glue"), request.gsr_schema)
    if version.data_format == AVRO:
        codec = AvroCodec(version.definition)
        return lambda text: frame(version.id, codec.encode(_json_value(text)))
    if version.data_format == JSON:
        return lambda text: frame(version.id, _compact_json(text))
    raise UsageError(
        f"--gsr-schema {request.gsr_schema} is {version.data_format}: put writes AVRO and JSON "
        "schemas"
    )


def _json_value(text: bytes) -> Any:
    """A line's JSON value with decimals kept exact (an Avro decimal takes every digit)."""
    import json
    from decimal import Decimal

    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError:
        raise ValueError("not JSON") from None


def _compact_json(text: bytes) -> bytes:
    """A JSON line written compactly, every number's digits kept (not validated: no JSON Schema
    validator is a dependency)."""
    import json

    import orjson

    try:  # numbers as their own text: 12.30 stays 12.30
        value = json.loads(text, parse_float=orjson.Fragment, parse_int=orjson.Fragment)
    except ValueError:
        raise ValueError("not JSON") from None
    return orjson.dumps(value)


def _chunk_size(request: PutRequest, limit: int) -> int:
    """`--binary`'s chunk size: what the user asked for, or the most a record holds."""
    from streamtail.entries import MAX_RECORD_BYTES

    if request.binary and (request.from_ndjson or request.key_field is not None):
        raise UsageError("--binary takes --key or random keys, not --key-field or --from-ndjson")
    if request.chunk_size is None:
        return limit
    if not request.binary:
        raise UsageError("--chunk-size goes with --binary")
    if not 1 <= request.chunk_size <= limit:
        raise UsageError(
            f"invalid --chunk-size {request.chunk_size}: 1 to {limit} bytes "
            f"(a record holds {MAX_RECORD_BYTES} bytes with its partition key)"
        )
    return request.chunk_size


def _count(n: int) -> str:
    return f"{n} record" if n == 1 else f"{n} records"


def _put_summary(env: Env, stream: str, stats: PutStats) -> None:
    calls = f"{stats.calls} PutRecords call" + ("" if stats.calls == 1 else "s")
    retried = f", {stats.retried} retried" if stats.retried else ""
    line = f"streamtail: {_count(stats.written)} written to {stream} ({calls}{retried})"
    if stats.unsent:
        line += f"; {stats.unsent} read but not written (interrupted)"
    env.stderr.write(line + "\n")
    env.stderr.flush()
