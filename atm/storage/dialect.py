"""What differs between SQLite and PostgreSQL, in one small place.

The repositories write their SQL once, with `?` placeholders and the SQL both databases share. The few spots
that differ ask the `Dialect` the database carries: JSON built by the database, temporary tables, row locks,
whether outside writes can be detected cheaply, and how a text column is declared.

Pure Python: importing this never loads a database driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Dialect:
    name: str
    # PostgreSQL locks rows (SELECT ... FOR UPDATE); SQLite's BEGIN IMMEDIATE already holds the whole database.
    row_locks: bool
    # SQLite's PRAGMA data_version tells whether another connection committed; PostgreSQL has no cheap
    # equivalent, so there every chunk of a transfer re-checks its assets (R12).
    sees_outside_writes: bool
    # A text column in DDL written by hand (temporary tables, migrations). PostgreSQL compares and sorts text
    # byte by byte, as SQLite does, and lower() folds ASCII only, as SQLite's does: the C collation.
    text: str

    def json_object(self, *pairs: tuple[str, str]) -> str:
        """An SQL expression building a compact JSON object from (key, SQL text expression) pairs, keys in
        order: the same text on both databases."""
        if self.name == "sqlite":
            return "json_object(" + ", ".join(f"'{key}', {expr}" for key, expr in pairs) + ")"
        # json_build_object would write `"key" : value`; this writes SQLite's `{"key":value,...}`.
        parts = [f"'{'{' if i == 0 else ','}\"{key}\":' || coalesce(to_json({expr})::text, 'null')"
                 for i, (key, expr) in enumerate(pairs)]
        return "(" + " || ".join(parts) + " || '}')"

    def lock_rows(self, select: str) -> str | None:
        """`select` made to lock the rows it returns (in its ORDER BY order), or None where the database lock
        taken by the write transaction already covers them."""
        return f"{select} FOR UPDATE" if self.row_locks else None

    def temp_table(self, name: str, columns: str) -> str:
        """Create a temporary table of this connection that is gone once the database transaction ends."""
        if self.name == "postgresql":
            return f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns}) ON COMMIT DROP"
        return f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns})"

    def temp_index(self, name: str, table: str, columns: str) -> str:
        # SQLite names the schema of a temporary table's index; PostgreSQL puts it beside its table.
        prefix = "temp." if self.name == "sqlite" else ""
        return f"CREATE INDEX IF NOT EXISTS {prefix}{name} ON {table} ({columns})"


SQLITE = Dialect(name="sqlite", row_locks=False, sees_outside_writes=True, text="TEXT")
POSTGRESQL = Dialect(name="postgresql", row_locks=True, sees_outside_writes=False, text='TEXT COLLATE "C"')


@lru_cache(maxsize=512)
def pyformat(sql: str) -> str:
    """`?` placeholders as psycopg's `%s`; a literal `%` doubled. A `?` inside a quoted string or identifier
    stays as it is (psycopg reads every `%` in the text, quoted or not)."""
    out: list[str] = []
    quote: str | None = None
    for ch in sql:
        if quote is not None:
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
        elif ch == "?":
            out.append("%s")
            continue
        out.append("%%" if ch == "%" else ch)
    return "".join(out)
