"""Where schemas come from: the Glue Schema Registry (with a disk cache) and offline files.

Built by core and handed to decoding (decode/ does no I/O). `GlueResolver` asks Glue
GetSchemaVersion(SchemaVersionId) for a version the first time a record names it, with the
stream's profile, region and endpoint settings (`AWS_ENDPOINT_URL_GLUE` wins over `--endpoint-url`,
which names the stream's endpoint: aws.Clients). PROTOBUF definitions are compiled by
`ProtocCompiler`. A version that is AVAILABLE never changes, so it
is kept on disk under `$XDG_CACHE_HOME/streamtail/schemas/` (default `~/.cache`), one file per
version id, and later runs do not ask again. decode.schema.Schemas remembers failures for the run.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from streamtail.decode import DecodeMode
from streamtail.decode.schema import (
    PROTOBUF,
    Codec,
    Schemas,
    SchemaUnavailable,
    SchemaVersion,
)
from streamtail.errors import NotFoundError, StreamtailError, UsageError
from streamtail.files import write_whole

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
#: the registry GSR serializers use when none is configured (AWSSchemaRegistryConstants.java)
DEFAULT_REGISTRY = "default-registry"


def cache_dir() -> Path:
    """`$XDG_CACHE_HOME/streamtail/schemas` (completion's cache sits beside it)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "streamtail" / "schemas"


class GlueResolver:
    """Schema versions by id: the disk cache, else Glue GetSchemaVersion."""

    def __init__(self, glue: Callable[[], Any], cache: Path | None = None) -> None:
        #: the Glue client, created on the first version not in the cache
        self._glue = glue
        self.cache = cache_dir() if cache is None else cache
        self.fetched = 0

    def schema_version(self, version_id: str) -> SchemaVersion:
        if not _UUID.match(version_id):
            raise SchemaUnavailable("not a schema version id")
        cached = self._load(version_id)
        if cached is not None:
            return cached
        from streamtail.aws import call

        try:
            answer = call(
                f"schema version {version_id}",
                self._glue().get_schema_version,
                SchemaVersionId=version_id,
            )
        except NotFoundError as exc:
            raise SchemaUnavailable(f"not in the registry ({exc.aws_code})") from exc
        except StreamtailError as exc:
            raise SchemaUnavailable(
                f"Glue GetSchemaVersion failed: {exc.message}", registry_down=True
            ) from exc
        self.fetched += 1
        try:
            version = version_of(answer)
        except (KeyError, TypeError, AttributeError) as exc:
            raise SchemaUnavailable(f"GetSchemaVersion answered without {exc}") from exc
        if answer.get("Status", "AVAILABLE") != "AVAILABLE":
            raise SchemaUnavailable(f"the version is {answer.get('Status')}, not AVAILABLE")
        self._save(version)
        return version

    def _path(self, version_id: str) -> Path:
        return self.cache / f"{version_id}.json"

    def _load(self, version_id: str) -> SchemaVersion | None:
        try:
            stored = json.loads(self._path(version_id).read_text(encoding="utf-8"))
            version = SchemaVersion(**stored)
        except (OSError, ValueError, TypeError):
            return None  # not cached, or a damaged file: ask the registry
        return version if version.id == version_id else None

    def _save(self, version: SchemaVersion) -> None:
        _store(self.cache, f"{version.id}.json", json.dumps(version._asdict()).encode("utf-8"))


def _store(folder: Path, name: str, data: bytes) -> None:
    """Write a cache file whole or not at all (files.py): runs side by side never read half a
    file. A read-only home means no cache; decoding still works."""
    with suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        write_whole(folder / name, data)


def version_of(answer: dict[str, Any]) -> SchemaVersion:
    """A GetSchemaVersion answer as a SchemaVersion (registry and schema from SchemaArn,
    arn:aws:glue:REGION:ACCOUNT:schema/REGISTRY/SCHEMA)."""
    arn = str(answer.get("SchemaArn") or "")
    _, _, path = arn.partition(":schema/")
    registry, _, name = path.partition("/")
    return SchemaVersion(
        id=str(answer["SchemaVersionId"]),
        data_format=str(answer.get("DataFormat") or ""),
        definition=str(answer.get("SchemaDefinition") or ""),
        registry=registry or None,
        name=name or None,
        version=answer.get("VersionNumber"),
    )


def latest_version(glue: Any, schema: str) -> SchemaVersion:
    """`put --gsr-schema [REGISTRY/]NAME`: the schema's latest version."""
    from streamtail.aws import call

    registry, _, name = schema.rpartition("/")
    answer = call(
        f"schema {schema}",
        glue.get_schema_version,
        SchemaId={"RegistryName": registry or DEFAULT_REGISTRY, "SchemaName": name},
        SchemaVersionNumber={"LatestVersion": True},
    )
    return version_of(answer)


class ProtocCompiler:
    """A registry's PROTOBUF definition (.proto text) compiled to descriptors with the protoc
    that grpcio-tools bundles (`pip install 'streamtail[protoc]'`), in a child process (protoc
    writes its errors to the process's stderr), once per version id: the descriptor set is kept
    beside the cached version (`ID.desc`)."""

    def __init__(self, cache: Path | None = None) -> None:
        self.cache = cache_dir() if cache is None else cache

    def __call__(self, version: SchemaVersion) -> Codec:
        from streamtail.decode.proto import ProtoCodec, ProtoError, ProtoFiles

        path = self.cache / f"{version.id}.desc"
        try:
            data = path.read_bytes()
        except OSError:
            data = self._compile(version.definition)
            _store(self.cache, path.name, data)
        try:
            files = ProtoFiles(data)
        except ProtoError as exc:
            raise ValueError(f"protoc's descriptors do not load ({exc})") from exc
        return ProtoCodec(gsr_file=files.files[-1])

    @staticmethod
    def _compile(definition: str) -> bytes:
        import importlib.util
        import subprocess
        import sys
        import tempfile

        spec = importlib.util.find_spec("grpc_tools")
        if spec is None or not spec.submodule_search_locations:
            raise ValueError(
                "PROTOBUF schemas are .proto text, and no .proto compiler is installed: "
                "pip install 'streamtail[protoc]' (grpcio-tools), or give the descriptors with "
                "--proto-descriptor FILE (protoc --descriptor_set_out)"
            )
        well_known = Path(next(iter(spec.submodule_search_locations))) / "_proto"
        with tempfile.TemporaryDirectory(prefix="streamtail-protoc-") as tmp:
            Path(tmp, "schema.proto").write_text(definition, encoding="utf-8")
            out = Path(tmp, "schema.desc")
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "grpc_tools.protoc",
                    "-I.",
                    f"-I{well_known}",
                    "--include_imports",
                    "--descriptor_set_out=schema.desc",
                    "schema.proto",
                ],
                cwd=tmp,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            if done.returncode != 0 or not out.exists():
                # protoc's errors start with the file name; absl's notices and warnings do not
                errors = [x for x in done.stderr.splitlines() if x.startswith("schema.proto:")]
                first = errors[0] if errors else (done.stderr.strip().splitlines() or ["?"])[-1]
                raise ValueError(f"protoc cannot compile the definition ({first})")
            return out.read_bytes()


