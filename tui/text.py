"""Text from people (names, notes, CSV cells) made safe to show: never markup, never escapes.

Everything a person typed is turned into :class:`~textual.content.Content` with no markup
parsing, after control characters (ESC, BEL, C1 codes, bidirectional overrides) are replaced by
visible stand-ins, so a name like ``[@click=app.quit]x[/]`` or one holding an escape sequence is
displayed exactly as typed and does nothing.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from textual.content import Content

_BIDI_CONTROLS = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A))
_REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


def _visible(char: str, *, keep_newlines: bool) -> str:
    code = ord(char)
    if char == "\n" and keep_newlines:
        return char
    if char == "\t":
        return " "
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\N{SYMBOL FOR DELETE}"
    if 0x80 <= code < 0xA0 or code in _BIDI_CONTROLS:
        return _REPLACEMENT
    return char


def clean(text: str | None, *, keep_newlines: bool = False) -> str:
    """``text`` with every terminal control character replaced by a visible stand-in."""
    if not text:
        return ""
    if text.isprintable():
        return text
    return "".join(_visible(char, keep_newlines=keep_newlines) for char in text)


def literal(text: str | None, style: str = "", *, keep_newlines: bool = False) -> Content:
    """Content showing ``text`` exactly, styled as a whole by ``style``; markup is not parsed."""
    content = Content(clean(text, keep_newlines=keep_newlines))
    return content.stylize(style) if style else content


def one_line(text: str | None) -> str:
    """``text`` cleaned, with runs of whitespace (newlines too) folded to single spaces."""
    return " ".join(clean(text, keep_newlines=True).split())


def fit(text: str, width: int) -> str:
    """``text`` padded or cut to exactly ``width`` terminal cells (an ellipsis marks a cut)."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, max(width - 1, 0)) + "\N{HORIZONTAL ELLIPSIS}"
