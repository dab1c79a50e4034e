"""The embedded SQLite path never loads SQLAlchemy, SQLModel or psycopg: they cost more than a whole
`atm --help`, and only a team server needs them (README, "Team mode")."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests import backends
from tests.conftest import TARO, atm_executable

SERVER_ONLY = ("sqlalchemy", "sqlmodel", "psycopg")  # (pydantic comes with typer itself)


def imported(*args: str, db: str, whole: bool = False) -> set[str]:
    """The top-level packages (`whole`: the full module names) a real `atm` process imported (Python's own
    import-time report)."""
    env = dict(os.environ, ATM_DB=db, PYTHONPROFILEIMPORTTIME="1")
    result = subprocess.run(atm_executable() + list(args), capture_output=True, text=True, env=env, timeout=120,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-2000:]
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            names.add(name if whole else name.split(".")[0])
    assert "atm" in names or "atm.cli" in names, "no import-time report: the check would pass vacuously"
    return names


@pytest.mark.parametrize("args", [
    ["--help"],
    ["init", "--sample"],
    ["--as", TARO, "assets", "list", "--account", "acme.co.jp", "--json"],
    ["--as", TARO, "request", "--from", "acme.co.jp", "--to", "acme-osaka.co.jp", "--to-va", "DEFAULT",
     "--same-company", "yes", "--asset", "SO12345678-1", "--dry-run"],
    ["db", "info", "--json"],
])
def test_an_sqlite_command_never_imports_the_server_libraries(tmp_path, args):
    db = str(tmp_path / "embedded.db")
    if args[0] != "--help" and args[0] != "init":
        subprocess.run(atm_executable() + ["init", "--sample"], env=dict(os.environ, ATM_DB=db), check=True,
                       capture_output=True, stdin=subprocess.DEVNULL)
    loaded = imported(*args, db=db)
    assert not loaded & set(SERVER_ONLY), sorted(loaded & set(SERVER_ONLY))


def test_an_assets_query_never_loads_the_transfer_code(tmp_path):
    """The indexed listing is the everyday query: it reads accounts and assets, and nothing of the workflow."""
    db = str(tmp_path / "embedded.db")
    subprocess.run(atm_executable() + ["init", "--sample"], env=dict(os.environ, ATM_DB=db), check=True,
                   capture_output=True, stdin=subprocess.DEVNULL)
    loaded = imported("--as", TARO, "assets", "list", "--account", "acme.co.jp", "--serial", "FCW2245L0CS",
                      "--json", db=db, whole=True)
    assert {"atm.storage.assets", "atm.services.assets"} <= loaded  # the report covers the query itself
    transfer_code = {"atm.domain.transfer", "atm.storage.transfers", "atm.services.transfers", "atm.storage.requests"}
    assert not loaded & transfer_code, sorted(loaded & transfer_code)
    commands = {m for m in loaded if m.startswith("atm.commands.") and not m.rpartition(".")[2].startswith("_")}
    assert commands == {"atm.commands.assets"}  # no other command's module is imported


@pytest.mark.postgres_only
def test_a_server_command_does_import_them(db_target):
    """The check sees them when they are loaded: a command on the server imports SQLAlchemy and psycopg."""
    subprocess.run(atm_executable() + ["init"], env=dict(os.environ, ATM_DB=db_target), check=True,
                   capture_output=True, stdin=subprocess.DEVNULL)
    loaded = imported("db", "info", db=db_target)
    assert {"sqlalchemy", "psycopg"} <= loaded
    assert backends.is_server(db_target)


ALL_COMMANDS = {"init", "import", "accounts", "assets", "request", "submit", "consent", "screen", "cancel", "status",
                "export", "notifications", "db"}


def built(args: list[str]) -> set[str]:
    """The commands Typer turns into click commands for a run with these arguments."""
    import typer.main

    from atm.cli import app_for

    return set(typer.main.get_command(app_for(args)).commands)


@pytest.mark.parametrize("args, expected", [
    (["assets", "list", "--account", "acme.co.jp"], {"assets"}),
    (["--as", TARO, "--db", "x.db", "status", "T-1"], {"status"}),
    (["--db=x.db", "--no-color", "db", "info"], {"db"}),
    (["--as", "assets", "list"], ALL_COMMANDS),  # "assets" is the --as value here; "list" names no command
])
def test_a_run_builds_only_the_command_it_names(args, expected):
    assert built(args) == expected


@pytest.mark.parametrize("args", [[], ["--help"], ["--version"], ["--db", "x.db"], ["asets", "list"]])
def test_help_the_version_and_unknown_names_build_every_command(args):
    """`atm --help` lists them all, and a mistyped name gets click's "Did you mean" from the whole list."""
    assert built(args) == ALL_COMMANDS


def test_shell_completion_builds_every_command(monkeypatch):
    monkeypatch.setenv("_ATM_COMPLETE", "complete_bash")
    assert built(["assets", "list"]) == ALL_COMMANDS


@pytest.mark.parametrize("args", [["--help", "assets"], ["-h", "status"], ["--db", "x.db", "--help", "import"]])
def test_the_root_help_before_a_command_name_lists_every_command(args):
    """`atm --help assets` is the root's help: click shows it before it reads the name, so it lists them all."""
    assert built(args) == ALL_COMMANDS


def test_the_help_as_the_value_of_as_still_names_the_command():
    assert built(["--as", "--help", "status"]) == {"status"}


def test_completion_from_a_shell_offers_commands_and_subcommands(tmp_path):
    """The completion script runs `atm` with no arguments and the words in COMP_WORDS (bash)."""
    def complete(words: str, index: int) -> list[str]:
        env = dict(os.environ, _ATM_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(index))
        result = subprocess.run(atm_executable(), capture_output=True, text=True, env=env, timeout=60,
                                stdin=subprocess.DEVNULL, cwd=tmp_path)
        return result.stdout.split()

    assert complete("atm ass", 1) == ["assets"]
    assert complete("atm assets l", 2) == ["list"]
    assert complete("atm --db x.db st", 3) == ["status"]