#: the modes a schema file can serve
_SCHEMA_READY = frozenset({DecodeMode.AUTO, DecodeMode.GSR, DecodeMode.AVRO, DecodeMode.PROTOBUF})


def decode_mode(
    mode: DecodeMode,
    avro_schema: str | None,
    proto_descriptor: str | None,
    proto_message: str | None,
) -> DecodeMode:
    """`--decode` as the schema options make it, the one place they are checked together:
    `--avro-schema` alone means `--decode avro`, `--proto-message` `protobuf`; combinations that
    cannot be meant are usage errors."""
    if mode is DecodeMode.AUTO and avro_schema is not None:
        mode = DecodeMode.AVRO
    elif mode is DecodeMode.AUTO and proto_message is not None:
        mode = DecodeMode.PROTOBUF
    if avro_schema is not None and proto_message is not None:
        raise UsageError("--avro-schema and --proto-message both say what payloads are: give one")
    if mode is DecodeMode.AVRO and avro_schema is None:
        raise UsageError("--decode avro needs --avro-schema FILE")
    if mode is DecodeMode.PROTOBUF and proto_message is None:
        raise UsageError("--decode protobuf needs --proto-descriptor FILE and --proto-message NAME")
    if (avro_schema or proto_descriptor or proto_message) and mode not in _SCHEMA_READY:
        raise UsageError(f"--decode {mode} does not use a schema")
    if proto_message is not None and proto_descriptor is None:
        raise UsageError("--proto-message goes with --proto-descriptor FILE")
    return mode


def offline_schemas(
    avro_schema: str | None,
    proto_descriptor: str | None,
    proto_message: str | None,
    resolver: GlueResolver | None,
) -> Schemas:
    """The schemas of one read: the registry, and the files given on the command line (a file
    that cannot be read or compiled is a usage error, before anything is read). Without
    --proto-descriptor, a registry's PROTOBUF schemas are compiled with protoc."""
    schemas = Schemas(resolver=resolver)
    if resolver is not None:
        schemas.gsr_proto = ProtocCompiler(resolver.cache)
    if avro_schema is not None:
        schemas.avro = avro_codec(avro_schema)
        schemas.avro_ref = {"file": avro_schema}
    if proto_descriptor is not None:
        from streamtail.decode.proto import ProtoCodec, ProtoError, ProtoFiles

        try:
            files = ProtoFiles(_read_file(proto_descriptor, "--proto-descriptor"))
            if proto_message is not None:
                schemas.proto = ProtoCodec(message=files.message(proto_message))
                schemas.proto_ref = {"file": proto_descriptor, "message": proto_message}
            gsr_file = files.schema_file(proto_message)
        except ProtoError as exc:
            raise UsageError(f"--proto-descriptor {proto_descriptor}: {exc}") from exc

        def gsr_proto(version: SchemaVersion) -> Codec:
            assert version.data_format == PROTOBUF
            return ProtoCodec(gsr_file=gsr_file)

        schemas.gsr_proto = gsr_proto
    return schemas


def avro_codec(path: str) -> Any:
    """`--avro-schema FILE` compiled (a usage error when it is not an Avro schema)."""
    from streamtail.decode.avro import AvroCodec, AvroError

    text = _read_file(path, "--avro-schema").decode("utf-8", errors="replace")
    try:
        return AvroCodec(text)
    except AvroError as exc:
        raise UsageError(f"--avro-schema {path}: {exc}") from exc


def _read_file(path: str, option: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{option} {path}: {exc.strerror or exc}") from exc
