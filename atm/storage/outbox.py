"""The notifications waiting to be mailed (R14): claimed for a while by one sender, marked sent once accepted.

A sender claims rows in a short write transaction of its own (`claimed_by`, `claimed_until`), sends outside any
database transaction, then marks each mail the server accepted. Two senders at once never claim the same row: on
SQLite the write lock orders them; on PostgreSQL the second one's UPDATE waits for the first one's row locks and
then finds the rows claimed. A sender that died leaves its rows to the next once the claim runs out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from atm.domain.times import from_iso, iso
from atm.storage.database import Database, placeholders


@dataclass(frozen=True, slots=True)
class PendingMail:
    id: int
    user_id: str
    transaction_id: str
    kind: str
    message: str
    created_at: datetime
    source_account: str
    target_account: str


class Outbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    def claim(self, token: str, *, now: datetime, until: datetime,
              transaction_ids: Sequence[str] | None = None) -> list[PendingMail]:
        """Claim every unsent notification (of these transactions) that nobody holds; returns them, oldest
        first. Commit at once: the claim is what keeps another sender off them."""
        where = "sent_at IS NULL AND (claimed_until IS NULL OR claimed_until < ?)"
        params: list = [token, iso(until), iso(now)]
        if transaction_ids is not None:
            if not transaction_ids:
                return []
            where += f" AND transaction_id IN ({placeholders(len(transaction_ids))})"
            params += list(transaction_ids)
        self.db.execute(f"UPDATE notifications SET claimed_by = ?, claimed_until = ? WHERE {where}", params)
        rows = self.db.execute(
            "SELECT n.id, n.user_id, n.transaction_id, n.kind, n.message, n.created_at, t.source_account, "
            "t.target_account FROM notifications n JOIN transactions t ON t.id = n.transaction_id "
            "WHERE n.claimed_by = ? AND n.sent_at IS NULL ORDER BY n.id", (token,)).fetchall()
        return [PendingMail(i, u, t, k, m, from_iso(c), s, d) for i, u, t, k, m, c, s, d in rows]

    def mark_sent(self, token: str, notification_id: int, at: datetime) -> None:
        """The server accepted the mail: never send it again."""
        self.db.execute("UPDATE notifications SET sent_at = ?, claimed_by = NULL, claimed_until = NULL, "
                        "send_error = NULL WHERE id = ? AND claimed_by = ?", (iso(at), notification_id, token))

    def release(self, token: str, failures: Sequence[tuple[int, str]]) -> None:
        """These were not accepted: they stay pending for the next try, with the reason."""
        self.db.executemany("UPDATE notifications SET claimed_by = NULL, claimed_until = NULL, send_error = ? "
                            "WHERE id = ? AND claimed_by = ?", [(error, i, token) for i, error in failures])
