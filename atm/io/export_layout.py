"""What an export holds, format aside: sheets of typed columns, and the rows of each, built from plain values.

Pure: no database, no files, no openpyxl. The writers in `xlsx_export` and
`csv_export` turn these rows into bytes; tests check the layout here cheaply.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterable, Iterator

from atm.domain.model import MinorLine
from atm.domain.times import from_iso
from atm.domain.transfer import TRANSFEREE, TRANSFEROR, Status

if TYPE_CHECKING:
    from atm.services.exporting import HistoryExport, TransactionExport
    from atm.storage.exports import DeviceLine, LicenseLine

TEXT, NUMBER, DATETIME = "text", "number", "datetime"
MIN_WIDTH, MAX_WIDTH, PADDING = 6, 60, 2
DATETIME_WIDTH = 19  # yyyy-mm-dd hh:mm:ss
SUMMARY_VALUE_WIDTH = 80
SAME_COMPANY = "Yes: a transfer between divisions or sites of the same company"
OTHER_COMPANY = "No: between different companies (both consents, the request form, compliance screening)"


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT
    width: int = 0  # characters; 0: from the header alone


class Detail(tuple):
    """A row that belongs to the row above it (a license's minor line): one outline level down."""


@dataclass
class Sheet:
    title: str
    columns: tuple[Column, ...]
    rows: Iterable[tuple]
    outline: bool = False  # has Detail rows
    indent: int | None = None  # 0-based column indented in Detail rows
    wrap: tuple[int, ...] = ()  # 0-based columns whose long text wraps


def text_width(text: str) -> int:
    """Characters as a spreadsheet shows them: a CJK character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def sized(header: str, widest: int = 0, *, kind: str = TEXT, cap: int = MAX_WIDTH) -> Column:
    """A column as wide as its header or its widest known value, within bounds."""
    widest = max(widest, DATETIME_WIDTH if kind == DATETIME else 0)
    return Column(header, kind, max(MIN_WIDTH, min(cap, max(text_width(header), widest) + PADDING)))


def naive_utc(at: datetime | None) -> datetime | None:
    """Spreadsheets have no time zones: the UTC wall time, said in the column header."""
    return None if at is None else at.astimezone(timezone.utc).replace(tzinfo=None)


def place(domain: str, va: str | None) -> str:
    return f"{domain} / {va}" if va else domain


# --- one transaction ------------------------------------------------------------------------

RESULT_WIDTH = len("not_transferred")
WARNING_WIDTH = len("no_reregistration")

# One row per item (a license's minor lines in one cell, as `atm import` writes them).
CSV_ITEM_COLUMNS = ("kind", "asset_id", "sales_order", "line", "web_order", "subscription_id", "pak", "pid",
                    "quantity", "minor_lines", "serial_number", "host_id", "uuid", "from", "to", "result",
                    "reason", "warning")


def _places(export: "TransactionExport") -> tuple[dict[str, str], str]:
    txn = export.txn
    sources = {va: place(txn.source_account, va) for va in export.from_vas}
    return sources, place(txn.target_account, txn.target_va)


def license_rows(lines: Iterable["LicenseLine"], sources: dict[str, str], target: str) -> Iterator[tuple]:
    """A major line, then its minor lines one level down (R6: they move with it, whole)."""
    for lic in lines:
        yield (lic.asset_id, lic.sales_order, lic.line, lic.web_order, lic.subscription_id, lic.pak, lic.pid,
               lic.quantity, sources.get(lic.from_va, lic.from_va), target, lic.result, lic.reason, lic.warning)
        for m in lic.minor_lines:
            yield Detail((None, lic.sales_order, m.line, None, None, None, m.pid, m.quantity, None, None, None,
                          None, None))


def device_rows(lines: Iterable["DeviceLine"], sources: dict[str, str], target: str) -> Iterator[tuple]:
    for d in lines:
        yield (d.asset_id, d.serial_number, d.pid, d.host_id, d.uuid, sources.get(d.from_va, d.from_va), target,
               d.result, d.reason, d.warning)


def minor_lines_text(lines: tuple[MinorLine, ...]) -> str | None:
    """`1.1:PID:QTY;1.4:PID:QTY`, the import format's way of writing minor lines."""
    return ";".join(f"{m.line}:{m.pid}:{m.quantity}" for m in lines) or None


def csv_item_rows(export: "TransactionExport") -> Iterator[tuple]:
    sources, target = _places(export)
    for lic in export.licenses():
        yield ("license", lic.asset_id, lic.sales_order, lic.line, lic.web_order, lic.subscription_id, lic.pak,
               lic.pid, lic.quantity, minor_lines_text(lic.minor_lines), None, None, None,
               sources.get(lic.from_va, lic.from_va), target, lic.result, lic.reason, lic.warning)
    for d in export.devices():
        yield ("device", d.asset_id, None, None, None, None, None, d.pid, None, None, d.serial_number, d.host_id,
               d.uuid, sources.get(d.from_va, d.from_va), target, d.result, d.reason, d.warning)


def _state_label(code: str | None) -> str | None:
    if code is None:
        return None
    try:
        return Status(code).label
    except ValueError:
        return code


def summary_rows(export: "TransactionExport") -> list[tuple[str, object]]:
    """Key/value rows: what a reader at legal or at the other company needs first."""
    view, txn = export.view, export.txn
    rows: list[tuple[str, object]] = [
        ("Transaction ID", txn.id),
        ("Status", txn.status.label),
        ("State code", txn.status.value),
        ("Transaction date (UTC)", naive_utc(txn.created_at)),
        ("Completion date (UTC)", naive_utc(txn.completed_at)),
        ("Same company", SAME_COMPANY if txn.same_company else OTHER_COMPANY),
    ]
    for side, account, va in (("Source", view.source, txn.source_va), ("Target", view.target, txn.target_va)):
        rows += [
            (f"{side} Smart Account", account.name),
            (f"{side} domain", account.domain),
            (f"{side} virtual account", va if va else "(any)"),
            (f"{side} legal entity", account.legal_entity),
        ]
    rows.append(("Requested by", txn.requested_by))
    if export.requester_name:
        rows.append(("Requester name", export.requester_name))
    total = sum(view.counts.values())
    rows.append(("Items", total))
    kinds = view.kind_counts()
    rows.append(("License lines", kinds.get("license", 0)))
    rows.append(("Devices", kinds.get("device", 0)))
    for result in ("transferred", "failed", "pending", "not_transferred"):
        if view.counts.get(result):
            rows.append((f"Items {result.replace('_', ' ')}", view.counts[result]))
    for key, value in (txn.form or {}).items():
        rows.append((f"Form: {key}", _form_value(value)))
    for w in txn.warnings:
        rows.append((f"Warning: {w.code}", w.message))
        if w.assets:
            more = w.count - len(w.assets)  # the stored sample (the first ten ids), then how many more
            rows.append((f"Warning: {w.code}: assets", ", ".join(w.assets)
                         + (f", and {more:,} more (see the Warning column)" if more > 0 else "")))
    rows.append(("Exported (UTC)", naive_utc(export.exported_at)))
    rows.append(("Exported by", export.exported_by))
    return rows


def _form_value(value: object) -> object:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) or value is None:
        return value
    return str(value)


