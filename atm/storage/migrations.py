"""Numbered schema migrations, recorded in `atm_migrations` and applied on open.

Rules (after simonw/llm): a migration is a small function `mNNN_name(db)`;
once released it is never edited, only followed by a new one. The schema
version is kept in the SQLite header too (`PRAGMA user_version`), so that the
common case -- an up-to-date database -- costs one cheap read per process.

A PostgreSQL database is created from the declaration in `atm.storage.schema`
(the schema as the migrations leave it; a test holds the two together) and
records every migration as applied. PostgreSQL support starts at m005, so a
server database is never older than that: from m005 on, every migration runs
on both databases, in SQL both share, asking `db.dialect` where they differ.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from atm.storage.database import APPLICATION_ID, Database
from atm.storage.errors import SchemaTooNew

Migration = Callable[[Database], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_initial(db: Database) -> None:
    # Assets name their place by natural keys (domain, VA name): the listing
    # needs no join, and a file may list assets before the accounts they
    # reference, so the foreign key is checked at commit.
    db.executescript(
        """
        CREATE TABLE users (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            compliance INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE accounts (
            domain TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            legal_entity TEXT NOT NULL
        );
        CREATE INDEX ix_accounts_name ON accounts (name);
        CREATE TABLE virtual_accounts (
            account TEXT NOT NULL REFERENCES accounts (domain) DEFERRABLE INITIALLY DEFERRED,
            name TEXT NOT NULL,
            ssm_onprem INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (account, name)
        );
        CREATE TABLE roles (
            user_id TEXT NOT NULL REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
            account TEXT NOT NULL REFERENCES accounts (domain) DEFERRABLE INITIALLY DEFERRED,
            role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
            PRIMARY KEY (user_id, account)
        );
        CREATE INDEX ix_roles_account ON roles (account, role);
        CREATE TABLE assets (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('license', 'device')),
            account TEXT NOT NULL,
            virtual_account TEXT NOT NULL,
            pid TEXT NOT NULL,
            license_type TEXT,
            sales_order TEXT,
            reserved INTEGER NOT NULL DEFAULT 0,
            line TEXT,
            quantity INTEGER,
            web_order TEXT,
            subscription_id TEXT,
            pak TEXT,
            in_use INTEGER,
            enterprise_agreement INTEGER NOT NULL DEFAULT 0,
            pending_upgrade INTEGER NOT NULL DEFAULT 0,
            serial_number TEXT,
            host_id TEXT,
            uuid TEXT,
            pnp_status TEXT,
            cslu INTEGER NOT NULL DEFAULT 0,
            FOREIGN KEY (account, virtual_account) REFERENCES virtual_accounts (account, name)
                DEFERRABLE INITIALLY DEFERRED
        );
        CREATE INDEX ix_assets_place ON assets (account, virtual_account, kind);
        CREATE INDEX ix_assets_sales_order ON assets (sales_order);
        CREATE INDEX ix_assets_web_order ON assets (web_order);
        CREATE INDEX ix_assets_subscription ON assets (subscription_id);
        CREATE INDEX ix_assets_pak ON assets (pak);
        CREATE UNIQUE INDEX ux_assets_serial ON assets (serial_number);
        CREATE UNIQUE INDEX ux_assets_order_line ON assets (sales_order, line) WHERE kind = 'license';
        CREATE INDEX ix_assets_pid ON assets (pid);
        CREATE INDEX ix_assets_host_id ON assets (host_id);
        CREATE INDEX ix_assets_uuid ON assets (uuid);
        CREATE TABLE minor_lines (
            license_id TEXT NOT NULL REFERENCES assets (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
            line TEXT NOT NULL,
            pid TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            PRIMARY KEY (license_id, line)
        )
        """
    )


def latest_version() -> int:
    return len(MIGRATIONS)


def current_version(db: Database) -> int:
    return db.schema_version()


def ensure_schema(db: Database) -> list[str]:
    """Apply pending migrations; refuse a database written by a newer atm. Returns what ran."""
    version = current_version(db)
    if version == latest_version():
        return []
    if version > latest_version():
        raise _too_new(db, version)
    applied: list[str] = []
    with db.transaction(write=True):
        db.lock_schema()
        version = current_version(db)  # another process may have migrated while we waited
        if version > latest_version():
            raise _too_new(db, version)
        # A blank server database is created from the declaration: the schema the migrations build, each of
        # them recorded as applied.
        declared = version == 0 and db.dialect.name != "sqlite"
        if declared:
            db.create_schema()
        elif version == 0:
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(
                "CREATE TABLE IF NOT EXISTS atm_migrations ("
                " id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
        for number, fn in enumerate(MIGRATIONS[version:], start=version + 1):
            if not declared:
                fn(db)
            db.execute(
                "INSERT INTO atm_migrations (id, name, applied_at) VALUES (?, ?, ?)",
                (number, fn.__name__, datetime.now(timezone.utc).isoformat(timespec="seconds")),
            )
            db.set_schema_version(number)
            applied.append(fn.__name__)
    return applied


def _too_new(db: Database, version: int) -> SchemaTooNew:
    return SchemaTooNew(
        f"the database {db.path} was written by a newer atm (schema {version}; this atm knows up to "
        f"{latest_version()}); upgrade atm to use it"
    )


@migration
def m002_transfers(db: Database) -> None:
    # An item holds its asset while `active` = 1; the partial unique index makes
    # the database itself refuse one asset in two unfinished transactions (R5).
    # Audit events refuse UPDATE and DELETE (R15).
    db.executescript(
        """
        CREATE TABLE transactions (
            id TEXT PRIMARY KEY,
            source_account TEXT NOT NULL REFERENCES accounts (domain),
            source_va TEXT,
            target_account TEXT NOT NULL REFERENCES accounts (domain),
            target_va TEXT NOT NULL,
            same_company INTEGER NOT NULL,
            state TEXT NOT NULL,
            requested_by TEXT NOT NULL REFERENCES users (id),
            created_at TEXT NOT NULL,
            completed_at TEXT,
            form TEXT,
            warnings TEXT NOT NULL DEFAULT '[]'
        );
        CREATE INDEX ix_transactions_source ON transactions (source_account, created_at);
        CREATE INDEX ix_transactions_target ON transactions (target_account, created_at);
        CREATE INDEX ix_transactions_state ON transactions (state);
        CREATE TABLE transaction_items (
            transaction_id TEXT NOT NULL REFERENCES transactions (id),
            seq INTEGER NOT NULL,
            asset_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            from_va TEXT NOT NULL,
            result TEXT NOT NULL DEFAULT 'pending',
            reason TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (transaction_id, seq)
        );
        CREATE UNIQUE INDEX ux_items_active_asset ON transaction_items (asset_id) WHERE active = 1;
        CREATE TABLE consents (
            transaction_id TEXT NOT NULL REFERENCES transactions (id),
            side TEXT NOT NULL CHECK (side IN ('transferor', 'transferee')),
            decision TEXT NOT NULL DEFAULT 'pending',
            by_user TEXT,
            at TEXT,
            PRIMARY KEY (transaction_id, side)
        );
        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            transaction_id TEXT NOT NULL REFERENCES transactions (id),
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            from_state TEXT,
            to_state TEXT,
            note TEXT
        );
        CREATE INDEX ix_events_transaction ON events (transaction_id, id);
        CREATE TRIGGER events_never_updated BEFORE UPDATE ON events
        BEGIN SELECT RAISE (ABORT, 'audit events are never rewritten (R15)'); END;
        CREATE TRIGGER events_never_deleted BEFORE DELETE ON events
        BEGIN SELECT RAISE (ABORT, 'audit events are never rewritten (R15)'); END;
        CREATE TABLE notifications (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id TEXT NOT NULL,
            transaction_id TEXT NOT NULL REFERENCES transactions (id),
            kind TEXT NOT NULL,
            message TEXT NOT NULL,
            created_at TEXT NOT NULL,
            read INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX ix_notifications_user ON notifications (user_id, id)
        """
    )


@migration
def m003_item_warnings(db: Database) -> None:
    # Each item carries its own R13 warning code; the transaction keeps one entry per kind of warning.
    db.execute("ALTER TABLE transaction_items ADD COLUMN warning TEXT")


@migration
def m004_any_case_keys(db: Database) -> None:
    # Asset ids, PAKs, host ids and UUIDs are found whatever the case they are typed in (docs/import.md).
    db.executescript(
        """
        DROP INDEX ix_assets_pak;
        DROP INDEX ix_assets_host_id;
        DROP INDEX ix_assets_uuid;
        CREATE INDEX ix_assets_pak_any_case ON assets (lower(pak));
        CREATE INDEX ix_assets_host_id_any_case ON assets (lower(host_id));
        CREATE INDEX ix_assets_uuid_any_case ON assets (lower(uuid));
        CREATE INDEX ix_assets_id_any_case ON assets (lower(id))
        """
    )


@migration
def m005_mail_outbox(db: Database) -> None:
    # R14 by e-mail: a notification is marked sent only once the mail server accepted it; a sender claims
    # rows for a while first (claimed_by, claimed_until), so two senders never mail one notification, and a
    # sender that died leaves them to the next once the claim runs out. The partial index finds what is unsent.
    text = db.dialect.text
    db.executescript(
        f"""
        ALTER TABLE notifications ADD COLUMN sent_at {text};
        ALTER TABLE notifications ADD COLUMN claimed_by {text};
        ALTER TABLE notifications ADD COLUMN claimed_until {text};
        ALTER TABLE notifications ADD COLUMN send_error {text};
        CREATE INDEX ix_notifications_unsent ON notifications (transaction_id) WHERE sent_at IS NULL
        """
    )
