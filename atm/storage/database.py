"""Open the atm database and run SQL in bounded, explicit transactions.

SQLite (the standard library driver) is the default store. Every write runs
under `BEGIN IMMEDIATE`: the write lock is taken before anything that will be
written is read, so two processes never act on the same stale view. A process
that cannot get the lock within the busy timeout fails with `DatabaseLocked`.

Why not SQLAlchemy/SQLModel: importing SQLAlchemy costs ~0.25 s per process,
more than the whole of `atm --help`; with it a one-row `atm assets list`
took 2.6x `--help` against a target of 2x (see README, "Design notes"). The
SQL here keeps to what SQLite and PostgreSQL share; a PostgreSQL server is
`atm.storage.postgres.PostgresDatabase` (loaded only for a postgresql:// URL),
and the few spots that differ ask the `Dialect` each database carries.
"""

from __future__ import annotations

import math
import os
import re
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from atm.domain.errors import InvalidInput
from atm.storage.dialect import SQLITE
from atm.storage.errors import (
    ConstraintViolation, DatabaseCorrupt, DatabaseLocked, DatabaseMissing, ForeignDatabase, StorageError, UnsupportedDatabase,
)

APPLICATION_ID = 0x41544D31  # "ATM1" in the SQLite header marks a file as ours
SQLITE_MAGIC = b"SQLite format 3\x00"
DEFAULT_LOCK_TIMEOUT = 15.0
MAX_LOCK_TIMEOUT = 3600.0
BULK_CACHE_KIB = 128 * 1024  # a first load keeps only primary keys up to date; memory stays under 500 MB at 1M
# Pages a writing connection may keep (SQLite's default is 2 MiB). A million-item request or submit updates an
# index of a million assets in no useful order (R5's one-active-item-per-asset index); with the default cache
# its pages are spilled and read back, which made a 1M transfer grow 11x-11.4x a 100k one. Measured at 1M:
# booking the items 3.3 s -> 2.5 s, releasing them 1.5 s -> 0.9 s, peak memory 172 / 128 MiB. A connection
# takes it at its first write: a command that only reads (a listing, an export) keeps SQLite's default.
WRITE_CACHE_KIB = 64 * 1024


def lock_timeout() -> float:
    """Seconds a process waits for the write lock (`ATM_LOCK_TIMEOUT`)."""
    raw = os.environ.get("ATM_LOCK_TIMEOUT")
    if not raw:
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 <= value <= MAX_LOCK_TIMEOUT:
        raise InvalidInput(f"ATM_LOCK_TIMEOUT must be seconds from 0 to {MAX_LOCK_TIMEOUT:g}, got {raw!r}")
    return value


def sqlite_path(target: str) -> str:
    """The file path behind a `--db` value: a plain path or a `sqlite:///` URL."""
    if "://" not in target:
        return target
    scheme, _, rest = target.partition("://")
    if scheme.lower() not in ("sqlite", "sqlite3"):
        raise UnsupportedDatabase(
            f"database URL scheme {scheme!r} is not supported; use a file path, sqlite:///PATH or "
            "postgresql://USER@HOST/DATABASE"
        )
    return rest[1:] if rest.startswith("/") else rest


SERVER_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def is_server_url(target: str) -> bool:
    return "://" in target and target.partition("://")[0].lower() in SERVER_SCHEMES


def open_database(target: str, *, create: bool = False):
    """The database a `--db` value names: an SQLite file (a path or sqlite:///PATH), or a PostgreSQL server
    (postgresql://...), whose driver is imported only then."""
    if is_server_url(target):
        from atm.storage.postgres import PostgresDatabase

        return PostgresDatabase(target, create=create)
    return Database(sqlite_path(target), create=create)


def redact_url(target: str) -> str:
    """A database URL fit to print: any password (in the user part or a password= option) is replaced."""
    if "://" not in target:
        return target
    scheme, _, rest = target.partition("://")
    authority, slash, tail = rest.partition("/")
    user, at, host = authority.rpartition("@")
    if at and ":" in user:
        authority = f"{user.split(':', 1)[0]}:***@{host}"
    tail = re.sub(r"(?i)(\bpassword=)[^&]*", r"\1***", tail)
    return f"{scheme}://{authority}{slash}{tail}"