def consent_rows(export: "TransactionExport") -> list[tuple]:
    consents = (export.txn.consents.get(side) for side in (TRANSFEROR, TRANSFEREE))
    return [(c.side, c.decision, c.by, naive_utc(c.at)) for c in consents if c is not None]


def history_rows(export: "TransactionExport") -> list[tuple]:
    return [(naive_utc(e.at), e.actor, _state_label(e.from_state), _state_label(e.to_state), e.note)
            for e in export.view.events]


def _widest(rows: Iterable[tuple], column: int) -> int:
    return max((text_width(str(r[column])) for r in rows if r[column] is not None), default=0)


def transaction_sheets(export: "TransactionExport") -> list[Sheet]:
    """Summary, Licenses, Devices, Consents, History. Widths are known before a row is written: from the
    headers, the database's longest values and the few small lists held here."""
    sources, target = _places(export)
    places = max((text_width(p) for p in (*sources.values(), target)), default=0)
    lic = export.widest("license")
    dev = export.widest("device")
    summary = summary_rows(export)
    consents = consent_rows(export)
    history = history_rows(export)
    license_columns = (
        sized("Asset ID", lic["asset_id"]), sized("Sales order", lic["sales_order"]),
        sized("Line", lic["line"] + 2), sized("Web order", lic["web_order"]),
        sized("Subscription", lic["subscription_id"]), sized("PAK", lic["pak"]), sized("PID", lic["pid"]),
        sized("Quantity", 8, kind=NUMBER), sized("From", places), sized("To", places),
        sized("Result", RESULT_WIDTH), sized("Reason", lic["reason"]), sized("Warning", WARNING_WIDTH),
    )
    device_columns = (
        sized("Asset ID", dev["asset_id"]), sized("Serial number", dev["serial_number"]), sized("PID", dev["pid"]),
        sized("Host ID", dev["host_id"]), sized("UUID", dev["uuid"]), sized("From", places), sized("To", places),
        sized("Result", RESULT_WIDTH), sized("Reason", dev["reason"]), sized("Warning", WARNING_WIDTH),
    )
    return [
        Sheet("Summary", (sized("Field", _widest(summary, 0)),
                          sized("Value", _widest(summary, 1), cap=SUMMARY_VALUE_WIDTH)), summary, wrap=(1,)),
        Sheet("Licenses", license_columns, license_rows(export.licenses(), sources, target), outline=True,
              indent=2),
        Sheet("Devices", device_columns, device_rows(export.devices(), sources, target)),
        Sheet("Consents", (sized("Side", 10), sized("Decision", 8), sized("By", _widest(consents, 2)),
                           sized("At (UTC)", kind=DATETIME)), consents),
        Sheet("History", (sized("At (UTC)", kind=DATETIME), sized("Actor", _widest(history, 1)),
                          sized("From", _widest(history, 2)), sized("To", _widest(history, 3)),
                          sized("Note", _widest(history, 4), cap=SUMMARY_VALUE_WIDTH)), history, wrap=(4,)),
    ]


