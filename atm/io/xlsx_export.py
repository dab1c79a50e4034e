"""Write sheets to an .xlsx workbook with openpyxl's write-only (streaming) mode.

No cell is ever a formula: openpyxl reads a str that starts with "=" as a
formula and one like "#REF!" as an error, so such text goes in a cell whose
type is set to string after the value. Text that starts with "+", "-", "@",
a tab or a carriage return is stored as text already and stays text: Excel
evaluates nothing in a string cell when it opens the file. Characters that
XML 1.0 cannot hold are shown as `\\xNN` instead of failing the export.

Rows are written as they come and never kept, so memory does not grow with
the sheet; column widths are therefore decided before the first row.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import BinaryIO, Iterable

from atm.io.export_layout import Detail, Sheet

DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
# What openpyxl would not store as plain text: a formula, an error code, or a character XML 1.0 cannot hold.
_RISKY = re.compile(r"\A(?:=|#)|[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAX_CELL_TEXT = 32767  # Excel's limit per cell


def visible(text: str) -> str:
    """Characters a workbook cannot hold, shown as \\xNN (\\uNNNN); text past a cell's limit cut, marked with …."""
    def show(m: re.Match) -> str:
        code = ord(m.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    text = _UNSTORABLE.sub(show, text)
    if len(text) > MAX_CELL_TEXT:
        text = text[:MAX_CELL_TEXT - 1] + "…"
    return text


class _Cells:
    """The few styled or forced-text cells a sheet needs, made by openpyxl."""

    def __init__(self, ws) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font

        self.ws = ws
        self._make = WriteOnlyCell
        self._bold = Font(bold=True)
        self._indent = Alignment(indent=2)
        self._wrap = Alignment(wrap_text=True, vertical="top")
        self._indented = WriteOnlyCell(ws)
        self._indented.alignment = self._indent

    def text(self, value: str, *, wrap: bool = False):
        """A cell that holds `value` as text, whatever it starts with."""
        cell = self._make(self.ws, value=visible(value))
        cell.data_type = "s"
        if wrap:
            cell.alignment = self._wrap
        return cell

    def header(self, title: str):
        cell = self.text(title)
        cell.font = self._bold
        return cell

    def datetime(self, value):
        cell = self._make(self.ws, value=value)
        cell.number_format = DATETIME_FORMAT
        return cell

    def indented(self, value):
        """The minor line's number, indented under its major line. One reused cell: openpyxl writes it at once."""
        cell = self._indented
        if value is None:
            cell.value = None
            return cell
        cell.value = visible(str(value))
        cell.data_type = "s"
        return cell


def _prepare(ws, sheet: Sheet) -> None:
    """Everything openpyxl writes before the rows: widths, the frozen header, the outline settings."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import Outline

    for index, column in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "A2"
    if sheet.outline:
        ws.sheet_properties.outlinePr = Outline(summaryBelow=False, summaryRight=True)
        ws.sheet_format.outlineLevelRow = 1


def _detail_dimension(ws):
    from openpyxl.worksheet.dimensions import RowDimension

    return RowDimension(ws, outlineLevel=1)


def _write_sheet(ws, sheet: Sheet) -> int:
    """Append the header and every row; returns the number of rows written."""
    cells = _Cells(ws)
    ws.append([cells.header(c.header) for c in sheet.columns])
    indent = sheet.indent
    dims = ws.row_dimensions
    detail = _detail_dimension(ws) if sheet.outline else None
    fits = _plain_row if not sheet.wrap else None
    number = 1
    for row in sheet.rows:
        number += 1
        values = row if fits is not None and fits(row) else _safe_values(row, sheet, cells)
        if row.__class__ is Detail:
            # One shared dimension says "one level down"; it holds no row number, and is dropped once the row
            # is written, so no per-row state piles up.
            dims[number] = detail
            if indent is not None:
                values = list(values)
                values[indent] = cells.indented(row[indent])
            ws.append(values)
            del dims[number]
        else:
            ws.append(values)
    return number


_PLAIN_TYPES = frozenset({str, int, type(None)})
# Over a row's text joined by newlines: a value that starts with = or #, or a character XML cannot hold.
_RISKY_IN_ROW = re.compile(r"(?m)^[=#]|[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _plain_row(row: tuple) -> bool:
    """The common case, checked in one pass: only text, whole numbers and blanks, none of it risky.

    A false alarm (a value with "\\n=" inside) only sends the row to the careful path."""
    if not _PLAIN_TYPES.issuperset(map(type, row)):
        return False
    text = "\n".join([v for v in row if v.__class__ is str])
    return len(text) <= MAX_CELL_TEXT and _RISKY_IN_ROW.search(text) is None


def _safe_values(row: tuple, sheet: Sheet, cells: _Cells) -> list:
    """Each value looked at by its type, whatever its column: a database may hold text where a number
    belongs, and only a str can become a formula."""
    values = list(row)
    wraps = sheet.wrap
    for i, v in enumerate(values):
        if v is None:
            continue
        kind = v.__class__
        if kind is str:
            if _RISKY.search(v) or len(v) > MAX_CELL_TEXT or i in wraps and len(v) > sheet.columns[i].width:
                values[i] = cells.text(v, wrap=i in wraps)
        elif kind is int:
            continue
        elif kind is datetime:
            values[i] = cells.datetime(v)
        elif kind is bool:
            values[i] = "yes" if v else "no"
        elif kind is not float or not math.isfinite(v):
            values[i] = cells.text(str(v))  # anything else, NaN included, is shown as text
    return values


def write_workbook(sheets: Iterable[Sheet], out: BinaryIO | str) -> None:
    """Build the workbook sheet by sheet (each is streamed to a temporary file by openpyxl), then save it."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    try:
        for sheet in sheets:
            ws = book.create_sheet(sheet.title)
            _prepare(ws, sheet)
            last_row = _write_sheet(ws, sheet)
            ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.columns))}{last_row}"
        book.save(out)
    except BaseException:
        _discard(book)
        raise


def _discard(book) -> None:
    """After a failure: end each sheet's temporary file in order, so that nothing half-written is left for the
    garbage collector to close (it would print errors on the way out); openpyxl removes those files at exit."""
    for ws in book.worksheets:
        try:
            if not ws.closed:
                ws.close()
        except Exception:  # the failure being raised is the one to report
            pass
