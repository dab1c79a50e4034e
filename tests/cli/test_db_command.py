"""`atm db info` and `atm db copy`: which database is in use, and a whole database copied to another (an SQLite
file to a server, or back), all or nothing, never into one that holds data.

On the PostgreSQL leg ATM_DB is a server schema, so the copies below go from the server to a file and back;
on the SQLite leg they go from file to file.
"""

from __future__ import annotations

import json
import os

import pytest

from atm.storage.migrations import latest_version
from tests import backends
from tests.conftest import PARTNER, TARO, write_json


@pytest.fixture
def busy_db(cli, sample_db, tmp_path):
    """The sample after some work: a completed transfer, a cross-company one waiting, events, notifications."""
    done = cli.json("request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va", "DEFAULT",
                    "--same-company", "yes", "--asset", "SO12345678-1", "--asset", "FCW2245L0CS", user=TARO)
    assert cli("submit", done["transaction_id"], "--yes", user=TARO).exit_code == 0
    form = write_json(tmp_path / "form.json", {"reason": "sold", "transferor_contact_email": TARO,
                                               "transferee_contact_email": "john.smith@globex.com"})
    waiting = cli.json("request", "--from", "acme.co.jp", "--to", "globex.com", "--to-va", "DEFAULT",
                       "--same-company", "no", "--asset", "SO12345678-3", "--form", str(form), user=PARTNER)
    assert cli("submit", waiting["transaction_id"], "--yes", user=PARTNER).exit_code == 0
    return sample_db


def test_db_info_names_the_database_its_schema_and_size(cli, busy_db):
    info = cli.json("db", "info")
    assert info["database"] == os.environ["ATM_DB"]
    assert info["backend"] == backends.LEG
    assert info["schema_version"] == info["latest_schema_version"] == latest_version()
    assert info["size_bytes"] > 0
    assert info["counts"]["transactions"] == 2 and info["counts"]["assets"] == 540
    text = cli("db", "info")
    assert text.exit_code == 0 and f"version {latest_version()}" in text.stdout


@pytest.mark.postgres_only
def test_db_info_never_shows_a_password(cli, busy_db):
    url = os.environ["ATM_DB"].replace("://root@", "://root:hunter2@")
    for args in (["db", "info"], ["db", "info", "--json"]):
        result = cli("--db", url, *args)
        assert result.exit_code == 0, result.output
        assert "hunter2" not in result.output and "root:***@" in result.output


def test_a_whole_database_is_copied_to_a_new_file_and_back_row_for_row(cli, busy_db, tmp_path, run_atm):
    original = backends.table_rows()
    to_file = tmp_path / "copy.db"
    result = cli("db", "copy", "--to", str(to_file))
    assert result.exit_code == 0, result.output
    assert "Copied" in result.stderr and "540 assets" in result.stderr
    assert backends.table_rows(to_file) == original
    # ... and from that file into a new, empty database of the leg's kind (a server schema, or a file).
    (tmp_path / "back").mkdir()
    back = backends.fresh_target(tmp_path / "back")
    try:
        copied = cli.json("db", "copy", "--from", str(to_file), "--to", back)
        assert copied["rows"]["assets"] == 540 and copied["rows"]["transactions"] == 2
        assert backends.table_rows(back) == original
        # The copy is a working database: new events and notifications take new ids after the copied ones.
        txn = json.loads(run_atm("--db", back, "--as", TARO, "status", "--json").stdout)[0]["transaction_id"]
        assert txn
        made = run_atm("--db", back, "--as", TARO, "request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp",
                       "--to-va", "DEFAULT", "--same-company", "yes", "--asset", "SO12345678-2", "--json")
        assert made.returncode == 0, made.stderr
        new = json.loads(made.stdout)["transaction_id"]
        assert run_atm("--db", back, "--as", TARO, "submit", new, "--yes").returncode == 0
        rows = backends.table_rows(back)
        assert len(rows["events"]) == len(original["events"]) + 6
        assert len({r[0] for r in rows["events"]}) == len(rows["events"])
        assert len(rows["notifications"]) == len(original["notifications"]) + 1
    finally:
        backends.drop_target(back)


