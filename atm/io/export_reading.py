"""Reading an export back: which sheets of a workbook hold asset ids (the round trip of `atm export`)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

EXPORT_SHEETS = ("Licenses", "Devices")
ID_HEADERS = ("id", "asset id", "asset_id")  # a plain list's `id`; the export's `Asset ID` and `asset_id`


def id_column(header: list) -> int | None:
    """Where the asset ids are: the first header cell that names them, case and spacing ignored."""
    names = [" ".join(str(h or "").replace("\u00a0", " ").split()).lower() for h in header]
    return next((i for i, name in enumerate(names) if name in ID_HEADERS), None)


@contextmanager
def id_sheets(source: str, name: str) -> Iterator[list[Any]]:
    """An export's Licenses and Devices sheets, when they carry an id column; otherwise the first sheet."""
    from atm.io.workbook import open_workbook, table_sheet

    with open_workbook(source, name) as book:
        exported = [book[title] for title in EXPORT_SHEETS
                    if title in book.sheetnames and hasattr(book[title], "iter_rows")
                    and id_column(_first_row(book[title])) is not None]
        yield exported or [table_sheet(book, name)]


def _first_row(sheet) -> list:
    for row in sheet.iter_rows(min_row=1, max_row=1, values_only=True):
        return list(row)
    return []
