"""Reading untrusted .xlsx workbooks: read-only, and formula cells give their cached value, never the formula."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, BinaryIO, Iterator

from atm.domain.errors import InvalidInput


@contextmanager
def open_workbook(source: str | BinaryIO, name: str) -> Iterator[Any]:
    """The workbook, closed on the way out; a file openpyxl cannot read is refused naming it."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a hostile file; all mean "unreadable"
        raise InvalidInput(f"{name}: not a readable .xlsx workbook ({type(exc).__name__})") from None
    try:
        yield book
    finally:
        book.close()


def table_sheet(book: Any, name: str) -> Any:
    """The first worksheet, which must be a table (not a chart)."""
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None or not hasattr(sheet, "iter_rows"):
        raise InvalidInput(f"{name}: the first sheet is a chart, not a table")
    return sheet


@contextmanager
def first_sheet(source: str | BinaryIO, name: str) -> Iterator[Any]:
    """The first worksheet of the workbook, as a table."""
    with open_workbook(source, name) as book:
        yield table_sheet(book, name)
