"""The server's schema (PostgreSQL leg): created from the declaration, migrated by number, refused when newer
or not ours, and the guarantees the SQLite file gets from its DDL (R5's partial unique index, R15's triggers).
"""

from __future__ import annotations

import re

import pytest

from atm.storage.database import open_database
from atm.storage.errors import ConstraintViolation, DatabaseMissing, ForeignDatabase, SchemaTooNew
from atm.storage.migrations import MIGRATIONS, ensure_schema, latest_version
from tests import backends

pytestmark = pytest.mark.postgres_only


def catalog(db) -> dict:
    """The schema as the server describes it (names of constraints and indexes included)."""
    return {
        "columns": db.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default, collation_name, is_identity "
            "FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1, 2").fetchall(),
        "indexes": db.execute(
            "SELECT indexname, regexp_replace(indexdef, ' ON \\S+\\.', ' ON ') FROM pg_indexes "
            "WHERE schemaname = current_schema() ORDER BY 1").fetchall(),
        "constraints": db.execute(
            "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2").fetchall(),
        "triggers": db.execute(
            "SELECT tgname, tgrelid::regclass::text, tgtype FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE c.relnamespace = current_schema()::regnamespace AND NOT tgisinternal ORDER BY 1").fetchall(),
    }


def test_a_blank_server_database_is_created_from_the_declaration_and_records_every_migration(uow):
    from atm.storage import schema

    db = uow.db
    rows = db.execute("SELECT id, name FROM atm_migrations ORDER BY id").fetchall()
    assert rows == [(i + 1, fn.__name__) for i, fn in enumerate(MIGRATIONS)]
    found = catalog(db)
    columns: dict[str, dict] = {}
    for table, column, data_type, nullable, _, collation, _ in found["columns"]:
        columns.setdefault(table, {})[column] = (data_type, nullable == "NO", collation)
    for table in schema.tables():
        assert set(columns[table.name]) == {c.name for c in table.columns}, table.name
        for c in table.columns:
            data_type, not_null, collation = columns[table.name][c.name]
            assert not_null == (not c.nullable), (table.name, c.name)
            if data_type == "text":
                assert collation == "C", (table.name, c.name)  # sorts and folds case as SQLite does
    assert set(columns) == {t.name for t in schema.tables()}
    indexes = dict(found["indexes"])
    declared_indexes = {i.name: i.unique for t in schema.tables() for i in t.indexes}
    assert {n for n in indexes if not n.endswith("_pkey")} == set(declared_indexes)
    for name, unique in declared_indexes.items():
        assert indexes[name].startswith("CREATE UNIQUE INDEX" if unique else "CREATE INDEX"), name
    # R5: one asset in one unfinished transaction, refused by the database itself.
    assert re.search(r"UNIQUE INDEX ux_items_active_asset ON transaction_items .*\(asset_id\) WHERE \(active = 1\)",
                     indexes["ux_items_active_asset"])
    assert "lower(pak)" in indexes["ix_assets_pak_any_case"]
    assert "WHERE (kind = 'license'::text)" in indexes["ux_assets_order_line"]
    foreign = [d for _, _, kind, d in found["constraints"] if kind == "f"]
    assert any("REFERENCES virtual_accounts(account, name) DEFERRABLE INITIALLY DEFERRED" in d for d in foreign)
    assert {name for name, _, _ in found["triggers"]} == {"events_never_updated", "events_never_deleted",
                                                           "events_never_truncated"}


def test_an_older_server_database_is_brought_up_to_date_by_the_numbered_migrations(uow, db_target):
    """m005 runs on the server too: a database made before it (its columns and index taken away, its record
    removed) ends exactly like one created from the declaration."""
    fresh = catalog(uow.db)
    with uow.db.transaction(write=True):
        uow.db.execute("DROP INDEX ix_notifications_unsent")
        for column in ("sent_at", "claimed_by", "claimed_until", "send_error"):
            uow.db.execute(f"ALTER TABLE notifications DROP COLUMN {column}")
        uow.db.execute("DELETE FROM atm_migrations WHERE id = 5")
    older = open_database(db_target)
    assert older.schema_version() == 4
    assert ensure_schema(older) == ["m005_mail_outbox"]
    assert catalog(older) == fresh
    older.close()


