"""Copy every row of one atm database into another, empty one (an SQLite file to a server, or back).

Both databases are at the same schema version (opening them applies the migrations), so their tables and
columns are the same. The source is read in one snapshot, streamed in batches (never whole tables in memory);
the target is written in one transaction -- COPY on PostgreSQL, executemany on SQLite -- so a failure or an
interrupt leaves it as empty as it was.
"""

from __future__ import annotations

from typing import Callable, Sequence

from atm.storage.database import Database

# Every table, each after the tables its immediate foreign keys refer to. The schema version table is the
# target's own (both are at the same version). A test holds this list to the schema declaration.
TABLES = ("users", "accounts", "virtual_accounts", "roles", "assets", "minor_lines", "transactions",
          "transaction_items", "consents", "events", "notifications")
BATCH = 10_000
Progress = Callable[[int, int], None]


class TargetNotEmpty(Exception):
    """The target already holds rows: copying would mix two databases."""

    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__(counts)
        self.counts = counts


def row_counts(db: Database, tables: Sequence[str] = TABLES) -> dict[str, int]:
    """Rows in each of `tables` (atm's own names only: they go into the SQL as they are)."""
    return {table: db.one(f"SELECT count(*) FROM {table}") for table in tables}


def nonempty_tables(db: Database) -> dict[str, int]:
    return {table: n for table, n in row_counts(db).items() if n}


def copy_rows(source: Database, target: Database, *, progress: Progress | None = None) -> dict[str, int]:
    """Copy every table; returns how many rows each got. Raises TargetNotEmpty (nothing written) when the
    target holds any row. The caller owns nothing open: this runs and ends both transactions."""
    copied: dict[str, int] = {}
    with source.transaction(write=False):
        counts = row_counts(source)
        total, done = sum(counts.values()), 0
        target.tune_for_bulk_load()
        with target.transaction(write=True):
            found = nonempty_tables(target)
            if found:
                raise TargetNotEmpty(found)
            for table in TABLES:
                columns = target.columns(table)
                rows = source.stream(f"SELECT {', '.join(columns)} FROM {table}", BATCH)

                def counted(rows=rows):
                    for i, row in enumerate(rows, start=1):
                        yield row
                        if progress is not None and i % BATCH == 0:
                            progress(done + i, total)

                copied[table] = target.load_rows(table, columns, counted())
                done += copied[table]
                target.restart_identity(table)
                if progress is not None:
                    progress(done, total)
    return copied
