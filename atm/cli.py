"""The `atm` command: global options, then one module per command group.

Start-up stays light: command modules import only typer at the top; the
database, spreadsheets and prompts are imported inside the commands that
need them, so `atm --help` costs about what a bare Typer app costs.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from atm import __version__
from atm.commands import accounts, assets, export, importing, init, notifications, request, status, workflow
from atm.commands._context import AppContext
from atm.commands._errors import AtmTyper

app = AtmTyper(
    name="atm",
    help="Asset Transfer Manager: move licenses and devices between Smart Accounts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"atm {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[Optional[str], typer.Option(
        "--db", metavar="PATH_OR_URL",
        help="Database file or sqlite:/// URL (env ATM_DB; default: atm.db in your data directory).")] = None,
    as_user: Annotated[Optional[str], typer.Option(
        "--as", metavar="USER", help="Act as this user (an e-mail id) (env ATM_USER).")] = None,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    """Asset Transfer Manager: move licenses and devices between Smart Accounts.

    Example: atm --as taro.yamada@acme.co.jp assets list --account acme.co.jp --transferable
    """
    ctx.obj = AppContext(db_option=db, user_option=as_user)


app.command("init")(init.init)
app.command("import")(importing.import_file)
app.add_typer(accounts.app, name="accounts")
app.add_typer(assets.app, name="assets")
app.command("request")(request.request)
app.command("submit")(workflow.submit)
app.command("consent")(workflow.consent)
app.command("screen")(workflow.screen)
app.command("cancel")(workflow.cancel)
app.command("status")(status.status)
app.command("export")(export.export)
app.command("notifications")(notifications.notifications)


def _usage_error_class() -> type[Exception]:
    # Typer raises click's ClickException (vendored in new Typer releases); find it without a private import.
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def main() -> None:
    """The console script: usage errors come out as one `Error:` line first (SPEC section 4), exit 2."""
    import sys

    try:
        code = app(standalone_mode=False)
    except _usage_error_class() as error:
        if not error.format_message():  # no arguments: the help was shown
            sys.exit(error.exit_code)
        hint = ""
        ctx = getattr(error, "ctx", None)
        if ctx is not None:
            hint = f"\nTry '{ctx.command_path} --help' for help."
        sys.stderr.write(f"Error: {error.format_message()}{hint}\n")
        sys.exit(error.exit_code)
    except typer.Abort:
        sys.stderr.write("Cancelled.\n")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