# --- the history of transfers -------------------------------------------------------------------

HISTORY_COLUMNS = ("transaction_id", "status", "state", "source_name", "source_domain", "source_virtual_account",
                   "target_name", "target_domain", "target_virtual_account", "same_company", "requested_by",
                   "created_at", "completed_at", "items", "transferred", "failed")
TRANSFERS_HEADERS = ("Transaction ID", "Status", "State code", "Source Smart Account", "Source domain",
                     "Source virtual account", "Target Smart Account", "Target domain", "Target virtual account",
                     "Same company", "Requested by", "Transaction date (UTC)", "Completion date (UTC)", "Items",
                     "Transferred", "Failed")


def history_values(history: "HistoryExport", *, dates: str) -> Iterator[tuple]:
    """One row per transaction; `dates` is "datetime" (a spreadsheet) or "iso" (text)."""
    for r in history.rows:
        d = history.details[r.transaction_id]
        created, completed = r.created_at, r.completed_at
        if dates == DATETIME:
            created, completed = naive_utc(from_iso(created)), naive_utc(from_iso(completed))
        yield (r.transaction_id, r.status.label, r.status.value, r.source["name"], r.source["domain"],
               r.source["virtual_account"], r.target["name"], r.target["domain"], r.target["virtual_account"],
               "yes" if d.same_company else "no", d.requested_by, created, completed, d.items, d.transferred,
               d.failed)


def history_sheets(history: "HistoryExport") -> list[Sheet]:
    rows = list(history_values(history, dates=DATETIME))  # one row per transaction, already in memory
    kinds = {11: DATETIME, 12: DATETIME, 13: NUMBER, 14: NUMBER, 15: NUMBER}
    columns = tuple(sized(h, _widest(rows, i) if kinds.get(i, TEXT) == TEXT else 6, kind=kinds.get(i, TEXT))
                    for i, h in enumerate(TRANSFERS_HEADERS))
    return [Sheet("Transfers", columns, rows)]
