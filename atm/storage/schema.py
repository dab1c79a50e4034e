"""The one declaration of atm's schema: every table, column, index, constraint and trigger, as SQLModel tables.

A PostgreSQL database is created from these classes (`create_statements`) and then follows the numbered
migrations of `atm.storage.migrations`, like an SQLite file. An SQLite file is built by those migrations alone:
`tests/integration/test_schema_declaration.py` holds the two to the same tables, columns, indexes, foreign keys
and triggers, so they cannot drift.

These are table classes only: the repositories convert rows to domain values themselves, and no ORM object
ever leaves the storage layer. Importing this module loads SQLAlchemy and SQLModel, which the SQLite path
never does (they cost more than a whole `atm --help`).

Columns follow SQLite's storage: text is TEXT (with the C collation on PostgreSQL, so text sorts and
compares byte by byte, and lower() folds ASCII only, as in SQLite), flags are INTEGER 0/1, times are ISO 8601
text. Counts that may exceed 2**31 (quantities) are BIGINT; SQLite's INTEGER holds 64 bits anyway.
"""

from __future__ import annotations

from typing import Optional

from sqlalchemy import (
    BigInteger, CheckConstraint, Column, ForeignKeyConstraint, Identity, Index, Integer, PrimaryKeyConstraint, Text,
    func, text,
)
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import Field, SQLModel

TEXT = Text().with_variant(Text(collation="C"), "postgresql")
FLAG = Integer
COUNT = BigInteger().with_variant(Integer, "sqlite")

metadata = SQLModel.metadata


def _text(*, primary_key: bool = False, nullable: bool = False, default: str | None = None):
    kwargs = {"server_default": text(default)} if default is not None else {}
    return Field(default=None if nullable else ..., sa_type=TEXT, primary_key=primary_key, nullable=nullable,
                 sa_column_kwargs=kwargs)


def _integer(kind=Integer, *, nullable: bool = False, default: str | None = None):
    kwargs = {"server_default": text(default)} if default is not None else {}
    return Field(default=None if nullable else ..., sa_type=kind, nullable=nullable, sa_column_kwargs=kwargs)


def _identity():
    # SQLite: INTEGER PRIMARY KEY AUTOINCREMENT (ids never reused); PostgreSQL: an identity column that still
    # takes explicit ids, so `atm db copy` keeps them.
    return Field(default=None, sa_column=Column(COUNT, Identity(), primary_key=True))


# --- the directory: users, Smart Accounts, virtual accounts, roles ----------------------------------------


class UserRow(SQLModel, table=True):
    __tablename__ = "users"

    id: str = _text(primary_key=True)
    name: str = _text()
    compliance: int = _integer(FLAG, default="0")


class AccountRow(SQLModel, table=True):
    __tablename__ = "accounts"
    __table_args__ = (Index("ix_accounts_name", "name"),)

    domain: str = _text(primary_key=True)
    name: str = _text()
    legal_entity: str = _text()


class VirtualAccountRow(SQLModel, table=True):
    __tablename__ = "virtual_accounts"
    __table_args__ = (
        PrimaryKeyConstraint("account", "name"),
        # An import may list assets and VAs before the account they name: checked at commit.
        ForeignKeyConstraint(["account"], ["accounts.domain"], deferrable=True, initially="DEFERRED"),
    )

    account: str = _text(primary_key=True)
    name: str = _text(primary_key=True)
    ssm_onprem: int = _integer(FLAG, default="0")


class RoleRow(SQLModel, table=True):
    __tablename__ = "roles"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "account"),
        ForeignKeyConstraint(["user_id"], ["users.id"], deferrable=True, initially="DEFERRED"),
        ForeignKeyConstraint(["account"], ["accounts.domain"], deferrable=True, initially="DEFERRED"),
        CheckConstraint("role IN ('admin', 'user')", name="ck_roles_role"),
        Index("ix_roles_account", "account", "role"),
    )

    user_id: str = _text(primary_key=True)
    account: str = _text(primary_key=True)
    role: str = _text()


# --- assets ------------------------------------------------------------------------------------------------


