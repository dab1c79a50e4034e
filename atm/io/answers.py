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
    """One id per line (blank lines and `#` comments skipped), or a CSV/XLSX whose header has an `id` column."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return _ids_from_rows(path, _csv_rows(path))
        if suffix in (".xlsx", ".xlsm"):
            return _ids_from_rows(path, _xlsx_rows(path))
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


def _xlsx_rows(path: Path):
    from atm.io.workbook import first_sheet

    with first_sheet(str(path), path.name) as sheet:
        for row in sheet.iter_rows(values_only=True):
            yield ["" if c is None else str(c) for c in row]


def _ids_from_rows(path: Path, rows) -> list[str]:
    rows = iter(rows)
    header = [str(h).strip().lower() for h in next(rows, [])]
    if "id" not in header:
        raise InvalidInput(f"{path.name}: row 1: the header needs an 'id' column")
    at = header.index("id")
    ids = []
    for number, row in enumerate(rows, start=2):
        text = row[at].strip() if at < len(row) and row[at] is not None else ""
        if text:
            ids.append(_check_id(path, f"row {number}", text))
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
