"""Exports: one transaction (the guide's "Download") and the history of transfers.

`transaction_export` is a context manager: inside it the caller writes the
file from lazy row streams, all read in one snapshot; leaving it without an
error records the export on the transaction's audit trail (R15). Leaving it
with an error (a full disk, Ctrl-C) records nothing.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator

from atm.domain.errors import InvalidInput
from atm.domain.times import now
from atm.services.accounts import acting_user
from atm.services.unit_of_work import UnitOfWork
from atm.services.views import (
    LandingQuery, LandingRow, TransactionView, landing_rows, transaction_view, visible_transaction,
)
from atm.storage.exports import DeviceLine, ExportRepository, HistoryDetails, LicenseLine

FORMATS = ("xlsx", "csv", "json")


@dataclass
class TransactionExport:
    """A transaction as one snapshot: the view without its items, which stream from the database on demand."""

    view: TransactionView
    requester_name: str | None
    exported_by: str
    exported_at: datetime
    from_vas: list[str]
    _rows: ExportRepository = field(repr=False)

    @property
    def txn(self):
        return self.view.txn

    def licenses(self) -> Iterator[LicenseLine]:
        return self._rows.license_lines(self.txn.id)

    def devices(self) -> Iterator[DeviceLine]:
        return self._rows.device_lines(self.txn.id)

    def item_rows(self) -> Iterator[str]:
        """The `items` of the JSON view, in item order, as the JSON text `atm status --json` writes for each."""
        return self.view.all_items.json_rows()

    def widest(self, kind: str) -> dict[str, int]:
        return self._rows.widest(self.txn.id, kind)


@dataclass
class HistoryExport:
    """The landing list with what a history file adds per transaction."""

    rows: list[LandingRow]
    details: dict[str, HistoryDetails]
    exported_by: str
    exported_at: datetime


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")


@contextmanager
def transaction_export(uow: UnitOfWork, user_id: str | None, txn_id: str, *, fmt: str
                       ) -> Iterator[TransactionExport]:
    """Who may see a transaction may export it (R2); a completed export is recorded on it (R15)."""
    _check_format(fmt)
    with uow.read():
        user = acting_user(uow, user_id)
        txn, _, _ = visible_transaction(uow, user, txn_id)
        rows = ExportRepository(uow.db)
        view = transaction_view(uow, txn, item_limit=None)  # the items stream when the file is written
        requester = uow.accounts.user(txn.requested_by)
        yield TransactionExport(view, requester.name if requester else None, user.id, now(),
                                rows.from_vas(txn.id), rows)
    with uow.write():
        # Re-read: the status may have moved on while the file was written; the event states it as it is now.
        current = uow.transfers.get(txn.id, details=False)
        current.record(actor=user.id, at=now(), note=f"exported as {fmt}")
        uow.transfers.save(current)
        uow.commit()


def history_export(uow: UnitOfWork, user_id: str | None, query: LandingQuery) -> HistoryExport:
    """The landing list (R2: only what this user may see; compliance sees all) with requester and item counts.

    Nothing is recorded on the transactions: the history holds what `atm status` lists, no items or forms.
    """
    with uow.read():  # the list and its details in one snapshot: every listed transaction has its details
        user = acting_user(uow, user_id)
        rows = landing_rows(uow, user, query)
        details = ExportRepository(uow.db).history_details([r.transaction_id for r in rows])
    return HistoryExport(rows, details, user.id, now())