class AssetRow(SQLModel, table=True):
    __tablename__ = "assets"
    __table_args__ = (
        ForeignKeyConstraint(["account", "virtual_account"], ["virtual_accounts.account", "virtual_accounts.name"],
                             deferrable=True, initially="DEFERRED"),
        CheckConstraint("kind IN ('license', 'device')", name="ck_assets_kind"),
        Index("ix_assets_place", "account", "virtual_account", "kind"),
        Index("ix_assets_sales_order", "sales_order"),
        Index("ix_assets_web_order", "web_order"),
        Index("ix_assets_subscription", "subscription_id"),
        Index("ux_assets_serial", "serial_number", unique=True),
        # One license per sales-order line (devices share their hardware sales order).
        Index("ux_assets_order_line", "sales_order", "line", unique=True,
              sqlite_where=text("kind = 'license'"), postgresql_where=text("kind = 'license'")),
        Index("ix_assets_pid", "pid"),
    )

    id: str = _text(primary_key=True)
    kind: str = _text()
    account: str = _text()
    virtual_account: str = _text()
    pid: str = _text()
    license_type: Optional[str] = _text(nullable=True)
    sales_order: Optional[str] = _text(nullable=True)
    reserved: int = _integer(FLAG, default="0")
    line: Optional[str] = _text(nullable=True)
    quantity: Optional[int] = _integer(COUNT, nullable=True)
    web_order: Optional[str] = _text(nullable=True)
    subscription_id: Optional[str] = _text(nullable=True)
    pak: Optional[str] = _text(nullable=True)
    in_use: Optional[int] = _integer(COUNT, nullable=True)
    enterprise_agreement: int = _integer(FLAG, default="0")
    pending_upgrade: int = _integer(FLAG, default="0")
    serial_number: Optional[str] = _text(nullable=True)
    host_id: Optional[str] = _text(nullable=True)
    uuid: Optional[str] = _text(nullable=True)
    pnp_status: Optional[str] = _text(nullable=True)
    cslu: int = _integer(FLAG, default="0")


# Ids, PAKs, host ids and UUIDs are found whatever the case they are typed in.
_assets = AssetRow.__table__.c
Index("ix_assets_pak_any_case", func.lower(_assets.pak))
Index("ix_assets_host_id_any_case", func.lower(_assets.host_id))
Index("ix_assets_uuid_any_case", func.lower(_assets.uuid))
Index("ix_assets_id_any_case", func.lower(_assets.id))


class MinorLineRow(SQLModel, table=True):
    __tablename__ = "minor_lines"
    __table_args__ = (
        PrimaryKeyConstraint("license_id", "line"),
        ForeignKeyConstraint(["license_id"], ["assets.id"], ondelete="CASCADE", deferrable=True,
                             initially="DEFERRED"),
    )

    license_id: str = _text(primary_key=True)
    line: str = _text(primary_key=True)
    pid: str = _text()
    quantity: int = _integer(COUNT)


# --- transactions ------------------------------------------------------------------------------------------


class TransactionRow(SQLModel, table=True):
    __tablename__ = "transactions"
    __table_args__ = (
        ForeignKeyConstraint(["source_account"], ["accounts.domain"]),
        ForeignKeyConstraint(["target_account"], ["accounts.domain"]),
        ForeignKeyConstraint(["requested_by"], ["users.id"]),
        Index("ix_transactions_source", "source_account", "created_at"),
        Index("ix_transactions_target", "target_account", "created_at"),
        Index("ix_transactions_state", "state"),
    )

    id: str = _text(primary_key=True)
    source_account: str = _text()
    source_va: Optional[str] = _text(nullable=True)
    target_account: str = _text()
    target_va: str = _text()
    same_company: int = _integer(FLAG)
    state: str = _text()
    requested_by: str = _text()
    created_at: str = _text()
    completed_at: Optional[str] = _text(nullable=True)
    form: Optional[str] = _text(nullable=True)
    warnings: str = _text(default="'[]'")


class TransactionItemRow(SQLModel, table=True):
    __tablename__ = "transaction_items"
    __table_args__ = (
        PrimaryKeyConstraint("transaction_id", "seq"),
        ForeignKeyConstraint(["transaction_id"], ["transactions.id"]),
        # An item holds its asset while active = 1: the database itself refuses one asset in two unfinished
        # transactions (R5).
        Index("ux_items_active_asset", "asset_id", unique=True,
              sqlite_where=text("active = 1"), postgresql_where=text("active = 1")),
    )

    transaction_id: str = _text(primary_key=True)
    seq: int = Field(primary_key=True, sa_type=Integer)
    asset_id: str = _text()
    kind: str = _text()
    from_va: str = _text()
    result: str = _text(default="'pending'")
    reason: Optional[str] = _text(nullable=True)
    active: int = _integer(FLAG, default="1")
    warning: Optional[str] = _text(nullable=True)  # the item's R13 code


class ConsentRow(SQLModel, table=True):
    __tablename__ = "consents"
    __table_args__ = (
        PrimaryKeyConstraint("transaction_id", "side"),
        ForeignKeyConstraint(["transaction_id"], ["transactions.id"]),
        CheckConstraint("side IN ('transferor', 'transferee')", name="ck_consents_side"),
    )

    transaction_id: str = _text(primary_key=True)
    side: str = _text(primary_key=True)
    decision: str = _text(default="'pending'")
    by_user: Optional[str] = _text(nullable=True)
    at: Optional[str] = _text(nullable=True)


