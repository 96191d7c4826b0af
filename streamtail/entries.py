"""What `put` writes: stdin lines (or binary chunks) as PutRecords entries with their keys.

Pure: takes bytes, gives `Entry`s, or `Rejected` for input that cannot become a record (the line
number says which). Batching and sending are writer.py's.
"""

from __future__ import annotations

import base64
import binascii
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, NamedTuple

import orjson

from streamtail.decode.basic import MAX_DEPTH, TOO_DEEP, parse, raw_member, too_deep
from streamtail.errors import UsageError
from streamtail.model import PutEntry as Entry
from streamtail.paths import parse_path, value_at
from streamtail.stdin import Input, TooLong

#: a record's data and partition key together (UTF-8 bytes), as Kinesis counts them
MAX_RECORD_BYTES = 1024 * 1024
#: the longest --from-ndjson (or --avro-schema, --gsr-schema) line: a 1 MiB payload as base64 or
#: escaped JSON text in an NDJSON line, with room to spare
MAX_TRANSFORMED_LINE = 8 * 1024 * 1024
#: partition keys are 1 to 256 Unicode characters
MAX_KEY_CHARS = 256


class BadRecord(ValueError):
    """An NDJSON line that does not hold a payload `put` can write."""


class Rejected(NamedTuple):
    origin: int
    reason: str
    #: what to do about it, where something helps (each cause has its own)
    hint: str | None = None


_NDJSON_HINT = "--from-ndjson reads the lines `read -o ndjson` prints"
_KEY_FIELD_HINT = (
    "--key-field needs each JSON line to hold that field: a string, or a number (its literal "
    f"text), of 1 to {MAX_KEY_CHARS} characters"
)
_ENCODER_HINT = "each line is written with the schema: a JSON value the schema accepts"
_SIZE_HINT = "put --binary cuts a large input into records of --chunk-size bytes"


@dataclass(frozen=True)
class KeySource:
    """Where each record's partition key comes from: a fixed value, a JSON field, or random."""

    fixed: str | None = None
    #: a dotted path into the line's JSON (`user.id`, `items.0.sku`)
    field: tuple[str, ...] | None = None
    #: --from-ndjson without --key or --key-field: the record's own `key`
    record_key: bool = False

    @classmethod
    def build(cls, key: str | None, key_field: str | None, *, from_ndjson: bool) -> KeySource:
        if key is not None and key_field is not None:
            raise UsageError("--key and --key-field cannot be used together")
        if key is not None:
            if not key or len(key) > MAX_KEY_CHARS:
                raise UsageError(f"invalid --key {key!r}: partition keys are 1 to 256 characters")
            return cls(fixed=key)
        if key_field is not None:
            return cls(field=parse_path(key_field, "--key-field"))
        return cls(record_key=from_ndjson)

    @property
    def needs_json(self) -> bool:
        return self.field is not None

    def key_for(self, obj: Any, line: bytes | None = None) -> str | None:
        """The key for a line whose JSON is `obj` (the `line` itself, for a number's literal
        text); None when it has none (a reason follows)."""
        if self.fixed is not None:
            return self.fixed
        if self.field is not None:
            value = value_at(obj, self.field)
            if _is_number(value) and line is not None:
                # A number is used as its literal text: `1.50` stays `1.50`, `1e2` stays `1e2`.
                value = value_at(parse(line, literal_numbers=True), self.field)
            return key_text(value)
        if self.record_key and isinstance(obj, dict) and isinstance(obj.get("key"), str):
            return str(obj["key"])
        return random_key()


def random_key() -> str:
    """128 random bits in hex: spreads records evenly over the shards."""
    return f"{random.getrandbits(128):032x}"


#: turns a line's text into the payload (`put --avro-schema`, `--gsr-schema`, `--compress`);
#: raises ValueError when the value does not fit
Encoder = Callable[[bytes], bytes]


def line_entries(
    lines: Iterable[bytes | TooLong],
    keys: KeySource,
    *,
    from_ndjson: bool,
    encoder: Encoder | None = None,
) -> Iterator[Entry | Rejected]:
    """One entry per non-empty line (the line ending, \\n or \\r\\n, is not part of the data)."""
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, TooLong):
            limit = line_limit(transformed=from_ndjson or encoder is not None) >> 20
            reason = f"a line of {raw.length} bytes, over the {limit} MiB a line holds"
            yield Rejected(number, reason, _SIZE_HINT)
            continue
        line = raw[:-1] if raw.endswith(b"\n") else raw
        line = line[:-1] if line.endswith(b"\r") else line
        if not line:
            continue
        yield _line_entry(line, number, keys, from_ndjson=from_ndjson, encoder=encoder)


