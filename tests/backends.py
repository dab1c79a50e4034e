"""The database the suite runs on: SQLite files (the default leg), or a PostgreSQL server (the PostgreSQL leg).

`ATM_TEST_DB=postgresql://root@127.0.0.1:5432/test python -m pytest` runs the whole suite on the server: the
session creates a database of its own there (dropped at the end), and every test gets a fresh schema in it,
named by ATM_DB (`...?options=-csearch_path%3Dt_<hex>`), so each starts from nothing, as with a new SQLite file.
Tests that inspect SQLite files themselves are marked `sqlite_only`; tests of the server alone `postgres_only`.

`connect()` opens what ATM_DB names from the test side: an `sqlite3` connection, or a psycopg one that takes the
same `?` placeholders, so a test reads and plants rows the same way on both.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from pathlib import Path
from urllib.parse import quote

TEST_DB = os.environ.get("ATM_TEST_DB", "").strip()
ON_POSTGRES = TEST_DB.partition("://")[0].lower() in ("postgresql", "postgres")
LEG = "postgresql" if ON_POSTGRES else "sqlite"

_session_url: str | None = None  # the server database of this test session


def start_session() -> None:
    """Create this session's own database on the server."""
    global _session_url
    import psycopg

    name = f"atm_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(TEST_DB, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    base, _, _ = TEST_DB.partition("?")
    server, _, _ = base.rpartition("/")
    _session_url = f"{server}/{name}"


def end_session() -> None:
    import psycopg

    if _session_url is None:
        return
    name = _session_url.rpartition("/")[2]
    with psycopg.connect(TEST_DB, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def fresh_target(tmp_dir: Path) -> str:
    """A new, empty database for one test: an SQLite file path, or a new schema on the server."""
    if not ON_POSTGRES:
        return str(tmp_dir / "atm.db")
    schema = f"t_{secrets.token_hex(6)}"
    with _admin() as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    return f"{_session_url}?options={quote(f'-csearch_path={schema}')}"


def drop_target(target: str) -> None:
    """Remove a test's schema (and end any connection a test left behind)."""
    if not ON_POSTGRES or "csearch_path" not in target:
        return
    schema = target.rpartition("%3D")[2]
    with _admin() as admin:
        # A connection the test left in a transaction would hold the drop up: end those of this schema only.
        admin.execute("SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
                      "AND l.pid != pg_backend_pid()", (schema,))
        admin.execute("SET lock_timeout = '30s'")
        admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def reset_target(target: str) -> None:
    """Empty a test's database again (a new world in the same test)."""
    if not ON_POSTGRES:
        for suffix in ("", "-wal", "-shm"):
            Path(target + suffix).unlink(missing_ok=True)
        return
    schema = target.rpartition("%3D")[2]
    drop_target(target)
    with _admin() as admin:
        admin.execute(f"CREATE SCHEMA {schema}")


def _admin():
    import psycopg

    return psycopg.connect(_session_url, autocommit=True)


# --- looking at the database from the test ---------------------------------------------------------------


def connect(target: str | os.PathLike | None = None):
    """A connection to the test's database (ATM_DB by default): sqlite3's, or one like it on the server."""
    target = str(target if target is not None else os.environ["ATM_DB"])
    if target.partition("://")[0].lower() in ("postgresql", "postgres"):
        return ServerProbe(target)
    return sqlite3.connect(target)


class ServerProbe:
    """A psycopg connection that reads like an sqlite3 one: `?` placeholders; `with` commits at the end."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True)

    def execute(self, sql: str, params=()):
        from atm.storage.dialect import pyformat

        if params:
            return self.conn.execute(pyformat(sql), params)
        return self.conn.execute(sql)

    def executemany(self, sql: str, rows):
        from atm.storage.dialect import pyformat

        cursor = self.conn.cursor()
        cursor.executemany(pyformat(sql), rows)
        return cursor

    def commit(self) -> None:
        """Each statement is committed as it runs (autocommit), unless `begin` opened a transaction."""
        if self.conn.info.transaction_status != 0:
            self.conn.execute("COMMIT")

    def begin(self) -> None:
        self.conn.execute("BEGIN")

    def rollback(self) -> None:
        if self.conn.info.transaction_status != 0:
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "ServerProbe":
        return self

    def __exit__(self, kind, value, tb) -> None:
        if kind is None:
            self.commit()
        else:
            self.rollback()


def integrity_ok(conn) -> bool:
    """SQLite checks its file; a server keeps its own pages."""
    if isinstance(conn, ServerProbe):
        return True
    return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def hold_write_lock(target: str | None = None):
    """Hold what atm's writers wait for, from a connection of the test: SQLite's write lock (BEGIN IMMEDIATE),
    or, on the server, the assets and transactions tables in EXCLUSIVE mode (a request waits to lock its
    assets, a submit to lock its transaction; plain reads go on). Release it with `rollback()`."""
    target = str(target or os.environ["ATM_DB"])
    conn = connect(target)
    if isinstance(conn, ServerProbe):
        conn.begin()
        conn.execute("LOCK TABLE assets, transactions IN EXCLUSIVE MODE")
        return conn
    conn.close()
    conn = sqlite3.connect(target, isolation_level=None, timeout=5)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def waiting_for_locks(target: str | None = None) -> int:
    """How many other connections to the server database wait for a lock now (0 on SQLite: unknown)."""
    target = str(target or os.environ["ATM_DB"])
    conn = connect(target)
    if not isinstance(conn, ServerProbe):
        conn.close()
        return 0
    try:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND wait_event_type = 'Lock' AND pid != pg_backend_pid()").fetchone()[0]
    finally:
        conn.close()


ATM_TABLES = ("users", "accounts", "virtual_accounts", "roles", "assets", "minor_lines", "transactions",
              "transaction_items", "consents", "events", "notifications")


def dump(target: str | os.PathLike | None = None) -> list[str]:
    """Every row of the database, to compare before and after a command that must change nothing."""
    conn = connect(target)
    try:
        if not isinstance(conn, ServerProbe):
            return list(conn.iterdump())
        out = []
        for table in ATM_TABLES + ("atm_migrations",):
            rows = conn.execute(f"SELECT * FROM {table}").fetchall()
            out += sorted(f"{table} {row!r}" for row in rows)
        return out
    finally:
        conn.close()


def set_schema_version(version: int, target: str | None = None) -> None:
    """Make the database look written by another atm: SQLite's header, or the server's migrations table."""
    conn = connect(target)
    try:
        if isinstance(conn, ServerProbe):
            conn.execute("INSERT INTO atm_migrations (id, name, applied_at) VALUES (?, 'm999_from_the_future', "
                         "'2099-01-01T00:00:00+00:00')", (version,))
        else:
            conn.execute(f"PRAGMA user_version = {int(version)}")
            conn.commit()
    finally:
        conn.close()


def is_server(target: str | os.PathLike) -> bool:
    return str(target).partition("://")[0].lower() in ("postgresql", "postgres")


def table_rows(target: str | os.PathLike | None = None) -> dict[str, list[tuple]]:
    """Every row of every atm table, sorted: the same on either database when they hold the same data."""
    conn = connect(target)
    try:
        return {table: sorted((tuple(r) for r in conn.execute(f"SELECT * FROM {table}").fetchall()), key=repr)
                for table in ATM_TABLES}
    finally:
        conn.close()
