"""What differs between the two databases, as pure functions: placeholders, and URLs fit to print."""

import pytest

from atm.storage.database import is_server_url, redact_url
from atm.storage.dialect import POSTGRESQL, SQLITE, pyformat


@pytest.mark.parametrize("sql, expected", [
    ("SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = %s AND c = %s"),
    ("SELECT '?' , ? FROM t", "SELECT '?' , %s FROM t"),  # a quoted ? is text, not a parameter
    ("SELECT \"odd?name\" FROM t WHERE x = ?", "SELECT \"odd?name\" FROM t WHERE x = %s"),
    ("SELECT id FROM t WHERE id LIKE 'STAY%' AND n = ?", "SELECT id FROM t WHERE id LIKE 'STAY%%' AND n = %s"),
    ("lower(c) LIKE ? ESCAPE '\\'", "lower(c) LIKE %s ESCAPE '\\'"),
    ("SELECT 'it''s ?' , ?", "SELECT 'it''s ?' , %s"),
])
def test_placeholders_become_psycopgs_and_quoted_text_stays(sql, expected):
    assert pyformat(sql) == expected


@pytest.mark.parametrize("url, shown", [
    ("postgresql://atm:s3cret@db.example.com:5432/atm", "postgresql://atm:***@db.example.com:5432/atm"),
    ("postgresql://atm@db.example.com/atm", "postgresql://atm@db.example.com/atm"),
    ("postgresql://db.example.com/atm?password=s3cret&sslmode=require",
     "postgresql://db.example.com/atm?password=***&sslmode=require"),
    ("postgres://a:b:c@h/d", "postgres://a:***@h/d"),
    ("/home/me/atm.db", "/home/me/atm.db"),
])
def test_a_printed_database_url_never_shows_a_password(url, shown):
    assert redact_url(url) == shown


def test_only_postgresql_urls_name_a_server():
    assert is_server_url("postgresql://h/d") and is_server_url("POSTGRES://h/d")
    assert is_server_url("postgresql+psycopg://h/d")
    assert not is_server_url("sqlite:///x.db") and not is_server_url("postgresql.db")
    assert not is_server_url("/tmp/postgresql://odd")


def test_each_database_says_how_it_locks_and_what_it_can_see():
    assert SQLITE.lock_rows("SELECT 1") is None  # the write transaction holds the whole file
    assert POSTGRESQL.lock_rows("SELECT id FROM t ORDER BY id") == "SELECT id FROM t ORDER BY id FOR UPDATE"
    assert SQLITE.sees_outside_writes and not POSTGRESQL.sees_outside_writes
    assert "ON COMMIT DROP" in POSTGRESQL.temp_table("x", "a INTEGER")
    assert POSTGRESQL.temp_index("i", "x", "a") == "CREATE INDEX IF NOT EXISTS i ON x (a)"
    assert SQLITE.temp_index("i", "x", "a") == "CREATE INDEX IF NOT EXISTS temp.i ON x (a)"
