"""Write export rows as CSV that a spreadsheet opens as data, never as formulas.

Following the OWASP guidance on CSV injection, a text field that starts
with "=", "+", "-", "@", a tab or a carriage return gets a single quote in
front, and every field is quoted, so a separator inside a field cannot start
a new cell. A field that starts with a quote gets one more, so reading back
is exact: drop one leading quote where `neutralized` would have added it.
"""

from __future__ import annotations

import csv
from typing import Iterable, TextIO

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def neutralized(value: object) -> object:
    """The field as written: text that a spreadsheet could run gets a leading quote; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value[:1] in (*TRIGGERS, QUOTE):
        return QUOTE + value
    return value


def restored(text: str) -> str:
    """The inverse of `neutralized` for a text field read back from an export."""
    if len(text) > 1 and text[0] == QUOTE and text[1] in (*TRIGGERS, QUOTE):
        return text[1:]
    return text


def write_csv(out: TextIO, header: Iterable[str], rows: Iterable[tuple]) -> int:
    """Header, then one line per row; returns the number of rows."""
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    n = 0
    for row in rows:
        writer.writerow([neutralized(v) for v in row])
        n += 1
    return n