class EventRow(SQLModel, table=True):
    """The audit trail (R15): rows are only ever added (see TRIGGERS)."""

    __tablename__ = "events"
    __table_args__ = (
        ForeignKeyConstraint(["transaction_id"], ["transactions.id"]),
        Index("ix_events_transaction", "transaction_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Optional[int] = _identity()
    transaction_id: str = _text()
    at: str = _text()
    actor: str = _text()
    from_state: Optional[str] = _text(nullable=True)
    to_state: Optional[str] = _text(nullable=True)
    note: Optional[str] = _text(nullable=True)


class NotificationRow(SQLModel, table=True):
    """The outbox of R14. A mail is marked sent only once the server accepted it; a sender claims rows for a
    while (claimed_by, claimed_until) so two senders never mail one notification."""

    __tablename__ = "notifications"
    __table_args__ = (
        ForeignKeyConstraint(["transaction_id"], ["transactions.id"]),
        Index("ix_notifications_user", "user_id", "id"),
        Index("ix_notifications_unsent", "transaction_id", sqlite_where=text("sent_at IS NULL"),
              postgresql_where=text("sent_at IS NULL")),
        {"sqlite_autoincrement": True},
    )

    id: Optional[int] = _identity()
    user_id: str = _text()
    transaction_id: str = _text()
    kind: str = _text()
    message: str = _text()
    created_at: str = _text()
    read: int = _integer(FLAG, default="0")
    sent_at: Optional[str] = _text(nullable=True)
    claimed_by: Optional[str] = _text(nullable=True)
    claimed_until: Optional[str] = _text(nullable=True)
    send_error: Optional[str] = _text(nullable=True)


class MigrationRow(SQLModel, table=True):
    """The schema version: one row per numbered migration applied."""

    __tablename__ = "atm_migrations"

    id: int = Field(primary_key=True, sa_type=Integer, sa_column_kwargs={"autoincrement": False})
    name: str = _text()
    applied_at: str = _text()


# --- triggers ----------------------------------------------------------------------------------------------

AUDIT_MESSAGE = "audit events are never rewritten (R15)"
AUDIT_FUNCTION = "atm_audit_never_rewritten"
# name -> (the SQLite statement, the PostgreSQL statement); None where that database has no such trigger.
TRIGGERS: dict[str, tuple[str | None, str | None]] = {
    "events_never_updated": (
        f"CREATE TRIGGER events_never_updated BEFORE UPDATE ON events BEGIN SELECT RAISE (ABORT, '{AUDIT_MESSAGE}'); END",
        f"CREATE TRIGGER events_never_updated BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION {AUDIT_FUNCTION}()",
    ),
    "events_never_deleted": (
        f"CREATE TRIGGER events_never_deleted BEFORE DELETE ON events BEGIN SELECT RAISE (ABORT, '{AUDIT_MESSAGE}'); END",
        f"CREATE TRIGGER events_never_deleted BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION {AUDIT_FUNCTION}()",
    ),
    # SQLite has no TRUNCATE; PostgreSQL's would empty the table without firing the row triggers.
    "events_never_truncated": (
        None,
        f"CREATE TRIGGER events_never_truncated BEFORE TRUNCATE ON events FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {AUDIT_FUNCTION}()",
    ),
}
POSTGRESQL_FUNCTIONS = (
    # An integrity violation (SQLSTATE 23000), like SQLite's RAISE (ABORT): the caller sees a refused change.
    f"CREATE FUNCTION {AUDIT_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"RAISE EXCEPTION '{AUDIT_MESSAGE}' USING ERRCODE = 'integrity_constraint_violation'; END $$",
)


def tables():
    """Every table, each after the tables it refers to."""
    return metadata.sorted_tables


def create_statements(dialect_name: str = "postgresql") -> list[str]:
    """The DDL creating the whole schema, as text for that database: tables, indexes, functions, triggers."""
    dialect = _dialect(dialect_name)
    out = [str(CreateTable(t).compile(dialect=dialect)).strip() for t in tables()]
    out += [str(CreateIndex(i).compile(dialect=dialect)).strip()
            for t in tables() for i in sorted(t.indexes, key=lambda i: i.name)]
    if dialect_name == "postgresql":
        out += list(POSTGRESQL_FUNCTIONS)
    out += [sql for sqlite_sql, pg_sql in TRIGGERS.values()
            for sql in [sqlite_sql if dialect_name == "sqlite" else pg_sql] if sql]
    return out


def index_statement(index: Index, dialect_name: str) -> str:
    return str(CreateIndex(index).compile(dialect=_dialect(dialect_name))).strip()


def _dialect(name: str):
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.dialect()
    from sqlalchemy.dialects import sqlite

    return sqlite.dialect()