def test_a_target_that_holds_data_is_refused_and_left_as_it_was(cli, busy_db, tmp_path):
    other = tmp_path / "other.db"
    assert cli("--db", str(other), "init", "--sample").exit_code == 0
    before = backends.table_rows(other)
    result = cli("db", "copy", "--to", str(other))
    assert result.exit_code == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith("Error: the target") and "not empty" in first and "540 assets" in first
    assert backends.table_rows(other) == before


def test_copying_a_database_onto_itself_is_refused(cli, busy_db):
    result = cli("db", "copy", "--to", os.environ["ATM_DB"])
    assert result.exit_code == 2 and "being copied" in result.stderr


def test_a_copy_that_fails_half_way_leaves_no_new_file(busy_db, tmp_path):
    from atm.services.databases import copy_database

    class Broken(Exception):
        pass

    calls = []

    def fail_after_the_assets(done, total):
        calls.append(done)
        if done > 600:  # users, accounts, VAs, roles and the 540 assets are in; then it breaks
            raise Broken()

    target = tmp_path / "half.db"
    with pytest.raises(Broken):
        copy_database(os.environ["ATM_DB"], str(target), progress=fail_after_the_assets)
    assert calls and not target.exists() and not (tmp_path / "half.db-wal").exists()


@pytest.mark.postgres_only
def test_a_copy_to_a_server_that_fails_half_way_leaves_it_empty(busy_db, tmp_path, cli):
    from atm.services.databases import copy_database

    source = tmp_path / "source.db"
    assert cli("db", "copy", "--to", str(source)).exit_code == 0
    target = backends.fresh_target(tmp_path)

    def interrupt(done, total):
        if done > 600:
            raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            copy_database(str(source), target, progress=interrupt)
        assert {t: len(r) for t, r in backends.table_rows(target).items()} == dict.fromkeys(backends.ATM_TABLES, 0)
        # Empty as it was: a copy can go there now.
        assert cli("db", "copy", "--from", str(source), "--to", target).exit_code == 0
        assert backends.table_rows(target) == backends.table_rows(source)
    finally:
        backends.drop_target(target)


def test_a_copy_from_a_missing_database_is_refused(cli, tmp_path):
    result = cli("db", "copy", "--from", str(tmp_path / "none.db"), "--to", str(tmp_path / "new.db"))
    assert result.exit_code == 5 and "atm init" in result.stderr
    assert not (tmp_path / "new.db").exists() and not (tmp_path / "none.db").exists()


def test_a_server_that_does_not_answer_is_exit_5_and_says_so(run_atm):
    from tests.mailserver import free_port

    url = f"postgresql://atm:hunter2@127.0.0.1:{free_port()}/atm"
    result = run_atm("--db", url, "--as", TARO, "accounts", "list")
    assert result.returncode == 5 and "Traceback" not in result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith("Error: cannot reach the database server") and "atm:***@" in first
    assert "hunter2" not in result.stderr


@pytest.mark.parametrize("suffix, code, words", [
    ("?bogus=1", 2, 'invalid connection option "bogus"'),
    ("?options=-csearch_path%3Dno_such_schema", 5, "names no schema that exists"),
])
@pytest.mark.postgres_only
def test_a_server_url_with_a_mistake_is_named(run_atm, suffix, code, words):
    base = os.environ["ATM_DB"].partition("?")[0]
    result = run_atm("--db", base + suffix, "init")
    assert result.returncode == code and words in result.stderr and "Traceback" not in result.stderr


@pytest.mark.postgres_only
def test_a_database_the_server_does_not_have_says_to_create_it(run_atm):
    base = os.environ["ATM_DB"].partition("?")[0].rpartition("/")[0]
    result = run_atm("--db", f"{base}/atm_no_such_database", "init")
    assert result.returncode == 5 and "createdb atm_no_such_database" in result.stderr
