"""What an export reads: a transaction's items with their asset details, streamed from one cursor.

Rows come from the database a chunk at a time and leave as they come, so an
export of a hundred thousand items holds one chunk, never the transaction.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple, Sequence

from atm.domain.model import MinorLine
from atm.storage.database import Database, placeholders

FETCH = 2000
BY_ID_CHUNK = 5000


class LicenseLine(NamedTuple):
    """A license item: the major line as it is now, with its minor lines, and the item's outcome."""

    asset_id: str
    sales_order: str | None
    line: str | None
    web_order: str | None
    subscription_id: str | None
    pak: str | None
    pid: str | None
    quantity: int | None
    from_va: str
    result: str
    reason: str | None
    warning: str | None
    minor_lines: tuple[MinorLine, ...]


class DeviceLine(NamedTuple):
    asset_id: str
    serial_number: str | None
    pid: str | None
    host_id: str | None
    uuid: str | None
    from_va: str
    result: str
    reason: str | None
    warning: str | None


class HistoryDetails(NamedTuple):
    """What the landing list does not carry, per transaction."""

    requested_by: str
    same_company: bool
    items: int
    transferred: int
    failed: int


# The columns whose widest value sizes a spreadsheet column; each is a plain column name (never user input).
LICENSE_TEXT = ("a.sales_order", "a.line", "a.web_order", "a.subscription_id", "a.pak", "a.pid", "i.reason",
                "i.asset_id")
DEVICE_TEXT = ("a.serial_number", "a.pid", "a.host_id", "a.uuid", "i.reason", "i.asset_id")

_LICENSES = (
    "SELECT i.seq, i.asset_id, a.sales_order, a.line, a.web_order, a.subscription_id, a.pak, a.pid, a.quantity,"
    " i.from_va, i.result, i.reason, i.warning, m.line, m.pid, m.quantity"
    " FROM transaction_items i"
    " LEFT JOIN assets a ON a.id = i.asset_id"
    " LEFT JOIN minor_lines m ON m.license_id = i.asset_id"
    " WHERE i.transaction_id = ? AND i.kind = 'license'"
    " ORDER BY i.seq, m.line"
)
_DEVICES = (
    "SELECT i.asset_id, a.serial_number, a.pid, a.host_id, a.uuid, i.from_va, i.result, i.reason, i.warning"
    " FROM transaction_items i LEFT JOIN assets a ON a.id = i.asset_id"
    " WHERE i.transaction_id = ? AND i.kind = 'device'"
    " ORDER BY i.seq"
)


class ExportRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _rows(self, sql: str, params: Sequence) -> Iterator[tuple]:
        """A file's rows, `FETCH` at a time (on a server through a server-side cursor): never all in memory."""
        return self.db.stream(sql, FETCH, params)

    def license_lines(self, txn_id: str) -> Iterator[LicenseLine]:
        """License items in item order, each with its minor lines (one joined row per minor line)."""
        current: list | None = None
        minors: list[MinorLine] = []
        seq = None
        for row in self._rows(_LICENSES, (txn_id,)):
            if row[0] != seq:
                if current is not None:
                    yield LicenseLine(*current, tuple(minors))
                seq, current, minors = row[0], list(row[1:13]), []
            if row[13] is not None:
                minors.append(MinorLine(row[13], row[14], row[15]))
        if current is not None:
            yield LicenseLine(*current, tuple(minors))

    def device_lines(self, txn_id: str) -> Iterator[DeviceLine]:
        return map(DeviceLine._make, self._rows(_DEVICES, (txn_id,)))

    def from_vas(self, txn_id: str) -> list[str]:
        return [va for (va,) in self.db.execute(
            "SELECT DISTINCT from_va FROM transaction_items WHERE transaction_id = ?", (txn_id,))]

    def widest(self, txn_id: str, kind: str) -> dict[str, int]:
        """The longest value (in characters) of each text column of one kind of item, in one pass."""
        columns = LICENSE_TEXT if kind == "license" else DEVICE_TEXT
        row = self.db.execute(
            "SELECT " + ", ".join(f"max(length({c}))" for c in columns)
            + " FROM transaction_items i LEFT JOIN assets a ON a.id = i.asset_id"
            " WHERE i.transaction_id = ? AND i.kind = ?", (txn_id, kind)).fetchone()
        widths = {c.split(".")[1]: n or 0 for c, n in zip(columns, row)}
        if kind == "license":
            minor = self.db.execute(
                "SELECT max(length(m.line)), max(length(m.pid)) FROM transaction_items i"
                " JOIN minor_lines m ON m.license_id = i.asset_id"
                " WHERE i.transaction_id = ? AND i.kind = 'license'", (txn_id,)).fetchone()
            widths["line"] = max(widths["line"], minor[0] or 0)
            widths["pid"] = max(widths["pid"], minor[1] or 0)
        return widths

    def history_details(self, ids: Sequence[str]) -> dict[str, HistoryDetails]:
        out: dict[str, HistoryDetails] = {}
        for start in range(0, len(ids), BY_ID_CHUNK):
            chunk = list(ids[start:start + BY_ID_CHUNK])
            marks = placeholders(len(chunk))
            counts: dict[str, dict[str, int]] = {}
            for tid, result, n in self.db.execute(
                f"SELECT transaction_id, result, count(*) FROM transaction_items WHERE transaction_id IN ({marks})"
                " GROUP BY transaction_id, result", chunk):
                counts.setdefault(tid, {})[result] = n
            for tid, by, same in self.db.execute(
                f"SELECT id, requested_by, same_company FROM transactions WHERE id IN ({marks})", chunk):
                c = counts.get(tid, {})
                out[tid] = HistoryDetails(by, bool(same), sum(c.values()), c.get("transferred", 0),
                                          c.get("failed", 0))
        return out
