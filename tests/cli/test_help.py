"""Every command explains itself, with an example (STYLE.md, after sqlite-utils)."""

import pytest
from typer.main import get_command

from atm.cli import app


def all_commands():
    root = get_command(app)
    out = []
    for name, cmd in root.commands.items():
        if hasattr(cmd, "commands"):
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
