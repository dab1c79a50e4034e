"""Read import files record by record, in constant memory: JSON (docs/import.md), CSV and XLSX.

A source yields `(section, position, record)`: the section (`users`,
`accounts`, `licenses`, `devices`), the record's position (its index in the
section's list, or its row number) and the raw record, still untrusted.
`source.where(section, position)` names the place for an error message
(`licenses[12]`, `row 7`) only when one is needed.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from stat import S_ISREG
from typing import BinaryIO, Iterator

from atm.domain.errors import InvalidInput
from atm.domain.records import DEVICE_KEYS, LICENSE_KEYS

SECTIONS = ("users", "accounts", "licenses", "devices")
TABULAR_COLUMNS = frozenset(LICENSE_KEYS | DEVICE_KEYS | {"kind"})
KIND_SECTION = {"license": "licenses", "device": "devices"}

Record = tuple[str, int, object]


class _CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read through it, for the progress bar."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        self.bytes_read += n or 0
        return n


class Source:
    """Base: a file being read; `done` and `total` measure progress in the file's own unit."""

    def __init__(self, path: Path, fh: BinaryIO) -> None:
        self.path = path
        try:
            stat = os.fstat(fh.fileno())
            self.total = stat.st_size if S_ISREG(stat.st_mode) else 0  # a pipe has no size
        except (OSError, AttributeError, io.UnsupportedOperation):
            self.total = 0

    @property
    def done(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        """Stop reading (the file itself is the caller's to close)."""

    def where(self, section: str, position: int) -> str:
        """The record's place in the file, for a message: `row 7` (a table)."""
        return f"row {position}"

    def __iter__(self) -> Iterator[Record]:
        raise NotImplementedError


class JsonSource(Source):
    def __init__(self, path: Path, fh: BinaryIO) -> None:
        super().__init__(path, fh)
        from atm.io.jsonstream import TopLevelStream

        self._stream = TopLevelStream(fh)

    @property
    def done(self) -> int:
        return self._stream.bytes_read

    def where(self, section: str, position: int) -> str:
        return f"{section}[{position}]"

    def __iter__(self) -> Iterator[Record]:
        from atm.io.jsonstream import JsonStreamError

        keys = self._stream.keys
        checked = 0
        try:
            for key, index, value in self._stream:
                if len(keys) != checked:  # a new top-level key: check it before its first record is used
                    self._check_keys()
                    checked = len(keys)
                if index is None:
                    if value is None:
                        continue
                    raise InvalidInput(f"{self.path.name}: {key} must be a list, got {type(value).__name__}; "
                                       "nothing was imported")
                yield key, index, value
            self._check_keys()
        except JsonStreamError as exc:
            raise InvalidInput(f"{self.path.name}: {exc}") from None

    def _check_keys(self) -> None:
        for key in self._stream.keys:
            if key not in SECTIONS:
                raise InvalidInput(f"{self.path.name}: unknown top-level key {key!r} (allowed: {', '.join(SECTIONS)})")


class CsvSource(Source):
    def __init__(self, path: Path, fh: BinaryIO) -> None:
        super().__init__(path, fh)
        self._counter = _CountingReader(fh)
        self._text = io.TextIOWrapper(io.BufferedReader(self._counter), encoding="utf-8-sig", newline="")

    @property
    def done(self) -> int:
        return self._counter.bytes_read

    def __iter__(self) -> Iterator[Record]:
        reader = csv.reader(self._text, strict=True)  # a quote left open at the end is an error, not data
        started = [1]  # the line the record being read starts on

        def rows():
            while True:
                started[0] = reader.line_num + 1
                row = next(reader, None)
                if row is None:
                    return
                yield row

        try:
            lines = rows()
            header = next(lines, None)
            if header is None:
                raise InvalidInput(f"{self.path.name}: the file is empty; expected a header row")
            yield from _table_records(self.path.name, header, lines, first_row=2)
        except csv.Error as exc:
            raise InvalidInput(f"{self.path.name}: {_csv_problem(exc, started[0])}; nothing was imported") from None
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{self.path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _csv_problem(exc: Exception, line: int) -> str:
    if "unexpected end of data" in str(exc):
        return f"line {line}: a quoted field opened here is never closed (the file ends inside it)"
    return f"line {line}: not valid CSV ({exc})"


class XlsxSource(Source):
    def __init__(self, path: Path, fh: BinaryIO) -> None:
        super().__init__(path, fh)
        self._fh = fh
        self._rows_done = 0
        self._rows_total = 0

    @property
    def done(self) -> int:
        if not self._rows_total:
            return 0
        return min(self.total, self.total * self._rows_done // self._rows_total)

    def __iter__(self) -> Iterator[Record]:
        from atm.io.workbook import first_sheet

        with first_sheet(self._fh, self.path.name) as sheet:
            self._rows_total = sheet.max_row or 0
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            if header is None:
                raise InvalidInput(f"{self.path.name}: the first sheet is empty; expected a header row")
            counted = self._count(rows)
            yield from _table_records(self.path.name, [_cell_text(h) for h in header], counted, first_row=2)

    def _count(self, rows):
        for row in rows:
            self._rows_done += 1
            yield row


def _cell_text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _table_records(name: str, header: list, rows, *, first_row: int) -> Iterator[Record]:
    columns = [str(h).strip().lower() if h is not None else "" for h in header]
    while columns and columns[-1] == "":
        columns.pop()
    for i, column in enumerate(columns):
        if column not in TABULAR_COLUMNS:
            shown = column or f"(empty, column {i + 1})"
            raise InvalidInput(
                f"{name}: row 1: unknown column {shown!r} (allowed: {', '.join(sorted(TABULAR_COLUMNS))})"
            )
    if len(set(columns)) != len(columns):
        dup = next(c for c in columns if columns.count(c) > 1)
        raise InvalidInput(f"{name}: row 1: column {dup!r} appears twice")
    if "kind" not in columns:
        raise InvalidInput(f"{name}: row 1: the header needs a 'kind' column (license or device)")
    kind_at = columns.index("kind")
    width = len(columns)
    for number, row in enumerate(rows, start=first_row):
        cells = list(row)
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        if len(cells) > width and any(c not in (None, "") for c in cells[width:]):
            raise InvalidInput(f"{name}: row {number}: more cells than the header has columns")
        kind = _cell_text(cells[kind_at] if kind_at < len(cells) else None).lower()
        section = KIND_SECTION.get(kind)
        if section is None:
            raise InvalidInput(f"{name}: row {number}: kind: must be license or device, got {kind!r}")
        allowed = LICENSE_KEYS if section == "licenses" else DEVICE_KEYS
        record: dict = {}
        for column, cell in zip(columns, cells):
            if column == "kind" or cell is None or (isinstance(cell, str) and cell.strip() == ""):
                continue
            if column not in allowed:
                raise InvalidInput(f"{name}: row {number}: {column}: not a field of a {kind}")
            record[column] = cell
        yield section, number, record


def open_source(path: Path, fh: BinaryIO, fmt: str | None = None) -> Source:
    """Pick the reader by `fmt`, the file's extension, or (standard input, a pipe) its first bytes."""
    given = fmt
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in ("json", "csv", "xlsx", "xlsm"):
        if given or path.suffix:
            raise InvalidInput(f"{path.name}: unknown import format {fmt!r}; use .json, .csv or .xlsx (or --format)")
        fmt = _sniff(fh)
    if fmt == "json":
        return JsonSource(path, fh)
    if fmt == "csv":
        return CsvSource(path, fh)
    if not fh.seekable():  # a workbook is a zip file: it is read whole, so a pipe is read into memory
        fh = io.BytesIO(fh.read())
    return XlsxSource(path, fh)


def _sniff(fh: BinaryIO) -> str:
    head = fh.peek(64)[:64] if hasattr(fh, "peek") else b""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return "json"
    if text.startswith(b"PK"):
        return "xlsx"
    return "csv"
