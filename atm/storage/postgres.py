"""A shared PostgreSQL server as the atm database (team mode), reached through SQLAlchemy with psycopg 3.

`PostgresDatabase` offers what every repository uses of `atm.storage.database.Database` (execute, executemany,
one, begin/commit/rollback, transaction, data_version, tune_for_bulk_load), so the repositories' SQL is
written once. Only this module and `atm.storage.schema` load SQLAlchemy and psycopg: an SQLite command never
pays for them.

How the guarantees of the SQLite file hold here, where there is no whole-database write lock:

- Writes run under READ COMMITTED and lock the rows they are about to change before reading what they check:
  the transaction row (`SELECT ... FOR UPDATE`, see TransferRepository.get) before any change of status, the
  requested assets (in id order, so two requests never deadlock) before R5 is judged, and each chunk's assets
  before it is checked and moved (R12). A process that waited for such a lock reads, with its next
  statement, what the other one committed: it judges fresh data, never a stale view.
- The partial unique index on transaction_items (asset_id) WHERE active = 1 refuses one asset in two
  unfinished transactions whatever happens.
- A bulk import rewrites any asset it names: it takes the assets and virtual accounts tables in EXCLUSIVE
  mode first (readers go on; other writers wait), as the SQLite file's write lock does, so an import never
  writes back a place a transfer has just changed.
- Reads run under REPEATABLE READ: one consistent snapshot per unit of work, as SQLite's read transactions.
- Every lock wait is bounded by `lock_timeout` (ATM_LOCK_TIMEOUT) and becomes exit 5 ("busy"), like
  SQLite's busy timeout; a deadlock, which PostgreSQL detects, is reported the same way.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Iterator, Sequence

import psycopg
from psycopg.pq import TransactionStatus

from atm.domain.errors import InvalidInput
from atm.storage.database import Transactional, _not_unicode, lock_timeout, redact_url
from atm.storage.dialect import POSTGRESQL, pyformat
from atm.storage.errors import (
    ConstraintViolation, DatabaseLocked, DatabaseMissing, ForeignDatabase, StorageError,
)

CONNECT_TIMEOUT = 10  # seconds to reach the server
# Tables an import rewrites, in the order other writers lock them (assets before virtual accounts).
BULK_TABLES = "assets, virtual_accounts"
MIGRATIONS_TABLE = "atm_migrations"


def driver_url(url: str) -> str:
    """The URL as SQLAlchemy names psycopg 3: postgresql+psycopg://..."""
    scheme, _, rest = url.partition("://")
    return f"postgresql+psycopg://{rest}"


