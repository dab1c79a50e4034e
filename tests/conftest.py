"""Shared fixtures: every test gets its own database; none touches a real user's data."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from atm.cli import app
from atm.services.unit_of_work import UnitOfWork
from atm.storage.database import open_database
from atm.storage.migrations import ensure_schema
from tests import backends

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample.json"
TARO = "taro.yamada@acme.co.jp"  # admin of both acme SAs (same company)
PARTNER = "partner@netpartner.co.jp"  # admin of acme.co.jp and globex.com
BOB = "bob.tanaka@acme.co.jp"  # plain user of acme.co.jp
LEGAL = "legal@atm-vendor.example"  # compliance
PETER = "peter.gibbons@initech.example"  # admin of initech only


def pytest_report_header(config):
    return f"atm database leg: {backends.LEG}" + (" (ATM_TEST_DB)" if backends.ON_POSTGRES else "")


def pytest_collection_modifyitems(config, items):
    """The SQLite leg skips the server's own tests; the PostgreSQL leg skips those that inspect SQLite files."""
    skip = ("sqlite_only", "this test inspects an SQLite file itself") if backends.ON_POSTGRES else \
        ("postgres_only", "needs the PostgreSQL leg (ATM_TEST_DB=postgresql://...)")
    for item in items:
        if item.get_closest_marker(skip[0]):
            item.add_marker(pytest.mark.skip(reason=skip[1]))


@pytest.fixture(scope="session", autouse=True)
def server_database():
    """On the PostgreSQL leg, a database of this session's own on the server, dropped at the end."""
    if not backends.ON_POSTGRES:
        yield None
        return
    backends.start_session()
    try:
        yield
    finally:
        backends.end_session()


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    target = backends.fresh_target(tmp_path)
    monkeypatch.setenv("ATM_DB", target)
    monkeypatch.delenv("ATM_USER", raising=False)
    monkeypatch.delenv("ATM_SMTP_URL", raising=False)
    monkeypatch.setenv("ATM_LOCK_TIMEOUT", "5")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    yield tmp_path
    backends.drop_target(target)


@pytest.fixture
def db_path(tmp_path) -> Path:
    """The SQLite file of the SQLite leg (tests that use it as a file are `sqlite_only`)."""
    return tmp_path / "atm.db"


@pytest.fixture
def db_target() -> str:
    """What ATM_DB names for this test: the SQLite file, or the server schema."""
    return os.environ["ATM_DB"]


@pytest.fixture
def uow(db_target) -> UnitOfWork:
    db = open_database(db_target, create=True)
    ensure_schema(db)
    yield UnitOfWork(db)
    db.close()


@pytest.fixture
def sample_db(db_target) -> str:
    """A database loaded with the bundled sample, made once per test through the real CLI (its ATM_DB)."""
    result = CliRunner().invoke(app, ["init", "--sample"])
    assert result.exit_code == 0, result.output
    return db_target


class Cli:
    """Runs `atm` in-process through CliRunner and decodes --json output."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, user: str | None = None, input: str | None = None):
        argv = (["--as", user] if user else []) + list(args)
        return self.runner.invoke(app, argv, input=input)

    def json(self, *args: str, user: str | None = None):
        result = self(*args, "--json", user=user)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture
def mail_server():
    """A real SMTP server on loopback; `.inbox.messages` is what arrived, `.inbox.refuse` the refused recipients."""
    from tests.mailserver import MailServer

    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture
def people(monkeypatch):
    """Make stdout count as a terminal of `width` columns: commands print tables for people, not TSV."""
    from atm.commands import _output

    def use(width: int = 200) -> None:
        monkeypatch.setattr(_output, "stdout_is_terminal", lambda: True)
        monkeypatch.setenv("COLUMNS", str(width))

    use()
    return use


def atm_executable() -> list[str]:
    """The installed console script next to this Python, else `python -m atm`."""
    script = Path(sys.executable).with_name("atm")
    if script.exists():
        return [str(script)]
    found = shutil.which("atm")
    return [found] if found else [sys.executable, "-m", "atm"]


def interruptible() -> None:
    """`preexec_fn` for a child a test will Ctrl-C: SIGINT as at a terminal. A suite started as a background
    job of a non-interactive shell has SIGINT ignored, and a child Python keeps it ignored (so no
    KeyboardInterrupt would ever reach atm's handler)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def run_atm(isolated_env):
    """Run the installed `atm` as a real subprocess."""

    def run(*args: str, env: dict | None = None, timeout: float = 120, input: str | None = None):
        full_env = dict(os.environ, **(env or {}))
        return subprocess.run(atm_executable() + list(args), capture_output=True, text=True, env=full_env,
                              timeout=timeout, input=input, stdin=None if input is not None else subprocess.DEVNULL)

    return run


def write_json(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def small_world() -> dict:
    """A tiny import document with its own accounts, users and assets."""
    return {
        "users": [
            {"id": "ann@north.example", "name": "Ann North"},
            {"id": "sam@south.example", "name": "Sam South"},
            {"id": "cal@audit.example", "name": "Cal Audit", "compliance": True},
        ],
        "accounts": [
            {"domain": "north.example", "name": "North Co", "legal_entity": "North KK",
             "virtual_accounts": [{"name": "DEFAULT"}, {"name": "Edge", "ssm_onprem": True}],
             "admins": ["ann@north.example"]},
            {"domain": "south.example", "name": "South Co",
             "admins": ["sam@south.example"], "users": ["ann@north.example"]},
        ],
        "licenses": [
            {"account": "north.example", "sales_order": "500", "line": "1", "pid": "LIC-A", "quantity": 5,
             "in_use": 2, "web_order": "W500", "subscription_id": "Sub-500", "license_type": "Smart",
             "minor_lines": [{"line": "1.1", "pid": "LIC-A-1", "quantity": 5}]},
            {"account": "north.example", "sales_order": "500", "line": "2", "pid": "LIC-B", "quantity": 1,
             "enterprise_agreement": True},
            {"id": "PAK-LINE", "account": "north.example", "pid": "LIC-C", "quantity": 3, "pak": "PAK123",
             "license_type": "Classic", "pending_upgrade": True},
        ],
        "devices": [
            {"serial_number": "SER1", "pid": "DEV-X", "account": "north.example", "host_id": "H1",
             "uuid": "u-1", "pnp_status": "Provisioned", "sales_order": "500"},
            {"serial_number": "SER2", "pid": "DEV-X", "account": "north.example", "virtual_account": "Edge"},
            {"serial_number": "SER3", "pid": "DEV-Y", "account": "south.example", "cslu": True},
        ],
    }
