"""Reading the first sheet of an untrusted .xlsx workbook."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, BinaryIO, Iterator

from atm.domain.errors import InvalidInput


@contextmanager
def first_sheet(source: str | BinaryIO, name: str) -> Iterator[Any]:
    """The first worksheet, read-only; formula cells give their cached value, never the formula."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a hostile file; all mean "unreadable"
        raise InvalidInput(f"{name}: not a readable .xlsx workbook ({type(exc).__name__})") from None
    try:
        sheet = book.worksheets[0]
        if not hasattr(sheet, "iter_rows"):
            raise InvalidInput(f"{name}: the first sheet is a chart, not a table")
        yield sheet
    finally:
        book.close()
