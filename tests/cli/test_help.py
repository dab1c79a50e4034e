"""Every command explains itself, with an example (after sqlite-utils)."""

import json

import pytest
from typer.main import get_command

from atm.cli import app


def all_commands():
    root = get_command(app)
    out = []
    for name, cmd in root.commands.items():
        if hasattr(cmd, "commands"):
            if cmd.invoke_without_command:  # a group that is a command of its own too (atm notifications)
                out.append((name, cmd))
            out += [(f"{name} {sub}", subcmd) for sub, subcmd in cmd.commands.items()]
        else:
            out.append((name, cmd))
    return out


@pytest.mark.parametrize("name, command", all_commands(), ids=[n for n, _ in all_commands()])
def test_every_command_has_help_with_an_example(name, command, cli):
    assert command.help and "Example:" in command.help
    result = cli(*name.split(), "--help")
    assert result.exit_code == 0 and "Usage" in result.stdout


def test_every_reading_command_has_json():
    for name, command in all_commands():
        if name in ("init", "import") or name.startswith(("accounts", "assets", "status", "notifications", "submit",
                                                            "consent", "screen", "cancel", "request", "export")):
            assert any("--json" in p.opts for p in command.params), name


@pytest.mark.parametrize("name, command", all_commands(), ids=[n for n, _ in all_commands()])
def test_help_reads_as_people_write_it(name, command, cli):
    """No `<bool>` after a flag, no `{file}` or `[[TXN]]` in the usage line."""
    result = cli(*name.split(), "--help")
    assert result.exit_code == 0
    for odd in ("<bool>", "<str>", "<int", "<path>", "{", "[["):
        assert odd not in result.stdout, (odd, result.stdout)


@pytest.mark.parametrize("argv, usage", [
    (["import"], "Usage: atm import [OPTIONS] FILE"),
    (["status"], "Usage: atm status [OPTIONS] [TXN]"),
    (["submit"], "Usage: atm submit [OPTIONS] TXN"),
    (["accounts", "show"], "Usage: atm accounts show [OPTIONS] SA"),
])
def test_usage_lines_name_arguments_plainly(cli, argv, usage):
    assert cli(*argv, "--help").stdout.startswith(usage)


def test_the_root_help_offers_completion(cli):
    out = cli("--help").stdout
    assert "--install-completion" in out and "--no-color" in out


def test_every_command_that_would_prompt_has_yes():
    commands = dict(all_commands())
    for name in ("request", "submit", "cancel", "consent"):
        assert any("--yes" in p.opts for p in commands[name].params), name


def test_global_options_also_work_after_the_command_name(cli, sample_db, tmp_path):
    from tests.conftest import TARO

    before = cli.json("accounts", "list", user=TARO)
    result = cli("accounts", "list", "--as", TARO, "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == before
    result = cli("accounts", "list", "--db", str(tmp_path / "other.db"), "--as", TARO)
    assert result.exit_code == 5 and "other.db" in result.stderr  # that database does not exist


def test_the_examples_in_the_help_run_on_the_sample_data(run_atm, tmp_path, mail_server):
    """Every command's Example: block, run in order in one shell on the sample (with the README's form), mail
    going to a local SMTP server."""
    import os
    import re
    import subprocess

    from tests.conftest import atm_executable

    order = ["init", "import", "accounts list", "accounts show", "assets list", "request", "submit", "cancel",
             "consent", "screen", "status", "export", "notifications", "notifications send", "db info", "db copy"]
    commands = dict(all_commands())
    assert set(order) == set(commands)
    script = ["set -euo pipefail"]
    for name in order:
        block = commands[name].help.split("Example:", 1)[1]
        lines = [line.strip() for line in block.splitlines() if line.strip() and line.strip() != "\b"]
        script += lines
    (tmp_path / "form.json").write_text(json.dumps({
        "reason": "Lab equipment sold to Globex", "transferor_contact_email": "taro.yamada@acme.co.jp",
        "transferee_contact_email": "john.smith@globex.com"}))
    bin_dir = os.path.dirname(atm_executable()[0])
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"], ATM_SMTP_URL=mail_server.url)
    result = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-3000:])
    assert re.search(r"ATM-\w{5}-\w{5}\tTransfer Completed", result.stdout)
