"""One entry per kind of export: pick the writer for the format, give it the rows of the layout."""

from __future__ import annotations

from typing import IO


def write_transaction(export, fmt: str, out: IO, *, indent: int | None = None) -> None:
    """A transaction as a workbook (five sheets), CSV (one row per item) or JSON (the view of `atm status`)."""
    if fmt == "xlsx":
        from atm.io.export_layout import transaction_sheets
        from atm.io.xlsx_export import write_workbook

        write_workbook(transaction_sheets(export), out)
    elif fmt == "csv":
        from atm.io.csv_export import write_csv
        from atm.io.export_layout import CSV_ITEM_COLUMNS, csv_item_rows

        write_csv(out, CSV_ITEM_COLUMNS, csv_item_rows(export))
    else:
        from atm.io.json_export import write_streamed

        write_streamed(out, export.view.as_dict(), "items", export.item_rows(), indent=indent)


def write_history(history, fmt: str, out: IO, *, indent: int | None = None) -> None:
    """The history of transfers: a workbook of one sheet, CSV, or the landing list's JSON."""
    if fmt == "xlsx":
        from atm.io.export_layout import history_sheets
        from atm.io.xlsx_export import write_workbook

        write_workbook(history_sheets(history), out)
    elif fmt == "csv":
        from atm.io.csv_export import write_csv
        from atm.io.export_layout import HISTORY_COLUMNS, history_values

        write_csv(out, HISTORY_COLUMNS, history_values(history, dates="iso"))
    else:
        from atm.io.json_export import dumps

        out.write(dumps([r.as_dict() for r in history.rows], indent=indent) + "\n")
