"""Which database atm uses, and copying a whole one to another (an SQLite file to a team server, or back)."""

from __future__ import annotations

from dataclasses import dataclass

from atm.domain.errors import InvalidInput
from atm.services.unit_of_work import UnitOfWork
from atm.storage.copy import Progress, TargetNotEmpty, copy_rows, row_counts
from atm.storage.database import open_database, redact_url
from atm.storage.migrations import current_version, ensure_schema, latest_version

BACKENDS = {"sqlite": "SQLite file", "postgresql": "PostgreSQL server"}


@dataclass(frozen=True)
class DatabaseInfo:
    database: str  # the path or the URL, never a password
    backend: str
    server_version: str
    schema_version: int
    latest_schema_version: int
    size_bytes: int
    counts: dict[str, int]

    def as_dict(self) -> dict:
        return dict(self.__dict__, counts=dict(self.counts))


def database_info(uow: UnitOfWork) -> DatabaseInfo:
    """The database in use: what it is, its schema version, its size and how much it holds."""
    db = uow.db
    with uow.read():
        return DatabaseInfo(
            database=redact_url(db.path), backend=db.dialect.name, server_version=db.server_version(),
            schema_version=current_version(db), latest_schema_version=latest_version(), size_bytes=db.size_bytes(),
            counts=row_counts(db, ("users", "accounts", "assets", "transactions", "notifications")),
        )


@dataclass(frozen=True)
class CopyResult:
    source: str
    target: str
    rows: dict[str, int]

    def as_dict(self) -> dict:
        return {"source": self.source, "target": self.target, "rows": dict(self.rows)}


def copy_database(source: str, target: str, *, progress: Progress | None = None) -> CopyResult:
    """Copy every row of the database `source` into `target` (created when it is a new SQLite file), all or
    nothing. A target that holds anything is refused: copying never merges two databases."""
    if _same(source, target):
        raise InvalidInput(f"--to names the database being copied ({redact_url(target)}); name another one")
    src = open_database(source)
    try:
        ensure_schema(src)
        dst = open_database(target, create=True)
        try:
            ensure_schema(dst)
            try:
                rows = copy_rows(src, dst, progress=progress)
            except TargetNotEmpty as exc:
                held = ", ".join(f"{n:,} {table}" for table, n in exc.counts.items())
                raise InvalidInput(f"the target {dst.path} is not empty ({held}); atm db copy only fills an empty "
                                   "database: name a new file, or an empty database or schema") from None
        except BaseException:
            dst.discard()  # a file this copy created goes again; a server database keeps only its empty tables
            raise
        finally:
            dst.close()
    finally:
        src.close()
    return CopyResult(redact_url(src.path), redact_url(dst.path), rows)


def _same(source: str, target: str) -> bool:
    from pathlib import Path

    from atm.storage.database import is_server_url, sqlite_path

    if is_server_url(source) or is_server_url(target):
        return source.strip() == target.strip()
    try:
        return Path(sqlite_path(source)).resolve() == Path(sqlite_path(target)).resolve()
    except OSError:
        return False
