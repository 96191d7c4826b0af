"""One record decoded as the reader's output decodes it, for tests that build renderer input."""

from __future__ import annotations

from streamtail.decode import Decoded, DecodeMode, DecodeOptions, expand_all
from streamtail.model import Record


def decoded(record: Record, mode: DecodeMode = DecodeMode.AUTO) -> Decoded:
    """`record` through `decode.expand_all`, which must make one item of it."""
    ((_, value),) = expand_all([record], DecodeOptions(mode))
    return value
