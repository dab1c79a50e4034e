"""Small input files of `atm request`: asset id lists and the transfer request form."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from atm.domain.errors import InvalidInput
from atm.domain.text import has_control_characters

MAX_ID = 256
MAX_FORM_BYTES = 1 << 20


def read_asset_ids(path: Path) -> list[str]:
    """One id per line (blank lines and `#` comments skipped), or a CSV/XLSX whose header has an `id` column.

    A file written by `atm export` works too: its CSV, or its workbook's Licenses and Devices sheets (whose
    minor-line rows, with no asset id, are skipped), so a past transfer can be requested again or reversed.
    """
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return _ids_from_rows(path, _csv_rows(path))
        if suffix in (".xlsx", ".xlsm"):
            return _xlsx_ids(path)
        lines = [line.strip() for line in path.read_text(encoding="utf-8-sig").split("\n")]
        ids = [line for line in lines if line and line[0] != "#"]
        if has_control_characters("".join(ids)) or max(map(len, ids), default=0) > MAX_ID:
            for number, line in enumerate(lines, start=1):  # a rare refusal: find the line to name it
                if line and line[0] != "#":
                    _check_id(path, f"line {number}", line)
        return ids
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path.name}: not UTF-8 text") from None
    except csv.Error as exc:
        raise InvalidInput(f"{path.name}: not valid CSV ({exc}); nothing was requested") from None


def _check_id(path: Path, where: str, text: str) -> str:
    if len(text) > MAX_ID or has_control_characters(text):
        raise InvalidInput(f"{path.name}: {where}: not an asset id: {text[:40]!r}")
    return text


def _csv_rows(path: Path):
    with path.open(encoding="utf-8-sig", newline="") as fh:
        yield from csv.reader(fh, strict=True)  # a quote left open at the end is an error, not data


def _xlsx_ids(path: Path) -> list[str]:
    from atm.io.export_reading import id_sheets

    ids: list[str] = []
    with id_sheets(str(path), path.name) as sheets:
        for sheet in sheets:
            rows = (["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True))
            ids += _ids_from_rows(path, rows, sheet=sheet.title if len(sheets) > 1 else None)
    return ids


def _ids_from_rows(path: Path, rows, *, sheet: str | None = None) -> list[str]:
    from atm.io.csv_export import restored
    from atm.io.export_reading import id_column

    rows = iter(rows)
    place = f"{path.name}: sheet {sheet}" if sheet else path.name
    header = next(rows, [])
    at = id_column(header)
    if at is None:
        raise InvalidInput(f"{place}: row 1: the header needs an 'id' column")
    # An exported CSV marks text a spreadsheet could run with a leading quote; its ids are read without it.
    exported = str(header[at]).strip() == "asset_id"
    ids = []
    for number, row in enumerate(rows, start=2):
        text = row[at].strip() if at < len(row) and row[at] is not None else ""
        if text:
            ids.append(_check_id(path, f"row {number}" if sheet is None else f"sheet {sheet} row {number}",
                                 restored(text) if exported else text))
    return ids


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _unique_keys(pairs: list) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        names = [k for k, _ in pairs]
        raise ValueError(f"the field {next(k for k in names if names.count(k) > 1)!r} is given twice")
    return obj


def read_form(path: Path) -> dict:
    """The software license transfer request form: a JSON object (R4)."""
    try:
        if path.stat().st_size > MAX_FORM_BYTES:
            raise InvalidInput(f"{path.name}: the form is larger than 1 MiB")
        data = json.loads(path.read_text(encoding="utf-8-sig"), parse_constant=_no_constant,
                          object_pairs_hook=_unique_keys)
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, NaN, a 5,000-digit number
        raise InvalidInput(f"{path.name}: the form is not valid JSON ({str(exc)[:120]})") from None
    except RecursionError:
        raise InvalidInput(f"{path.name}: the form is nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{path.name}: the form must be a JSON object")
    return data
