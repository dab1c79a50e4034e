"""Transactions, their items, consents, audit events and notifications in SQL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

from atm.domain.side_effects import Warning
from atm.domain.errors import StorageError
from atm.domain.model import Asset
from atm.domain.times import from_iso, iso
from atm.domain.transfer import AssetsNotTransferable, Consent, Status, Transaction
from atm.storage.errors import ConstraintViolation
from atm.storage.assets import COLUMNS as ASSET_COLUMNS, row_asset
from atm.storage.database import Database, placeholders

TXN_COLUMNS = ("id, source_account, source_va, target_account, target_va, same_company, state, requested_by, "
               "created_at, completed_at, form, warnings")


class Item(NamedTuple):
    """One asset of a transaction (a tuple: a hundred thousand of them are built per command)."""

    seq: int
    asset_id: str
    kind: str
    from_va: str
    result: str
    reason: str | None
    warning: str | None = None  # the item's R13 code


ITEM_COLUMNS = "seq, asset_id, kind, from_va, result, reason, warning"


@dataclass(frozen=True, slots=True)
class StoredEvent:
    at: datetime
    actor: str
    from_state: str | None
    to_state: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    transaction_id: str
    kind: str
    message: str
    created_at: datetime
    read: bool


@dataclass(frozen=True, slots=True)
class LandingFilter:
    domains: tuple[str, ...] | None  # None: every account (compliance)
    account: str | None = None
    states: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    initiator: str | None = None
    limit: int | None = None


# R12, one chunk: the items' seq range finds the assets by id (the plan walks the items, then the assets' primary
# key), never by scanning the source account; a test checks the plan.
MOVE_CHUNK = (
    "UPDATE assets SET account = ?, virtual_account = ? FROM (SELECT asset_id FROM transaction_items"
    " WHERE transaction_id = ? AND result = 'pending' AND seq BETWEEN ? AND ?) AS chunk"
    " WHERE assets.id = chunk.asset_id AND assets.account = ?"
)


class TransferRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.notified: set[str] = set()  # transactions given new notifications in the open database transaction

    # --- the aggregate -------------------------------------------------------------

    def exists(self, txn_id: str) -> bool:
        return self.db.one("SELECT 1 FROM transactions WHERE id = ?", (txn_id,)) is not None

    def add(self, txn: Transaction) -> None:
        """Store a new transaction (its items come next, from `add_items`)."""
        self.db.execute(
            f"INSERT INTO transactions ({TXN_COLUMNS}) VALUES ({placeholders(12)})",
            (txn.id, txn.source_account, txn.source_va, txn.target_account, txn.target_va, int(txn.same_company),
             txn.status.value, txn.requested_by, iso(txn.created_at), iso(txn.completed_at),
             json.dumps(txn.form, ensure_ascii=False) if txn.form is not None else None,
             json.dumps([w.as_dict() for w in txn.warnings], ensure_ascii=False)),
        )
        self._save_consents(txn)
        self._save_events(txn)

    def add_items(self, txn_id: str, write: Callable[[str], int]) -> int:
        """Write a new transaction's items (`write`, set-based); the database refuses an asset already booked."""
        try:
            return write(txn_id)
        except ConstraintViolation:
            # The partial unique index: another unfinished transaction holds one of these assets (R5).
            raise AssetsNotTransferable(
                "an asset of this request was booked by another transaction meanwhile (R5); nothing was created; "
                "run the request again to see which"
            ) from None

    def get(self, txn_id: str, *, details: bool = True) -> Transaction | None:
        """The aggregate; without `details` the form and warnings (large, never changed) stay unread."""
        columns = TXN_COLUMNS if details else TXN_COLUMNS.replace(", form, warnings", ", NULL, NULL")
        sql = f"SELECT {columns} FROM transactions WHERE id = ?"
        if self.db.writing:
            # A write locks the transaction row before it reads the status it will change (on a server; the
            # SQLite file's write lock covers it): two processes never act on one transaction at once.
            sql = self.db.dialect.lock_rows(sql) or sql
        row = self.db.execute(sql, (txn_id,)).fetchone()
        if row is None:
            return None
        (tid, src, src_va, dst, dst_va, same, state, by, created, completed, form, warnings) = row
        txn = Transaction(
            id=tid, source_account=src, source_va=src_va, target_account=dst, target_va=dst_va,
            same_company=bool(same), requested_by=by, created_at=from_iso(created), status=Status(state),
            completed_at=from_iso(completed), form=json.loads(form) if form else None,
            warnings=[Warning.from_dict(w) for w in json.loads(warnings)] if warnings else [],
        )
        for side, decision, by_user, at in self.db.execute(
            "SELECT side, decision, by_user, at FROM consents WHERE transaction_id = ? ORDER BY side DESC", (tid,)
        ):
            txn.consents[side] = Consent(side, decision, by_user, from_iso(at))
        return txn

    def save(self, txn: Transaction) -> None:
        """Persist the status and append the new events; events already stored are never touched (R15)."""
        # The form and the warnings are fixed when the transaction is opened.
        self.db.execute(
            "UPDATE transactions SET state = ?, completed_at = ? WHERE id = ?",
            (txn.status.value, iso(txn.completed_at), txn.id),
        )
        self._save_consents(txn)
        self._save_events(txn)

    def _save_consents(self, txn: Transaction) -> None:
        self.db.executemany(
            "INSERT INTO consents (transaction_id, side, decision, by_user, at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (transaction_id, side) DO UPDATE SET decision = excluded.decision, "
            "by_user = excluded.by_user, at = excluded.at",
            [(txn.id, c.side, c.decision, c.by, iso(c.at)) for c in txn.consents.values()],
        )

    def _save_events(self, txn: Transaction) -> None:
        events, txn.new_events = txn.new_events, []
        self.db.executemany(
            "INSERT INTO events (transaction_id, at, actor, from_state, to_state, note) VALUES (?, ?, ?, ?, ?, ?)",
            [(txn.id, iso(e.at), e.actor, e.from_state.value if e.from_state else None,
              e.to_state.value if e.to_state else None, e.note) for e in events],
        )

    def events(self, txn_id: str) -> list[StoredEvent]:
        return [
            StoredEvent(from_iso(at), actor, f, t, note)
            for at, actor, f, t, note in self.db.execute(
                "SELECT at, actor, from_state, to_state, note FROM events WHERE transaction_id = ? ORDER BY id",
                (txn_id,),
            )
        ]

    # --- items ---------------------------------------------------------------------

    def items(self, txn_id: str, *, limit: int | None = None, kind: str | None = None) -> list[Item]:
        sql = f"SELECT {ITEM_COLUMNS} FROM transaction_items WHERE transaction_id = ?"
        params: tuple = (txn_id,)
        if kind is not None:
            sql += " AND kind = ?"
            params += (kind,)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return list(map(Item._make, self.db.execute(sql, params)))

    def item_tally(self, txn_id: str) -> dict[tuple[str, str], int]:
        """How many items of each (kind, result): what a view of a large transaction shows instead of rows."""
        return {(kind, result): n for kind, result, n in self.db.execute(
            "SELECT kind, result, count(*) FROM transaction_items WHERE transaction_id = ? GROUP BY kind, result",
            (txn_id,))}

    def items_json(self, txn_id: str, *, limit: int | None = None) -> Iterator[str]:
        """Each item as a JSON object built by the database, in order: a large transaction is streamed out without
        becoming Python objects (the keys of docs/json.md)."""
        item = self.db.dialect.json_object(*((key, key) for key in ("asset_id", "kind", "result", "reason",
                                                                     "warning")))
        sql = f"SELECT {item} FROM transaction_items WHERE transaction_id = ? ORDER BY seq"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        cursor = self.db.execute(sql, (txn_id,))
        while True:
            rows = cursor.fetchmany(5000)
            if not rows:
                return
            for (text,) in rows:
                yield text

    def last_seq(self, txn_id: str) -> int:
        return self.db.one("SELECT coalesce(max(seq), 0) FROM transaction_items WHERE transaction_id = ?",
                           (txn_id,))

    def suspect_items(self, txn: Transaction, *, first_seq: int, last_seq: int) -> list[tuple[Item, Asset | None]]:
        """Pending items of a seq range whose asset may no longer pass R5, with the asset as it is now (None:
        gone). Every item passed R5 at request with its asset at `from_va`; an asset still there, of the same
        kind, in the source SA, with no EA or pending-upgrade flag and not a device in an SSM On-Prem VA is
        as it was in every way R5 looks at. The rest are returned for the domain rule to judge."""
        rows = self.db.execute(
            "SELECT i.seq, i.asset_id, i.kind, i.from_va, i.result, i.reason, i.warning, "
            + ", ".join(f"a.{c}" for c in ASSET_COLUMNS)
            + " FROM transaction_items i LEFT JOIN assets a ON a.id = i.asset_id"
            " LEFT JOIN virtual_accounts v ON v.account = a.account AND v.name = a.virtual_account"
            " WHERE i.transaction_id = ? AND i.result = 'pending' AND i.seq BETWEEN ? AND ?"
            " AND (a.id IS NULL OR a.kind != i.kind OR a.account != ? OR a.virtual_account != i.from_va"
            "  OR a.enterprise_agreement != 0 OR a.pending_upgrade != 0 OR (a.kind = 'device' AND v.ssm_onprem != 0))"
            " ORDER BY i.seq",
            (txn.id, first_seq, last_seq, txn.source_account),
        ).fetchall()
        return [(Item._make(row[:7]), row_asset(row[7:]) if row[7] is not None else None) for row in rows]

    def fail_items(self, txn_id: str, failures: Iterable[tuple[int, str]]) -> None:
        self.db.executemany(
            "UPDATE transaction_items SET result = 'failed', reason = ? "
            "WHERE transaction_id = ? AND seq = ? AND result = 'pending'",
            [(reason, txn_id, seq) for seq, reason in failures],
        )

    def lock_pending(self, txn: Transaction, *, first_seq: int, last_seq: int) -> None:
        """R12 under row locks (a server): lock the assets of a chunk's pending items, in id order, before they
        are checked and moved, so nothing changes them between the check and the move. (SQLite's write lock
        already covers them.)"""
        sql = self.db.dialect.lock_rows(
            "SELECT a.id FROM assets a WHERE a.id IN (SELECT asset_id FROM transaction_items WHERE "
            "transaction_id = ? AND result = 'pending' AND seq BETWEEN ? AND ?) ORDER BY a.id")
        if sql is not None:
            self.db.execute(sql, (txn.id, first_seq, last_seq))

    def move_pending(self, txn: Transaction, *, first_seq: int, last_seq: int) -> int:
        """R12: move every still-pending item of the range to the target and mark it, in one statement pair."""
        moved = self.db.execute(MOVE_CHUNK, (txn.target_account, txn.target_va, txn.id, first_seq, last_seq,
                                             txn.source_account)).rowcount
        marked = self.db.execute(
            "UPDATE transaction_items SET result = 'transferred' WHERE transaction_id = ? AND result = 'pending'"
            " AND seq BETWEEN ? AND ?",
            (txn.id, first_seq, last_seq),
        ).rowcount
        if moved != marked:
            # Never record a move that did not happen (or the reverse): the caller rolls the chunk back.
            raise StorageError(
                f"consistency check failed while moving {txn.id} ({moved} assets moved, {marked} items); "
                "nothing of this step was kept; run the command again"
            )
        return moved

    def release_items(self, txn_id: str, *, pending_result: str) -> None:
        """The transaction ended: free its assets (R5) and settle items that never moved."""
        self.db.execute(
            "UPDATE transaction_items SET active = 0, result = CASE WHEN result = 'pending' THEN ? ELSE result END "
            "WHERE transaction_id = ?",
            (pending_result, txn_id),
        )

    # --- landing list ---------------------------------------------------------------

    def landing(self, flt: LandingFilter) -> list[tuple[str, str, str | None, str, str, str, str, str | None]]:
        where: list[str] = []
        params: list = []
        if flt.domains is not None:
            if not flt.domains:
                return []
            marks = placeholders(len(flt.domains))
            where.append(f"(source_account IN ({marks}) OR target_account IN ({marks}))")
            params += list(flt.domains) * 2
        if flt.account:
            where.append("(source_account = ? OR target_account = ?)")
            params += [flt.account, flt.account]
        if flt.states:
            where.append(f"state IN ({placeholders(len(flt.states))})")
            params += list(flt.states)
        if flt.since:
            where.append("created_at >= ?")
            params.append(flt.since)
        if flt.until:
            where.append("created_at < ?")
            params.append(flt.until)
        if flt.initiator:
            where.append("requested_by = ?")
            params.append(flt.initiator)
        sql = ("SELECT id, source_account, source_va, target_account, target_va, state, created_at, completed_at "
               "FROM transactions" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY created_at DESC, id")
        if flt.limit:
            sql += f" LIMIT {int(flt.limit)}"
        return self.db.execute(sql, params).fetchall()

    # --- notifications (R14) ----------------------------------------------------------

    def notify(self, txn_id: str, recipients: Iterable[str], kind: str, message: str, at: datetime) -> None:
        rows = [(user, txn_id, kind, message, iso(at)) for user in dict.fromkeys(recipients)]
        self.db.executemany(
            "INSERT INTO notifications (user_id, transaction_id, kind, message, created_at) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        if rows:
            self.notified.add(txn_id)

    def notifications(self, user_id: str, *, unread_only: bool = False) -> list[Notification]:
        sql = ("SELECT id, transaction_id, kind, message, created_at, read FROM notifications WHERE user_id = ?"
               + (" AND read = 0" if unread_only else "") + " ORDER BY id")
        return [Notification(i, t, k, m, from_iso(c), bool(r)) for i, t, k, m, c, r in
                self.db.execute(sql, (user_id,))]

    def mark_read(self, user_id: str, ids: Sequence[int]) -> None:
        self.db.executemany("UPDATE notifications SET read = 1 WHERE user_id = ? AND id = ?",
                            [(user_id, i) for i in ids])
