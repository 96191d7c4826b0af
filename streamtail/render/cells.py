"""Text measured in terminal cells, for the table: East Asian wide characters take two cells,
combining marks none (rich's tables of Unicode widths), so columns stay in line whatever the
records hold. Cut text ends with `…`; padding makes every cell of a column the same width."""

from __future__ import annotations

from functools import lru_cache

from rich.cells import cell_len, get_character_cell_size

ELLIPSIS = "…"


def cells(text: str) -> int:
    """The cells `text` takes on a terminal."""
    return len(text) if text.isascii() else cell_len(text)


def fit(text: str, width: int) -> str:
    """`text` in at most `width` cells: cut with `…` when longer."""
    if text.isascii():  # one cell a character: the common case, at C speed
        return text if len(text) <= width else text[: max(width - 1, 0)] + ELLIPSIS
    # A long payload is measured only as far as it can be shown (a character takes at most 2
    # cells; zero-width ones are rare enough to cut a little early).
    head = text[: 2 * width + 2]
    if len(head) == len(text) and cell_len(text) <= width:
        return text
    return _chop(head, width - 1) + ELLIPSIS


def _chop(text: str, width: int) -> str:
    """The longest start of `text` that takes at most `width` cells (a wide character that
    would straddle the edge is left out, not split)."""
    used = 0
    for index, char in enumerate(text):
        used += get_character_cell_size(char)
        if used > width:
            return text[:index]
    return text


def tail(text: str, width: int) -> str:
    """The end of `text` in at most `width` cells: `…` first when cut."""
    if cells(text) <= width:
        return text
    if width < 1:
        return ""
    if text.isascii():
        return ELLIPSIS + text[len(text) - (width - 1) :]
    return ELLIPSIS + _chop(text[::-1], width - 1)[::-1]


def pad(text: str, width: int) -> str:
    """`text` (already fitted) followed by spaces up to `width` cells."""
    return text + " " * (width - cells(text))


@lru_cache(maxsize=64)
def give_way(
    width: int,
    preferred: tuple[int, ...],
    minimum: tuple[int, ...],
    order: tuple[int, ...] | None,
    last_minimum: int,
) -> tuple[tuple[int, ...], int]:
    """The widths of fixed columns and of the last, free one, on a line of `width` cells with a
    space after each fixed column: when the line is too narrow for the last column's minimum,
    the fixed columns give way in `order`, each down to its minimum (None: a cell at a time
    from the widest); the last one takes the rest (at least `last_minimum`, cropped by the
    terminal if even that does not fit). Cached: the table asks for every row."""
    widths = list(preferred)
    excess = sum(widths) + len(widths) + last_minimum - width
    if order is None:
        while excess > 0:
            room = [i for i, w in enumerate(widths) if w > minimum[i]]
            if not room:
                break
            widths[max(room, key=widths.__getitem__)] -= 1
            excess -= 1
    for index in order or ():
        if excess <= 0:
            break
        cut = min(excess, widths[index] - minimum[index])
        widths[index] -= cut
        excess -= cut
    return tuple(widths), max(width - sum(widths) - len(widths), last_minimum)
