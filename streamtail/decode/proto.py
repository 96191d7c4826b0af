"""Protobuf messages -> JSON from compiled descriptors (the `protobuf` package, imported here only).

The descriptors come from a FileDescriptorSet, as `protoc --descriptor_set_out=FILE` (or
`buf build -o FILE`) writes it. The `protobuf` package reads messages given descriptors but has no
.proto compiler: a registry's .proto text is compiled by protoc (schemas.ProtocCompiler, the
`protoc` extra), or the descriptors come from `--proto-descriptor`.

JSON is protobuf's canonical JSON mapping (`json_format.MessageToDict`), with the field names of the
.proto file and fields at their default value printed too (proto3 leaves them off the wire): int64
and uint64 are strings, bytes are base64, enums are their names, Timestamp and Duration are RFC 3339
text, wrappers are their value.

GSR framing (awslabs/aws-glue-schema-registry, serializer-deserializer/.../protobuf/
ProtobufWireFormatEncoder.java, ProtobufWireFormatDecoder.java, MessageIndexFinder.java): the
message starts with one plain unsigned varint (`writeUInt32NoTag` / `readUInt32`; the encoder's
Javadoc says "zig-zag", its code does not), the index of its type among all message types of the
.proto file, nested ones included (level order), sorted by full name. That is not Confluent's
message-index array of zig-zag varints.
"""

from __future__ import annotations

from typing import Any

#: the most message types a GSR message index may reach (a varint of at most 5 bytes: uint32)
_MAX_VARINT_BYTES = 5


class ProtoError(ValueError):
    """A descriptor set that does not load, a message name it lacks, or a payload that does not
    parse as the message."""


class ProtoFiles:
    """A FileDescriptorSet loaded into its own descriptor pool."""

    def __init__(self, data: bytes) -> None:
        from google.protobuf import descriptor_pb2, descriptor_pool
        from google.protobuf.message import DecodeError

        files = descriptor_pb2.FileDescriptorSet()
        try:
            files.ParseFromString(data)
        except DecodeError as exc:
            raise ProtoError(f"not a FileDescriptorSet ({exc})") from exc
        if not files.file:
            raise ProtoError("not a FileDescriptorSet (no files in it)")
        self.pool = descriptor_pool.DescriptorPool()
        try:
            for file in files.file:
                self.pool.Add(file)
            self.names = [file.name for file in files.file]
            # Built now: a missing import or a bad type reference is an error at start-up.
            self.files = [self.pool.FindFileByName(name) for name in self.names]
        except (TypeError, KeyError, ValueError) as exc:
            raise ProtoError(f"the descriptor set does not load ({exc})") from exc

    def message(self, name: str) -> Any:
        """The descriptor of a message type by full name (`shop.Order`)."""
        try:
            return self.pool.FindMessageTypeByName(name.removeprefix("."))
        except KeyError:
            known = sorted(_all_messages(self.files))
            sample = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
            raise ProtoError(f"no message {name!r} in the descriptor set ({sample})") from None

    def schema_file(self, message: str | None) -> Any:
        """The file a GSR schema is: the one defining `message`, else the last file of the set
        (protoc writes the files it was asked for last, after their imports)."""
        if message is not None:
            return self.message(message).file
        return self.files[-1]


class ProtoCodec:
    """Reads one message type (bare payloads) or, with `gsr_file`, the type a GSR frame names."""

    enc = "protobuf"

    def __init__(self, *, message: Any = None, gsr_file: Any = None) -> None:
        from google.protobuf import json_format, message_factory

        self._to_dict = json_format.MessageToDict
        self._class = message_factory.GetMessageClass
        self.message = message
        self.by_index = [] if gsr_file is None else gsr_message_types(gsr_file)

    def decode(self, body: bytes) -> Any:
        from google.protobuf.message import DecodeError

        descriptor = self.message
        if self.by_index:
            index, start = read_varint(body)
            if index >= len(self.by_index):
                raise ProtoError(
                    f"message index {index}: the schema has {len(self.by_index)} message types"
                )
            descriptor = self.by_index[index]
            body = body[start:]
        message = self._class(descriptor)()
        try:
            message.ParseFromString(body)
        except DecodeError as exc:
            raise ProtoError(f"not a {descriptor.full_name} message ({exc})") from exc
        return self._to_dict(
            message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        )


def gsr_message_types(file: Any) -> list[Any]:
    """The message types of a .proto file in GSR's index order (MessageIndexFinder.getAll):
    every message, nested ones included (map entries too, as Java's getNestedTypes lists them),
    sorted by full name."""
    found: list[Any] = []
    queue = list(file.message_types_by_name.values())
    while queue:
        descriptor = queue.pop(0)
        found.append(descriptor)
        queue.extend(descriptor.nested_types)
    return sorted(found, key=lambda d: d.full_name)


def read_varint(data: bytes) -> tuple[int, int]:
    """An unsigned varint at the start of `data`: (value, bytes it took)."""
    value = 0
    for position in range(min(len(data), _MAX_VARINT_BYTES)):
        byte = data[position]
        value |= (byte & 0x7F) << (7 * position)
        if not byte & 0x80:
            return value, position + 1
    raise ProtoError("no GSR message index (truncated varint)")


def _all_messages(files: list[Any]) -> list[str]:
    names: list[str] = []
    for file in files:
        names.extend(d.full_name for d in gsr_message_types(file))
    return names
