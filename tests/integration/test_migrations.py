"""Schema migrations on a blank and an upgraded SQLite file; refusing what is not ours (exit 5).

The server's side of these is in test_postgres_schema.py."""

import sqlite3

import pytest

from atm.storage import migrations
from atm.storage.database import APPLICATION_ID, Database
from atm.storage.errors import ConstraintViolation, DatabaseCorrupt, DatabaseMissing, ForeignDatabase, SchemaTooNew
from atm.storage.migrations import MIGRATIONS, ensure_schema, latest_version


def schema(path):
    conn = sqlite3.connect(path)
    try:
        return {
            (row[0], row[1]): conn.execute(f"PRAGMA table_info({row[1]})").fetchall() if row[0] == "table" else row[2]
            for row in conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        }
    finally:
        conn.close()


@pytest.mark.sqlite_only
def test_a_blank_database_gets_every_migration_recorded(db_path):
    db = Database(str(db_path), create=True)
    assert ensure_schema(db) == [fn.__name__ for fn in MIGRATIONS]
    rows = db.execute("SELECT id, name FROM atm_migrations ORDER BY id").fetchall()
    assert rows == [(i + 1, fn.__name__) for i, fn in enumerate(MIGRATIONS)]
    assert db.one("PRAGMA application_id") == APPLICATION_ID
    assert db.one("PRAGMA journal_mode") == "wal"
    assert ensure_schema(db) == []


@pytest.mark.sqlite_only
def test_a_database_upgraded_from_the_first_migration_matches_a_blank_one(tmp_path, monkeypatch):
    old = tmp_path / "old.db"
    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS[:1])
    db = Database(str(old), create=True)
    ensure_schema(db)
    db.execute("INSERT INTO users (id, name) VALUES ('a@b.example', 'A')")
    db.close()
    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS)
    db = Database(str(old))
    assert ensure_schema(db) == [fn.__name__ for fn in MIGRATIONS[1:]]
    assert db.one("SELECT name FROM users") == "A"
    db.close()
    fresh = tmp_path / "fresh.db"
    ensure_schema(Database(str(fresh), create=True))
    assert schema(old) == schema(fresh)


INDEX_FOR = {"sales_order": "ix_assets_sales_order", "web_order": "ix_assets_web_order",
             "subscription": "ix_assets_subscription", "pak": "ix_assets_pak_any_case", "serial": "ux_assets_serial",
             "pid": "ix_assets_pid", "host_id": "ix_assets_host_id_any_case", "uuid": "ix_assets_uuid_any_case"}


@pytest.mark.sqlite_only
@pytest.mark.parametrize("name", sorted(INDEX_FOR))
def test_every_exact_filter_of_the_asset_listing_is_served_by_its_index(uow, name):
    from atm.storage.assets import AssetFilter

    seen = []
    real = uow.db.execute
    uow.db.execute = lambda sql, params=(): seen.append((sql, params)) or real(sql, params)
    list(uow.assets.iter_matching(AssetFilter(account="a.example", exact=((name, "MixedCase-1"),))))
    sql, params = seen[0]
    plan = " ".join(str(r) for r in real(f"EXPLAIN QUERY PLAN {sql}", params))
    assert INDEX_FOR[name] in plan, plan


@pytest.mark.sqlite_only
def test_the_active_booking_and_role_lookups_have_indexes(uow):
    names = {r[0] for r in uow.db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"ix_assets_place", "ix_roles_account", "ux_items_active_asset", "ix_assets_id_any_case"} <= names


@pytest.mark.sqlite_only
def test_a_database_from_a_newer_atm_is_refused(db_path):
    db = Database(str(db_path), create=True)
    ensure_schema(db)
    db.execute(f"PRAGMA user_version = {latest_version() + 1}")
    db.close()
    with pytest.raises(SchemaTooNew, match="newer atm"):
        ensure_schema(Database(str(db_path)))


@pytest.mark.sqlite_only
def test_a_foreign_sqlite_file_is_refused(db_path):
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(ForeignDatabase, match="another program"):
        Database(str(db_path))


@pytest.mark.sqlite_only
def test_a_file_that_is_not_sqlite_is_refused(db_path):
    db_path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(DatabaseCorrupt, match="not an atm database"):
        Database(str(db_path))


@pytest.mark.sqlite_only
def test_a_missing_database_is_not_created_by_a_read(db_path):
    with pytest.raises(DatabaseMissing, match="atm init"):
        Database(str(db_path))
    assert not db_path.exists()


def test_audit_events_cannot_be_rewritten(uow):
    db = uow.db
    db.execute("INSERT INTO users (id, name) VALUES ('a@b.example', 'A')")
    db.execute("INSERT INTO accounts (domain, name, legal_entity) VALUES ('b.example', 'B', 'B')")
    db.execute("INSERT INTO transactions (id, source_account, target_account, target_va, same_company, state,"
               " requested_by, created_at) VALUES ('T', 'b.example', 'b.example', 'DEFAULT', 1, 'cancelled',"
               " 'a@b.example', 'now')")
    db.execute("INSERT INTO events (transaction_id, at, actor, note) VALUES ('T', 'now', 'a@b.example', 'x')")
    with pytest.raises(ConstraintViolation, match="never rewritten"):
        db.execute("UPDATE events SET note = 'y'")
    with pytest.raises(ConstraintViolation, match="never rewritten"):
        db.execute("DELETE FROM events")