def translate(exc: sqlite3.Error, where: str) -> StorageError:
    """Name a driver error the way a user can act on it."""
    text = str(exc)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return DatabaseLocked(
            f"the database {where} is busy: another atm process holds the write lock; "
            "try again, or raise ATM_LOCK_TIMEOUT (seconds)"
        )
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return DatabaseCorrupt(f"the database {where} is corrupt ({text}); restore it from a backup")
    if "readonly" in lowered or "read-only" in lowered:
        return StorageError(f"the database {where} is read-only here: atm can read it, but changing it needs a "
                            "writable copy (pass --db COPY)")
    if "unable to open" in lowered:
        return StorageError(f"cannot open the database {where} ({text})")
    return StorageError(f"database error on {where}: {text}")


class Transactional:
    """What both stores share, over their own execute, begin, commit and rollback."""

    def one(self, sql: str, params: Sequence[Any] | dict = ()) -> Any:
        """The first column of the first row, or None."""
        row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator["Transactional"]:
        """Run the block in one transaction; an exception rolls it back."""
        self.begin(write=write)
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        self.commit()


class Database(Transactional):
    """One connection to an atm database file."""

    dialect = SQLITE

    def __init__(self, path: str, *, create: bool = False) -> None:
        self.path = path
        self.writing = False  # inside a write transaction (the repositories lock rows only on a server)
        self.cache_kib = 0  # SQLite's default page cache until a write or a bulk load asks for more
        self.created: list[Path] = []  # what opening made (folders, the file), removed again by `discard`
        if not path:
            raise InvalidInput("--db / ATM_DB is empty; name a database file")
        if path == ":memory:" or path.startswith("file::memory:"):
            raise InvalidInput("--db :memory: would keep nothing: every atm command is a process of its own; "
                               "name a database file")
        try:
            self.read_only = self._prepare_file(path, create=create)
        except OSError as exc:
            self.discard()
            raise StorageError(f"cannot use {path} as the database: {exc.strerror or exc}") from None
        timeout = lock_timeout()
        try:
            if self.read_only:
                # A file nobody may write here (a read-only filesystem, a read-only copy) can still be read.
                mode = "immutable=1" if not os.access(Path(path).parent, os.W_OK) else "mode=ro"
                self.conn = sqlite3.connect(f"{Path(path).absolute().as_uri()}?{mode}", uri=True, timeout=timeout,
                                            isolation_level=None, check_same_thread=False)
            else:
                self.conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
            self.conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            app_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
            if app_id != APPLICATION_ID:
                tables = self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if tables:
                    raise ForeignDatabase(
                        f"{path} is an SQLite database of another program, not an atm database; "
                        "choose another --db"
                    )
            if not self.read_only and self.conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            self.discard()
            raise translate(exc, path) from None
        except StorageError:
            self.discard()
            raise

    def _prepare_file(self, path: str, *, create: bool) -> bool:
        """Check the file (creating its folder when asked); True when it may only be read."""
        file = Path(path)
        if not file.exists():
            if not create:
                raise DatabaseMissing(f"no atm database at {path}; run 'atm init' first (or pass --db / set ATM_DB)")
            missing = [p for p in reversed(file.absolute().parents) if not p.exists()]
            file.parent.mkdir(parents=True, exist_ok=True)
            self.created = missing + [file]
            return False
        if file.is_dir():
            raise StorageError(f"{path} is a directory, not a database file")
        self._check_header(file)
        return not os.access(file, os.W_OK) or not os.access(file.parent, os.W_OK)

    def discard(self) -> None:
        """Remove what opening created, after a refused command: it leaves no new file or folder behind."""
        if not self.created:
            return
        conn = getattr(self, "conn", None)
        if conn is not None:
            conn.close()
        file = self.created[-1]
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{file}{suffix}").unlink(missing_ok=True)
        for folder in reversed(self.created[:-1]):
            try:
                folder.rmdir()
            except OSError:
                break  # something else was put there meanwhile
        self.created = []

    @staticmethod
    def _check_header(file: Path) -> None:
        with file.open("rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
        if head and head != SQLITE_MAGIC:
            raise DatabaseCorrupt(f"{file} is not an atm database (not an SQLite file, or corrupt)")

    def close(self) -> None:
        self.conn.close()

    # --- transactions --------------------------------------------------------

    def begin(self, *, write: bool) -> None:
        """Start a transaction; a write takes the lock first (BEGIN IMMEDIATE), waiting a bounded time."""
        try:
            if write and self.cache_kib < WRITE_CACHE_KIB:
                self.cache(WRITE_CACHE_KIB)
            self.conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from None
        self.writing = write

    def commit(self) -> None:
        self.writing = False
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self.rollback()
            raise translate(exc, self.path) from None

    def rollback(self) -> None:
        self.writing = False
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the driver already rolled back (e.g. after a failed COMMIT)

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def data_version(self) -> int | None:
        """Changes when another connection commits (never for this one's own commits); None: unknown."""
        return self.one("PRAGMA data_version")

    def secondary_indexes(self, table: str) -> list[tuple[str, str]]:
        """(name, CREATE statement) of the indexes of `table` other than its primary key."""
        return self.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                            "AND sql IS NOT NULL ORDER BY name", (table,)).fetchall()

    def tune_for_bulk_load(self) -> None:
        """For one big import transaction: a larger page cache, and statement journals and sorts in memory rather
        than temporary files (measured 2x faster bulk import). Other commands keep them in files, so a statement
        over a million rows (releasing a transaction's items) never holds its journal in the process's memory."""
        self.cache(BULK_CACHE_KIB)
        self.execute("PRAGMA temp_store = MEMORY")

    def cache(self, kib: int) -> None:
        """Let this connection keep up to `kib` KiB of pages (taken only as pages are read)."""
        self.conn.execute(f"PRAGMA cache_size = -{int(kib)}")
        self.cache_kib = kib

    # --- schema --------------------------------------------------------------

    def schema_version(self) -> int:
        """The number of migrations applied, kept in the SQLite header: one cheap read per process."""
        return self.one("PRAGMA user_version")

    def set_schema_version(self, version: int) -> None:
        self.execute(f"PRAGMA user_version = {int(version)}")

    def lock_schema(self) -> None:
        """BEGIN IMMEDIATE already holds the whole file: no other process migrates meanwhile."""

    def size_bytes(self) -> int:
        """The file and its write-ahead log."""
        return sum(Path(f"{self.path}{suffix}").stat().st_size for suffix in ("", "-wal")
                   if Path(f"{self.path}{suffix}").exists())

    def server_version(self) -> str:
        return sqlite3.sqlite_version

    # --- whole tables (atm db copy) ------------------------------------------

    def columns(self, table: str) -> list[str]:
        return [row[1] for row in self.execute(f"PRAGMA table_info({table})")]

    def stream(self, sql: str, batch: int, params: Sequence[Any] = ()) -> Iterator[tuple]:
        """The rows of a query, read `batch` at a time."""
        cursor = self.execute(sql, params)
        while rows := cursor.fetchmany(batch):
            yield from rows

    def load_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        return self.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders(len(columns))})",
                                rows).rowcount

    def restart_identity(self, table: str) -> None:
        """Nothing to do: AUTOINCREMENT keeps its counter past the highest id inserted."""

    # --- statements ----------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] | dict = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, params)
        except UnicodeEncodeError:
            raise _not_unicode() from None
        except sqlite3.IntegrityError as exc:
            raise ConstraintViolation(f"the database refused a change: {exc}") from None
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from None

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        try:
            return self.conn.executemany(sql, rows)
        except UnicodeEncodeError:
            raise _not_unicode() from None
        except sqlite3.IntegrityError as exc:
            raise ConstraintViolation(f"the database refused a change: {exc}") from None
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from None

    def executescript(self, sql: str) -> None:
        """Run several statements inside the current transaction."""
        for statement in split_statements(sql):
            self.execute(statement)


def _not_unicode() -> InvalidInput:
    # A lone surrogate: bytes that were not UTF-8 in an argument, or an escaped one in a file.
    return InvalidInput("some text given is not valid Unicode (undecodable bytes in an argument or a file)")


def split_statements(sql: str) -> list[str]:
    """Split a DDL script into statements (a trigger's body keeps its inner semicolons)."""
    statements: list[str] = []
    pending = ""
    for part in sql.split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                statements.append(pending.strip())
            pending = ""
    if pending.strip(" \n;"):
        statements.append(pending.strip().rstrip(";"))
    return statements


def contains_pattern(text: str) -> str:
    """A lower-case LIKE pattern (with ESCAPE '\\') matching `text` literally anywhere: % and _ are not wildcards."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def placeholders(n: int) -> str:
    return ",".join("?" * n)