def test_a_server_database_written_by_a_newer_atm_is_refused(uow, db_target):
    backends.set_schema_version(latest_version() + 1, db_target)
    with pytest.raises(SchemaTooNew, match="newer atm"):
        ensure_schema(open_database(db_target))


def test_two_processes_opening_a_blank_database_create_it_once(db_target):
    first, second = open_database(db_target, create=True), open_database(db_target, create=True)
    assert second.schema_version() == 0
    assert ensure_schema(first) == [fn.__name__ for fn in MIGRATIONS]
    # The second saw version 0 when it opened; under the schema lock it sees the first one's work.
    assert second.schema_version() == 0
    assert ensure_schema(second) == []
    assert second.one("SELECT count(*) FROM atm_migrations") == len(MIGRATIONS)


def test_tables_of_another_program_are_refused(db_target):
    probe = backends.connect(db_target)
    probe.execute("CREATE TABLE photos (id integer)")
    probe.close()
    with pytest.raises(ForeignDatabase, match="another program"):
        open_database(db_target, create=True)


def test_an_empty_database_is_not_an_atm_database_until_init(db_target):
    with pytest.raises(DatabaseMissing, match="atm init"):
        open_database(db_target)


def test_audit_events_cannot_be_rewritten_or_truncated(uow):
    db = uow.db
    db.execute("INSERT INTO users (id, name) VALUES ('a@b.example', 'A')")
    db.execute("INSERT INTO accounts (domain, name, legal_entity) VALUES ('b.example', 'B', 'B')")
    db.execute("INSERT INTO transactions (id, source_account, target_account, target_va, same_company, state,"
               " requested_by, created_at) VALUES ('T', 'b.example', 'b.example', 'DEFAULT', 1, 'cancelled',"
               " 'a@b.example', 'now')")
    db.execute("INSERT INTO events (transaction_id, at, actor, note) VALUES ('T', 'now', 'a@b.example', 'x')")
    for statement in ("UPDATE events SET note = 'y'", "DELETE FROM events", "TRUNCATE events"):
        with pytest.raises(ConstraintViolation, match="never rewritten"):
            db.execute(statement)
    assert db.one("SELECT note FROM events") == "x"


def test_the_server_refuses_one_asset_in_two_unfinished_transactions(uow):
    db = uow.db
    db.execute("INSERT INTO users (id, name) VALUES ('a@b.example', 'A')")
    db.execute("INSERT INTO accounts (domain, name, legal_entity) VALUES ('b.example', 'B', 'B')")
    for txn in ("T1", "T2"):
        db.execute("INSERT INTO transactions (id, source_account, target_account, target_va, same_company, state,"
                   " requested_by, created_at) VALUES (?, 'b.example', 'b.example', 'X', 1, 'pending_submission',"
                   " 'a@b.example', 'now')", (txn,))
    db.execute("INSERT INTO transaction_items (transaction_id, seq, asset_id, kind, from_va) "
               "VALUES ('T1', 1, 'A1', 'device', 'DEFAULT')")
    with pytest.raises(ConstraintViolation):
        db.execute("INSERT INTO transaction_items (transaction_id, seq, asset_id, kind, from_va) "
                   "VALUES ('T2', 1, 'A1', 'device', 'DEFAULT')")
    db.execute("UPDATE transaction_items SET active = 0 WHERE transaction_id = 'T1'")  # T1 ended: A1 is free
    db.execute("INSERT INTO transaction_items (transaction_id, seq, asset_id, kind, from_va) "
               "VALUES ('T2', 1, 'A1', 'device', 'DEFAULT')")


def test_text_sorts_and_folds_case_as_on_sqlite(uow):
    """Byte order, and lower() of ASCII only: ids list in the same order on both databases."""
    db = uow.db
    assert [r[0] for r in db.execute("SELECT x FROM (VALUES ('b'), ('B'), ('a'), ('É'), ('_')) v(x) "
                                     "ORDER BY x COLLATE \"C\"")] == sorted(["b", "B", "a", "É", "_"])
    db.execute("INSERT INTO users (id, name) VALUES ('b@x', 'ÉMILE'), ('B@x', 'Zoe'), ('a@x', 'ann')")
    assert [r[0] for r in db.execute("SELECT id FROM users ORDER BY id")] == ["B@x", "a@x", "b@x"]
    assert db.one("SELECT lower(name) FROM users WHERE id = 'b@x'") == "Émile"  # SQLite's lower() keeps É too
