"""R5 in the database itself: one asset is never booked by two unfinished transactions.

atm's write lock already serialises requests, so a concurrency test passes
even without the partial unique index `ux_items_active_asset`. These tests go
around atm: plain SQL on separate autocommit connections to a real database
made by atm's migrations, and the database must refuse the second booking.

The SQL is plain literals that SQLite and PostgreSQL both take; everything
that depends on the backend is in the `backend` fixture.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any, Callable

import pytest

from atm.storage.database import Database
from atm.storage.migrations import ensure_schema


@dataclass(frozen=True)
class Backend:
    name: str
    connect: Callable[[], Any]  # a new DB-API connection that commits every statement
    integrity_error: type[Exception]


@pytest.fixture(params=["sqlite"])
def backend(request, tmp_path) -> Backend:
    """A migrated atm database on each backend (a PostgreSQL one joins the params when atm has it)."""
    if request.param == "sqlite":
        path = tmp_path / "booking.db"
        db = Database(str(path), create=True)
        ensure_schema(db)
        db.close()
        return Backend("sqlite", lambda: sqlite3.connect(path, isolation_level=None), sqlite3.IntegrityError)
    raise NotImplementedError(request.param)


WORLD = [
    "INSERT INTO users (id, name) VALUES ('ops@corp.example', 'Ops')",
    "INSERT INTO accounts (domain, name, legal_entity) VALUES ('corp.example', 'Corp', 'Corp KK')",
    "INSERT INTO virtual_accounts (account, name) VALUES ('corp.example', 'DEFAULT')",
    "INSERT INTO virtual_accounts (account, name) VALUES ('corp.example', 'West')",
    "INSERT INTO assets (id, kind, account, virtual_account, pid) VALUES ('SER1', 'device', 'corp.example', "
    "'DEFAULT', 'D')",
    "INSERT INTO assets (id, kind, account, virtual_account, pid) VALUES ('SER2', 'device', 'corp.example', "
    "'DEFAULT', 'D')",
] + [
    "INSERT INTO transactions (id, source_account, target_account, target_va, same_company, state, requested_by, "
    f"created_at) VALUES ('{t}', 'corp.example', 'corp.example', 'West', 1, 'pending_submission', "
    "'ops@corp.example', '2026-11-29T00:00:00Z')"
    for t in ("T1", "T2", "T3")
]


def run(conn, sql: str) -> list[tuple]:
    cur = conn.cursor()
    try:
        cur.execute(sql)
        return cur.fetchall() if cur.description else []
    finally:
        cur.close()


def book(conn, txn: str, asset_id: str, *, active: int = 1) -> None:
    run(conn, "INSERT INTO transaction_items (transaction_id, seq, asset_id, kind, from_va, active) "
              f"VALUES ('{txn}', 1, '{asset_id}', 'device', 'DEFAULT', {active})")


def active_bookings(conn, asset_id: str) -> list[tuple]:
    return run(conn, f"SELECT transaction_id FROM transaction_items WHERE asset_id = '{asset_id}' AND active = 1")


@pytest.fixture
def two_connections(backend):
    first, second = backend.connect(), backend.connect()
    for sql in WORLD:
        run(first, sql)
    yield first, second
    first.close()
    second.close()


def test_r5_the_database_refuses_a_second_active_booking_of_one_asset(backend, two_connections):
    first, second = two_connections
    book(first, "T1", "SER1")
    with pytest.raises(backend.integrity_error):
        book(second, "T2", "SER1")
    assert active_bookings(second, "SER1") == [("T1",)]


def test_r5_other_assets_and_ended_bookings_do_not_hold_an_asset(backend, two_connections):
    first, second = two_connections
    book(first, "T1", "SER1")
    book(second, "T2", "SER2")  # another asset: free
    run(first, "UPDATE transaction_items SET active = 0 WHERE transaction_id = 'T1'")  # T1 ended
    book(second, "T3", "SER1")
    assert active_bookings(first, "SER1") == [("T3",)]
    assert run(first, "SELECT count(*) FROM transaction_items WHERE asset_id = 'SER1'") == [(2,)]