class PostgresDatabase(Transactional):
    """One connection to an atm database on a PostgreSQL server (the tables of the connection's schema)."""

    dialect = POSTGRESQL
    read_only = False

    def __init__(self, url: str, *, create: bool = False) -> None:
        self.url = url
        self.path = redact_url(url)  # what messages and `atm db info` show: never the password
        self.created: list = []
        self.writing = False
        self._bulk_next = False
        self._streams = 0  # server-side cursors opened so far: each gets a name of its own
        timeout = lock_timeout()
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, DBAPIError
        from sqlalchemy.pool import NullPool

        try:
            sa_url = make_url(driver_url(url))
        except (ArgumentError, ValueError) as exc:
            raise InvalidInput(f"--db / ATM_DB: {self.path} is not a valid database URL ({exc})") from None
        self.database_name = sa_url.database or sa_url.username or ""
        try:
            engine = create_engine(sa_url, poolclass=NullPool,
                                   connect_args={"connect_timeout": CONNECT_TIMEOUT, "application_name": "atm"})
            self._raw = engine.raw_connection()
        except DBAPIError as exc:
            raise self._connect_error(exc.orig) from None
        except psycopg.ProgrammingError as exc:  # a URL option the driver does not know
            raise InvalidInput(f"--db / ATM_DB: {self.path}: {_first_line(exc)}") from None
        except psycopg.Error as exc:
            raise self._connect_error(exc) from None
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"--db / ATM_DB: {self.path}: {exc}") from None
        self.conn = self._raw.driver_connection
        self.conn.autocommit = True  # transactions are begun and ended explicitly, as on SQLite
        # ATM_LOCK_TIMEOUT=0 means "do not wait" (SQLite's busy timeout 0); PostgreSQL's 0 would mean forever.
        # One round trip: the lock timeout, the schema atm's tables live in, and whether they are there.
        _, self.schema, self.has_schema = self.execute(
            f"SELECT set_config('lock_timeout', '{max(1, int(timeout * 1000))}ms', false), current_schema(), "
            f"to_regclass('{MIGRATIONS_TABLE}') IS NOT NULL").fetchone()
        if self.schema is None:
            self.close()
            raise StorageError(f"the search_path of {self.path} names no schema that exists; create it first "
                               "(CREATE SCHEMA name) or fix the URL's options")
        if not self.has_schema:
            tables = self.one("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")
            if tables:
                self.close()
                raise ForeignDatabase(f"schema {self.schema} of {self.path} holds tables of another program, not an "
                                      "atm database; choose another database or schema")
            if not create:
                self.close()
                raise DatabaseMissing(f"no atm database at {self.path} yet; run 'atm init' with this --db / ATM_DB "
                                      "first")

    def _connect_error(self, exc: BaseException) -> StorageError:
        if isinstance(exc, psycopg.ProgrammingError):
            return InvalidInput(f"--db / ATM_DB: {self.path}: {_first_line(exc)}")
        text = _first_line(exc).replace("connection failed: ", "")
        if "does not exist" in text and "database" in text:
            return DatabaseMissing(
                f"the server has no database {self.database_name!r} ({self.path}); create it first "
                f"(createdb {self.database_name}), then run 'atm init'")
        if "password" in text or "authentication" in text or ("role" in text and "does not exist" in text):
            return StorageError(f"the server refused atm's login to {self.path} ({text}); check the user and "
                                "password in the URL")
        return StorageError(f"cannot reach the database server of {self.path} ({text}); check the URL and "
                            "that the server is running")

    def discard(self) -> None:
        """Nothing to remove: a server database is created with the server's tools, never by opening it."""

    def close(self) -> None:
        try:
            self._raw.close()
        except psycopg.Error:  # the server may be gone; there is nothing left to release
            pass

    # --- transactions --------------------------------------------------------

    def begin(self, *, write: bool) -> None:
        """Start a transaction: writes lock rows as they go (READ COMMITTED); reads see one snapshot."""
        self.execute("BEGIN ISOLATION LEVEL READ COMMITTED" if write else "BEGIN ISOLATION LEVEL REPEATABLE READ")
        self.writing = write
        if write and self._bulk_next:
            self._bulk_next = False
            self.execute(f"LOCK TABLE {BULK_TABLES} IN EXCLUSIVE MODE")

    def commit(self) -> None:
        self.writing = False
        try:
            self.conn.execute("COMMIT")
        except psycopg.Error as exc:
            self.rollback()
            raise self._translate(exc) from None

    def rollback(self) -> None:
        self.writing = False
        if self.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except psycopg.Error:  # the connection is gone: the server rolled back
                pass

    @property
    def in_transaction(self) -> bool:
        return self.conn.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR)

    def data_version(self) -> int | None:
        """Unknown here: PostgreSQL cannot tell cheaply whether another connection wrote, so callers re-check."""
        return None

    def secondary_indexes(self, table: str) -> list[tuple[str, str]]:
        """None to set aside for a first load: PostgreSQL keeps its indexes up to date during the load."""
        return []

    def tune_for_bulk_load(self) -> None:
        """The next write transaction is a bulk import: it locks the tables it rewrites against other writers."""
        self._bulk_next = True

    # --- schema --------------------------------------------------------------

    def schema_version(self) -> int:
        if not self.has_schema:
            return 0
        return self.one(f"SELECT coalesce(max(id), 0) FROM {MIGRATIONS_TABLE}")

    def lock_schema(self) -> None:
        """Two processes opening a blank (or older) database at once: one migrates, the other waits and sees it."""
        self.execute("SELECT pg_advisory_xact_lock(hashtext('atm schema ' || current_schema()))")
        self.has_schema = self.one(f"SELECT to_regclass('{MIGRATIONS_TABLE}') IS NOT NULL")

    def create_schema(self) -> None:
        """Every table, index, constraint and trigger of `atm.storage.schema`, in the current transaction."""
        from atm.storage.schema import create_statements

        self.execute(";\n".join(create_statements("postgresql")))  # no parameters: one round trip
        self.has_schema = True

    def set_schema_version(self, version: int) -> None:
        """The version is the atm_migrations table itself."""

    def size_bytes(self) -> int:
        """The space atm's tables (with their indexes) take in this schema."""
        return self.one("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = current_schema() AND c.relkind = 'r'")

    def server_version(self) -> str:
        return self.one("SHOW server_version")

    # --- statements ----------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] = ()):
        cursor = self.conn.cursor()
        try:
            if params:
                cursor.execute(pyformat(sql), params)
            else:
                cursor.execute(sql)  # no parameters: the text goes as it is, % and ? included
        except UnicodeEncodeError:
            raise _not_unicode() from None
        except psycopg.Error as exc:
            raise self._translate(exc) from None
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]):
        """Many rows in one pipeline. Inside a transaction a savepoint keeps the transaction usable when the
        database refuses a row (the caller may still ask which row it was)."""
        cursor = self.conn.cursor()
        savepoint = self.in_transaction
        try:
            if savepoint:
                self.conn.execute("SAVEPOINT atm_many")
            cursor.executemany(pyformat(sql), rows)
            if savepoint:
                self.conn.execute("RELEASE SAVEPOINT atm_many")
        except UnicodeEncodeError:
            self._back_to_savepoint(savepoint)
            raise _not_unicode() from None
        except psycopg.Error as exc:
            self._back_to_savepoint(savepoint)
            raise self._translate(exc) from None
        return cursor

    def _back_to_savepoint(self, savepoint: bool) -> None:
        if savepoint:
            try:
                self.conn.execute("ROLLBACK TO SAVEPOINT atm_many")
            except psycopg.Error:  # the connection itself failed: the whole transaction is gone anyway
                pass

    def executescript(self, sql: str) -> None:
        """Several statements inside the current transaction (no parameters)."""
        self.execute(sql)

    # --- whole tables (atm db copy) ------------------------------------------

    def columns(self, table: str) -> list[str]:
        return [r[0] for r in self.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? ORDER BY ordinal_position", (table,))]

    def stream(self, sql: str, batch: int, params: Sequence[Any] = ()) -> Iterator[tuple]:
        """The rows of a query through a server-side cursor (in the current transaction): `batch` at a time,
        never the whole result in memory. Each stream has a cursor of its own name, so two may be open."""
        self._streams += 1
        try:
            with self.conn.cursor(name=f"atm_stream_{self._streams}") as cursor:
                cursor.itersize = batch
                cursor.execute(pyformat(sql), params) if params else cursor.execute(sql)
                while rows := cursor.fetchmany(batch):
                    yield from rows
        except UnicodeEncodeError:
            raise _not_unicode() from None
        except psycopg.Error as exc:
            raise self._translate(exc) from None

    def restart_identity(self, table: str) -> None:
        """Rows copied in with their ids: the identity column continues after the highest."""
        for (column,) in self.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = ? AND is_identity = 'YES'", (table,)).fetchall():
            self.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                         f"coalesce(max({column}), 0) + 1, false) FROM {table}")

    def load_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Load rows with COPY (the fastest way in), inside the current transaction."""
        count = 0
        try:
            with self.conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        except UnicodeEncodeError:
            raise _not_unicode() from None
        except psycopg.Error as exc:
            raise self._translate(exc) from None
        return count

    # --- errors --------------------------------------------------------------

    def _translate(self, exc: BaseException) -> Exception:
        """Name a driver error the way a user can act on it (the same words as on SQLite where it is the same)."""
        if isinstance(exc, (StorageError, InvalidInput)):
            return exc
        state = getattr(exc, "sqlstate", None) or ""
        text = _first_line(exc)
        if state in ("55P03", "40P01", "40001"):  # lock_not_available, deadlock_detected, serialization_failure
            why = ("another atm process holds the write lock on what this command changes" if state == "55P03"
                   else "another atm process changed the same rows at the same time")
            return DatabaseLocked(f"the database {self.path} is busy: {why}; nothing of this step was kept; "
                                  "try again, or raise ATM_LOCK_TIMEOUT (seconds)")
        if state.startswith("23"):
            return ConstraintViolation(f"the database refused a change: {text}")
        if isinstance(exc, psycopg.DataError):
            return InvalidInput(f"the database refused a value: {text}")
        if isinstance(exc, psycopg.OperationalError) and not state:
            return StorageError(f"lost the connection to the database server of {self.path} ({text}); "
                                "nothing of the unfinished step was kept; run the command again")
        if state == "42501":
            return StorageError(f"the database {self.path} refused atm ({text}); the user in the URL needs "
                                "rights on the schema's tables")
        if state == "25006":
            return StorageError(f"the database {self.path} is read-only here ({text}); changing it needs a "
                                "writable server")
        return StorageError(f"database error on {self.path}: {text}")


def _first_line(exc: BaseException) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or str(exc) or exc.__class__.__name__
    return re.sub(r"\s+", " ", text.strip().splitlines()[0] if text.strip() else text)


