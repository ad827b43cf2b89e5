"""CSV cells a spreadsheet shows as text and never runs as a formula: the one function every
CSV export of classlog (the device's and the district server's) writes its cells through."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""What a spreadsheet may read as the start of a formula (or, for tab and line breaks, as
leading space it strips before one); the fullwidth forms are converted by some."""


def spreadsheet_cell(value: object) -> str:
    """``value`` as a CSV cell. Text that could start a formula gets a leading apostrophe,
    which spreadsheets read as "this is text" and do not show. Numbers and booleans cannot be
    formulas and are written as they are; a list is its items joined by semicolons; None is
    an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        value = ";".join(str(item) for item in value)
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text
