"""The SQL that differs between the databases gives the same results (PostgreSQL leg): JSON built by the
database is the same text on both, byte for byte, whatever the value holds."""

import sqlite3

import pytest

from atm.storage.dialect import POSTGRESQL, SQLITE

pytestmark = pytest.mark.postgres_only

VALUES = ["plain", None, 'quo"te', "back\\slash", "tab\tnl\n", "ctl\x01\x1f", "日本語", "é", "\u2028", "/", "\x7f",
          "", "{\"not\": \"json\"}"]


@pytest.mark.parametrize("value", VALUES, ids=[repr(v) for v in VALUES])
def test_a_json_object_built_by_either_database_is_the_same_text(uow, value):
    sqlite_text = sqlite3.connect(":memory:").execute(
        f"SELECT {SQLITE.json_object(('k', '?'), ('n', '?'))}", (value, 7)).fetchone()[0]
    server_text = uow.db.one(f"SELECT {POSTGRESQL.json_object(('k', 'CAST(? AS text)'), ('n', 'CAST(? AS int)'))}",
                             (value, 7))
    assert server_text == sqlite_text
