"""Reading an export back: which sheets of a workbook hold asset ids (the round trip of `atm export`)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from atm.domain.errors import InvalidInput

EXPORT_SHEETS = ("Licenses", "Devices")
ID_HEADERS = ("id", "asset id", "asset_id")  # a plain list's `id`; the export's `Asset ID` and `asset_id`


def id_column(header: list) -> int | None:
    """Where the asset ids are: the first header cell that names them, case and spacing ignored."""
    names = [" ".join(str(h or "").replace("\u00a0", " ").split()).lower() for h in header]
    return next((i for i, name in enumerate(names) if name in ID_HEADERS), None)


@contextmanager
def id_sheets(source: str, name: str) -> Iterator[list[Any]]:
    """An export's Licenses and Devices sheets, when they carry an id column; otherwise the first sheet.

    Read-only; formula cells give their cached value, never the formula.
    """
    from openpyxl import load_workbook

    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a hostile file; all mean "unreadable"
        raise InvalidInput(f"{name}: not a readable .xlsx workbook ({type(exc).__name__})") from None
    try:
        exported = [book[title] for title in EXPORT_SHEETS
                    if title in book.sheetnames and hasattr(book[title], "iter_rows")
                    and id_column(_first_row(book[title])) is not None]
        if exported:
            yield exported
            return
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None or not hasattr(sheet, "iter_rows"):
            raise InvalidInput(f"{name}: the first sheet is a chart, not a table")
        yield [sheet]
    finally:
        book.close()


def _first_row(sheet) -> list:
    for row in sheet.iter_rows(min_row=1, max_row=1, values_only=True):
        return list(row)
    return []
