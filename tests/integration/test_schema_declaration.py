"""One declaration of the schema: the SQLite file the numbered migrations build is the schema the SQLModel
classes of atm/storage/schema.py declare (from which a PostgreSQL database is created), so the two never drift.

Compared table by table: columns (name, type affinity, nullability, primary key position, default), indexes
(name, uniqueness, columns or expressions, partial WHERE), foreign keys (columns, referred table and columns,
ON DELETE), CHECK constraints, AUTOINCREMENT and triggers.
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from atm.storage.database import Database
from atm.storage.migrations import ensure_schema

schema = pytest.importorskip("atm.storage.schema")


def affinity(declared: str) -> str:
    """SQLite's type affinity of a declared column type (its documented rules, in order)."""
    t = declared.upper()
    if "INT" in t:
        return "INTEGER"
    if any(k in t for k in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if not t or "BLOB" in t:
        return "BLOB"
    if any(k in t for k in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def normal(sql: str | None) -> str | None:
    """SQL text compared without case, quotes or spacing."""
    if sql is None:
        return None
    text = re.sub(r"\s+", " ", sql.replace('"', "")).strip().lower()
    return re.sub(r"\s*([(),=])\s*", r"\1", text)


def balanced(text: str, start: int) -> tuple[str, int]:
    """The text inside the parenthesis opening at `start`, and the index after its closing one."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[start + 1:i], i + 1
    raise ValueError(text)


def split_top(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return parts + [current]


def parse_index(sql: str) -> tuple:
    """(unique, table, columns or expressions, WHERE) of a CREATE INDEX statement."""
    m = re.match(r"\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?\"?(\w+)\"?\s+ON\s+\"?(\w+)\"?\s*",
                 sql, re.I)
    inside, end = balanced(sql, m.end())
    rest = sql[end:].strip()
    where = re.sub(r"(?i)^WHERE\s+", "", rest) if rest else None
    return bool(m.group(1)), m.group(3), tuple(normal(c) for c in split_top(inside)), normal(where)


def checks_in(create_table_sql: str) -> set[str]:
    out = set()
    for m in re.finditer(r"\bCHECK\s*\(", create_table_sql, re.I):
        inside, _ = balanced(create_table_sql, m.end() - 1)
        out.add(normal(inside))
    return out


# --- the two sides ------------------------------------------------------------------------------------------


def migrated_sqlite(path) -> dict:
    db = Database(str(path), create=True)
    ensure_schema(db)
    db.close()
    conn = sqlite3.connect(path)
    try:
        out: dict = {"tables": {}, "triggers": set()}
        for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                                      "AND name NOT LIKE 'sqlite_%'"):
            columns = {
                col: (affinity(ctype), bool(notnull) or pk > 0, pk, default)
                for _, col, ctype, notnull, default, pk in conn.execute(f"PRAGMA table_info({name})")
            }
            fks: dict[int, list] = {}
            for fid, _, ref, frm, to, _, on_delete, _ in conn.execute(f"PRAGMA foreign_key_list({name})"):
                fks.setdefault(fid, [ref, [], [], on_delete])
                fks[fid][1].append(frm)
                fks[fid][2].append(to)
            indexes = {
                iname: parse_index(isql)
                for iname, isql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                                "AND tbl_name = ? AND sql IS NOT NULL", (name,))
            }
            out["tables"][name] = {
                "columns": columns,
                "foreign_keys": {(tuple(f), r, tuple(t), d.upper()) for r, f, t, d in fks.values()},
                "indexes": indexes,
                "checks": checks_in(sql),
                "autoincrement": "AUTOINCREMENT" in sql.upper(),
            }
        out["triggers"] = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        return out
    finally:
        conn.close()


def declared() -> dict:
    from sqlalchemy import CheckConstraint
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    out: dict = {"tables": {}, "triggers": {name for name, (sqlite_sql, _) in schema.TRIGGERS.items() if sqlite_sql}}
    for table in schema.tables():
        pk = [c.name for c in table.primary_key.columns]
        columns = {}
        for c in table.columns:
            default = getattr(getattr(c.server_default, "arg", None), "text", None)  # an identity has none
            columns[c.name] = (affinity(c.type.compile(dialect=dialect)), not c.nullable or c.name in pk,
                               pk.index(c.name) + 1 if c.name in pk else 0, default)
        foreign_keys = {
            (tuple(e.parent.name for e in fk.elements), fk.referred_table.name,
             tuple(e.column.name for e in fk.elements), (fk.ondelete or "NO ACTION").upper())
            for fk in table.foreign_key_constraints
        }
        out["tables"][table.name] = {
            "columns": columns,
            "foreign_keys": foreign_keys,
            "indexes": {i.name: parse_index(schema.index_statement(i, "sqlite")) for i in table.indexes},
            "checks": {normal(str(c.sqltext)) for c in table.constraints if isinstance(c, CheckConstraint)},
            "autoincrement": bool(table.dialect_options["sqlite"].get("autoincrement")),
        }
    return out


# --- the comparison -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    return migrated_sqlite(tmp_path_factory.mktemp("declared") / "atm.db"), declared()


def test_the_migrations_and_the_declaration_have_the_same_tables(both):
    migrated, decl = both
    assert sorted(migrated["tables"]) == sorted(decl["tables"])


@pytest.mark.parametrize("part", ["columns", "foreign_keys", "indexes", "checks", "autoincrement"])
def test_every_table_is_declared_as_the_migrations_build_it(both, part):
    migrated, decl = both
    for table in sorted(decl["tables"]):
        assert migrated["tables"][table][part] == decl["tables"][table][part], (table, part)


def test_the_audit_triggers_are_declared(both):
    migrated, decl = both
    assert migrated["triggers"] == decl["triggers"] == {"events_never_updated", "events_never_deleted"}


def test_the_declaration_holds_the_partial_and_expression_indexes():
    """The indexes the rules lean on, spelled out: the comparison above could not miss them silently."""
    decl = declared()["tables"]
    assert decl["transaction_items"]["indexes"]["ux_items_active_asset"] == (True, "transaction_items",
                                                                             ("asset_id",), "active=1")
    assert decl["assets"]["indexes"]["ux_assets_order_line"][3] == "kind='license'"
    assert decl["assets"]["indexes"]["ix_assets_pak_any_case"][2] == ("lower(pak)",)


def test_a_difference_would_be_seen(both, tmp_path):
    """The comparison can fail: a migrated file with one column, one index and one WHERE changed differs."""
    path = tmp_path / "drift.db"
    db = Database(str(path), create=True)
    ensure_schema(db)
    db.executescript("DROP INDEX ux_items_active_asset; CREATE UNIQUE INDEX ux_items_active_asset ON "
                     "transaction_items (asset_id) WHERE active = 0; ALTER TABLE users ADD COLUMN extra TEXT")
    db.close()
    drift = migrated_sqlite(path)
    _, decl = both
    assert drift["tables"]["transaction_items"]["indexes"] != decl["tables"]["transaction_items"]["indexes"]
    assert drift["tables"]["users"]["columns"] != decl["tables"]["users"]["columns"]


def test_the_copy_order_names_every_declared_table():
    from atm.storage.copy import TABLES

    assert set(TABLES) | {"atm_migrations"} == {t.name for t in schema.tables()}
    names = list(TABLES)
    for table in schema.tables():  # each table after those its foreign keys refer to
        for fk in table.foreign_key_constraints:
            if table.name in names:
                assert names.index(fk.referred_table.name) < names.index(table.name), (table.name, fk)
