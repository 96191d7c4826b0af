"""Making untrusted strings inert on a terminal.

Record data, keys and names are shown through rich `Text` (never markup) and with every control
character, escape sequence and bidi override made visible, so nothing in a stream can move the
cursor, retitle the window or recolour the screen.
"""

from __future__ import annotations

import re

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\e"}
# C0 and C1 controls, DEL, the Unicode bidi controls (Trojan Source: LRM, RLM, ALM, embeddings,
# overrides, isolates), and the line and paragraph separators some terminals break lines on.
_UNSAFE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str) -> str:
    """`text` with control characters and terminal escapes shown as visible escapes."""
    return _UNSAFE.sub(_visible, text)
