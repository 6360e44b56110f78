"""CSV files people open in Excel or WPS: UTF-8 with a byte-order mark (else Excel reads the Chinese as
GB18030 mojibake), and no cell a spreadsheet would run as a formula.

Scraped posts and account names are written by anyone: a post that starts with `=HYPERLINK(...)` or
`@SUM(...)` is a formula once the file is opened (CSV injection, OWASP). A text cell starting with
= + - @ or a tab / carriage return is written with a leading apostrophe, which spreadsheets show as
text and hide; numbers are written as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> object:
    """`value` as a CSV cell: None is empty, a text a spreadsheet would read as a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def uncell(value: str) -> str:
    """A cell `cell` wrote, read back: the apostrophe before a formula start is dropped, so a file
    exported here and imported again (the expert roster) keeps `+86 …` as typed."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """The header and rows as CSV text with a byte-order mark, every cell through `cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return "\ufeff" + out.getvalue()
