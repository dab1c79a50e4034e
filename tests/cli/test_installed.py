"""The installed `atm` as a real process: what a new user meets first."""

import json

import pytest

from tests import backends
from tests.conftest import TARO


def test_version_and_help_list_the_command_groups(run_atm):
    result = run_atm("--version")
    assert result.returncode == 0 and result.stdout.startswith("atm ")
    result = run_atm("--help")
    assert result.returncode == 0
    for command in ("init", "import", "accounts", "assets", "request", "submit", "consent", "screen", "cancel",
                    "status", "notifications"):
        assert command in result.stdout


def test_python_dash_m_atm_works(isolated_env):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "atm", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("atm ")


def test_init_sample_then_a_listing(run_atm):
    assert run_atm("init", "--sample").returncode == 0
    result = run_atm("--as", TARO, "accounts", "list", "--json")
    assert result.returncode == 0
    assert {a["domain"] for a in json.loads(result.stdout)} == {"acme.co.jp", "acme-osaka.co.jp"}


def test_the_environment_names_the_database_and_the_user(run_atm, tmp_path):
    db = tmp_path / "elsewhere.db"
    assert run_atm("--db", str(db), "init", "--sample").returncode == 0
    result = run_atm("accounts", "list", "--json", env={"ATM_DB": str(db), "ATM_USER": TARO})
    assert result.returncode == 0 and len(json.loads(result.stdout)) == 2
    result = run_atm("--db", f"sqlite:///{db}", "--as", TARO, "accounts", "list", "--json")
    assert result.returncode == 0


def test_an_unknown_database_url_is_refused(run_atm):
    result = run_atm("--db", "mysql://localhost/test", "--as", TARO, "accounts", "list")
    assert result.returncode == 5 and "not supported" in result.stderr and "postgresql://" in result.stderr


def test_a_missing_database_says_to_run_init(run_atm, tmp_path):
    result = run_atm("--db", str(tmp_path / "none.db"), "--as", TARO, "accounts", "list")
    assert result.returncode == 5 and "atm init" in result.stderr
    assert not (tmp_path / "none.db").exists()


@pytest.mark.sqlite_only
def test_a_corrupt_database_is_refused_with_exit_5_and_no_traceback(run_atm, db_path):
    assert run_atm("init", "--sample").returncode == 0
    data = bytearray(db_path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # trash the schema page
    db_path.write_bytes(bytes(data))
    for p in (db_path.with_name(db_path.name + "-wal"), db_path.with_name(db_path.name + "-shm")):
        p.unlink(missing_ok=True)
    result = run_atm("--as", TARO, "accounts", "list")
    assert result.returncode == 5, result.stderr
    assert "corrupt" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.sqlite_only
def test_a_file_that_is_not_a_database_is_refused(run_atm, db_path):
    db_path.write_text("hello, I am a text file\n" * 50)
    result = run_atm("--as", TARO, "accounts", "list")
    assert result.returncode == 5 and "not an atm database" in result.stderr


def test_a_database_from_a_newer_atm_is_refused(run_atm):
    assert run_atm("init").returncode == 0
    backends.set_schema_version(999)
    result = run_atm("--as", TARO, "accounts", "list")
    assert result.returncode == 5 and "newer atm" in result.stderr


def test_a_bad_import_file_changes_nothing_and_exits_2(run_atm, tmp_path):
    assert run_atm("init", "--sample").returncode == 0
    before = run_atm("--as", TARO, "accounts", "show", "acme.co.jp", "--counts", "--json").stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"devices": [
        {"serial_number": "NEW1", "pid": "X", "account": "acme.co.jp"},
        {"serial_number": "NEW2", "pid": "X", "account": "acme.co.jp", "virtual_account": "Nowhere"},
    ]}))
    result = run_atm("import", str(bad))
    assert result.returncode == 2
    assert "devices[1] (NEW2): virtual_account: no virtual account 'Nowhere' in acme.co.jp" in result.stderr
    assert run_atm("--as", TARO, "accounts", "show", "acme.co.jp", "--counts", "--json").stdout == before


def test_usage_errors_exit_2_without_a_traceback(run_atm):
    assert run_atm("init").returncode == 0
    result = run_atm("--as", TARO, "assets", "list")
    assert result.returncode == 2 and "--account" in result.stderr and "Traceback" not in result.stderr
    result = run_atm("--as", TARO, "request", "--from", "acme.co.jp")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_init_sample_twice_keeps_the_data(run_atm):
    assert run_atm("init", "--sample").returncode == 0
    result = run_atm("init", "--sample", "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["imported"] is None
    assert "not loaded again" not in result.stderr  # --json: no chatter
    result = run_atm("init", "--sample")
    assert result.returncode == 0 and "not loaded again" in result.stderr


def test_a_usage_error_says_what_is_wrong_on_its_first_line(run_atm):
    result = run_atm("status", "--bogus")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "Error: No such option: --bogus"


def test_undecodable_bytes_in_an_argument_are_refused_not_crashed_on(run_atm):
    assert run_atm("init", "--sample").returncode == 0
    import os
    import subprocess

    from tests.conftest import atm_executable

    argv = [os.fsencode(a) for a in atm_executable()] + [b"--as", TARO.encode(), b"accounts", b"show", b"ac\xffme"]
    result = subprocess.run(argv, capture_output=True, env=dict(os.environ))
    assert result.returncode in (2, 3) and b"Traceback" not in result.stderr
    assert result.stderr.startswith(b"Error: ")