def _line_entry(
    line: bytes, number: int, keys: KeySource, *, from_ndjson: bool, encoder: Encoder | None
) -> Entry | Rejected:
    obj: Any = None
    if from_ndjson or keys.needs_json:
        # The one JSON depth (decode/basic.py); an NDJSON record holds its payload one level down.
        if too_deep(line, MAX_DEPTH + 1 if from_ndjson else MAX_DEPTH):
            return Rejected(number, TOO_DEEP)
        try:
            obj = parse(line)
        except ValueError:
            return Rejected(number, "not JSON", _NDJSON_HINT if from_ndjson else _KEY_FIELD_HINT)
    data = line
    if from_ndjson:
        try:
            data = payload_of(obj, line)
        except BadRecord as exc:
            return Rejected(number, str(exc), _NDJSON_HINT)
    if encoder is not None:
        try:
            data = encoder(data)
        except ValueError as exc:
            return Rejected(number, str(exc), _ENCODER_HINT)
    key = keys.key_for(obj, line)
    if key is None:
        value = value_at(obj, keys.field or ())
        why = (
            f" ({orjson.dumps(value).decode()}: not a string or a number)"
            if isinstance(value, bool)
            else ""
        )
        field = ".".join(keys.field or ())
        return Rejected(number, f"no usable partition key at {field}{why}", _KEY_FIELD_HINT)
    return _checked(Entry(data, key, number))


def line_limit(*, transformed: bool) -> int:
    """The longest input line `put` keeps: a record's 1 MiB when the line is the payload; more
    when it becomes one (an NDJSON line's base64 `data`, a JSON line written as Avro)."""
    return MAX_TRANSFORMED_LINE if transformed else MAX_RECORD_BYTES


def chunk_entries(
    stream: Input | BinaryIO, keys: KeySource, chunk_size: int, *, encoder: Encoder | None = None
) -> Iterator[Entry | Rejected]:
    """`--binary`: the input cut into chunks of `chunk_size` bytes (the last may be shorter),
    each made a payload by `encoder` when given (`put --compress`)."""
    source = stream if isinstance(stream, Input) else Input(stream)
    number = 0
    while True:
        chunk = source.read_exact(chunk_size)
        if not chunk:
            return
        number += 1
        key = keys.key_for(None)
        assert key is not None
        yield _checked(Entry(encoder(chunk) if encoder else chunk, key, number))


def default_chunk_size(keys: KeySource) -> int:
    """The largest chunk that fits one record beside its partition key."""
    key_bytes = len(keys.fixed.encode("utf-8")) if keys.fixed is not None else 32
    return MAX_RECORD_BYTES - key_bytes


def payload_of(obj: Any, line: bytes | None = None) -> bytes:
    """The payload bytes of a record as `read -o ndjson` printed it: `data` read by the last step
    of `enc` (gzip and KPL layers are not put back). JSON is written as the very text of `data`
    in the NDJSON `line` (read prints a JSON payload as the bytes it received, so the copy is the
    same bytes: `10.50`, `1E2`, `1e400`, duplicate keys), or compact from `obj` without a line."""
    if not isinstance(obj, dict):
        raise BadRecord("not a JSON object")
    if "data" not in obj:
        raise BadRecord("no data field")
    data = obj["data"]
    enc = obj.get("enc")
    last = enc.rpartition("+")[2] if isinstance(enc, str) else None
    if last == "base64":
        if not isinstance(data, str):
            raise BadRecord("enc is base64 but data is not a string")
        try:
            return base64.b64decode(data, validate=True)
        except binascii.Error as exc:
            raise BadRecord(f"data is not valid base64 ({exc})") from exc
    if last == "text" or (last is None and isinstance(data, str)):
        if not isinstance(data, str):
            raise BadRecord("enc is text but data is not a string")
        return data.encode("utf-8")
    if last in ("json", "avro", "protobuf", None):  # a value decoded with a schema is JSON
        raw = None if line is None else raw_member(line.decode("utf-8"), "data")
        return raw.encode("utf-8") if raw is not None else orjson.dumps(data)
    raise BadRecord(f"unknown enc {enc!r}")


def _checked(entry: Entry) -> Entry | Rejected:
    if entry.size > MAX_RECORD_BYTES:
        return Rejected(
            entry.origin,
            f"{entry.size} bytes with its key, over the 1 MiB Kinesis record limit",
            _SIZE_HINT,
        )
    return entry


def _is_number(value: Any) -> bool:
    """A JSON number (true and false are not keys: they would put every record on one of two
    shards)."""
    return isinstance(value, int | float | orjson.Fragment) and not isinstance(value, bool)


def key_text(value: Any) -> str | None:
    if isinstance(value, str):
        text = value
    elif _is_number(value):
        text = orjson.dumps(value).decode("utf-8")
    else:
        return None
    return text if 0 < len(text) <= MAX_KEY_CHARS else None
